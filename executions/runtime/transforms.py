"""Expressions at run time: the names they read, and edge transforms.

`evaluate_or_fail` turns an expression error into NodeFailure(`expression_failed`, not
retryable) whose message names where the expression lives; `apply_transform` is the
contract of a data edge's `transform` (see its docstring).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from executions.runtime.contract import NodeFailure
from executions.runtime.ports import describe
from workflows.domain import DataEdge, TransformType
from workflows.domain.expressions import ExpressionEvaluationError, ExpressionSyntaxError, evaluate


def expression_context(
    inputs: Mapping[str, Any],
    *,
    execution: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    item: Any = None,
    with_item: bool = False,
) -> dict[str, Any]:
    """The names an expression may read at run time (`inputs`, `execution`, `secrets`,
    and `item` in transforms and loops)."""
    context: dict[str, Any] = {
        "inputs": inputs,
        "execution": execution if execution is not None else {},
        "secrets": secrets if secrets is not None else {},
    }
    if with_item:
        context["item"] = item
    return context


def evaluate_or_fail(source: str, context: Mapping[str, Any], where: str,
                     details: Mapping[str, Any]) -> Any:
    """Evaluate `source`; a failure is NodeFailure(`expression_failed`) naming `where`."""
    try:
        return evaluate(source, context)
    except ExpressionSyntaxError as error:
        raise NodeFailure(
            f"The expression of {where} is invalid ({error.error.message}); fix it in the "
            "workflow.", code="expression_failed", retryable=False, details=details,
        ) from error
    except ExpressionEvaluationError as error:
        raise NodeFailure(
            f"The expression of {where} failed: {error}. Check the values it reads "
            "(test a maybe-missing one with `is defined`).",
            code="expression_failed", retryable=False, details=details,
        ) from error


def _transform_failure(edge: DataEdge, message: str) -> NodeFailure:
    return NodeFailure(
        f"The {edge.transform.type if edge.transform else ''} transform of edge {edge.id!r} "
        f"({edge.source}.{edge.source_port} → {edge.target}.{edge.target_port}) {message}",
        code="invalid_input", retryable=False, details={"edge_id": edge.id},
    )


def apply_transform(
    edge: DataEdge,
    value: Any,
    *,
    source_outputs: Mapping[str, Any],
    execution: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> Any:
    """An edge's `transform` applied to the value leaving its source port.

    `inputs` is the source's outputs and `item` is bound per element:
    `map` → [expr(item) for each item]; `filter` → the items whose expr is truthy;
    `reduce` → folds with `item` = {"accumulator", "value"}, starting from
    `config.initial` (absent: the first item; an empty list gives null);
    `flatten` → one level of nested lists flattened (other items kept);
    `custom` → expr with `item` = the whole value. No transform: the value itself.
    """
    transform = edge.transform
    if transform is None:
        return value
    kind = transform.type
    if kind is TransformType.FLATTEN:
        if not isinstance(value, list):
            raise _transform_failure(edge, f"needs a list, got {describe(value)}.")
        flat: list[Any] = []
        for item in value:
            if isinstance(item, list):
                flat.extend(item)
            else:
                flat.append(item)
        return flat
    expression = transform.expression
    if expression is None:
        raise _transform_failure(edge, "needs config.expr, an expression over item.")
    where = f"the {kind} transform of edge {edge.id!r}"
    details = {"edge_id": edge.id, "field": "transform"}
    context = expression_context(source_outputs, execution=execution, secrets=secrets,
                                 with_item=True)
    if kind is TransformType.CUSTOM:
        context["item"] = value
        return evaluate_or_fail(expression, context, where, details)
    if not isinstance(value, list):
        raise _transform_failure(edge, f"needs a list, got {describe(value)}.")
    if kind is TransformType.MAP:
        mapped = []
        for item in value:
            context["item"] = item
            mapped.append(evaluate_or_fail(expression, context, where, details))
        return mapped
    if kind is TransformType.FILTER:
        kept = []
        for item in value:
            context["item"] = item
            if evaluate_or_fail(expression, context, where, details):
                kept.append(item)
        return kept
    items = iter(value)
    if "initial" in transform.config:
        accumulator = transform.config["initial"]
    else:
        accumulator = next(items, None)
    for item in items:
        context["item"] = {"accumulator": accumulator, "value": item}
        accumulator = evaluate_or_fail(expression, context, where, details)
    return accumulator
