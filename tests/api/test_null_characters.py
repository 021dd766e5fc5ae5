"""NUL characters are refused at every door, 400 in the error shape (they were a 500 on insert or lookup).

PostgreSQL stores no NUL (U+0000) in text or jsonb. Schemathesis found the
first: `GET /api/v1/workflows/{id}/validation/?version=%00` answered 500.
"""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import TeamWithData, audit_count, error_of, row_counts
from tests.api.routes import api_routes
from workflows import samples
from workflows.serialization import encode, envelope

ROUTES = api_routes()


@pytest.mark.parametrize("who", ["owner", None])
def test_a_nul_in_the_query_of_any_route_is_400(team_with_data: TeamWithData, who: str | None) -> None:
    client = team_with_data.token_client(who) if who else team_with_data.personas.client(None)
    values = team_with_data.path_values()
    counts, audited = row_counts(), audit_count()
    wrong = []
    for route in ROUTES:
        for method in route.methods:
            response = client.generic(method.upper(), route.path(values) + "?version=1%00&q=ok")
            error = error_of(response)
            expected = {"code": "validation_failed",
                        "message": "The path or query holds a NUL character, which cannot be stored.",
                        "details": [{"field": "version", "code": "null_characters_not_allowed",
                                     "message": "Null characters are not allowed."}]}
            if (response.status_code, error) != (400, expected):
                wrong.append((method, route.pattern, response.status_code, error["code"]))
    assert wrong == []
    assert (row_counts(), audit_count()) == (counts, audited)


def test_a_nul_in_the_path_is_400(team_with_data: TeamWithData) -> None:
    path = f"/api/v1/workflows/{team_with_data.workflow_id}/versions/1.0.0%00/"
    response = team_with_data.token_client("owner").get(path)
    assert response.status_code == 400
    assert error_of(response)["details"] == [{"field": "path", "code": "null_characters_not_allowed",
                                              "message": "Null characters are not allowed."}]


@pytest.mark.parametrize("media_type", ["application/json", "application/msgpack"])
def test_an_imported_document_with_a_nul_is_refused(team_with_data: TeamWithData, media_type: str) -> None:
    document = samples.linear()
    document["description"] = "before\u0000after"
    data = (json.dumps(envelope(document)).encode() if media_type == "application/json"
            else encode(envelope(document), "msgpack"))
    counts, audited = row_counts(), audit_count()
    response = team_with_data.token_client("editor").post(
        f"/api/v1/workflows/import/?team={team_with_data.personas.team.pk}", data=data, content_type=media_type)
    assert response.status_code == 400
    message = "The workflow document holds a NUL character (\\u0000), which cannot be stored."
    assert error_of(response) == {"code": "null_characters_not_allowed", "message": message, "details": [
        {"code": "null_characters_not_allowed", "message": message, "path": ["description"]}]}
    assert (row_counts(), audit_count()) == (counts, audited)


def test_a_body_with_a_nul_names_where_it_is(team_with_data: TeamWithData) -> None:
    document = samples.linear()
    document["nodes"][1]["config"]["template"] = "Hi\u0000"
    response = team_with_data.token_client("editor").post(
        "/api/v1/workflows/", {"team": str(team_with_data.personas.team.pk), "document": document}, format="json")
    assert response.status_code == 400
    assert error_of(response)["details"][0]["path"] == ["document", "nodes", 1, "config", "template"]


def test_an_escaped_backslash_before_u0000_is_not_a_nul(team_with_data: TeamWithData) -> None:
    """The text `\\u0000` (a backslash, then u0000) is ordinary text."""
    response = team_with_data.token_client("editor").post(
        "/api/v1/teams/", data=b'{"name": "Gamma \\\\u0000"}', content_type="application/json")
    assert response.status_code == 201
    assert response.json()["name"] == "Gamma \\u0000"
