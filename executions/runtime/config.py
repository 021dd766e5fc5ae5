"""Reading a node's config at run time: `{{ … }}` templates rendered, failures explained.

Config strings may hold `{{ … }}` placeholders over `inputs` (the node's input
values), `execution` and `secrets`. `config_value` renders a string that is
exactly one placeholder to its typed value (a number stays a number) and any
other string to text; `config_text` always renders to text. Values without a
placeholder are returned as they are (no copy), so reading config is cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from executions.runtime.contract import NodeContext, NodeFailure
from workflows.domain.expressions import (
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    render_template,
    render_value,
)
from workflows.domain.model import _TaskNode

_MISSING = object()


def node_config(context: NodeContext) -> Mapping[str, Any]:
    node = context.node
    return node.config if isinstance(node, _TaskNode) else {}


def template_context(context: NodeContext) -> dict[str, Any]:
    return {"inputs": context.inputs, "execution": context.execution, "secrets": context.secrets}


def _has_placeholder(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, dict):
        return any(_has_placeholder(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_placeholder(item) for item in value)
    return False


def _render(value: Any, context: Mapping[str, Any], key: str, node_id: str, *,
            as_text: bool) -> Any:
    if isinstance(value, str):
        if "{{" not in value:
            return value
        try:
            if as_text:
                return render_template(value, context)
            return render_value(value, context)
        except ExpressionSyntaxError as error:
            raise NodeFailure(
                f"The template in config {key!r} of node {node_id!r} is invalid "
                f"({error.error.message}); fix it in the workflow.",
                code="expression_failed", retryable=False,
                details={"node_id": node_id, "field": f"config.{key}"},
            ) from error
        except ExpressionEvaluationError as error:
            raise NodeFailure(
                f"The template in config {key!r} of node {node_id!r} failed: {error}. Check "
                "the values it reads (test a maybe-missing one with `is defined`).",
                code="expression_failed", retryable=False,
                details={"node_id": node_id, "field": f"config.{key}"},
            ) from error
    if isinstance(value, dict):
        if not _has_placeholder(value):
            return value
        return {name: _render(item, context, f"{key}.{name}", node_id, as_text=as_text)
                for name, item in value.items()}
    if isinstance(value, list):
        if not _has_placeholder(value):
            return value
        return [_render(item, context, f"{key}.{position}", node_id, as_text=as_text)
                for position, item in enumerate(value)]
    return value


def config_value(context: NodeContext, key: str, default: Any = None) -> Any:
    """Config `key` with its templates rendered (a lone placeholder keeps its type)."""
    value = node_config(context).get(key, _MISSING)
    if value is _MISSING:
        return default
    return _render(value, template_context(context), key, context.node.id, as_text=False)


def config_text(context: NodeContext, key: str, default: str = "") -> str:
    """Config `key` rendered to text (missing or null: `default`)."""
    value = node_config(context).get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        return str(value)
    rendered = _render(value, template_context(context), key, context.node.id, as_text=True)
    return str(rendered)


def invalid_config(context: NodeContext, key: str, message: str) -> NodeFailure:
    """A NodeFailure for a config value that is wrong at run time (after rendering)."""
    node = context.node
    type_name = node.type_name if isinstance(node, _TaskNode) else str(node.kind)
    return NodeFailure(
        f"Config {key!r} of node {node.id!r} ({type_name}) {message}",
        code="invalid_config", retryable=False,
        details={"node_id": node.id, "field": f"config.{key}"},
    )


def invalid_input(context: NodeContext, port: str, message: str) -> NodeFailure:
    """A NodeFailure for an input value the node cannot work with."""
    return NodeFailure(
        f"Input {port!r} of node {context.node.id!r} {message}",
        code="invalid_input", retryable=False, details={"node_id": context.node.id, "port": port},
    )
