"""Property tests: any valid parameter set makes a valid workflow; any invalid one is refused
with an error naming each bad parameter. Pure: the graph core validates against the built-in catalog."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from templates_app.domain.instantiation import InstantiationError, instantiate_document
from templates_app.domain.parameters import parse_parameters
from tests.templates_app.conftest import PROPERTY_SETTINGS
from workflows.catalog import builtin_catalog
from workflows.domain import validate_document

DOCUMENT: dict[str, Any] = {
    "name": "Fetch and summarize",
    "nodes": [
        {"id": "ticket", "kind": "input", "name": "Ticket", "data_type": "object"},
        {"id": "prompt", "kind": "operator", "name": "Prompt", "operator": "template",
         "config": {"template": "{{ params.instructions }}\nTags: {{ params.tags }}\n{{ inputs.variables.body }}"}},
        {"id": "model", "kind": "instrument", "name": "Model", "model_id": "{{ params.model }}",
         "config": {"temperature": "{{ params.temperature }}", "max_tokens": "{{ params.max_tokens }}",
                    "stop": "{{ params.stop }}"}},
        {"id": "notify", "kind": "operator", "name": "Notify", "operator": "http_request",
         "config": {"method": "{{ params.method }}", "url": "{{ params.webhook }}",
                    "timeout_s": "{{ params.timeout }}", "expect_json": "{{ params.expect_json }}",
                    "headers": {"X-Team": "{{ params.team_name }}"}}},
        {"id": "parse", "kind": "operator", "name": "Parse", "operator": "json_parse", "config": {}},
        {"id": "log", "kind": "operator", "name": "Log", "operator": "log",
         "config": {"level": "info", "message": "{{ params.team_name }}: sent {{ inputs.value }}"}},
        {"id": "reply", "kind": "output", "name": "Reply", "data_type": "string"},
    ],
    "edges": [
        {"id": "e1", "kind": "data", "source": "ticket", "source_port": "value", "target": "prompt",
         "target_port": "variables"},
        {"id": "e2", "kind": "data", "source": "prompt", "source_port": "text", "target": "model",
         "target_port": "prompt"},
        {"id": "e3", "kind": "data", "source": "model", "source_port": "text", "target": "reply",
         "target_port": "value"},
        {"id": "e4", "kind": "data", "source": "model", "source_port": "text", "target": "parse",
         "target_port": "text"},
        {"id": "e6", "kind": "data", "source": "parse", "source_port": "value", "target": "notify",
         "target_port": "body"},
        {"id": "e5", "kind": "data", "source": "notify", "source_port": "body", "target": "log",
         "target_port": "value"},
    ],
}

DEFINITIONS = parse_parameters([
    {"name": "instructions", "type": "string", "required": True, "constraints": {"min_length": 1, "max_length": 500}},
    {"name": "tags", "type": "array", "items": {"type": "string", "constraints": {"max_length": 20}},
     "constraints": {"max_length": 5}, "default": []},
    {"name": "model", "type": "enum", "choices": ["local/echo", "openai/gpt-4o-mini", "openai/gpt-4o"],
     "default": "local/echo"},
    {"name": "temperature", "type": "float", "constraints": {"min_value": 0, "max_value": 2}, "default": 0.2},
    {"name": "max_tokens", "type": "integer", "constraints": {"min_value": 1, "max_value": 8000}, "default": 256},
    {"name": "stop", "type": "array", "items": {"type": "string", "constraints": {"min_length": 1}},
     "constraints": {"max_length": 4}, "default": []},
    {"name": "method", "type": "enum", "choices": ["POST", "PUT"], "default": "POST"},
    {"name": "webhook", "type": "string", "required": True,
     "constraints": {"pattern": "^https://", "max_length": 300, "validators": ["http_url"]}},
    {"name": "timeout", "type": "float", "constraints": {"min_value": 0.5, "max_value": 300}, "default": 10},
    {"name": "expect_json", "type": "boolean", "default": True},
    {"name": "team_name", "type": "string", "default": "support",
     "constraints": {"min_length": 1, "max_length": 40, "pattern": "^[A-Za-z0-9 _-]+$"}},
])
CATALOG = builtin_catalog()
# Text the template renders may hold anything but the placeholder braces themselves and
# NUL (which no stored text may hold).
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="{}\x00"), min_size=1, max_size=60)


@st.composite
def valid_parameters(draw: st.DrawFn) -> dict[str, Any]:
    values: dict[str, Any] = {
        "instructions": draw(TEXT),
        "webhook": "https://" + draw(st.from_regex(r"[a-z]{1,12}\.example\.com(/[a-z0-9]{0,10})?", fullmatch=True)),
    }
    optional = {
        "tags": st.lists(st.text(st.characters(blacklist_characters="{\x00"), max_size=20), max_size=5),
        "model": st.sampled_from(["local/echo", "openai/gpt-4o-mini", "openai/gpt-4o"]),
        "temperature": st.floats(0, 2, allow_nan=False),
        "max_tokens": st.integers(1, 8000),
        "stop": st.lists(st.text(st.characters(blacklist_characters="{\x00"), min_size=1, max_size=10), max_size=4),
        "method": st.sampled_from(["POST", "PUT"]),
        "timeout": st.floats(0.5, 300, allow_nan=False) | st.integers(1, 300),
        "expect_json": st.booleans(),
        "team_name": st.from_regex(r"[A-Za-z0-9 _-]{1,40}", fullmatch=True),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            values[name] = draw(strategy)
    return values


@PROPERTY_SETTINGS
@given(valid_parameters())
def test_any_valid_parameter_set_makes_a_valid_workflow(parameters: dict[str, Any]) -> None:
    result = instantiate_document(DOCUMENT, DEFINITIONS, parameters)
    validation = validate_document(result.document, catalog=CATALOG)
    assert validation.errors == []
    filled = result.parameters
    nodes = {node["id"]: node for node in result.document["nodes"]}
    assert nodes["model"]["model_id"] == filled["model"]
    assert nodes["model"]["config"]["temperature"] == filled["temperature"]
    assert nodes["model"]["config"]["max_tokens"] == filled["max_tokens"]
    assert nodes["notify"]["config"]["url"] == filled["webhook"]
    assert nodes["notify"]["config"]["expect_json"] is filled["expect_json"]
    assert nodes["log"]["config"]["message"] == f"{filled['team_name']}: sent {{{{ inputs.value }}}}"
    assert nodes["prompt"]["config"]["template"].startswith(filled["instructions"] + "\nTags: ")
    assert {d["parameter"] for d in result.applied_defaults} == set(filled) - set(parameters)


# One way to break each parameter, so the refusal must name exactly the broken ones.
BREAKERS: dict[str, st.SearchStrategy[Any]] = {
    "instructions": st.sampled_from(["", 5, None, "x" * 501, "{{ secrets.api_key }}", "a {% if x %}"]),
    "tags": st.sampled_from([["a"] * 6, "tag", [1], ["x" * 21]]),
    "model": st.sampled_from(["gpt-5", "", 3]),
    "temperature": st.sampled_from([-0.1, 2.5, "hot", True]),
    "max_tokens": st.sampled_from([0, 8001, 1.5, "many"]),
    "stop": st.sampled_from([["a", "b", "c", "d", "e"], [""], "stop"]),
    "method": st.sampled_from(["GET", "post", None]),
    "webhook": st.sampled_from(["http://insecure.example.com", "ftp://x", "https://", 42]),
    "timeout": st.sampled_from([0, 301, "10"]),
    "expect_json": st.sampled_from(["true", 1, None]),
    "team_name": st.sampled_from(["", "a" * 41, "semi;colon", "{#x"]),
}


@PROPERTY_SETTINGS
@given(valid_parameters(), st.sets(st.sampled_from(sorted(BREAKERS)), min_size=1, max_size=4), st.data())
def test_any_invalid_parameter_set_is_refused_naming_each_bad_parameter(
    parameters: dict[str, Any], broken: set[str], data: st.DataObject
) -> None:
    bad = copy.deepcopy(parameters)
    for name in broken:
        bad[name] = data.draw(BREAKERS[name], label=name)
    try:
        instantiate_document(DOCUMENT, DEFINITIONS, bad)
    except InstantiationError as error:
        assert {problem["parameter"] for problem in error.problems} == broken
        assert all(problem["code"] and problem["message"] for problem in error.problems)
    else:
        raise AssertionError(f"parameters {sorted(broken)} were accepted: {bad}")
