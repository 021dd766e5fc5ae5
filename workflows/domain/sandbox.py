"""The sandboxed Jinja2 environment behind ``expressions.py``, and its limits.

See the docstring of ``expressions.py`` (and docs/expressions.md) for why
Jinja2's ImmutableSandboxedEnvironment and what is added on top of it: a
step budget and wall-clock guard on every access, call, operator and filter;
a capped ``range``; refusal of repetition, concatenation, powers, ``replace``
and ``join`` that would build values over the size limit; a short list of
filters and methods.
"""

from __future__ import annotations

import contextvars
import math
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import (
    ChainableUndefined,
    StrictUndefined,
    Undefined,
    pass_environment,
    pass_eval_context,
)
from jinja2.exceptions import SecurityError
from jinja2.filters import do_join, make_attrgetter
from jinja2.lexer import TokenStream
from jinja2.sandbox import ImmutableSandboxedEnvironment

SAFE_FILTERS: frozenset[str] = frozenset(
    {
        "abs", "capitalize", "count", "d", "default", "dictsort", "first", "float",
        "groupby", "int", "items", "join", "last", "length", "list", "lower", "map",
        "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "select",
        "selectattr", "sort", "string", "sum", "title", "trim", "truncate", "unique",
        "upper", "wordcount", "attr", "e", "escape",
    }
)  # fmt: skip
SAFE_METHODS: dict[type, frozenset[str]] = {
    str: frozenset(
        {
            "lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith",
            "split", "title", "capitalize", "isdigit", "isalpha", "isalnum", "count",
            "find",
        }
    ),
    dict: frozenset({"get", "keys", "values", "items"}),
    list: frozenset({"index", "count"}),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ExpressionLimits:
    max_source_length: int = 10_000
    max_steps: int = 100_000
    timeout_s: float = 1.0
    max_range: int = 10_000
    max_output_size: int = 1_000_000
    max_integer_bits: int = 4_096


DEFAULT_LIMITS = ExpressionLimits()


class ExpressionEvaluationError(ValueError):
    """Raised by ``evaluate``/``render_template`` when evaluation fails or a limit is hit."""


# ----------------------------------------------------------------------- budget


class Budget:
    __slots__ = ("deadline", "limits", "steps")

    def __init__(self, limits: ExpressionLimits) -> None:
        self.limits = limits
        self.steps = 0
        self.deadline = time.monotonic() + limits.timeout_s

    def spend(self) -> None:
        self.steps += 1
        if self.steps > self.limits.max_steps:
            raise ExpressionEvaluationError(
                f"expression took more than {self.limits.max_steps} steps; simplify it"
            )
        if time.monotonic() > self.deadline:
            raise ExpressionEvaluationError(
                f"expression ran longer than {self.limits.timeout_s} s; simplify it"
            )


current_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "expression_budget", default=None
)


def spend() -> Budget:
    budget = current_budget.get()
    if budget is None:
        # Only evaluate() and render_template() set a budget; anything else that
        # reaches the environment gets the default limits for this one step.
        budget = Budget(DEFAULT_LIMITS)
    budget.spend()
    return budget


def measure_size(value: object, limit: int) -> int:
    """Characters plus items, counted recursively and stopping once past ``limit``."""
    total = 0
    stack = [value]
    while stack and total <= limit:
        current = stack.pop()
        if isinstance(current, str | bytes):
            total += len(current)
        elif isinstance(current, Mapping):
            total += len(current)
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, list | tuple | set | frozenset):
            total += len(current)
            stack.extend(current)
        elif isinstance(current, int):
            # Its decimal text: a 4,096-bit integer counted as one would let a list of
            # them render (`| string`, `| join`, `~`) a thousand times its measured size.
            total += abs(current).bit_length() // 3 + 1
        else:
            total += 1
    return total


def check_size(value: object, limits: ExpressionLimits) -> None:
    if isinstance(value, str | bytes | list | tuple | dict) and (
        measure_size(value, limits.max_output_size) > limits.max_output_size
    ):
        raise ExpressionEvaluationError(
            f"expression built a value larger than {limits.max_output_size}; reduce it"
        )


# ------------------------------------------------------------------ environment


class OffsetRecorder:
    """Remembers where in the source the lexer is, to report error positions."""

    def __init__(self) -> None:
        self.offset = 0
        self.last_token_offset = 0

    def track(self, raw: Iterator[tuple[int, str, str]]) -> Iterator[tuple[int, str, str]]:
        for lineno, token, value in raw:
            self.last_token_offset = self.offset
            self.offset += len(value)
            yield lineno, token, value


current_recorder: contextvars.ContextVar[OffsetRecorder | None] = contextvars.ContextVar(
    "expression_offsets", default=None
)


def safe_replace(value: Any, old: Any, new: Any, count: int | None = None) -> str:
    text, old_text, new_text = str(value), str(old), str(new)
    occurrences = text.count(old_text) if old_text else len(text) + 1
    if count is not None and count >= 0:
        occurrences = min(occurrences, count)
    budget = spend()
    growth = occurrences * max(0, len(new_text) - len(old_text))
    if len(text) + growth > budget.limits.max_output_size:
        raise ExpressionEvaluationError("replace would build a value too large; reduce it")
    return text.replace(old_text, new_text, -1 if count is None else count)


@pass_eval_context
def safe_join(eval_context: Any, value: Any, separator: Any = "", attribute: Any = None) -> str:
    """Jinja's ``join``, refused before it runs if the text would be over the size limit:
    joining is one C call, and a long separator between many items multiplies."""
    items = list(value)  # a generator (map, select) spent a step per item already
    budget = spend()
    limit = budget.limits.max_output_size
    size = measure_size(items, limit) + len(str(separator)) * max(len(items) - 1, 0)
    if size > limit:
        raise ExpressionEvaluationError("join would build a value too large; reduce it")
    return str(do_join(eval_context, items, separator, attribute))


@pass_environment
def safe_sum(environment: Any, iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
    """Jinja's ``sum``, for numbers only: summing lists or strings is quadratic
    and runs inside one C call that the step budget cannot interrupt."""
    if isinstance(start, bool) or not isinstance(start, int | float):
        raise ExpressionEvaluationError("sum adds numbers; its start must be a number")
    getter = make_attrgetter(environment, attribute) if attribute is not None else None
    total = start
    for item in iterable:
        value = getter(item) if getter is not None else item
        if not isinstance(value, int | float):
            raise ExpressionEvaluationError("sum adds numbers only")
        total += value
    return total


class SymphonyEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+", "%", "//", "/"})

    def _tokenize(
        self,
        source: str,
        name: str | None,
        filename: str | None = None,
        state: str | None = None,
    ) -> TokenStream:
        raw: Iterator[tuple[int, str, str]] = self.lexer.tokeniter(source, name, filename, state)
        recorder = current_recorder.get()
        if recorder is not None:
            raw = recorder.track(raw)
        return TokenStream(self.lexer.wrap(raw, name, filename), name, filename)

    def getattr(self, obj: Any, attribute: str) -> Any:
        spend()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        spend()
        if isinstance(obj, type):
            # `dict[...]` would build a typing alias: a class is not a container.
            return self.undefined(obj=obj, name=str(argument))
        return super().getitem(obj, argument)

    def is_safe_callable(self, obj: Any) -> bool:
        if obj in ALLOWED_CALLABLES:
            return True
        owner = getattr(obj, "__self__", None)
        name = getattr(obj, "__name__", "")
        allowed = SAFE_METHODS.get(type(owner))
        return allowed is not None and name in allowed

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        spend()
        result = super().call(__context, __obj, *args, **kwargs)
        budget = current_budget.get()
        if budget is not None:
            check_size(result, budget.limits)
        return result

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        limits = spend().limits
        if operator == "%" and isinstance(left, str):
            raise SecurityError("string formatting with % is not allowed; use ~ to join text")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                # The measured size, not the length: `[text] * n` repeats references to
                # one string, and rendering or joining them would build all n copies.
                if (
                    isinstance(sequence, str | list | tuple)
                    and isinstance(times, int)
                    and times > 0
                    and measure_size(sequence, limits.max_output_size) * times
                    > limits.max_output_size
                ):
                    raise ExpressionEvaluationError("repetition would build a value too large")
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and abs(left).bit_length() + abs(right).bit_length() > limits.max_integer_bits
            ):
                raise ExpressionEvaluationError("multiplication result is too large")
        if operator == "**" and isinstance(left, int | float) and isinstance(right, int | float):
            magnitude = abs(left)
            if magnitude > 1 and right > 0:
                estimated_bits = float(right) * math.log2(magnitude)
                if estimated_bits > limits.max_integer_bits:
                    raise ExpressionEvaluationError("power result is too large")
        if (
            operator == "+"
            and isinstance(left, str | list | tuple)
            and isinstance(right, str | list | tuple)
            and measure_size(left, limits.max_output_size) + measure_size(right, limits.max_output_size)
            > limits.max_output_size
        ):
            raise ExpressionEvaluationError("concatenation would build a value too large")
        try:
            return super().call_binop(context, operator, left, right)
        except (OverflowError, ZeroDivisionError) as error:
            raise ExpressionEvaluationError(f"arithmetic error: {error}") from error


def capped_range(*arguments: int) -> range:
    budget = spend()
    numbers = range(*arguments)
    try:
        length = len(numbers)
    except OverflowError:  # more items than a C size can count
        raise ExpressionEvaluationError(
            f"range of more than {sys.maxsize} items is over the limit of {budget.limits.max_range}"
        ) from None
    if length > budget.limits.max_range:
        raise ExpressionEvaluationError(
            f"range of {length} items is over the limit of {budget.limits.max_range}"
        )
    return numbers


def counted_filter(function: Any) -> Any:
    """Every filter call spends a step and has its result size checked."""
    pass_arg = getattr(function, "jinja_pass_arg", None)

    def counted(*args: Any, **kwargs: Any) -> Any:
        budget = spend()
        result = function(*args, **kwargs)
        check_size(result, budget.limits)
        return result

    if pass_arg is not None:
        counted.jinja_pass_arg = pass_arg  # type: ignore[attr-defined]
    return counted


def make_environment(undefined: type[Undefined] = StrictUndefined) -> SymphonyEnvironment:
    environment = SymphonyEnvironment(undefined=undefined, autoescape=False)
    filters = {name: environment.filters[name] for name in SAFE_FILTERS}
    filters["replace"] = safe_replace
    filters["sum"] = safe_sum
    filters["join"] = safe_join
    environment.filters = {name: counted_filter(function) for name, function in filters.items()}
    environment.globals = {"range": capped_range, "dict": dict}
    return environment


ALLOWED_CALLABLES: tuple[Any, ...] = (capped_range, dict)
ENVIRONMENT = make_environment()
# For templates rendered with ``strict=False`` (the ``template`` operator's option): a
# missing value renders as empty text instead of failing. Same filters, same limits.
LENIENT_ENVIRONMENT = make_environment(ChainableUndefined)
