"""A node's effective ports, and whether a run-time value fits a port's data type.

Operator and instrument nodes may leave `inputs`/`outputs` empty, meaning "the
catalog type's default ports" (the validator resolves them the same way);
`input_ports(node)` and `output_ports(node)` answer with the ports that apply.

`conforms(value, data_type)` is the run-time half of the typing rules of
workflow-format.md: `any` and `json` accept any value, `number` accepts an
integer, `array<T>` checks every item; booleans are not numbers. `bytes` has no
JSON form, so a string (base64 or text) or a bytes object is accepted.
"""

from __future__ import annotations

from typing import Any

from workflows.catalog import builtin_catalog
from workflows.domain import DataType, Node, OutputNode
from workflows.domain.model import _TaskNode
from workflows.domain.values import PortDefinition

Ports = tuple[PortDefinition, ...]


def input_ports(node: Node) -> Ports:
    """The input ports that apply to `node` (declared, else the catalog type's)."""
    if isinstance(node, _TaskNode):
        if node.inputs:
            return tuple(node.inputs)
        definition = builtin_catalog().get(node.kind, node.type_name)
        return definition.inputs if definition is not None else ()
    return node.input_ports()


def output_ports(node: Node) -> Ports:
    """The output ports that apply to `node` (declared, else the catalog type's). An
    `output` node records the value it passes on as `value`, typed by its `data_type`."""
    if isinstance(node, OutputNode):
        return node.input_ports()
    if isinstance(node, _TaskNode):
        if node.outputs:
            return tuple(node.outputs)
        definition = builtin_catalog().get(node.kind, node.type_name)
        return definition.outputs if definition is not None else ()
    return node.output_ports()


def conforms(value: Any, data_type: DataType) -> bool:
    """Whether `value` may sit in a port of `data_type` at run time."""
    name = data_type.name
    if name == "any" or name == "json":
        return True
    if name == "string":
        return isinstance(value, str)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "object":
        return isinstance(value, dict)
    if name == "bytes":
        return isinstance(value, str | bytes)
    if not isinstance(value, list):
        return False
    item_type = data_type.item_type
    if item_type.name == "any" or item_type.name == "json":
        return True
    return all(conforms(item, item_type) for item in value)


def describe(value: Any) -> str:
    """A value's JSON type name for error messages (`integer`, `object`, `null`, …)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def preview(value: Any, limit: int = 80) -> str:
    """A short text of a value for error messages; never the whole of a large value."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
