"""Through the API: the JSON Schema that `GET …/parameters/` publishes is what instantiation enforces.

For every catalog template (the demo data's template versions), published
here through the API: parameter sets drawn from the served ``json_schema``
with hypothesis-jsonschema always instantiate (201); sets the schema refuses
(one parameter mutated, or replaced by any JSON value a plain Draft 2020-12
validator refuses) are always refused (400) with ``details`` naming exactly
that parameter, and leave no workflow behind.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import assume, given, settings
from jsonschema import Draft202012Validator

from symphony_site.api.errors import ApiError
from symphony_site.api.parsers import load_body
from templates_app.catalog import ENTRIES
from tests.templates_app.conftest import PROPERTY_SETTINGS
from tests.templates_app.schema_values import refused_values, valid_values
from workflows.models import Workflow

# Each example is one instantiation through the API: 2 valid and 2 refused sets per
# template by default, 50 of each with HYPOTHESIS_PROFILE=thorough. The pure tests in
# test_schema_is_the_truth.py draw many more of both against the same schemas.
API_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=max(PROPERTY_SETTINGS.max_examples // 20, 2))


def publish_catalog(personas: Any) -> list[str]:
    client = personas.client("admin")
    slugs = []
    for entry in ENTRIES:
        response = client.post("/api/v1/templates/", {
            "team": str(personas.team.pk), "name": entry["name"], "slug": entry["slug"],
            "description": entry["description"], "category": entry["category"], "tags": entry["tags"],
            "visibility": "team", "version": entry["version"]}, format="json")
        assert response.status_code == 201, (entry["slug"], response.json())
        slugs.append(entry["slug"])
    return slugs


def published_versions(personas: Any, slug: str) -> list[tuple[str, dict[str, Any]]]:
    client = personas.client("editor")
    versions = client.get(f"/api/v1/templates/{slug}/versions/").json()
    numbers = [v["version"] for v in (versions["results"] if isinstance(versions, dict) else versions)]
    served = []
    for number in numbers:
        response = client.get(f"/api/v1/templates/{slug}/parameters/", {"version": number})
        assert response.status_code == 200
        served.append((number, response.json()["json_schema"]))
    return served


def instantiate(personas: Any, slug: str, version: str, values: dict[str, Any]) -> Any:
    return personas.client("editor").post(f"/api/v1/templates/{slug}/instantiate/", {
        "team": str(personas.team.pk), "version": version, "parameters": values,
        "name": f"From {slug} {uuid.uuid4().hex[:8]}"}, format="json")


def door_refusal(values: dict[str, Any]) -> ApiError | None:
    """The strict parser's refusal of a body holding these parameters, or None if it passes."""
    try:
        load_body(json.dumps({"parameters": values}).encode())
    except ApiError as error:
        return error
    return None


def check_version(personas: Any, slug: str, version: str, schema: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(schema)

    @API_SETTINGS
    @given(valid_values(schema))
    def accepted(values: dict[str, Any]) -> None:
        # What the API's parser refuses before any schema (an integer beyond 64 bits) is checked
        # by `refused`; the schema's own verdict is what this property is about.
        assume(door_refusal(values) is None)
        before = Workflow.objects.count()
        response = instantiate(personas, slug, version, values)
        assert response.status_code == 201, (slug, values, response.json())
        assert Workflow.objects.count() == before + 1

    @API_SETTINGS
    @given(refused_values(schema))
    def refused(case: tuple[dict[str, Any], str]) -> None:
        values, name = case
        before = Workflow.objects.count()
        response = instantiate(personas, slug, version, values)
        assert response.status_code == 400, (slug, values, response.json())
        error = response.json()["error"]
        door = door_refusal(values)
        if door is not None:
            # The API's parser refuses some bodies before any schema sees them (a NUL PostgreSQL
            # cannot store, an integer beyond 64 bits): that refusal, with its own code, is the answer.
            assert (error["code"], [detail["code"] for detail in error["details"]]) == (door.error_code, [door.error_code])
        else:
            assert (error["code"], error["message"]) == ("validation_failed", f"Invalid parameters: {name}.")
            assert {detail["parameter"] for detail in error["details"]} == {name}
        assert Workflow.objects.count() == before

    accepted()
    refused()


@pytest.mark.django_db
def test_the_served_schema_decides_every_instantiation(personas) -> None:
    checked = []
    for slug in publish_catalog(personas):
        for version, schema in published_versions(personas, slug):
            check_version(personas, slug, version, schema)
            checked.append((slug, version))
    assert len(checked) == len(ENTRIES)
