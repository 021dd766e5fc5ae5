"""The built-in catalog: every example config validates, every type works in a valid workflow."""

from __future__ import annotations

import jsonschema
import pytest

from workflows.catalog import ALL_TYPES, builtin_catalog, catalog_entries
from workflows.domain import NodeKind, validate_document
from workflows.samples import (
    conditional_edge,
    control_edge,
    data_edge,
    node_input,
    node_output,
    workflow,
)

REQUIRED_OPERATORS = {"template", "json_parse", "json_format", "select", "map", "filter", "reduce",
                      "merge_objects", "http_request", "delay", "log",
                      "embed", "similarity", "route", "classify", "deduplicate"}


def test_catalog_has_every_control_type_and_operator() -> None:
    kinds: dict[str, set[str]] = {}
    for definition in ALL_TYPES:
        kinds.setdefault(str(definition.kind), set()).add(definition.type_name)
    assert kinds["control"] == {"branch", "merge", "loop", "parallel", "join"}
    assert kinds["operator"] == REQUIRED_OPERATORS
    assert "openai/gpt-4o-mini" in kinds["instrument"]
    assert len(catalog_entries()) == len(ALL_TYPES) == len(list(builtin_catalog()))


@pytest.mark.parametrize("definition", ALL_TYPES, ids=lambda definition: definition.type_name)
def test_example_config_validates_against_its_schema(definition) -> None:
    jsonschema.validators.validator_for(definition.config_schema).check_schema(definition.config_schema)
    jsonschema.validate(definition.example_config, definition.config_schema)
    assert definition.title and definition.description
    assert definition.outputs, "every type produces something"


def _node_of(definition) -> dict:
    node = {"id": "subject", "kind": str(definition.kind), "name": definition.title}
    if definition.kind == NodeKind.CONTROL:
        node.update({"control": definition.type_name, **definition.example_config})
    elif definition.kind == NodeKind.OPERATOR:
        node.update({"operator": definition.type_name, "config": definition.example_config})
    else:
        node.update({"model_id": definition.type_name, "config": definition.example_config})
    return node


def _control_paths(definition, nodes: list, edges: list) -> None:
    """The shape each control type needs: branches choose, parallels fan out, merges and joins gather."""
    if definition.type_name == "branch":
        for name, condition in [("yes", "inputs.value > 0"), ("no", "inputs.value <= 0")]:
            nodes.append({"id": name, "kind": "operator", "operator": "log", "config": {}})
            edges.append(conditional_edge(f"e_{name}", "subject", name, condition))
    elif definition.type_name == "parallel":
        for name in ("left", "right"):
            nodes.append({"id": name, "kind": "operator", "operator": "log", "config": {}})
            edges.append(control_edge(f"e_{name}", "subject", name))
    elif definition.type_name in {"merge", "join"}:
        nodes.append(node_input("second", "any"))
        edges.append(data_edge("e_second", "second", "value", "subject", "value"))


@pytest.mark.parametrize("definition", ALL_TYPES, ids=lambda definition: definition.type_name)
def test_a_workflow_using_each_type_validates(definition) -> None:
    nodes, edges = [_node_of(definition)], []
    _control_paths(definition, nodes, edges)
    for index, port in enumerate(definition.inputs):
        nodes.append(node_input(f"in_{index}", str(port.data_type)))
        edges.append(data_edge(f"e_in_{index}", f"in_{index}", "value", "subject", port.name))
    for index, port in enumerate(definition.outputs):
        nodes.append(node_output(f"out_{index}", str(port.data_type)))
        edges.append(data_edge(f"e_out_{index}", "subject", port.name, f"out_{index}", "value"))
    result = validate_document(workflow(f"Uses {definition.type_name}", nodes, edges), catalog=builtin_catalog())
    assert result.to_dict() == {"valid": True, "errors": [], "warnings": []}


def test_a_config_breaking_the_schema_is_invalid_config() -> None:
    nodes = [{"id": "wait", "kind": "operator", "operator": "delay", "config": {"milliseconds": -5}},
             node_output("out")]
    result = validate_document(workflow("Bad delay", nodes, [data_edge("e1", "wait", "value", "out", "value")]),
                               catalog=builtin_catalog())
    assert [(issue.code, issue.node_id) for issue in result.errors] == [("invalid_config", "wait")]


def test_entries_have_the_api_shape() -> None:
    entry = next(entry for entry in catalog_entries() if entry["type"] == "openai/gpt-4o-mini")
    assert set(entry) == {"type", "kind", "title", "description", "inputs", "outputs", "config_schema",
                          "example_config"}
    assert entry["kind"] == "instrument"
    assert [port["name"] for port in entry["inputs"]] == ["prompt"]
    assert [port["data_type"] for port in entry["outputs"]] == ["string", "object"]
