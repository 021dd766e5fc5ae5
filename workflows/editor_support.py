"""What the canvas editor is served: the palette, the type rules, each node type's settings schema.

Pure Python (no Django). The browser never re-implements a rule of the graph
core: it gets the answers from here. The palette lists input and output nodes
and every catalog type, each with the node object it inserts; the type rules
say, for every port type in play, which port types accept it (the graph
core's own `edge_accepts`); `settings_schema` gives the JSON Schema the side
panel's form is generated from — a catalog type's `config_schema`, or the
fields an input or output node carries.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from workflows.catalog import ALL_TYPES, EXPRESSION, KIND_ORDER
from workflows.domain.types import DataType, edge_accepts

# The palette's groups, in order, and the node kinds each holds.
GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("io", "Inputs and outputs", ("input", "output")),
    ("control", "Control", ("control",)),
    ("operator", "Operators", ("operator",)),
    ("instrument", "Models", ("instrument",)),
)

ORDERED_SCALARS = ("string", "number", "integer", "boolean", "object", "json", "bytes", "any")
DATA_TYPE_CHOICES: tuple[str, ...] = (
    *ORDERED_SCALARS, "array", *(f"array<{name}>" for name in ORDERED_SCALARS if name != "any"),
)

# Fields whose string is an expression or may hold `{{ … }}` templates: the form marks them so the
# panel can say what `inputs.*` holds next to them.
EXPRESSION_WIDGET = "expression"
TEMPLATE_FIELDS = frozenset({"template", "message", "system_prompt"})

INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data_type": {"enum": list(DATA_TYPE_CHOICES), "description": "What the workflow is started with."},
        "required": {"type": "boolean", "default": True,
                     "description": "Unticked, the workflow may start without it (the default applies)."},
        "default": {"description": "Used when the input is not given (JSON)."},
        "interactive": {"type": "boolean", "default": False,
                        "description": "Ask a person for the value while the workflow runs."},
        "prompt": {"type": "string", "maxLength": 2000, "description": "The question asked when interactive."},
    },
    "required": ["data_type"],
    "additionalProperties": False,
}
OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"data_type": {"enum": list(DATA_TYPE_CHOICES), "description": "What the output holds."}},
    "required": ["data_type"],
    "additionalProperties": False,
}
BASIC_ENTRIES: tuple[dict[str, Any], ...] = (
    {"kind": "input", "type": "", "title": "Input", "description": "A value the workflow starts with.",
     "schema": INPUT_SCHEMA, "node": {"data_type": "string", "required": True}},
    {"kind": "output", "type": "", "title": "Output", "description": "A result the workflow gives back.",
     "schema": OUTPUT_SCHEMA, "node": {"data_type": "any"}},
)

# Where a kind's settings live in a node: control fields sit on the node itself, catalog configs
# under "config"; the type name is held in this field.
TYPE_FIELD = {"operator": "operator", "instrument": "model_id", "control": "control"}


def _annotated(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of a config schema with expression fields marked for the form."""
    result = copy.deepcopy(schema)
    for name, original in (schema.get("properties") or {}).items():
        if original is EXPRESSION:  # the catalog shares one schema object for every expression field
            result["properties"][name]["x-symphony-widget"] = EXPRESSION_WIDGET
        elif name in TEMPLATE_FIELDS:
            result["properties"][name]["x-symphony-widget"] = "template"
    return result


@lru_cache(maxsize=1)
def palette() -> list[dict[str, Any]]:
    """Every node the palette offers, input and output first, then the catalog by kind and type.

    Each entry: kind, type, title, description, group, inputs and outputs (ports as documents),
    `node` (the fields a new node of this type starts with: type field and example settings),
    `settings_at` ("node" or "config") and `schema` (what the settings form is built from).
    """
    entries: list[dict[str, Any]] = []
    for basic in BASIC_ENTRIES:
        kind = basic["kind"]
        data_type = basic["node"]["data_type"]
        entries.append({
            "kind": kind, "type": "", "title": basic["title"], "description": basic["description"],
            "group": "io",
            "inputs": [] if kind == "input" else [{"name": "value", "data_type": data_type, "required": True}],
            "outputs": [{"name": "value", "data_type": data_type, "required": True}] if kind == "input" else [],
            "node": copy.deepcopy(basic["node"]), "settings_at": "node", "schema": basic["schema"],
        })
    for definition in sorted(ALL_TYPES, key=lambda item: (KIND_ORDER[str(item.kind)], item.type_name)):
        kind = str(definition.kind)
        if kind == "control":
            node = {"control": definition.type_name, **copy.deepcopy(definition.example_config)}
            settings_at = "node"
        else:
            node = {TYPE_FIELD[kind]: definition.type_name, "config": copy.deepcopy(definition.example_config)}
            settings_at = "config"
        entries.append({
            "kind": kind, "type": definition.type_name, "title": definition.title,
            "description": definition.description, "group": kind,
            "inputs": [port.to_document() for port in definition.inputs],
            "outputs": [port.to_document() for port in definition.outputs],
            "node": node, "settings_at": settings_at, "schema": _annotated(definition.config_schema),
        })
    return entries


def settings_schema(kind: str, type_name: str) -> dict[str, Any] | None:
    """The schema of a node's settings form, or None for a kind or type the palette does not know."""
    for entry in palette():
        if entry["kind"] == kind and entry["type"] == (type_name if kind not in {"input", "output"} else ""):
            schema: dict[str, Any] = entry["schema"]
            return schema
    return None


def port_type_names() -> list[str]:
    """Every port type a node can have from the palette: the catalog's and the input/output choices."""
    names = dict.fromkeys(DATA_TYPE_CHOICES)
    for definition in ALL_TYPES:
        for port in (*definition.inputs, *definition.outputs):
            names.setdefault(str(port.data_type))
    return sorted(names)


@lru_cache(maxsize=1)
def type_rules() -> dict[str, Any]:
    """For each port type, the port types a data edge from it may feed (the graph core's rule)."""
    names = port_type_names()
    parsed = {name: DataType.parse(name) for name in names}
    return {
        "names": names,
        "accepts": {source: [target for target in names if edge_accepts(parsed[source], parsed[target])]
                    for source in names},
    }


def groups() -> list[dict[str, str]]:
    return [{"id": group_id, "title": title} for group_id, title, _ in GROUPS]


__all__ = ["DATA_TYPE_CHOICES", "groups", "palette", "port_type_names",
           "settings_schema", "type_rules"]
