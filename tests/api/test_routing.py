"""Unknown API paths answer 404 and wrong methods 405, in the error shape, whoever asks (issue 10, defect 3).

Before: CsrfViewMiddleware answered a token client's POST to an unknown path
with 403 `csrf_failed` (the catch-all 404 view was not CSRF-exempt), and DRF
authenticated before looking the method up, so a wrong method answered 401 or
403 instead of 405.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client

from tests.api.conftest import TeamWithData, audit_count, error_of, row_counts
from tests.api.routes import api_routes

AUTH_KINDS = ["token", "session without CSRF token", "invalid token", "anonymous"]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]


def client_for(kind: str, data: TeamWithData) -> Client:
    """A Django client as each kind of caller; the session one enforces CSRF as a browser would meet it."""
    if kind == "token":
        return Client(HTTP_AUTHORIZATION=f"Token {data.keys['owner']}")
    if kind == "invalid token":
        return Client(HTTP_AUTHORIZATION="Token sym_not-a-real-key")
    client = Client(enforce_csrf_checks=True)
    if kind.startswith("session"):
        client.force_login(data.personas.users["owner"])
    return client


def send(client: Client, method: str, path: str) -> Any:
    body = {"data": b'{"name": "x"}', "content_type": "application/json"} if method in ("POST", "PUT", "PATCH") else {}
    return client.generic(method, path, **body)


def unknown_paths(data: TeamWithData) -> list[str]:
    team = data.personas.team.pk
    return [
        f"/api/v1/audit/{uuid.uuid4()}/",  # the path of the issue
        "/api/v1/nothing-here/",
        "/api/v2/teams/",
        "/api/",
        "/api/v1/teams",  # no trailing slash: no redirect, which would drop a POST's body
        "/api/v1/workflows/not-a-uuid/",
        f"/api/v1/teams/{team}/members/{data.personas.users['viewer'].pk}/extra/",
    ]


@pytest.mark.parametrize("kind", AUTH_KINDS)
def test_unknown_api_paths_answer_404_for_every_method(team_with_data: TeamWithData, kind: str) -> None:
    client = client_for(kind, team_with_data)
    counts, audited = row_counts(), audit_count()
    wrong = []
    for path in unknown_paths(team_with_data):
        for method in METHODS:
            response = send(client, method, path)
            if response.status_code != 404 or response["Content-Type"] != "application/json":
                wrong.append((method, path, response.status_code))
            elif method != "HEAD" and error_of(response)["code"] != "not_found":
                wrong.append((method, path, error_of(response)["code"]))
    assert wrong == []
    assert (row_counts(), audit_count()) == (counts, audited)


def test_an_unknown_path_names_itself_in_the_message(team_with_data: TeamWithData) -> None:
    path = f"/api/v1/audit/{uuid.uuid4()}/"
    response = client_for("token", team_with_data).post(path, b"{}", content_type="application/json")
    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": f"No API endpoint at {path}.", "details": []}


ROUTES = api_routes()


@pytest.mark.parametrize("kind", AUTH_KINDS)
def test_a_wrong_method_on_a_known_path_answers_405(team_with_data: TeamWithData, kind: str) -> None:
    client = client_for(kind, team_with_data)
    values = team_with_data.path_values()
    counts, audited = row_counts(), audit_count()
    checked, wrong = 0, []
    for route in ROUTES:
        allowed = [method.upper() for method in route.methods]
        expected_allow = {*allowed, "OPTIONS", *(["HEAD"] if "GET" in allowed else [])}
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "TRACE"):
            if method in allowed:
                continue
            checked += 1
            response = send(client, method, route.path(values))
            error = error_of(response)
            answer = (response.status_code, error["code"], set(response["Allow"].split(", ")))
            if answer != (405, "method_not_allowed", expected_allow):
                wrong.append((method, route.pattern, answer))
    assert wrong == []
    assert checked > 100
    assert (row_counts(), audit_count()) == (counts, audited)


def test_the_405_names_the_allowed_methods(team_with_data: TeamWithData) -> None:
    response = client_for("anonymous", team_with_data).delete("/api/v1/teams/")
    assert response.status_code == 405
    assert error_of(response) == {"code": "method_not_allowed", "message": 'Method "DELETE" not allowed.',
                                  "details": [{"allowed_methods": ["GET", "POST", "OPTIONS", "HEAD"]}]}
    assert response["Allow"] == "GET, POST, OPTIONS, HEAD"


def test_allowed_methods_still_reach_authentication(team_with_data: TeamWithData) -> None:
    """The check above only answers wrong methods: a right one is still authenticated."""
    response = client_for("anonymous", team_with_data).get("/api/v1/teams/")
    assert (response.status_code, error_of(response)["code"]) == (401, "not_authenticated")
    response = client_for("invalid token", team_with_data).get("/api/v1/teams/")
    assert (response.status_code, error_of(response)["code"]) == (401, "authentication_failed")
