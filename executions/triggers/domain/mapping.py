"""A webhook's payload mapped onto a workflow's inputs: JSON paths or expressions.

Pure Python. Each entry of a mapping names an input node and where its value comes from:

* a JSON path starting with `$` — `$` (the whole body), `$.ticket.subject`,
  `$.items[0].id`, `$["a key"]` — whose value is null when the path leads nowhere;
* anything else is an expression of the workflow expression language
  (`workflows.domain.expressions`, sandboxed and bounded), reading `inputs` = the JSON
  body and `item` = `{"body", "headers", "query"}` (headers lower-cased).

Without a mapping the body itself must be an object keyed by input node id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workflows.domain.expressions import ExpressionSyntaxError, check_expression, evaluate
from workflows.domain.sandbox import ExpressionEvaluationError

MAX_ENTRIES = 100
MAX_SOURCE_LENGTH = 2000

_STEP = re.compile(r"""\.([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]|\[(-\d+)\]|\["((?:[^"\\]|\\.)*)"\]""")


class MappingError(ValueError):
    """A mapping that cannot be used, or a value it could not produce; `field` names where."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class JsonPath:
    steps: tuple[str | int, ...]

    def read(self, value: Any) -> Any:
        for step in self.steps:
            if isinstance(step, int):
                if not isinstance(value, list) or not -len(value) <= step < len(value):
                    return None
                value = value[step]
            else:
                if not isinstance(value, dict) or step not in value:
                    return None
                value = value[step]
        return value


def parse_path(source: str) -> JsonPath:
    if not source.startswith("$"):
        raise ValueError("a JSON path starts with $")
    steps: list[str | int] = []
    position = 1
    while position < len(source):
        match = _STEP.match(source, position)
        if match is None:
            raise ValueError(f"unexpected {source[position:position + 10]!r} at position {position}")
        name, index, negative, quoted = match.groups()
        if name is not None:
            steps.append(name)
        elif index is not None:
            steps.append(int(index))
        elif negative is not None:
            steps.append(int(negative))
        else:
            steps.append(re.sub(r"\\(.)", r"\1", quoted))
        position = match.end()
    return JsonPath(tuple(steps))


def check_mapping(mapping: Any, input_ids: set[str]) -> dict[str, str]:
    """The mapping, checked against the workflow's input node ids; else MappingError."""
    if not isinstance(mapping, dict):
        raise MappingError("input_mapping", "input_mapping is an object: input node id → JSON path "
                                            "or expression.")
    if len(mapping) > MAX_ENTRIES:
        raise MappingError("input_mapping", f"input_mapping has at most {MAX_ENTRIES} entries.")
    for input_id, source in mapping.items():
        field = f"input_mapping.{input_id}"
        if input_id not in input_ids:
            known = ", ".join(sorted(input_ids)) or "none"
            raise MappingError(field, f"{input_id!r} is not an input node of the workflow "
                                      f"(its inputs: {known}).")
        if not isinstance(source, str) or not source.strip() or len(source) > MAX_SOURCE_LENGTH:
            raise MappingError(field, "each entry is a JSON path ($.a.b) or an expression, at most "
                                      f"{MAX_SOURCE_LENGTH} characters.")
        if source.startswith("$"):
            try:
                parse_path(source)
            except ValueError as error:
                raise MappingError(field, f"bad JSON path: {error}") from None
        else:
            problem = check_expression(source)
            if problem is not None:
                raise MappingError(field, f"bad expression: {problem.message}")
    return {str(key): str(value) for key, value in mapping.items()}


def apply_mapping(mapping: Mapping[str, str] | None, *, body: Any, headers: Mapping[str, str],
                  query: Mapping[str, Any]) -> dict[str, Any]:
    """The execution's inputs from a delivery; MappingError when a value cannot be made."""
    if not mapping:
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise MappingError("body", "Without an input mapping the body is a JSON object keyed "
                                       "by input node id.")
        return dict(body)
    inputs: dict[str, Any] = {}
    context = {"inputs": body, "item": {"body": body, "headers": dict(headers), "query": dict(query)}}
    for input_id, source in mapping.items():
        if source.startswith("$"):
            inputs[input_id] = parse_path(source).read(body)
            continue
        try:
            inputs[input_id] = evaluate(source, context)
        except (ExpressionEvaluationError, ExpressionSyntaxError) as error:
            raise MappingError(f"input_mapping.{input_id}", f"The expression for {input_id!r} "
                                                             f"failed: {error}") from None
    return inputs
