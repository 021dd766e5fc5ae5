"""The built-in data operators: template, json_parse, json_format, select, map, filter,
reduce, merge_objects and log (`delay` and `http_request` live in waits.py/http.py).

Each is `run(context) -> NodeOutcome`, pure and fast, and fails with a NodeFailure
whose code is stable (`invalid_input`, `invalid_config`, `expression_failed`) and
whose message says how to fix it. Contracts:

* `template`: `text` = config `template` rendered over `inputs`, `execution`,
  `secrets`; `strict` (default true) fails on a value that is not defined, false
  renders it as empty text.
* `json_parse`: `value` = the JSON text `text` parsed; with `allow_empty` an empty or
  blank text gives null instead of failing.
* `json_format`: `text` = `value` as JSON; `indent` (absent: compact) and `sort_keys`.
* `select`: `value` = the value at the dotted `path` (object keys, list indices, a
  negative index counts from the end); `default` (null) when any step is missing.
  Keys that contain a dot cannot be addressed.
* `map` / `filter`: `items` = `expr` for each item / the items whose `expr` is truthy
  (`item` is the current one; `inputs`, `execution`, `secrets` readable).
* `reduce`: `value` = the items folded left with `reducer` from `initial`: `sum`
  (numbers; initial 0), `count` (initial 0 + the number of items), `min`/`max`
  (without initial: from the first item; no items: null), `concat` (strings with
  strings, lists with lists; without initial: "" for strings, [] otherwise), `merge`
  (objects, later keys win; initial {}).
* `merge_objects`: `value` = `left` with `right`'s keys winning; `deep` merges nested
  objects key by key (lists and other values are replaced, not merged).
* `log`: writes `message` (rendered; default: the value as compact JSON) at `level`
  (default info) to the execution's log, with secret values masked; forwards `value`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson

from executions.runtime.config import (
    config_text,
    config_value,
    invalid_config,
    invalid_input,
    node_config,
    template_context,
)
from executions.runtime.contract import NodeContext, NodeFailure, NodeOutcome
from executions.runtime.ports import describe
from executions.runtime.transforms import evaluate_or_fail
from workflows.domain.expressions import (
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    render_template,
)

LOG_MESSAGE_LIMIT = 10_000
# How many items map/filter handle between two checks of reporter.should_stop().
STOP_CHECK_EVERY = 1_000
SECRET_MASK = "***"


def mask_secrets(text: str, secrets: Mapping[str, str]) -> str:
    """`text` with every secret value (four characters or more) replaced by ***."""
    for value in secrets.values():
        if isinstance(value, str) and len(value) >= 4 and value in text:
            text = text.replace(value, SECRET_MASK)
    return text


# ------------------------------------------------------------------ text and JSON


def run_template(context: NodeContext) -> NodeOutcome:
    template = node_config(context).get("template")
    if not isinstance(template, str):
        raise invalid_config(context, "template", "must be a text with {{ … }} placeholders.")
    strict = node_config(context).get("strict", True) is not False
    try:
        text = render_template(template, template_context(context), strict=strict)
    except ExpressionSyntaxError as error:
        raise NodeFailure(
            f"The template of node {context.node.id!r} is invalid ({error.error.message}).",
            code="expression_failed", retryable=False, details={"node_id": context.node.id},
        ) from error
    except ExpressionEvaluationError as error:
        hint = (" Set strict to false to render missing values as empty text, or test "
                "them with `is defined`.") if strict else ""
        raise NodeFailure(
            f"The template of node {context.node.id!r} failed: {error}.{hint}",
            code="expression_failed", retryable=False, details={"node_id": context.node.id},
        ) from error
    return NodeOutcome(outputs={"text": text})


def run_json_parse(context: NodeContext) -> NodeOutcome:
    text = context.inputs.get("text")
    if not isinstance(text, str):
        raise invalid_input(context, "text", f"must be a JSON text, got {describe(text)}.")
    if not text.strip():
        if node_config(context).get("allow_empty", False):
            return NodeOutcome(outputs={"value": None})
        raise invalid_input(context, "text", "is empty; send JSON text, or set allow_empty "
                                             "to get null for an empty text.")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise invalid_input(
            context, "text",
            f"is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}); "
            "fix what produces it (a model asked for JSON may need response_format json).",
        ) from error
    return NodeOutcome(outputs={"value": value})


def run_json_format(context: NodeContext) -> NodeOutcome:
    config = node_config(context)
    indent = config.get("indent")
    sort_keys = bool(config.get("sort_keys", False))
    value = context.inputs.get("value")
    separators = (",", ":") if indent is None else (",", ": ")
    try:
        text = json.dumps(value, indent=indent, sort_keys=sort_keys, ensure_ascii=False,
                          allow_nan=False, separators=separators)
    except (TypeError, ValueError) as error:
        raise invalid_input(context, "value", f"cannot be written as JSON ({error}).") from error
    return NodeOutcome(outputs={"text": text})


# ------------------------------------------------------------------ select


_NOT_FOUND = object()


def select_path(value: Any, path: str) -> Any:
    """The value at a dotted path, or `_NOT_FOUND`. Pure; used by `select` and its tests."""
    current = value
    for step in path.split("."):
        if isinstance(current, dict):
            if step not in current:
                return _NOT_FOUND
            current = current[step]
        elif isinstance(current, list):
            digits = step[1:] if step.startswith("-") else step
            if not digits.isdigit() or not digits.isascii():
                return _NOT_FOUND
            position = int(step)
            if not -len(current) <= position < len(current):
                return _NOT_FOUND
            current = current[position]
        else:
            return _NOT_FOUND
    return current


def run_select(context: NodeContext) -> NodeOutcome:
    path = config_value(context, "path")
    if not isinstance(path, str) or not path:
        raise invalid_config(context, "path", "must be a dotted path such as choices.0.text.")
    found = select_path(context.inputs.get("value"), path)
    if found is _NOT_FOUND:
        found = config_value(context, "default")
    return NodeOutcome(outputs={"value": found})


# ------------------------------------------------------------------ map and filter


def _items(context: NodeContext) -> list[Any]:
    items = context.inputs.get("items")
    if not isinstance(items, list):
        raise invalid_input(context, "items", f"must be a list, got {describe(items)}.")
    return items


def _expression(context: NodeContext) -> str:
    expression = node_config(context).get("expr")
    if not isinstance(expression, str) or not expression.strip():
        raise invalid_config(context, "expr", "must be an expression over item, e.g. "
                                              "item | lower.")
    return expression


def _each(context: NodeContext, keep: bool) -> NodeOutcome:
    items = _items(context)
    expression = _expression(context)
    names = template_context(context)
    where = f"node {context.node.id!r}"
    details = {"node_id": context.node.id, "field": "config.expr"}
    results: list[Any] = []
    for position, item in enumerate(items):
        if position and position % STOP_CHECK_EVERY == 0 and context.reporter.should_stop():
            raise stopped(context)
        names["item"] = item
        value = evaluate_or_fail(expression, names, where, details)
        if not keep:
            results.append(value)
        elif value:
            results.append(item)
    return NodeOutcome(outputs={"items": results})


def run_map(context: NodeContext) -> NodeOutcome:
    return _each(context, keep=False)


def run_filter(context: NodeContext) -> NodeOutcome:
    return _each(context, keep=True)


def stopped(context: NodeContext) -> NodeFailure:
    """The failure for a node that noticed `should_stop()`: its deadline passed (`timeout`,
    retryable) or the execution is stopping (`cancelled`, not retryable)."""
    if context.deadline is not None and context.remaining_s() == 0:
        return NodeFailure(f"Node {context.node.id!r} ran out of time.", code="timeout",
                           retryable=True, details={"node_id": context.node.id})
    return NodeFailure(f"Node {context.node.id!r} stopped: the execution is stopping.",
                       code="cancelled", retryable=False, details={"node_id": context.node.id})


# ------------------------------------------------------------------ reduce


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _reduce(reducer: str, items: list[Any], initial: Any, has_initial: bool) -> Any:
    """Raises TypeError with a message for items the reducer cannot fold."""
    if reducer == "count":
        start = initial if has_initial else 0
        if not isinstance(start, int) or isinstance(start, bool):
            raise TypeError("count's initial must be an integer")
        return start + len(items)
    if reducer == "sum":
        total = initial if has_initial else 0
        if not _is_number(total):
            raise TypeError(f"sum's initial must be a number, not {describe(total)}")
        for position, item in enumerate(items):
            if not _is_number(item):
                raise TypeError(f"sum adds numbers; item {position} is {describe(item)}")
            total += item
        return total
    if reducer in ("min", "max"):
        pick = min if reducer == "min" else max
        rest = iter(items)
        best = initial if has_initial else next(rest, None)
        for position, item in enumerate(rest, start=0 if has_initial else 1):
            try:
                best = pick(best, item)
            except TypeError:
                raise TypeError(f"{reducer} compares like with like; item {position} is "
                                f"{describe(item)}, compared with {describe(best)}") from None
        return best
    if reducer == "concat":
        start = initial if has_initial else ("" if items and isinstance(items[0], str) else [])
        if isinstance(start, str):
            for position, item in enumerate(items):
                if not isinstance(item, str):
                    raise TypeError(f"concat joins strings with strings; item {position} is "
                                    f"{describe(item)}")
            return start + "".join(items)
        if not isinstance(start, list):
            raise TypeError(f"concat's initial must be a string or a list, not {describe(start)}")
        joined = list(start)
        for position, item in enumerate(items):
            if not isinstance(item, list):
                raise TypeError(f"concat joins lists with lists; item {position} is "
                                f"{describe(item)}")
            joined.extend(item)
        return joined
    if reducer == "merge":
        start = initial if has_initial else {}
        if not isinstance(start, dict):
            raise TypeError(f"merge's initial must be an object, not {describe(start)}")
        merged = dict(start)
        for position, item in enumerate(items):
            if not isinstance(item, dict):
                raise TypeError(f"merge combines objects; item {position} is {describe(item)}")
            merged.update(item)
        return merged
    raise ValueError(reducer)


REDUCERS = ("sum", "min", "max", "count", "concat", "merge")


def run_reduce(context: NodeContext) -> NodeOutcome:
    reducer = node_config(context).get("reducer")
    if reducer not in REDUCERS:
        raise invalid_config(context, "reducer", f"must be one of {', '.join(REDUCERS)}.")
    items = _items(context)
    has_initial = node_config(context).get("initial") is not None
    initial = config_value(context, "initial") if has_initial else None
    try:
        value = _reduce(str(reducer), items, initial, has_initial)
    except TypeError as error:
        raise invalid_input(context, "items", f"cannot be reduced: {error}.") from error
    return NodeOutcome(outputs={"value": value})


# ------------------------------------------------------------------ merge_objects


def deep_merge(left: dict[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    """`left` with `right`'s keys winning; objects on both sides are merged key by key.
    Builds new dicts only along merged paths; other values are shared, not copied."""
    merged = dict(left)
    for key, value in right.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def run_merge_objects(context: NodeContext) -> NodeOutcome:
    left = context.inputs.get("left")
    right = context.inputs.get("right")
    for port, value in (("left", left), ("right", right)):
        if not isinstance(value, dict):
            raise invalid_input(context, port, f"must be an object, got {describe(value)}.")
    assert isinstance(left, dict) and isinstance(right, dict)
    if node_config(context).get("deep", False):
        return NodeOutcome(outputs={"value": deep_merge(left, right)})
    return NodeOutcome(outputs={"value": {**left, **right}})


# ------------------------------------------------------------------ log


LOG_LEVELS = ("debug", "info", "warning", "error")


def run_log(context: NodeContext) -> NodeOutcome:
    level = node_config(context).get("level") or "info"
    if level not in LOG_LEVELS:
        raise invalid_config(context, "level", f"must be one of {', '.join(LOG_LEVELS)}.")
    value = context.inputs.get("value")
    message = config_text(context, "message")
    if not message:
        message = orjson.dumps(value, default=str).decode()
    message = mask_secrets(message, context.secrets)
    if len(message) > LOG_MESSAGE_LIMIT:
        message = message[: LOG_MESSAGE_LIMIT - 1] + "…"
    context.reporter.log(str(level), message)
    return NodeOutcome(outputs={"value": value})
