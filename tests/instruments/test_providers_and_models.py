"""Model providers (admins) and the models a team can use now (members)."""

from __future__ import annotations

import pytest

from instruments import services
from instruments.models import Provider
from symphony_site.actors import Actor, Origin
from tests.conftest import request_free
from tests.instruments.conftest import audit_of, error_of

LOCAL_MODELS = ["local/all-minilm-l6-v2", "local/echo"]


def providers_url(personas, name: str = "") -> str:
    return f"/api/v1/teams/{personas.team.pk}/providers/" + (f"{name}/" if name else "")


def add_secret(personas, name: str = "OPENAI_KEY") -> None:
    services.secret_create(actor=Actor.of(personas.users["owner"]), origin=Origin.command(),
                           team=personas.team, name=name, value="sk-provider-key-5555")


def model_ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [entry["model_id"] for entry in response.json()["results"]]


def test_an_admin_adds_a_provider_and_its_models_become_usable(personas) -> None:
    add_secret(personas)
    client = personas.client("admin")
    assert model_ids(client.get(f"/api/v1/models/?team={personas.team.pk}")) == LOCAL_MODELS
    response = client.post(providers_url(personas), {
        "name": "openai", "base_url": "https://api.openai.com/v1/", "api_key_secret": "OPENAI_KEY"},
        format="json")
    assert response.status_code == 201
    assert response.json() | {"created_at": None, "updated_at": None} == {
        "name": "openai", "base_url": "https://api.openai.com/v1", "api_key_secret": "OPENAI_KEY",
        "models": [], "request_timeout_s": 60.0, "max_retries": 2, "created_at": None,
        "updated_at": None}
    [entry] = audit_of("provider.created")
    assert request_free(entry.details) == {"name": "openai", "base_url": "https://api.openai.com/v1",
                             "key_secret_name": "OPENAI_KEY", "models": [],
                             "request_timeout_s": 60.0, "max_retries": 2}
    # No models listed: the catalog's models of that name are offered.
    viewer = personas.client("viewer")
    assert model_ids(viewer.get("/api/v1/models/")) == [
        *LOCAL_MODELS, "openai/gpt-4o", "openai/gpt-4o-mini", "openai/text-embedding-3-small"]


def test_model_entries_carry_their_schema_ports_and_price(personas) -> None:
    Provider.objects.create(team=personas.team, name="ollama", base_url="http://localhost:11434/v1",
                            offered_models=[{"name": "llama3.2", "capability": "chat"},
                                            {"name": "nomic-embed-text", "capability": "embedding"}])
    Provider.objects.create(team=personas.team, name="openai", base_url="https://api.openai.com/v1")
    entries = {entry["model_id"]: entry for entry in
               personas.client("viewer").get("/api/v1/models/").json()["results"]}
    llama = entries["ollama/llama3.2"]
    assert (llama["capability"], llama["instrument"], llama["local"], llama["price"]) == (
        "chat", True, False, None)
    assert [port["name"] for port in llama["inputs"]] == ["prompt"]
    assert llama["config_schema"]["properties"]["temperature"] == {"type": "number", "minimum": 0,
                                                                  "maximum": 2}
    embedder = entries["ollama/nomic-embed-text"]
    assert (embedder["instrument"], embedder["config_schema"], embedder["operators"]) == (
        False, None, ["embed", "similarity", "route", "classify", "deduplicate"])
    mini = entries["openai/gpt-4o-mini"]
    assert mini["price"] == {"input_per_million": 0.15, "output_per_million": 0.6, "currency": "USD"}
    local = entries["local/all-minilm-l6-v2"]
    assert (local["local"], local["capability"], local["instrument"]) == (True, "embedding", True)
    assert local["price"] == {"input_per_million": 0.0, "output_per_million": 0.0, "currency": "USD"}
    assert [port["data_type"] for port in local["outputs"]] == ["array<number>"]


@pytest.mark.parametrize(("query", "who", "status", "code"), [
    ("", "outsider", 200, None),
    ("?team={team}", "outsider", 404, "not_found"),
    ("?team=not-a-uuid", "viewer", 404, "not_found"),
    ("", None, 401, "not_authenticated"),
])
def test_models_are_listed_for_ones_own_team_only(personas, query, who, status, code) -> None:
    Provider.objects.create(team=personas.team, name="openai", base_url="https://api.openai.com/v1")
    response = personas.client(who).get("/api/v1/models/" + query.format(team=personas.team.pk))
    assert response.status_code == status
    if code:
        assert error_of(response)["code"] == code
    else:
        # The outsider belongs to one team, without providers: only the local models.
        assert model_ids(response) == LOCAL_MODELS


def test_a_member_of_several_teams_names_one(personas) -> None:
    from teams.models import Membership

    Membership.objects.create(team=personas.other_team, user=personas.users["viewer"],
                              role="viewer")
    response = personas.client("viewer").get("/api/v1/models/")
    assert (response.status_code, error_of(response)["code"]) == (400, "validation_failed")


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "local", "base_url": "https://x.test/v1"}, "name"),
    ({"name": "Bad Name", "base_url": "https://x.test/v1"}, "name"),
    ({"name": "ok"}, "base_url"),
    ({"name": "ok", "base_url": "ftp://x.test"}, "base_url"),
    ({"name": "ok", "base_url": "https://user:pw@x.test/v1"}, "base_url"),
    ({"name": "ok", "base_url": "https://x.test/v1?key=abc"}, "base_url"),
    ({"name": "ok", "base_url": "https://x.test/v1", "api_key_secret": "MISSING"}, "api_key_secret"),
    ({"name": "ok", "base_url": "https://x.test/v1", "models": [{"name": "a", "capability": "x"}]},
     "models"),
    ({"name": "ok", "base_url": "https://x.test/v1", "models": ["a", "a"]}, "models"),
    ({"name": "ok", "base_url": "https://x.test/v1", "request_timeout_s": 0}, "request_timeout_s"),
    ({"name": "ok", "base_url": "https://x.test/v1", "max_retries": 11}, "max_retries"),
])
def test_bad_providers_store_nothing(personas, body, field) -> None:
    response = personas.client("admin").post(providers_url(personas), body, format="json")
    assert response.status_code == 400
    assert field in str(error_of(response)["details"])
    assert Provider.objects.count() == 0 and audit_of("provider.created") == []


@pytest.mark.parametrize(("who", "status"), [("editor", 403), ("viewer", 403), ("outsider", 404),
                                             (None, 401)])
def test_providers_are_for_admins(personas, who, status) -> None:
    body = {"name": "openai", "base_url": "https://api.openai.com/v1"}
    assert personas.client(who).post(providers_url(personas), body, format="json").status_code == status
    assert personas.client(who).get(providers_url(personas)).status_code == status
    assert Provider.objects.count() == 0


def test_update_and_delete_are_audited_with_what_changed(personas) -> None:
    client = personas.client("owner")
    client.post(providers_url(personas), {"name": "vllm", "base_url": "http://10.0.0.5:8000/v1",
                                          "models": ["meta-llama/Llama-3.1-8B-Instruct"]},
                format="json")
    response = client.patch(providers_url(personas, "vllm"), {"max_retries": 5}, format="json")
    assert response.status_code == 200 and response.json()["max_retries"] == 5
    [entry] = audit_of("provider.updated")
    assert request_free(entry.details) == {"changes": {"max_retries": [2, 5]}}
    renamed = client.patch(providers_url(personas, "vllm"), {"name": "other"}, format="json")
    assert renamed.status_code == 400
    unchanged = client.patch(providers_url(personas, "vllm"), {"max_retries": 5}, format="json")
    assert unchanged.status_code == 200 and len(audit_of("provider.updated")) == 1
    assert client.delete(providers_url(personas, "vllm")).status_code == 204
    assert Provider.objects.count() == 0 and len(audit_of("provider.deleted")) == 1
    assert client.get(providers_url(personas, "vllm")).status_code == 404


def test_usage_is_empty_before_any_call(personas) -> None:
    response = personas.client("viewer").get(f"/api/v1/teams/{personas.team.pk}/usage/")
    assert response.json() == {"days": 30, "currency": "USD", "by_day": [], "by_model": [],
                               "total": {"calls": 0, "cached": 0, "tokens_in": 0, "tokens_out": 0,
                                         "cost": 0, "saved": 0}}
    bad = personas.client("viewer").get(f"/api/v1/teams/{personas.team.pk}/usage/?days=0")
    assert bad.status_code == 400
    assert personas.client("outsider").get(
        f"/api/v1/teams/{personas.team.pk}/usage/").status_code == 404


@pytest.mark.parametrize("days", ["%C2%B2", "%D9%A1%D9%A0"])
def test_usage_days_in_other_digits_is_400(personas, days) -> None:
    """`str.isdigit()` took a superscript two (then `int()` raised: a 500) and Arabic-Indic digits."""
    response = personas.client("viewer").get(f"/api/v1/teams/{personas.team.pk}/usage/?days={days}")
    assert response.status_code == 400
    assert [detail["field"] for detail in response.json()["error"]["details"]] == ["days"]
