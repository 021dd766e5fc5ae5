"""The API's edges, each with a test that fails when the rule is broken (issue 10, "Tests that would not notice").

- the /api/ 500 handler, end to end, for a plain Django view and a DRF view;
- a Content-Length that is not a number of bytes;
- `received_bytes` (and `limit_bytes`) in the 413 error;
- `csrf_failed` for a session write without its CSRF token;
- a duplicate team name answering 409, on create and on rename;
- cursors that the server did not issue for that list.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from django.core import signing
from django.test import Client, override_settings
from django.urls import reverse

from symphony_site.api.pagination import CURSOR_SALT
from teams.models import Team
from tests.api.conftest import TeamWithData, audit_count, error_of, row_counts
from tests.api.urls_raising import SECRET

SERVER_ERROR = {"code": "server_error", "message": "Something went wrong on our side; it has been logged.",
                "details": []}


# --- the 500 handler ----------------------------------------------------------------------


@pytest.mark.urls("tests.api.urls_raising")
@pytest.mark.parametrize("path", ["/api/v1/test-raises/plain/", "/api/v1/test-raises/drf/"])
def test_an_unhandled_error_answers_500_in_the_error_shape_without_a_trace(
        team_with_data: TeamWithData, path: str, caplog: pytest.LogCaptureFixture) -> None:
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {team_with_data.keys['owner']}")
    with caplog.at_level(logging.ERROR):
        response = client.get(path)
    assert response.status_code == 500
    assert error_of(response) == SERVER_ERROR
    body = response.content.decode()
    assert SECRET not in body and "Traceback" not in body and "File \"" not in body
    # …and it was logged, with the trace, for the people who run the server.
    assert any(SECRET in (record.exc_text or str(record.exc_info)) for record in caplog.records)


def test_an_existing_view_that_fails_answers_500_in_the_error_shape(
        team_with_data: TeamWithData, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(kind: Any = None) -> Any:
        raise RuntimeError(SECRET)

    monkeypatch.setattr("workflows.api.views.catalog_entries", broken)
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {team_with_data.keys['owner']}")
    response = client.get("/api/v1/node-types/")
    assert response.status_code == 500
    assert error_of(response) == SERVER_ERROR
    assert SECRET not in response.content.decode()


# --- Content-Length and the body limit -------------------------------------------------------


@pytest.mark.parametrize("declared", ["abc", "-5", "1_000", " 12", "12.0", "0x10", "\u0661\u0662"])
def test_a_content_length_that_is_not_a_number_of_bytes_is_400(team_with_data: TeamWithData,
                                                                 declared: str) -> None:
    counts, audited = row_counts(), audit_count()
    response = team_with_data.token_client("owner").generic(
        "POST", "/api/v1/teams/", b'{"name": "Gamma"}', content_type="application/json", CONTENT_LENGTH=declared)
    assert response.status_code == 400
    assert error_of(response) == {"code": "bad_request", "message": "Content-Length is not a number of bytes.",
                                  "details": [{"content_length": declared}]}
    assert (row_counts(), audit_count()) == (counts, audited)


@override_settings(API_MAX_BODY_BYTES=1000)
@pytest.mark.parametrize("path", ["/api/v1/teams/", "/api/v1/workflows/validate/", "/api/v1/workflows/import/"])
def test_a_body_past_the_limit_is_413_with_the_sizes(team_with_data: TeamWithData, path: str) -> None:
    body = json.dumps({"name": "Gamma", "description": "x" * 1200}).encode()
    counts, audited = row_counts(), audit_count()
    response = team_with_data.token_client("owner").post(
        f"{path}?team={team_with_data.personas.team.pk}", data=body, content_type="application/json")
    assert response.status_code == 413
    assert error_of(response) == {
        "code": "too_large", "message": f"The request body is {len(body)} bytes; the limit is 1000 bytes.",
        "details": [{"limit_bytes": 1000, "received_bytes": len(body)}]}
    assert (row_counts(), audit_count()) == (counts, audited)


@override_settings(API_MAX_BODY_BYTES=1000)
def test_a_body_at_the_limit_is_read(team_with_data: TeamWithData) -> None:
    prefix, suffix = b'{"name": "Gamma", "description": "', b'"}'
    body = prefix + b"x" * (1000 - len(prefix) - len(suffix)) + suffix
    assert len(body) == 1000
    response = team_with_data.token_client("owner").post("/api/v1/teams/", data=body,
                                                         content_type="application/json")
    assert response.status_code == 201


# --- CSRF ---------------------------------------------------------------------------------


def _session(data: TeamWithData) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(data.personas.users["owner"])
    return client


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/api/v1/teams/", {"name": "Gamma"}),
    ("PATCH", "/api/v1/teams/{team}/", {"description": "changed"}),
    ("DELETE", "/api/v1/workflows/{workflow}/", None),
])
def test_a_session_write_without_the_csrf_token_is_csrf_failed(team_with_data: TeamWithData, method: str,
                                                               path: str, body: Any) -> None:
    client = _session(team_with_data)
    path = path.format(team=team_with_data.personas.team.pk, workflow=team_with_data.workflow_id)
    counts, audited = row_counts(), audit_count()
    response = client.generic(method, path, json.dumps(body) if body else "", content_type="application/json")
    assert response.status_code == 403
    error = error_of(response)
    assert (error["code"], error["message"]) == (
        "csrf_failed", "CSRF check failed: send the X-CSRFToken header with session auth, or use a token.")
    assert error["details"] == [{"reason": "CSRF cookie not set."}]
    assert (row_counts(), audit_count()) == (counts, audited)


def test_a_session_write_with_the_csrf_token_goes_through(team_with_data: TeamWithData) -> None:
    client = _session(team_with_data)
    client.get(reverse("team-detail"))  # a page with a form sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    wrong = client.post("/api/v1/teams/", {"name": "Gamma"}, content_type="application/json",
                        HTTP_X_CSRFTOKEN="x" * 32)
    assert (wrong.status_code, error_of(wrong)["code"]) == (403, "csrf_failed")
    response = client.post("/api/v1/teams/", {"name": "Gamma"}, content_type="application/json",
                           HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
    assert Team.objects.filter(name="Gamma").count() == 1


def test_a_session_read_needs_no_csrf_token(team_with_data: TeamWithData) -> None:
    assert _session(team_with_data).get("/api/v1/teams/").status_code == 200


# --- duplicate team names ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Alpha", "alpha", "  ALPHA  ", "Beta"])
def test_creating_a_team_with_a_taken_name_is_409(team_with_data: TeamWithData, name: str) -> None:
    counts, audited = row_counts(), audit_count()
    response = team_with_data.token_client("editor").post("/api/v1/teams/", {"name": name}, format="json")
    assert response.status_code == 409
    cleaned = " ".join(name.split())
    assert error_of(response) == {"code": "conflict", "details": [],
                                  "message": f"A team named {cleaned!r} already exists; choose another name."}
    assert (row_counts(), audit_count()) == (counts, audited)


def test_renaming_a_team_to_a_taken_name_is_409(team_with_data: TeamWithData) -> None:
    team = team_with_data.personas.team
    counts, audited = row_counts(), audit_count()
    response = team_with_data.token_client("owner").patch(f"/api/v1/teams/{team.pk}/", {"name": "beta "},
                                                          format="json")
    assert response.status_code == 409
    assert error_of(response)["message"] == "A team named 'beta' already exists; choose another name."
    team.refresh_from_db()
    assert team.name == "Alpha"
    assert (row_counts(), audit_count()) == (counts, audited)
    # Its own name in another case is no conflict: the rename goes through.
    renamed = team_with_data.token_client("owner").patch(f"/api/v1/teams/{team.pk}/", {"name": "ALPHA"},
                                                         format="json")
    assert (renamed.status_code, renamed.json()["name"]) == (200, "ALPHA")


def test_the_database_refuses_a_duplicate_name_that_slips_past_the_check(team_with_data: TeamWithData) -> None:
    """The unique index (lower(name)) answers when two requests race past the service's check."""
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Team.objects.create(name="ALPHA", slug="alpha-again")


# --- cursors ------------------------------------------------------------------------------------


def _unsigned(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


LIST_PATHS = ["/api/v1/teams/", "/api/v1/auth/tokens/", "/api/v1/workflows/", "/api/v1/audit/?team=alpha",
              "/api/v1/teams/{team}/members/", "/api/v1/templates/{slug}/versions/",
              "/api/v1/workflows/{workflow}/versions/", "/api/v1/templates/", "/api/v1/templates/?q=summarize"]


@pytest.mark.parametrize("path", LIST_PATHS)
def test_a_cursor_the_server_did_not_issue_for_the_list_is_400(team_with_data: TeamWithData, path: str) -> None:
    """Made-up values went into the query as they were: ["x", "not-a-uuid"] was a 500."""
    path = path.format(team=team_with_data.personas.team.pk, slug=team_with_data.template_slug,
                       workflow=team_with_data.workflow_id)
    forged = [_unsigned(["x", "not-a-uuid"]), _unsigned([None, None]), _unsigned([10**30, 1]),
              signing.dumps(["x", "not-a-uuid"], salt=f"{CURSOR_SALT}:another list"), "abc:def", "a+b"]
    client = team_with_data.token_client("owner")
    wrong = []
    for cursor in forged:
        response = client.get(path, {"cursor": cursor})
        if response.status_code != 400 or error_of(response)["details"] != [
                {"field": "cursor", "message": "invalid cursor", "code": "invalid"}]:
            wrong.append((cursor, response.status_code))
    assert wrong == []


def test_a_cursor_of_one_list_is_not_a_position_in_another(team_with_data: TeamWithData) -> None:
    client = team_with_data.token_client("editor")  # in two teams: Alpha and its own
    first = client.get("/api/v1/teams/", {"limit": 1}).json()
    assert first["next"] is not None
    second = client.get("/api/v1/teams/", {"limit": 1, "cursor": first["next"]}).json()
    assert [team["name"] for team in first["results"] + second["results"]] == ["Alpha", "Editor's own"]
    elsewhere = client.get("/api/v1/auth/tokens/", {"cursor": first["next"]})
    assert (elsewhere.status_code, error_of(elsewhere)["code"]) == (400, "validation_failed")


# --- audit times with offsets (found by Schemathesis: +18:06 was a 500) ------------------------


@pytest.mark.parametrize(("until", "everything"), [("0345-11-06T08:04:23.0510+18:06", False),
                                                  ("2999-01-01T00:00:00-23:59", True),
                                                  ("2999-01-01T00:00:00+14:00", True)])
def test_an_audit_time_with_any_valid_offset_is_read(team_with_data: TeamWithData, until: str,
                                                     everything: bool) -> None:
    client = team_with_data.token_client("owner")
    all_entries = client.get("/api/v1/audit/", {"team": "alpha"}).json()["results"]
    response = client.get("/api/v1/audit/", {"team": "alpha", "until": until})
    assert response.status_code == 200
    assert len(all_entries) >= 5
    assert response.json()["results"] == (all_entries if everything else [])


@pytest.mark.parametrize(("field", "value"), [("since", "0001-01-01T00:00:00+01:00"),
                                              ("until", "9999-12-31T23:59:59-01:00")])
def test_an_audit_time_outside_the_years_in_utc_is_400(team_with_data: TeamWithData, field: str,
                                                        value: str) -> None:
    response = team_with_data.token_client("owner").get("/api/v1/audit/", {"team": "alpha", field: value})
    assert response.status_code == 400
    assert error_of(response)["details"] == [
        {"field": field, "message": "outside the years 1 to 9999 once in UTC", "code": "invalid"}]
