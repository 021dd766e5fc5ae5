"""Team secrets through the API: admins and owners only, values write-only, every change
audited by name and never by value."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry
from instruments import crypto
from instruments.models import Provider, Secret
from symphony_site.actors import Actor, Origin
from tests.conftest import request_free
from tests.instruments.conftest import audit_of, error_of

VALUE = "sk-live-VERY-secret-value-123456"
MANAGERS = ["owner", "admin"]
DENIED = [("editor", 403, "permission_denied"), ("operator", 403, "permission_denied"),
          ("viewer", 403, "permission_denied"), ("outsider", 404, "not_found"),
          (None, 401, "not_authenticated")]


def url(personas, name: str = "") -> str:
    return f"/api/v1/teams/{personas.team.pk}/secrets/" + (f"{name}/" if name else "")


def create(personas, who: str = "admin", name: str = "OPENAI_KEY", value: str = VALUE):
    return personas.client(who).post(url(personas), {"name": name, "value": value}, format="json")


def everything_said(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("who", MANAGERS)
def test_managers_create_and_never_get_the_value_back(personas, who) -> None:
    response = create(personas, who)
    assert response.status_code == 201
    body = response.json()
    assert body.keys() == {"name", "reference", "version", "created_by", "created_at", "rotated_at"}
    assert (body["name"], body["reference"], body["version"], body["created_by"]) == (
        "OPENAI_KEY", "{{ secrets.OPENAI_KEY }}", 1, f"alpha-{who}")
    listed = personas.client(who).get(url(personas))
    assert [row["name"] for row in listed.json()["results"]] == ["OPENAI_KEY"]
    assert VALUE not in everything_said(response) + everything_said(listed)
    stored = Secret.objects.get()
    assert VALUE not in stored.ciphertext
    assert crypto.decrypt(stored.ciphertext) == VALUE
    [entry] = audit_of("secret.created")
    assert (entry.target_type, entry.target_name, request_free(entry.details)) == (
        "secret", "OPENAI_KEY", {"name": "OPENAI_KEY"})
    assert VALUE not in str(entry.__dict__)


@pytest.mark.parametrize(("who", "status", "code"), DENIED)
def test_others_cannot_create_or_list(personas, who, status, code) -> None:
    response = create(personas, who)
    assert (response.status_code, error_of(response)["code"]) == (status, code)
    listed = personas.client(who).get(url(personas))
    assert (listed.status_code, error_of(listed)["code"]) == (status, code)
    assert Secret.objects.count() == 0
    assert audit_of("secret.created") == []


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "1BAD", "value": "x"}, "name"),
    ({"name": "has space", "value": "x"}, "name"),
    ({"name": "A" * 65, "value": "x"}, "name"),
    ({"name": "OK", "value": ""}, "value"),
    ({"name": "OK"}, "value"),
    ({"name": "OK", "value": "x", "extra": 1}, "extra"),
])
def test_bad_bodies_store_nothing(personas, body, field) -> None:
    response = personas.client("admin").post(url(personas), body, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert field in str(error["details"])
    assert Secret.objects.count() == 0 and audit_of("secret.created") == []


def test_a_name_is_taken_once(personas) -> None:
    assert create(personas).status_code == 201
    again = create(personas, value="another-value-98765")
    assert (again.status_code, error_of(again)["code"]) == (409, "secret_exists")
    assert crypto.decrypt(Secret.objects.get().ciphertext) == VALUE
    assert len(audit_of("secret.created")) == 1


def test_rotation_replaces_the_value_and_is_audited(personas) -> None:
    create(personas)
    new_value = "sk-rotated-value-abcdef-7890"
    response = personas.client("owner").patch(url(personas, "OPENAI_KEY"), {"value": new_value},
                                              format="json")
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert new_value not in everything_said(response)
    assert crypto.decrypt(Secret.objects.get().ciphertext) == new_value
    [entry] = audit_of("secret.rotated")
    assert request_free(entry.details) == {"name": "OPENAI_KEY", "version": 2}
    assert new_value not in str(entry.details) and VALUE not in str(entry.details)


def test_rotation_and_deletion_are_refused_below_admin(personas) -> None:
    create(personas)
    for who, status in [("editor", 403), ("viewer", 403), ("outsider", 404), (None, 401)]:
        client = personas.client(who)
        assert client.patch(url(personas, "OPENAI_KEY"), {"value": "x1234"},
                            format="json").status_code == status
        assert client.delete(url(personas, "OPENAI_KEY")).status_code == status
    assert Secret.objects.get().version == 1
    assert audit_of("secret.rotated") == [] and audit_of("secret.deleted") == []


def test_deletion_is_audited_and_a_missing_secret_is_404(personas) -> None:
    create(personas)
    assert personas.client("admin").delete(url(personas, "OPENAI_KEY")).status_code == 204
    assert Secret.objects.count() == 0
    [entry] = audit_of("secret.deleted")
    assert request_free(entry.details) == {"name": "OPENAI_KEY"}
    missing = personas.client("admin").delete(url(personas, "OPENAI_KEY"))
    assert (missing.status_code, error_of(missing)["code"]) == (404, "not_found")
    assert personas.client("admin").patch(url(personas, "NOPE"), {"value": "xxxx"},
                                          format="json").status_code == 404


def test_a_secret_a_provider_uses_cannot_be_deleted(personas) -> None:
    create(personas)
    Provider.objects.create(team=personas.team, name="openai", base_url="https://api.openai.com/v1",
                            api_key_secret="OPENAI_KEY")
    response = personas.client("admin").delete(url(personas, "OPENAI_KEY"))
    assert (response.status_code, error_of(response)["code"]) == (409, "secret_in_use")
    assert error_of(response)["details"] == [{"provider": "openai"}]
    assert Secret.objects.count() == 1 and audit_of("secret.deleted") == []


def test_another_teams_secrets_stay_apart(personas) -> None:
    create(personas)
    other = personas.users["outsider"]
    from instruments import services

    services.secret_create(actor=Actor.of(other), origin=Origin.command(), team=personas.other_team,
                           name="OPENAI_KEY", value="beta-team-value-000")
    rows = personas.client("admin").get(url(personas)).json()["results"]
    assert len(rows) == 1
    beta = personas.client("outsider").get(f"/api/v1/teams/{personas.other_team.pk}/secrets/")
    assert len(beta.json()["results"]) == 1
    assert AuditEntry.objects.filter(event_type="secret.created").count() == 2
