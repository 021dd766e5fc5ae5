"""Teams, members and tokens over the API, for every persona, with the error shape."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from teams.authentication import digest_key
from teams.models import ApiToken, Membership, Team
from tests.conftest import PASSWORD


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def memberships(team) -> list[tuple[str, str]]:
    return sorted(Membership.objects.filter(team=team).values_list("user__username", "role"))


# --- teams -------------------------------------------------------------------


def test_team_list_shows_only_my_teams_with_my_role(personas) -> None:
    response = personas.client("editor").get("/api/v1/teams/")
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert [(t["name"], t["role"], t["member_count"]) for t in body["results"]] == [("Alpha", "editor", 5)]


def test_team_list_paginates_with_cursor(personas) -> None:
    owner = personas.users["owner"]
    for name in ["Gamma", "Delta", "Epsilon"]:
        Membership.objects.create(team=Team.objects.create(name=name, slug=name.lower()), user=owner, role="owner")
    client = personas.client("owner")
    first = client.get("/api/v1/teams/?limit=2").json()
    assert [t["name"] for t in first["results"]] == ["Alpha", "Delta"]
    second = client.get(f"/api/v1/teams/?limit=2&cursor={first['next']}").json()
    assert [t["name"] for t in second["results"]] == ["Epsilon", "Gamma"]
    assert second["next"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=abc", "limit=", "limit=+2", "limit=%202", "limit=1_0",
                                   "limit=%D9%A4", "limit=%C2%B2", "cursor=%%%", "cursor=WyJ4Il0"])
def test_bad_pagination_parameters_get_400(personas, query) -> None:
    response = personas.client("owner").get(f"/api/v1/teams/?{query}")
    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_failed"


def test_create_team_makes_creator_owner(personas) -> None:
    response = personas.client("viewer").post("/api/v1/teams/", {"name": "  Research   Lab "}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["slug"], body["role"], body["member_count"]) == ("Research Lab", "research-lab", "owner", 1)
    assert memberships(Team.objects.get(pk=body["id"])) == [("alpha-viewer", "owner")]


def test_duplicate_team_name_conflicts_case_insensitively(personas) -> None:
    response = personas.client("owner").post("/api/v1/teams/", {"name": "alpha"}, format="json")
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"
    assert Team.objects.count() == 2


@pytest.mark.parametrize("who,status", [("owner", 200), ("admin", 200), ("editor", 403), ("operator", 403),
                                        ("viewer", 403), ("outsider", 404), (None, 401)])
def test_patch_team_requires_admin(personas, who, status) -> None:
    response = personas.client(who).patch(f"/api/v1/teams/{personas.team.pk}/", {"description": "new"}, format="json")
    assert response.status_code == status
    personas.team.refresh_from_db()
    assert personas.team.description == ("new" if status == 200 else "")
    if status != 200:
        assert error_of(response)["code"] == {403: "permission_denied", 404: "not_found", 401: "not_authenticated"}[status]


@pytest.mark.parametrize("who,status", [("owner", 200), ("viewer", 200), ("outsider", 404), (None, 401)])
def test_get_team(personas, who, status) -> None:
    response = personas.client(who).get(f"/api/v1/teams/{personas.team.pk}/")
    assert response.status_code == status
    if status == 200:
        assert response.json()["name"] == "Alpha"


# --- members -----------------------------------------------------------------


@pytest.mark.parametrize("who,status", [("owner", 200), ("viewer", 200), ("outsider", 404), (None, 401)])
def test_member_list(personas, who, status) -> None:
    response = personas.client(who).get(f"/api/v1/teams/{personas.team.pk}/members/")
    assert response.status_code == status
    if status == 200:
        assert [(m["username"], m["role"]) for m in response.json()["results"]] == [
            ("alpha-admin", "admin"), ("alpha-editor", "editor"), ("alpha-operator", "operator"),
            ("alpha-owner", "owner"), ("alpha-viewer", "viewer")]


@pytest.mark.parametrize(
    "who,role,status",
    [("owner", "admin", 201), ("owner", "owner", 201), ("admin", "editor", 201), ("admin", "admin", 403),
     ("admin", "owner", 403), ("editor", "viewer", 403), ("viewer", "viewer", 403), ("outsider", "viewer", 404)],
)
def test_add_member_role_rules(personas, who, role, status) -> None:
    from tests.conftest import make_user

    make_user("newcomer")
    before = memberships(personas.team)
    response = personas.client(who).post(f"/api/v1/teams/{personas.team.pk}/members/",
                                         {"username": "newcomer", "role": role}, format="json")
    assert response.status_code == status
    after = memberships(personas.team)
    if status == 201:
        assert response.json()["role"] == role
        assert after == sorted([*before, ("newcomer", role)])
    else:
        assert after == before


def test_add_unknown_user_or_existing_member(personas) -> None:
    client = personas.client("owner")
    url = f"/api/v1/teams/{personas.team.pk}/members/"
    missing = client.post(url, {"username": "ghost", "role": "viewer"}, format="json")
    assert missing.status_code == 404
    existing = client.post(url, {"username": "alpha-viewer", "role": "editor"}, format="json")
    assert existing.status_code == 409
    bad_role = client.post(url, {"username": "alpha-viewer", "role": "superuser"}, format="json")
    assert bad_role.status_code == 400
    assert error_of(bad_role)["details"][0]["field"] == "role"


def test_change_role_and_last_owner_protection(personas) -> None:
    owner = personas.client("owner")
    base = f"/api/v1/teams/{personas.team.pk}/members"
    response = owner.patch(f"{base}/{personas.users['viewer'].pk}/", {"role": "editor"}, format="json")
    assert response.status_code == 200
    assert response.json()["role"] == "editor"
    demote_self = owner.patch(f"{base}/{personas.users['owner'].pk}/", {"role": "admin"}, format="json")
    assert demote_self.status_code == 409
    assert "at least one owner" in error_of(demote_self)["message"]
    remove_self = owner.delete(f"{base}/{personas.users['owner'].pk}/")
    assert remove_self.status_code == 409
    assert ("alpha-owner", "owner") in memberships(personas.team)


def test_admin_cannot_touch_owner_but_manages_lower_roles(personas) -> None:
    admin = personas.client("admin")
    base = f"/api/v1/teams/{personas.team.pk}/members"
    assert admin.patch(f"{base}/{personas.users['owner'].pk}/", {"role": "viewer"}, format="json").status_code == 403
    assert admin.delete(f"{base}/{personas.users['operator'].pk}/").status_code == 204
    assert ("alpha-operator", "operator") not in memberships(personas.team)
    assert ("alpha-owner", "owner") in memberships(personas.team)


def test_member_can_leave_but_not_remove_others(personas) -> None:
    viewer = personas.client("viewer")
    base = f"/api/v1/teams/{personas.team.pk}/members"
    assert viewer.delete(f"{base}/{personas.users['editor'].pk}/").status_code == 403
    assert viewer.delete(f"{base}/{personas.users['viewer'].pk}/").status_code == 204
    assert [u for u, _ in memberships(personas.team)] == ["alpha-admin", "alpha-editor", "alpha-operator", "alpha-owner"]


@pytest.mark.parametrize("user_id", ["999999", "abc"])
def test_unknown_member_is_404(personas, user_id) -> None:
    response = personas.client("owner").patch(f"/api/v1/teams/{personas.team.pk}/members/{user_id}/",
                                              {"role": "viewer"}, format="json")
    assert response.status_code == 404


# --- tokens ------------------------------------------------------------------


def test_token_obtain_and_use(personas, api) -> None:
    response = api.post("/api/v1/auth/token/", {"username": "alpha-editor", "password": PASSWORD, "name": "ci"},
                        format="json")
    assert response.status_code == 201
    key = response.json()["token"]
    assert key.startswith("sym_")
    token = ApiToken.objects.get(user=personas.users["editor"])
    assert (token.name, token.key_digest, token.prefix) == ("ci", digest_key(key), key[:8])
    assert key not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert token.last_used_at is None

    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = api.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "alpha-editor"
    assert me.json()["teams"] == [{"id": str(personas.team.pk), "name": "Alpha", "role": "editor"}]
    token.refresh_from_db()
    assert token.last_used_at is not None
    listed = api.get("/api/v1/auth/tokens/").json()["results"]
    assert [(t["name"], t["active"]) for t in listed] == [("ci", True)]
    assert "token" not in listed[0] and "key_digest" not in listed[0]


def test_wrong_password_gets_401_and_no_token(personas, api) -> None:
    response = api.post("/api/v1/auth/token/", {"username": "alpha-editor", "password": "nope"}, format="json")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"
    assert ApiToken.objects.count() == 0


def test_revoked_token_stops_working(personas, api) -> None:
    owner = personas.client("owner")
    created = owner.post("/api/v1/auth/tokens/", {"name": "laptop"}, format="json")
    assert created.status_code == 201
    key, token_id = created.json()["token"], created.json()["id"]
    duplicate = owner.post("/api/v1/auth/tokens/", {"name": "laptop"}, format="json")
    assert duplicate.status_code == 409
    # Another user cannot revoke it.
    assert personas.client("admin").delete(f"/api/v1/auth/tokens/{token_id}/").status_code == 404
    revoked = owner.delete(f"/api/v1/auth/tokens/{token_id}/")
    assert revoked.status_code == 200
    assert revoked.json()["active"] is False
    assert owner.delete(f"/api/v1/auth/tokens/{token_id}/").status_code == 409
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def _token_api(personas, who: str) -> tuple[object, str]:
    from rest_framework.test import APIClient

    from symphony_site.actors import Actor, Origin
    from teams.services import token_create

    token, key = token_create(actor=Actor.of(personas.users[who]), origin=Origin.command(), name=f"{who} key")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, str(token.pk)


def test_a_token_in_use_is_refused_on_the_very_next_request_after_revocation(personas) -> None:
    # Nothing about a token's validity is kept between requests (teams/authentication.py).
    client, token_id = _token_api(personas, "owner")
    assert client.get("/api/v1/me/").status_code == 200
    assert client.get(f"/api/v1/teams/{personas.team.pk}/").status_code == 200
    assert personas.client("owner").delete(f"/api/v1/auth/tokens/{token_id}/").status_code == 200
    for path in ("/api/v1/me/", f"/api/v1/teams/{personas.team.pk}/"):
        response = client.get(path)
        assert response.status_code == 401
        assert error_of(response)["code"] == "authentication_failed"


def test_a_deactivated_users_token_is_refused_on_the_next_request(personas) -> None:
    from django.contrib.auth import get_user_model

    client, _ = _token_api(personas, "editor")
    assert client.get("/api/v1/teams/").status_code == 200
    get_user_model().objects.filter(pk=personas.users["editor"].pk).update(is_active=False)
    response = client.get("/api/v1/teams/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_me_by_token_is_one_statement_with_the_same_answer(personas) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    owner = personas.users["owner"]
    for name, role in (("Zeta", "viewer"), ("Gamma", "admin")):
        Membership.objects.create(team=Team.objects.create(name=name, slug=name.lower()), user=owner, role=role)
    client, token_id = _token_api(personas, "owner")
    assert client.get("/api/v1/me/").status_code == 200  # the first use records last_used_at
    with CaptureQueriesContext(connection) as captured:
        by_token = client.get("/api/v1/me/")
    assert by_token.status_code == 200
    assert len(captured) == 1
    # The session (and force_authenticate) path reads the teams through the ORM: the same answer.
    assert by_token.json() == personas.client("owner").get("/api/v1/me/").json()
    assert by_token.json()["teams"] == [
        {"id": str(personas.team.pk), "name": "Alpha", "role": "owner"},
        {"id": str(Team.objects.get(name="Gamma").pk), "name": "Gamma", "role": "admin"},
        {"id": str(Team.objects.get(name="Zeta").pk), "name": "Zeta", "role": "viewer"},
    ]
    assert by_token.json()["username"] == "alpha-owner"
    # A user without teams: an empty list, not null.
    Membership.objects.filter(user=owner).delete()
    assert client.get("/api/v1/me/").json()["teams"] == []
    assert ApiToken.objects.get(pk=token_id).last_used_at is not None


def test_last_used_is_written_at_most_once_a_minute(personas) -> None:
    import datetime as dt

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    client, token_id = _token_api(personas, "viewer")
    with CaptureQueriesContext(connection) as first:
        assert client.get("/api/v1/teams/").status_code == 200
    used = ApiToken.objects.get(pk=token_id).last_used_at
    assert used is not None
    assert sum(query["sql"].startswith("UPDATE") for query in first.captured_queries) == 1
    with CaptureQueriesContext(connection) as second:
        assert client.get("/api/v1/teams/").status_code == 200
    assert not any(query["sql"].startswith("UPDATE") for query in second.captured_queries)
    assert ApiToken.objects.get(pk=token_id).last_used_at == used
    # Older than a minute: the next request moves it forward.
    ApiToken.objects.filter(pk=token_id).update(last_used_at=used - dt.timedelta(seconds=61))
    assert client.get("/api/v1/teams/").status_code == 200
    assert ApiToken.objects.get(pk=token_id).last_used_at >= used
    assert timezone.now() - ApiToken.objects.get(pk=token_id).last_used_at < dt.timedelta(seconds=30)


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token sym_unknown"])
def test_malformed_or_unknown_token_header(personas, api, header) -> None:
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get("/api/v1/teams/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


# --- the error shape for bad input ----------------------------------------------


def test_malformed_json_is_400_and_writes_nothing(personas) -> None:
    response = personas.client("owner").post("/api/v1/teams/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed"
    assert Team.objects.count() == 2


def test_wrong_content_type_is_415(personas) -> None:
    response = personas.client("owner").post("/api/v1/teams/", data="name=x",
                                             content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert Team.objects.count() == 2


def test_unknown_fields_are_refused(personas) -> None:
    response = personas.client("owner").post("/api/v1/teams/", {"name": "X", "is_admin": True}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert error["details"] == [{"field": "is_admin", "message": "Unknown field; see the API schema at /api/schema/.",
                                 "code": "invalid"}]
    assert Team.objects.count() == 2


@override_settings(API_MAX_BODY_BYTES=1000)
def test_oversized_body_is_413(personas) -> None:
    response = personas.client("owner").post("/api/v1/teams/", {"name": "x" * 2000}, format="json")
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "too_large"
    assert error["details"][0]["limit_bytes"] == 1000
    assert Team.objects.count() == 2


def test_unauthenticated_write_is_401_and_writes_nothing(personas, api) -> None:
    response = api.post("/api/v1/teams/", {"name": "Sneaky"}, format="json")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert Team.objects.count() == 2


def test_session_auth_enforces_csrf(personas) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.users["owner"])
    response = client.post("/api/v1/teams/", data=json.dumps({"name": "NoCsrf"}), content_type="application/json")
    assert response.status_code == 403
    assert error_of(response)["code"] == "csrf_failed"
    assert "CSRF" in error_of(response)["message"]
    assert Team.objects.count() == 2


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/teams/not-a-uuid/", "/api/whatever"])
def test_unknown_api_paths_are_404_in_error_shape(personas, path) -> None:
    response = personas.client("owner").get(path)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_wrong_method_is_405(personas) -> None:
    response = personas.client("owner").delete(f"/api/v1/teams/{personas.team.pk}/")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert Team.objects.filter(pk=personas.team.pk).exists()


def test_unhandled_exception_becomes_500_shape_without_trace() -> None:
    from symphony_site.api.errors import api_exception_handler

    response = api_exception_handler(RuntimeError("database password=hunter2"), {})
    assert response.status_code == 500
    assert response.data == {"error": {"code": "server_error",
                                       "message": "Something went wrong on our side; it has been logged.",
                                       "details": []}}


def test_throttling_answers_429(personas, monkeypatch) -> None:
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "3/minute",
                                                               "login": "2/minute"})
    cache.clear()
    try:
        client = personas.client("viewer")
        statuses = [client.get("/api/v1/teams/").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        error = error_of(client.get("/api/v1/teams/"))
        assert error["code"] == "throttled"
        assert error["details"][0]["retry_after_seconds"] > 0
    finally:
        cache.clear()


def test_me_answers_what_its_serializer_describes(personas) -> None:
    # MeView builds its answer without MeSerializer (teams/api/serializers.py `me`); the schema
    # still describes it with MeSerializer, so both must say the same, to the byte, by token and
    # by session, for a user with teams, one with an empty e-mail and staff, and one with none.
    from django.contrib.auth import get_user_model
    from rest_framework.renderers import JSONRenderer

    from teams.api.serializers import MeSerializer

    owner = personas.users["owner"]
    Membership.objects.create(team=Team.objects.create(name="Delta", slug="delta"), user=owner, role="viewer")
    viewer = personas.users["viewer"]
    viewer.email, viewer.is_staff = "", True
    viewer.save(update_fields=["email", "is_staff"])
    loner = get_user_model().objects.create_user(username="loner", password=PASSWORD, email="loner@example.com")
    personas.users["loner"] = loner
    for who in ("owner", "viewer", "loner"):
        user = get_user_model().objects.get(pk=personas.users[who].pk)
        expected = JSONRenderer().render(MeSerializer(user).data)
        by_session = personas.client(who).get("/api/v1/me/")
        client, _ = _token_api(personas, who)
        by_token = client.get("/api/v1/me/")
        assert by_session.status_code == by_token.status_code == 200
        assert by_session.content == by_token.content == expected, who
    assert json.loads(expected) == {"id": loner.pk, "username": "loner", "email": "loner@example.com",
                                    "is_staff": False, "teams": []}


@pytest.mark.parametrize("user_id", ["%C2%B2", "%D9%A1"])
def test_a_member_id_in_other_digits_is_404(personas, user_id) -> None:
    """`str.isdigit()` took a superscript two and an Arabic-Indic one as a user id; the lookup then failed (a 500), or read an Arabic-Indic one as 1."""
    before = list(Membership.objects.values_list("user_id", "role").order_by("user_id"))
    response = personas.client("owner").patch(f"/api/v1/teams/{personas.team.pk}/members/{user_id}/",
                                              {"role": "viewer"}, format="json")
    assert response.status_code == 404
    assert list(Membership.objects.values_list("user_id", "role").order_by("user_id")) == before
