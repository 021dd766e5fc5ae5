"""Form-based editing of a workflow document: add a node from the catalog, connect two ports.

Pure Python (no Django). The web editor posts the document text with a small
form; these functions return the edited document (or raise EditError with a
message for the person), so nobody has to hand-write JSON.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from workflows.catalog import ALL_TYPES, builtin_catalog

BASIC_KINDS = {"input": "Input", "output": "Output"}


class EditError(ValueError):
    """The edit cannot be made; the message says why, for the person at the form."""


def parse_document_text(text: str) -> dict[str, Any]:
    """The bare workflow object from the editor's text (an envelope is unwrapped)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise EditError(f"The document is not valid JSON: {error.msg} at line {error.lineno}, "
                        f"column {error.colno}.") from None
    if not isinstance(value, dict):
        raise EditError("The document must be a JSON object.")
    if isinstance(value.get("workflow"), dict) and "schema_version" in value:
        return value["workflow"]
    return value


def dump_document_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


def node_type_choices() -> list[tuple[str, str]]:
    """(value, label) for the "add a node" select: input, output, then every catalog type."""
    choices = [(f"{kind}:", label) for kind, label in BASIC_KINDS.items()]
    for definition in ALL_TYPES:
        choices.append((f"{definition.kind}:{definition.type_name}",
                        f"{str(definition.kind).title()} · {definition.title} ({definition.type_name})"))
    return choices


def _fresh_id(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "node"
    candidate, number = base[:60], 2
    while candidate in taken:
        candidate = f"{base[:56]}_{number}"
        number += 1
    return candidate


def add_node(document: dict[str, Any], type_choice: str, name: str) -> tuple[dict[str, Any], str]:
    """A copy of `document` with a new node of the chosen type (catalog example config); its id."""
    kind, _, type_name = type_choice.partition(":")
    name = name.strip() or (type_name or kind).replace("_", " ").title()
    result = copy.deepcopy(document)
    nodes = result.setdefault("nodes", [])
    if not isinstance(nodes, list):
        raise EditError("The document's nodes must be a list.")
    node_id = _fresh_id(name, {str(node.get("id")) for node in nodes if isinstance(node, dict)})
    node: dict[str, Any] = {"id": node_id, "kind": kind, "name": name}
    if kind in {"input", "output"} and not type_name:
        node["data_type"] = "string" if kind == "input" else "any"
    else:
        definition = builtin_catalog().get(kind, type_name)
        if definition is None:
            raise EditError(f"Unknown node type {type_choice!r}; pick one from the list.")
        if kind == "control":
            node.update({"control": type_name, **copy.deepcopy(definition.example_config)})
        else:
            field = "operator" if kind == "operator" else "model_id"
            node.update({field: type_name, "config": copy.deepcopy(definition.example_config)})
    nodes.append(node)
    return result, node_id


def _ports(node: dict[str, Any]) -> tuple[list[str], list[str]]:
    kind = node.get("kind")
    if kind == "input":
        return [], ["value"]
    if kind == "output":
        return ["value"], []
    if kind == "control":
        return ["value"], ["value"]
    declared_in = [port.get("name") for port in node.get("inputs") or [] if isinstance(port, dict)]
    declared_out = [port.get("name") for port in node.get("outputs") or [] if isinstance(port, dict)]
    definition = builtin_catalog().get(str(kind), str(node.get("operator") or node.get("model_id") or ""))
    if definition is not None:
        declared_in = declared_in or [port.name for port in definition.inputs]
        declared_out = declared_out or [port.name for port in definition.outputs]
    return [str(name) for name in declared_in], [str(name) for name in declared_out]


def port_choices(document: dict[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(value, label) of every output port (sources) and input port (targets) in the document."""
    sources, targets = [], []
    for node in document.get("nodes") or []:
        if not isinstance(node, dict) or "id" not in node:
            continue
        inputs, outputs = _ports(node)
        label = str(node.get("name") or node["id"])
        sources += [(f"{node['id']}|{port}", f"{label} → {port}") for port in outputs]
        targets += [(f"{node['id']}|{port}", f"{label} → {port}") for port in inputs]
    return sources, targets


def connect(document: dict[str, Any], source: str, target: str, kind: str = "data",
            condition: str = "") -> tuple[dict[str, Any], str]:
    """A copy of `document` with an edge from `source` ("node|port") to `target`; the edge's id."""
    source_node, _, source_port = source.partition("|")
    target_node, _, target_port = target.partition("|")
    if not source_node or not target_node:
        raise EditError("Pick a source port and a target port.")
    if kind not in {"data", "control", "conditional"}:
        raise EditError("An edge is data, control or conditional.")
    if kind == "conditional" and not condition.strip():
        raise EditError("A conditional edge needs a condition, e.g. inputs.value > 0.")
    result = copy.deepcopy(document)
    edges = result.setdefault("edges", [])
    if not isinstance(edges, list):
        raise EditError("The document's edges must be a list.")
    taken = {str(edge.get("id")) for edge in edges if isinstance(edge, dict)}
    number = len(edges) + 1
    while f"e{number}" in taken:
        number += 1
    edge: dict[str, Any] = {"id": f"e{number}", "kind": kind, "source": source_node, "target": target_node}
    if kind == "data":
        edge.update({"source_port": source_port or "value", "target_port": target_port or "value"})
    elif kind == "conditional":
        edge["condition"] = condition.strip()
    edges.append(edge)
    return result, edge["id"]
