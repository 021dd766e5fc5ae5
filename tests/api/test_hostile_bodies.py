"""Hostile JSON bodies against every POST, PUT and PATCH of the API (issue 10, defects 1 and 2).

The operations come from the URL conf, so an endpoint added later is covered
without touching this file. Each body is sent by the owner of a team with data
(every role check passes, every id is real), so what answers is the parser:
the loader's code in the error shape, nothing written, no audit entry.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import TeamWithData, audit_count, error_of, row_counts
from tests.api.routes import Route, write_operations


def _nested(levels: int, inner: bytes = b"0") -> bytes:
    return b"[" * levels + inner + b"]" * levels


# name → (raw body, the strict loader's code). Depth counts the body's own object as a level.
HOSTILE_BODIES: dict[str, tuple[bytes, str]] = {
    "nesting 65 in a field": (b'{"document": ' + _nested(64) + b"}", "nesting_too_deep"),
    "nesting 65 at the top": (_nested(65), "nesting_too_deep"),
    "nesting 100,000 in a field": (b'{"document": ' + _nested(100_000) + b"}", "nesting_too_deep"),
    "nesting 100,000 at the top": (_nested(100_000), "nesting_too_deep"),
    "duplicate keys": (b'{"name": "a", "name": "b"}', "duplicate_key"),
    "NaN": (b'{"name": NaN}', "non_finite_number"),
    "Infinity": (b'{"name": -Infinity}', "non_finite_number"),
    "5,000-digit integer": (b'{"name": ' + b"7" * 5000 + b"}", "integer_out_of_range"),
    "invalid UTF-8": (b'{"name": "caf\xc3("}', "invalid_utf8"),
    "empty": (b"", "truncated"),
    "null": (b"null", "malformed"),
    "array": (b"[]", "malformed"),
    "truncated": (b'{"name": "unfinished', "truncated"),
    # Valid JSON, but PostgreSQL stores no NUL in text or jsonb (it was a 500 on insert).
    "NUL in a string": (b'{"name": "a\\u0000b", "document": {"name": "\\u0000"}}', "null_characters_not_allowed"),
    "NUL in a key": (b'{"document": {"k\\u0000": 1}}', "null_characters_not_allowed"),
}

# Import reads its own formats (JSON, MessagePack, compressed) by sniffing the bytes; a body
# that cannot start any of them is `unknown_format` there, and the rest keep the loader's code.
IMPORT_CODES = {"nesting 65 at the top": "unknown_format", "nesting 100,000 at the top": "unknown_format",
                "null": "unknown_format", "array": "unknown_format",
                "NUL in a string": "invalid_envelope", "NUL in a key": "invalid_envelope"}

# Query parameters an operation requires before it reads its body (not in the URL conf).
REQUIRED_QUERY = {"api-workflow-import": "team={team_id}"}

OPERATIONS = write_operations()


def test_the_url_conf_yields_the_write_operations() -> None:
    found = {(route.pattern, method) for route, method in OPERATIONS}
    assert ("api/v1/workflows/", "post") in found
    assert ("api/v1/workflows/validate/", "post") in found
    assert ("api/v1/teams/<uuid:team_id>/members/<str:user_id>/", "patch") in found
    assert ("api/v1/templates/origins/<uuid:workflow_id>/upgrade/", "post") in found
    assert len(found) >= 15


@pytest.mark.parametrize(("route", "method"), OPERATIONS, ids=[f"{m.upper()} {r}" for r, m in OPERATIONS])
def test_hostile_bodies_are_refused_with_the_loader_code(team_with_data: TeamWithData, route: Route,
                                                         method: str) -> None:
    client = team_with_data.token_client("owner")
    values = team_with_data.path_values()
    path = route.path(values)
    if route.name in REQUIRED_QUERY:
        path += "?" + REQUIRED_QUERY[route.name].format(**values)
    counts, audited = row_counts(), audit_count()
    wrong: list[Any] = []
    for name, (body, code) in HOSTILE_BODIES.items():
        response = getattr(client, method)(path, data=body, content_type="application/json")
        expected = IMPORT_CODES.get(name, code) if route.name == "api-workflow-import" else code
        error = error_of(response)
        if (response.status_code, error["code"]) != (400, expected):
            wrong.append((name, response.status_code, error["code"], error["message"][:120]))
    assert wrong == []
    assert row_counts() == counts
    assert audit_count() == audited


def test_validate_refuses_duplicate_keys_as_import_does(team_with_data: TeamWithData) -> None:
    client = team_with_data.token_client("editor")
    body = b'{"document": 1, "document": 2}'
    validate = client.post("/api/v1/workflows/validate/", data=body, content_type="application/json")
    imported = client.post(f"/api/v1/workflows/import/?team={team_with_data.personas.team.pk}", data=body,
                           content_type="application/json")
    assert validate.status_code == imported.status_code == 400
    assert error_of(validate)["code"] == error_of(imported)["code"] == "duplicate_key"
    assert error_of(validate)["details"] == [
        {"code": "duplicate_key", "message": "duplicate key 'document' in a JSON object", "key": "document"}]


def test_duplicate_keys_inside_a_document_are_refused_too(team_with_data: TeamWithData) -> None:
    counts = row_counts()
    body = (b'{"team": "' + str(team_with_data.personas.team.pk).encode()
            + b'", "document": {"name": "a", "name": "b", "nodes": [], "edges": []}}')
    response = team_with_data.token_client("editor").post("/api/v1/workflows/", data=body,
                                                          content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "duplicate_key"
    assert row_counts() == counts


def test_a_body_at_the_depth_limit_is_read(team_with_data: TeamWithData) -> None:
    """64 levels (the body's object and 63 arrays) parse; the validator then judges the document."""
    body = b'{"nodes": ' + _nested(63) + b', "edges": []}'
    response = team_with_data.token_client("editor").post("/api/v1/workflows/validate/", data=body,
                                                          content_type="application/json")
    assert response.status_code == 200
    assert response.json()["valid"] is False


def test_a_valid_body_still_works(team_with_data: TeamWithData) -> None:
    response = team_with_data.token_client("editor").post(
        "/api/v1/teams/", data='{"name": "Gamma", "description": "caf\u00e9 \\u00e9"}',
        content_type="application/json; charset=utf-8")
    assert response.status_code == 201
    assert (response.json()["name"], response.json()["description"]) == ("Gamma", "café é")


def test_other_media_types_answer_415(team_with_data: TeamWithData) -> None:
    counts = row_counts()
    response = team_with_data.token_client("editor").post("/api/v1/teams/", data="name=Gamma",
                                                          content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert row_counts() == counts


def test_an_operation_without_a_body_refuses_one(team_with_data: TeamWithData) -> None:
    path = f"/api/v1/templates/origins/{team_with_data.instantiated_id}/upgrade/"
    counts, audited = row_counts(), audit_count()
    response = team_with_data.token_client("editor").post(path, {"force": True}, format="json")
    assert response.status_code == 400
    assert error_of(response)["details"] == [
        {"field": "force", "message": "Unknown field; see the API schema at /api/schema/.", "code": "invalid"}]
    assert (row_counts(), audit_count()) == (counts, audited)
    assert team_with_data.token_client("editor").post(path, {}, format="json").status_code == 200
