"""The OpenAPI schema is generated from the code, valid, and covers every API route."""

from __future__ import annotations

import re

import pytest
import yaml
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate


def _api_routes(patterns, prefix: str = "") -> set[str]:
    routes: set[str] = set()
    for pattern in patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes |= _api_routes(pattern.url_patterns, text)
        elif isinstance(pattern, URLPattern) and text.startswith("api/v1/"):
            routes.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text))
    return routes


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_schema_is_valid_openapi_3(schema) -> None:
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_every_api_route_is_in_the_schema(schema) -> None:
    routes = _api_routes(get_resolver().url_patterns)
    assert "/api/v1/teams/{team_id}/members/{user_id}/" in routes
    assert routes - set(schema["paths"]) == set()


def test_docs_page_renders(client) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def _operations(schema) -> list[tuple[str, str, dict]]:
    return [(method, path, operation) for path, item in schema["paths"].items()
            for method, operation in item.items() if method in {"get", "post", "put", "patch", "delete"}]


def _resolve(schema, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


@pytest.mark.parametrize("path", ["/api/v1/auth/tokens/", "/api/v1/teams/", "/api/v1/teams/{team_id}/members/",
                                  "/api/v1/templates/{slug}/versions/", "/api/v1/workflows/",
                                  "/api/v1/workflows/{workflow_id}/versions/", "/api/v1/audit/"])
def test_lists_are_documented_as_pages(schema, path: str) -> None:
    page = _resolve(schema, schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
    assert page["type"] == "object"
    assert {"results", "next"} <= set(page["required"])
    assert page["properties"]["results"]["type"] == "array"


def test_no_json_answer_is_documented_as_a_bare_array_but_the_audit_export(schema) -> None:
    arrays = [f"{method.upper()} {path}" for method, path, operation in _operations(schema)
              for status, response in operation["responses"].items() if status.startswith("2")
              if _resolve(schema, response.get("content", {}).get("application/json", {}).get("schema", {}))
              .get("type") == "array"]
    assert arrays == ["GET /api/v1/audit/export/"]


def test_every_operation_documents_the_platform_errors(schema) -> None:
    missing = []
    for method, path, operation in _operations(schema):
        expected = {"400", "429"}
        if operation.get("security"):
            expected |= {"401"} | ({"403"} if method != "get" else set())
        if "{" in path:
            expected.add("404")
        if method in {"post", "put", "patch"}:
            expected |= {"413", "415"}
        missing += [(method, path, status) for status in sorted(expected - set(operation["responses"]))]
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert missing == []
    throttled = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]["429"]
    assert throttled["headers"]["Retry-After"]["schema"] == {"type": "integer"}


def test_request_bodies_are_closed_objects(schema) -> None:
    open_bodies = []
    for method, path, operation in _operations(schema):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is None:
            continue
        component = _resolve(schema, body["schema"])
        if component.get("type") == "object" and component.get("additionalProperties") is not False:
            open_bodies.append(f"{method.upper()} {path}")
    # The validate endpoint takes a whole workflow document, whose own schema is served apart.
    assert open_bodies == ["POST /api/v1/workflows/validate/"]
