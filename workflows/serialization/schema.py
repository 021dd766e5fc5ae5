"""The JSON Schema (2020-12) of the envelope and the workflow document.

Built here from workflow-format.md and kept in the repo as
``workflow.schema.json`` (regenerate with
``python -m workflows.serialization.schema > workflows/serialization/workflow.schema.json``;
a test keeps the two equal). The API serves it.

The schema checks shape only. What needs the whole graph (unique ids, edges
naming existing nodes and ports, types assignable along edges, acyclicity)
and what needs the node-type catalog (ports and config of instrument and
operator types) is the graph core's validation.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from workflows.serialization.versions import CURRENT_SCHEMA_VERSION

SCHEMA_ID = "https://symphony.example/schemas/workflow-envelope.schema.json"

NODE_KINDS = ("input", "output", "instrument", "operator", "control")
EDGE_KINDS = ("data", "control", "conditional")
CONTROL_TYPES = ("branch", "merge", "loop", "parallel", "join")
ERROR_POLICIES = ("stop", "continue", "pause")
TRANSFORM_TYPES = ("map", "filter", "reduce", "flatten", "custom")
BASE_DATA_TYPES = (
    "any",
    "string",
    "number",
    "integer",
    "boolean",
    "object",
    "array",
    "bytes",
    "json",
)
# array<T> nests; a regular expression cannot check that the brackets
# balance, so it checks the alphabet and the order (the graph core parses it).
DATA_TYPE_PATTERN = "^(array<)*(" + "|".join(BASE_DATA_TYPES) + ")>*$"
SEMANTIC_VERSION_PATTERN = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$"

_NON_EMPTY_STRING = {"type": "string", "minLength": 1}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null: the graph core writes optional fields it has no value for as null.

    Scalars add "null" to their type; objects use if/else rather than anyOf,
    so a broken object's errors keep their exact paths.
    """
    if isinstance(schema.get("type"), str) and schema["type"] != "object":
        return {**schema, "type": [schema["type"], "null"]}
    return {"if": {"type": "null"}, "else": schema}


def _object(
    properties: dict[str, Any], required: list[str] | tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


def _common_node_properties() -> dict[str, Any]:
    return {
        "id": {"$ref": "#/$defs/node_id"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "position": {"$ref": "#/$defs/position"},
        "enabled": {"type": "boolean", "default": True},
        "metadata": {"$ref": "#/$defs/node_metadata"},
    }


def _node_kind(kind: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return _object(
        {**_common_node_properties(), "kind": {"const": kind}, **properties},
        ["id", "kind", "name", *required],
        title=f"{kind} node",
    )


def _executable_properties() -> dict[str, Any]:
    return {
        "config": {"type": "object"},
        "inputs": {"type": "array", "items": {"$ref": "#/$defs/port"}},
        "outputs": {"type": "array", "items": {"$ref": "#/$defs/port"}},
        "retry": _nullable({"$ref": "#/$defs/retry"}),
        "timeout_s": _nullable({"type": "number", "exclusiveMinimum": 0}),
    }


def _edge_kind(kind: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return _object(
        {
            "id": _NON_EMPTY_STRING,
            "kind": {"const": kind},
            "source": {"$ref": "#/$defs/node_id"},
            "target": {"$ref": "#/$defs/node_id"},
            **properties,
        },
        ["id", "kind", "source", "target", *required],
        title=f"{kind} edge",
    )


def _dispatch_on_kind(kinds: tuple[str, ...], definition_suffix: str) -> dict[str, Any]:
    """An object whose ``kind`` picks the definition it must match (clear errors, unlike oneOf)."""
    return {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": list(kinds)}},
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {"$ref": f"#/$defs/{kind}_{definition_suffix}"},
            }
            for kind in kinds
        ],
    }


def _build_schema() -> dict[str, Any]:
    definitions: dict[str, Any] = {
        "semantic_version": {"type": "string", "pattern": SEMANTIC_VERSION_PATTERN},
        "node_id": _NON_EMPTY_STRING,
        "data_type": {"type": "string", "pattern": DATA_TYPE_PATTERN},
        "port": _object(
            {
                "name": _NON_EMPTY_STRING,
                "data_type": {"$ref": "#/$defs/data_type"},
                "required": {"type": "boolean", "default": True},
                "default": {},
                "description": {"type": "string"},
            },
            ["name", "data_type"],
        ),
        "retry": _object(
            {
                "max_attempts": {"type": "integer", "minimum": 1},
                "delay_ms": {"type": "integer", "minimum": 0},
                "backoff_multiplier": {"type": "number", "minimum": 1},
            },
        ),
        "position": _object({"x": {"type": "number"}, "y": {"type": "number"}}, ["x", "y"]),
        "node_metadata": _object(
            {
                "documentation": {"type": "string"},
                "examples": {"type": "array"},
                "warnings": {"type": "array", "items": {"type": "string"}},
                "custom": {"type": "object"},
            },
        ),
        "workflow_metadata": _object(
            {
                "author": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "category": {"type": "string"},
                "icon": {"type": "string"},
                "color": {"type": "string"},
                "custom": {"type": "object"},
            },
        ),
        "settings": _object(
            {
                "error_policy": {"enum": list(ERROR_POLICIES), "default": "stop"},
                "max_parallel": _nullable({"type": "integer", "minimum": 1}),
                "timeout_s": _nullable({"type": "number", "exclusiveMinimum": 0}),
                "concurrency": _nullable(
                    _object(
                        {
                            "limit": {"type": "integer", "minimum": 1},
                            "on_limit": {"enum": ["queue", "cancel", "fail"], "default": "queue"},
                        },
                        ["limit"],
                    )
                ),
                "retry_workflow": _nullable(
                    _object(
                        {
                            "max_attempts": {"type": "integer", "minimum": 1, "default": 2},
                            "backoff_s": {"type": "number", "minimum": 0, "default": 60},
                            "backoff_multiplier": {"type": "number", "minimum": 1, "default": 1},
                        },
                    )
                ),
            },
        ),
        "input_node": _node_kind(
            "input",
            {
                "data_type": {"$ref": "#/$defs/data_type"},
                "required": {"type": "boolean"},
                "default": {},
                "interactive": {"type": "boolean"},
                "prompt": {"type": "string"},
            },
            ["data_type"],
        ),
        "output_node": _node_kind(
            "output", {"data_type": {"$ref": "#/$defs/data_type"}}, ["data_type"]
        ),
        "instrument_node": _node_kind(
            "instrument",
            {
                # Known model ids come from the catalog: the graph core checks them.
                "model_id": {"type": "string"},
                "model_version": {"type": "string"},
                **_executable_properties(),
            },
            ["model_id"],
        ),
        "operator_node": _node_kind(
            "operator",
            {"operator": {"type": "string"}, **_executable_properties()},
            ["operator"],
        ),
        "control_node": _node_kind(
            "control",
            {
                "control": {"enum": list(CONTROL_TYPES)},
                # An expression (branch).
                "condition": _nullable({"type": "string"}),
                # An expression giving the items, and the workflow run for each (loop).
                "over": _nullable({"type": "string"}),
                "body": _nullable({"type": "string"}),
            },
            ["control"],
        ),
        "node": _dispatch_on_kind(NODE_KINDS, "node"),
        "data_edge": _edge_kind(
            "data",
            {
                "source_port": _NON_EMPTY_STRING,
                "target_port": _NON_EMPTY_STRING,
                "transform": _nullable(
                    _object(
                        {"type": {"enum": list(TRANSFORM_TYPES)}, "config": {"type": "object"}},
                        ["type"],
                    )
                ),
            },
            ["source_port", "target_port"],
        ),
        "control_edge": _edge_kind("control", {"priority": {"type": "integer"}}, []),
        "conditional_edge": _edge_kind(
            "conditional",
            {"condition": {"type": "string"}, "label": _nullable({"type": "string"})},
            ["condition"],
        ),
        "edge": _dispatch_on_kind(EDGE_KINDS, "edge"),
        "workflow": _object(
            {
                "id": _NON_EMPTY_STRING,
                "name": {"type": "string"},
                "description": {"type": "string"},
                "version": {"$ref": "#/$defs/semantic_version"},
                "metadata": {"$ref": "#/$defs/workflow_metadata"},
                "settings": {"$ref": "#/$defs/settings"},
                "nodes": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                "edges": {"type": "array", "items": {"$ref": "#/$defs/edge"}},
                "created_at": {"type": "string", "format": "date-time"},
                "updated_at": {"type": "string", "format": "date-time"},
            },
            ["id", "name", "nodes", "edges"],
        ),
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Symphony workflow document",
        "description": (
            "A serialized workflow in its versioned envelope (workflow-format.md). "
            f"Schema version {CURRENT_SCHEMA_VERSION}."
        ),
        **_object(
            {
                "schema_version": {"$ref": "#/$defs/semantic_version"},
                "created_with": {"type": "string"},
                "workflow": {"$ref": "#/$defs/workflow"},
            },
            ["schema_version", "created_with", "workflow"],
        ),
        "$defs": definitions,
    }


_SCHEMA = _build_schema()


def workflow_json_schema() -> dict[str, Any]:
    """The envelope's JSON Schema (a fresh copy: callers may change it)."""
    return copy.deepcopy(_SCHEMA)


def workflow_document_schema() -> dict[str, Any]:
    """The schema of a bare workflow document (the envelope's ``workflow``)."""
    schema = workflow_json_schema()
    definitions = schema.pop("$defs")
    return {
        "$schema": schema["$schema"],
        "$id": SCHEMA_ID.replace("workflow-envelope", "workflow-document"),
        "title": "Symphony workflow (without envelope)",
        "$ref": "#/$defs/workflow",
        "$defs": definitions,
    }


def schema_text() -> str:
    """The schema as kept in ``workflow.schema.json``: sorted keys, indented by 2, final newline."""
    return json.dumps(workflow_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_errors(envelope: Any) -> list[dict[str, Any]]:
    """Every place ``envelope`` breaks the schema, as ``{"path", "message"}``, in document order."""
    import jsonschema  # imported here: only validation needs it

    validator = jsonschema.Draft202012Validator(_SCHEMA)
    return [
        {"path": list(error.absolute_path), "message": error.message}
        for error in sorted(
            validator.iter_errors(envelope), key=lambda error: list(map(str, error.absolute_path))
        )
    ]


if __name__ == "__main__":
    print(schema_text(), end="")
