"""Fast paths for reading well-formed nodes and edges.

The careful reader in ``document.py`` checks every field through helper
methods so it can report each problem with its path; for a 10,000-node
document that costs close to a second. Almost every node and edge an API
receives is well formed, so these functions try a straight read first, with
exact type checks, and return None at the first thing that is not plainly
right; the careful reader then reads that item and reports what is wrong.
A property test (``tests/graph/test_properties.py``) checks that both paths
read every input to the same result.
"""

from __future__ import annotations

import math
from typing import Any

from workflows.domain.model import (
    DEFAULT_PORT_NAME,
    ControlEdge,
    DataEdge,
    Edge,
    InputNode,
    InstrumentNode,
    Node,
    NodeMetadata,
    OperatorNode,
    OutputNode,
    PortDefinition,
    Position,
    RetryPolicy,
)
from workflows.domain.types import ANY, DataType, DataTypeError

_DATA_EDGE_FIELDS = frozenset(
    {"id", "kind", "source", "source_port", "target", "target_port", "transform"}
)
_CONTROL_EDGE_FIELDS = frozenset({"id", "kind", "source", "target", "priority"})
_COMMON_NODE_FIELDS = frozenset(
    {"id", "kind", "name", "description", "position", "enabled", "metadata"}
)
_TASK_FIELDS = frozenset({"config", "inputs", "outputs", "retry", "timeout_s"})
_NODE_FIELDS = {
    "input": _COMMON_NODE_FIELDS | {"data_type", "required", "default", "interactive", "prompt"},
    "output": _COMMON_NODE_FIELDS | {"data_type"},
    "instrument": _COMMON_NODE_FIELDS | _TASK_FIELDS | {"model_id", "model_version"},
    "operator": _COMMON_NODE_FIELDS | _TASK_FIELDS | {"operator"},
}
_METADATA_FIELDS = frozenset({"documentation", "examples", "warnings", "custom"})
_PORT_FIELDS = frozenset({"name", "data_type", "required", "default", "description"})
_RETRY_FIELDS = frozenset({"max_attempts", "delay_ms", "backoff_multiplier"})
_MAX_DEPTH = 64


class _NotPlain(Exception):
    """Something is not plainly right: leave this item to the careful reader."""


def plain_json(value: Any, depth: int = 0) -> bool:
    """``document.is_json_value`` with exact type checks; anything unusual (a
    subclass, say) answers False and goes the careful way."""
    if depth > _MAX_DEPTH:
        return False
    value_type = type(value)
    if value_type is str or value_type is int or value_type is bool or value is None:
        return True
    if value_type is float:
        return math.isfinite(value)
    if value_type is dict:
        for key, item in value.items():
            if type(key) is not str or not plain_json(item, depth + 1):
                return False
        return True
    if value_type is list:
        return all(plain_json(item, depth + 1) for item in value)
    return False


def fast_edge(raw: Any) -> Edge | None:
    if type(raw) is not dict:
        return None
    edge_id = raw.get("id")
    source = raw.get("source")
    target = raw.get("target")
    if not (
        type(edge_id) is str
        and edge_id
        and type(source) is str
        and source
        and type(target) is str
        and target
    ):
        return None
    kind = raw.get("kind", "data")
    if kind == "data" and raw.keys() <= _DATA_EDGE_FIELDS:
        source_port = raw.get("source_port", DEFAULT_PORT_NAME)
        target_port = raw.get("target_port", DEFAULT_PORT_NAME)
        if (
            type(source_port) is str
            and source_port
            and type(target_port) is str
            and target_port
            and raw.get("transform") is None
        ):
            return DataEdge(
                id=edge_id,
                source=source,
                target=target,
                source_port=source_port,
                target_port=target_port,
            )
        return None
    if kind == "control" and raw.keys() <= _CONTROL_EDGE_FIELDS:
        priority = raw.get("priority", 0)
        if type(priority) is int:
            return ControlEdge(id=edge_id, source=source, target=target, priority=priority)
    return None


def _string(raw: dict[str, Any], key: str, default: str = "") -> str:
    value = raw.get(key, default)
    if type(value) is not str:
        raise _NotPlain
    return value


def _boolean(raw: dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if type(value) is not bool:
        raise _NotPlain
    return value


def _json(raw: dict[str, Any], key: str, default: Any) -> Any:
    value = raw.get(key, default)
    if not plain_json(value):
        raise _NotPlain
    return value


def _number(value: Any) -> float:
    value_type = type(value)
    if value_type is int or (value_type is float and math.isfinite(value)):
        return value  # type: ignore[no-any-return]
    raise _NotPlain


def _data_type(raw: dict[str, Any], key: str = "data_type") -> DataType:
    value = raw.get(key)
    if value is None:
        return ANY
    if type(value) is not str:
        raise _NotPlain
    try:
        return DataType.parse(value)
    except DataTypeError:
        raise _NotPlain from None


def _position(raw: dict[str, Any]) -> Position:
    value = raw.get("position")
    if value is None:
        return Position()
    if type(value) is not dict:
        raise _NotPlain
    return Position(x=_number(value.get("x", 0)), y=_number(value.get("y", 0)))


def _metadata(raw: dict[str, Any]) -> NodeMetadata:
    value = raw.get("metadata")
    if value is None:
        return NodeMetadata()
    if type(value) is not dict or not value.keys() <= _METADATA_FIELDS:
        raise _NotPlain
    examples = value.get("examples")
    warnings = value.get("warnings")
    custom = value.get("custom")
    if "examples" not in value:
        examples = []
    elif type(examples) is not list or not plain_json(examples):
        raise _NotPlain
    if warnings is None:
        warnings = []
    elif type(warnings) is not list or not all(type(item) is str for item in warnings):
        raise _NotPlain
    if custom is None:
        custom = {}
    elif type(custom) is not dict or not plain_json(custom):
        raise _NotPlain
    return NodeMetadata(
        documentation=_string(value, "documentation"),
        examples=list(examples),
        warnings=list(warnings),
        custom=dict(custom),
    )


def _ports(raw: dict[str, Any], key: str) -> list[PortDefinition]:
    value = raw.get(key)
    if value is None:
        return []
    if type(value) is not list:
        raise _NotPlain
    ports: list[PortDefinition] = []
    names: set[str] = set()
    for port in value:
        if type(port) is not dict or not port.keys() <= _PORT_FIELDS:
            raise _NotPlain
        name = port.get("name")
        if type(name) is not str or not name or name in names:
            raise _NotPlain
        names.add(name)
        ports.append(
            PortDefinition(
                name=name,
                data_type=_data_type(port),
                required=_boolean(port, "required", True),
                default=_json(port, "default", None),
                description=_string(port, "description"),
            )
        )
    return ports


def _retry(raw: dict[str, Any]) -> RetryPolicy | None:
    value = raw.get("retry")
    if value is None:
        return None
    if type(value) is not dict or not value.keys() <= _RETRY_FIELDS:
        raise _NotPlain
    attempts = value.get("max_attempts", 1)
    delay = value.get("delay_ms", 0)
    multiplier = _number(value.get("backoff_multiplier", 1.0))
    if type(attempts) is not int or attempts < 1 or type(delay) is not int or delay < 0:
        raise _NotPlain
    if multiplier < 1:
        raise _NotPlain
    return RetryPolicy(max_attempts=attempts, delay_ms=delay, backoff_multiplier=multiplier)


def _task_fields(raw: dict[str, Any]) -> dict[str, Any]:
    config = raw.get("config")
    if config is None:
        config = {}
    elif type(config) is not dict or not plain_json(config):
        raise _NotPlain
    timeout = raw.get("timeout_s")
    if timeout is not None and _number(timeout) <= 0:
        raise _NotPlain
    return {
        "config": dict(config),
        "inputs": _ports(raw, "inputs"),
        "outputs": _ports(raw, "outputs"),
        "retry": _retry(raw),
        "timeout_s": timeout,
    }


def fast_node(raw: Any) -> Node | None:
    """Input, output, instrument and operator nodes; control nodes go the careful way."""
    if type(raw) is not dict:
        return None
    node_id = raw.get("id")
    kind = raw.get("kind")
    if type(node_id) is not str or not node_id or type(kind) is not str:
        return None
    allowed = _NODE_FIELDS.get(kind)
    if allowed is None or not raw.keys() <= allowed:
        return None
    try:
        common: dict[str, Any] = {
            "id": node_id,
            "name": _string(raw, "name", node_id) or node_id,
            "description": _string(raw, "description"),
            "position": _position(raw),
            "enabled": _boolean(raw, "enabled", True),
            "metadata": _metadata(raw),
        }
        if kind == "operator":
            return OperatorNode(**common, operator=_string(raw, "operator"), **_task_fields(raw))
        if kind == "instrument":
            return InstrumentNode(
                **common,
                model_id=_string(raw, "model_id"),
                model_version=_string(raw, "model_version"),
                **_task_fields(raw),
            )
        if kind == "input":
            return InputNode(
                **common,
                data_type=_data_type(raw),
                required=_boolean(raw, "required", True),
                default=_json(raw, "default", None),
                interactive=_boolean(raw, "interactive", False),
                prompt=_string(raw, "prompt"),
            )
        return OutputNode(**common, data_type=_data_type(raw))
    except _NotPlain:
        return None
