"""The JSON Schema: kept in the repo, valid 2020-12, and matching the documents."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from bench.serialization.generate import generate_envelope
from tests.serialization.helpers import small_envelope
from workflows.serialization import schema_errors, workflow_document_schema, workflow_json_schema
from workflows.serialization.schema import schema_text

SCHEMA_FILE = Path(__file__).parents[2] / "workflows" / "serialization" / "workflow.schema.json"
FIXTURES = Path(__file__).parent / "fixtures"


def test_the_schema_file_is_what_the_function_returns() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text()
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == workflow_json_schema()


def test_the_schema_is_a_valid_2020_12_schema() -> None:
    schema = workflow_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator.check_schema(workflow_document_schema())


def test_callers_get_a_copy_they_may_change() -> None:
    schema = workflow_json_schema()
    schema["$defs"].clear()
    assert workflow_json_schema()["$defs"] != {}


@pytest.mark.parametrize(
    "path", sorted(FIXTURES.glob("workflow-1.*.json")), ids=lambda path: path.name
)
def test_every_current_fixture_is_valid(path: Path) -> None:
    assert schema_errors(json.loads(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("node_count", [0, 1, 50, 500])
def test_generated_benchmark_workflows_are_valid(node_count: int) -> None:
    assert schema_errors(generate_envelope(node_count, seed=node_count)) == []


def test_a_bare_workflow_validates_against_the_document_schema() -> None:
    validator = jsonschema.Draft202012Validator(workflow_document_schema())
    assert list(validator.iter_errors(small_envelope()["workflow"])) == []
    assert list(validator.iter_errors(small_envelope())) != []


def _broken(change: str) -> dict:
    envelope = copy.deepcopy(small_envelope())
    workflow = envelope["workflow"]
    if change == "unknown node kind":
        workflow["nodes"][0]["kind"] = "webhook"
    elif change == "input without data_type":
        del workflow["nodes"][0]["data_type"]
    elif change == "instrument without model_id":
        del workflow["nodes"][1]["model_id"]
    elif change == "unknown node field":
        workflow["nodes"][0]["colour"] = "red"
    elif change == "bad data type":
        workflow["nodes"][1]["inputs"][0]["data_type"] = "text"
    elif change == "data edge without ports":
        del workflow["edges"][0]["target_port"]
    elif change == "conditional edge without condition":
        workflow["edges"][0] = {"id": "e9", "kind": "conditional", "source": "a", "target": "b"}
    elif change == "bad error policy":
        workflow["settings"]["error_policy"] = "retry"
    elif change == "zero retry attempts":
        workflow["nodes"][1]["retry"]["max_attempts"] = 0
    elif change == "bad schema version":
        envelope["schema_version"] = "1.0"
    elif change == "missing created_with":
        del envelope["created_with"]
    elif change == "bad control type":
        workflow["nodes"][0] = {"id": "c", "kind": "control", "name": "c", "control": "goto"}
    elif change == "bad transform":
        workflow["edges"][0]["transform"] = {"type": "zip"}
    return envelope


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ("unknown node kind", ["workflow", "nodes", 0, "kind"]),
        ("input without data_type", ["workflow", "nodes", 0]),
        ("instrument without model_id", ["workflow", "nodes", 1]),
        ("unknown node field", ["workflow", "nodes", 0]),
        ("bad data type", ["workflow", "nodes", 1, "inputs", 0, "data_type"]),
        ("data edge without ports", ["workflow", "edges", 0]),
        ("conditional edge without condition", ["workflow", "edges", 0]),
        ("bad error policy", ["workflow", "settings", "error_policy"]),
        ("zero retry attempts", ["workflow", "nodes", 1, "retry", "max_attempts"]),
        ("bad schema version", ["schema_version"]),
        ("missing created_with", []),
        ("bad control type", ["workflow", "nodes", 0, "control"]),
        ("bad transform", ["workflow", "edges", 0, "transform", "type"]),
    ],
)
def test_the_schema_refuses_each_broken_shape_where_it_is_broken(change: str, path: list) -> None:
    errors = schema_errors(_broken(change))
    assert [error["path"] for error in errors] == [path]
