"""The one expression language of Symphony: conditions, transforms, ``{{ … }}`` templates.

Why Jinja2's ``ImmutableSandboxedEnvironment`` and not a hand-written parser:
it is a widely used, maintained engine whose expression syntax many people
already know (``inputs.score > 0.5 and item | lower``), it is already in the
stack for templating, and its sandbox was built for exactly this job —
running untrusted expressions — refusing access to attributes that start with
``_`` and to Python internals (``__class__``, ``mro``, function globals),
and, in its immutable variant, to methods that modify lists and dicts. A
hand-written parser would be another thing to get right and to fuzz.

On top of the sandbox this module adds what Jinja leaves to the embedder:

* **Readable names**: only ``inputs``, ``params``, ``item``, ``execution``
  and ``secrets`` (plus ``range`` and ``dict``); anything else is reported by
  ``check_expression``.
* **No statements**: templates may hold ``{{ … }}`` placeholders only, no
  ``{% for %}``, ``{% set %}`` or macros, so nothing can loop except a bounded
  filter over a bounded sequence.
* **Bounded work**: every attribute/item access, call, intercepted operator
  and filter call spends one step of a budget (``ExpressionLimits.max_steps``)
  and checks a wall-clock deadline (``timeout_s``); ``range`` is capped at
  ``max_range`` items; string and list repetition, ``+`` concatenation, ``**``
  and ``%`` formatting are refused when their result would be too big.
* **Bounded output**: the result's size (characters plus items, counted
  recursively) must stay under ``max_output_size``.
* **A short list of filters and methods**: filters that can build outputs out
  of proportion to their input (``center``, ``indent``, ``batch``, ``slice``,
  ``format``, ``tojson`` with its indent, …) are left out; only a handful of
  read-only string and dict methods may be called.

Nothing here touches files or the network: the environment has no loader, so
``include``/``import`` cannot resolve anything, and statements are refused
anyway.
"""

from __future__ import annotations

import contextvars
import math
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NoReturn, TypeVar

from jinja2 import StrictUndefined, nodes, pass_environment
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError
from jinja2.filters import make_attrgetter
from jinja2.lexer import TokenStream
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

NodeT = TypeVar("NodeT", bound=nodes.Node)

# ``~`` joins run inside Jinja's runtime where no limit can intercept them, so
# the number of joined values is capped statically: the result is then at most
# this many times the largest input.
MAX_JOINED_OPERANDS = 32

READABLE_NAMES: tuple[str, ...] = ("inputs", "params", "item", "execution", "secrets")
ALLOWED_FUNCTIONS: tuple[str, ...] = ("range", "dict")

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


@dataclass(frozen=True, slots=True)
class ExpressionError:
    """Why an expression is refused; ``position`` is a 0-based character offset."""

    message: str
    position: int | None = None
    line: int | None = None


class ExpressionSyntaxError(ValueError):
    def __init__(self, error: ExpressionError) -> None:
        self.error = error
        super().__init__(error.message)


class ExpressionEvaluationError(ValueError):
    """Raised by ``evaluate``/``render_template`` when evaluation fails or a limit is hit."""


# ----------------------------------------------------------------------- budget


class _Budget:
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


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "expression_budget", default=None
)


def _spend() -> _Budget:
    budget = _budget.get()
    if budget is None:
        # Only evaluate() and render_template() set a budget; anything else that
        # reaches the environment gets the default limits for this one step.
        budget = _Budget(DEFAULT_LIMITS)
    budget.spend()
    return budget


def _size(value: object, limit: int) -> int:
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
        else:
            total += 1
    return total


def _check_size(value: object, limits: ExpressionLimits) -> None:
    if isinstance(value, str | bytes | list | tuple | dict) and (
        _size(value, limits.max_output_size) > limits.max_output_size
    ):
        raise ExpressionEvaluationError(
            f"expression built a value larger than {limits.max_output_size}; reduce it"
        )


# ------------------------------------------------------------------ environment


class _OffsetRecorder:
    """Remembers where in the source the lexer is, to report error positions."""

    def __init__(self) -> None:
        self.offset = 0
        self.last_token_offset = 0

    def track(self, raw: Iterator[tuple[int, str, str]]) -> Iterator[tuple[int, str, str]]:
        for lineno, token, value in raw:
            self.last_token_offset = self.offset
            self.offset += len(value)
            yield lineno, token, value


_recorder: contextvars.ContextVar[_OffsetRecorder | None] = contextvars.ContextVar(
    "expression_offsets", default=None
)


def _safe_replace(value: Any, old: Any, new: Any, count: int | None = None) -> str:
    text, old_text, new_text = str(value), str(old), str(new)
    occurrences = text.count(old_text) if old_text else len(text) + 1
    if count is not None and count >= 0:
        occurrences = min(occurrences, count)
    budget = _spend()
    growth = occurrences * max(0, len(new_text) - len(old_text))
    if len(text) + growth > budget.limits.max_output_size:
        raise ExpressionEvaluationError("replace would build a value too large; reduce it")
    return text.replace(old_text, new_text, -1 if count is None else count)


@pass_environment
def _safe_sum(environment: Any, iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
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


class _SymphonyEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+", "%", "//", "/"})

    def _tokenize(
        self,
        source: str,
        name: str | None,
        filename: str | None = None,
        state: str | None = None,
    ) -> TokenStream:
        raw: Iterator[tuple[int, str, str]] = self.lexer.tokeniter(source, name, filename, state)
        recorder = _recorder.get()
        if recorder is not None:
            raw = recorder.track(raw)
        return TokenStream(self.lexer.wrap(raw, name, filename), name, filename)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _spend()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _spend()
        return super().getitem(obj, argument)

    def is_safe_callable(self, obj: Any) -> bool:
        if obj in _ALLOWED_CALLABLES:
            return True
        owner = getattr(obj, "__self__", None)
        name = getattr(obj, "__name__", "")
        allowed = SAFE_METHODS.get(type(owner))
        return allowed is not None and name in allowed

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend()
        result = super().call(__context, __obj, *args, **kwargs)
        budget = _budget.get()
        if budget is not None:
            _check_size(result, budget.limits)
        return result

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        limits = _spend().limits
        if operator == "%" and isinstance(left, str):
            raise SecurityError("string formatting with % is not allowed; use ~ to join text")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if (
                    isinstance(sequence, str | list | tuple)
                    and isinstance(times, int)
                    and len(sequence) * max(times, 0) > limits.max_output_size
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
            and len(left) + len(right) > limits.max_output_size
        ):
            raise ExpressionEvaluationError("concatenation would build a value too large")
        try:
            return super().call_binop(context, operator, left, right)
        except (OverflowError, ZeroDivisionError) as error:
            raise ExpressionEvaluationError(f"arithmetic error: {error}") from error


def _capped_range(*arguments: int) -> range:
    budget = _spend()
    numbers = range(*arguments)
    if len(numbers) > budget.limits.max_range:
        raise ExpressionEvaluationError(
            f"range of {len(numbers)} items is over the limit of {budget.limits.max_range}"
        )
    return numbers


def _counted_filter(function: Any) -> Any:
    """Every filter call spends a step and has its result size checked."""
    pass_arg = getattr(function, "jinja_pass_arg", None)

    def counted(*args: Any, **kwargs: Any) -> Any:
        budget = _spend()
        result = function(*args, **kwargs)
        _check_size(result, budget.limits)
        return result

    if pass_arg is not None:
        counted.jinja_pass_arg = pass_arg  # type: ignore[attr-defined]
    return counted


def _make_environment() -> _SymphonyEnvironment:
    environment = _SymphonyEnvironment(undefined=StrictUndefined, autoescape=False)
    filters = {name: environment.filters[name] for name in SAFE_FILTERS}
    filters["replace"] = _safe_replace
    filters["sum"] = _safe_sum
    environment.filters = {name: _counted_filter(function) for name, function in filters.items()}
    environment.globals = {"range": _capped_range, "dict": dict}
    return environment


_ALLOWED_CALLABLES: tuple[Any, ...] = (_capped_range, dict)
_ENVIRONMENT = _make_environment()
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}", re.DOTALL)


# ------------------------------------------------------------------- checking


def _syntax_error(error: TemplateSyntaxError, recorder: _OffsetRecorder) -> ExpressionError:
    return ExpressionError(
        message=f"syntax error: {error.message}",
        position=recorder.last_token_offset,
        line=error.lineno,
    )


def _name_position(source: str, name: str) -> int | None:
    match = re.search(rf"(?<![\w.]){re.escape(name)}\b", source)
    return match.start() if match else None


def _walk(tree: nodes.Node, node_type: type[NodeT]) -> Iterator[NodeT]:
    """The tree's nodes of a type, the root included (``find_all`` skips it)."""
    if isinstance(tree, node_type):
        yield tree
    yield from tree.find_all(node_type)


def _check_tree(tree: nodes.Node, source: str) -> ExpressionError | None:
    """Refuse unreadable names, private attributes and unknown filters or tests."""
    allowed_names = set(READABLE_NAMES) | set(ALLOWED_FUNCTIONS)
    for name_node in _walk(tree, nodes.Name):
        if name_node.name not in allowed_names:
            readable = ", ".join(READABLE_NAMES)
            return ExpressionError(
                message=f"unknown name {name_node.name!r}; expressions can read {readable}",
                position=_name_position(source, name_node.name),
                line=name_node.lineno,
            )
    joined = sum(len(concat.nodes) for concat in _walk(tree, nodes.Concat))
    if joined > MAX_JOINED_OPERANDS:
        return ExpressionError(
            message=f"{joined} values joined with ~; at most {MAX_JOINED_OPERANDS} are allowed",
            position=max(source.find("~"), 0),
            line=tree.lineno,
        )
    for attribute in _walk(tree, nodes.Getattr):
        if attribute.attr.startswith("_"):
            return ExpressionError(
                message=f"attribute {attribute.attr!r} is private and cannot be read",
                position=max(source.find(attribute.attr), 0),
                line=attribute.lineno,
            )
    for filter_node in _walk(tree, nodes.Filter):
        if filter_node.name not in _ENVIRONMENT.filters:
            return ExpressionError(
                message=f"unknown or disallowed filter {filter_node.name!r}",
                position=_name_position(source, filter_node.name),
                line=filter_node.lineno,
            )
    for test_node in _walk(tree, nodes.Test):
        if test_node.name not in _ENVIRONMENT.tests:
            return ExpressionError(
                message=f"unknown test {test_node.name!r}",
                position=_name_position(source, test_node.name),
                line=test_node.lineno,
            )
    return None


def _parse_expression(source: str) -> nodes.Expr:
    """Parse an expression or raise ExpressionSyntaxError with a position."""
    if not isinstance(source, str):
        raise ExpressionSyntaxError(ExpressionError("an expression must be a string"))
    if len(source) > DEFAULT_LIMITS.max_source_length:
        raise ExpressionSyntaxError(
            ExpressionError(f"expression longer than {DEFAULT_LIMITS.max_source_length} characters")
        )
    if not source.strip():
        raise ExpressionSyntaxError(ExpressionError("expression is empty", position=0))
    recorder = _OffsetRecorder()
    token = _recorder.set(recorder)
    try:
        parser = Parser(_ENVIRONMENT, source, state="variable")
        expression = parser.parse_expression()
        if not parser.stream.eos:
            raise TemplateSyntaxError(
                f"unexpected {parser.stream.current.value!r} after the expression",
                parser.stream.current.lineno,
            )
    except TemplateSyntaxError as error:
        raise ExpressionSyntaxError(_syntax_error(error, recorder)) from error
    except (RecursionError, MemoryError) as error:
        raise ExpressionSyntaxError(ExpressionError("expression is nested too deeply")) from error
    finally:
        _recorder.reset(token)
    problem = _check_tree(expression, source)
    if problem is not None:
        raise ExpressionSyntaxError(problem)
    return expression


def _parse_template(source: str) -> nodes.Template:
    if not isinstance(source, str):
        raise ExpressionSyntaxError(ExpressionError("a template must be a string"))
    if len(source) > DEFAULT_LIMITS.max_output_size:
        raise ExpressionSyntaxError(ExpressionError("template text is too long"))
    recorder = _OffsetRecorder()
    token = _recorder.set(recorder)
    try:
        tree = Parser(_ENVIRONMENT, source).parse()
    except TemplateSyntaxError as error:
        raise ExpressionSyntaxError(_syntax_error(error, recorder)) from error
    except (RecursionError, MemoryError) as error:
        raise ExpressionSyntaxError(ExpressionError("template is nested too deeply")) from error
    finally:
        _recorder.reset(token)
    for node in tree.find_all(nodes.Stmt):
        if not isinstance(node, nodes.Output):
            _raise_statement(node, source)
    problem = _check_tree(tree, source)
    if problem is not None:
        raise ExpressionSyntaxError(problem)
    return tree


def _raise_statement(node: nodes.Node, source: str) -> NoReturn:
    position = source.find("{%")
    raise ExpressionSyntaxError(
        ExpressionError(
            message=f"{type(node).__name__.lower()} statements are not allowed; "
            "templates may only hold {{ … }} placeholders",
            position=position if position >= 0 else None,
            line=node.lineno,
        )
    )


def check_expression(source: object) -> ExpressionError | None:
    """None when ``source`` is a valid expression; otherwise what is wrong and where."""
    try:
        _compiled_expression(source)
    except ExpressionSyntaxError as error:
        return error.error
    except TypeError:
        return ExpressionError("an expression must be a string")
    return None


def check_template(source: object) -> ExpressionError | None:
    """None when every ``{{ … }}`` in ``source`` is valid (text without any is valid)."""
    if isinstance(source, str) and "{" not in source:
        return None
    try:
        _compiled_template(source)
    except ExpressionSyntaxError as error:
        return error.error
    except TypeError:
        return ExpressionError("a template must be a string")
    return None


def has_placeholders(source: str) -> bool:
    return "{{" in source


def template_placeholders(source: str) -> list[str]:
    """The names a template reads, as ``root`` or ``root.key`` (``params.model``),
    in order of first appearance. Raises ExpressionSyntaxError on a bad template."""
    tree = _parse_template(source)
    names: list[str] = []
    consumed: set[int] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        if id(node) in consumed:
            continue
        if isinstance(node, nodes.Getattr | nodes.Getitem) and isinstance(node.node, nodes.Name):
            consumed.add(id(node.node))
            key: object = node.attr if isinstance(node, nodes.Getattr) else None
            if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
                key = node.arg.value
            name = f"{node.node.name}.{key}" if isinstance(key, str) else node.node.name
        elif isinstance(node, nodes.Name):
            name = node.name
        else:
            continue
        if name not in names:
            names.append(name)
    return [name for name in names if name.split(".")[0] in READABLE_NAMES]


# ------------------------------------------------------------------ evaluation


@lru_cache(maxsize=2048)
def _compiled_expression(source: str) -> Any:
    _parse_expression(source)
    try:
        return _ENVIRONMENT.compile_expression(source, undefined_to_none=False)
    except TemplateError as error:
        raise ExpressionSyntaxError(ExpressionError(f"invalid expression: {error}")) from error


@lru_cache(maxsize=2048)
def _compiled_template(source: str) -> Any:
    tree = _parse_template(source)
    del tree
    try:
        return _ENVIRONMENT.from_string(source)
    except TemplateError as error:
        raise ExpressionSyntaxError(ExpressionError(f"invalid template: {error}")) from error


def _context(context: Mapping[str, Any] | None) -> dict[str, Any]:
    values = dict(context or {})
    return {name: values[name] for name in READABLE_NAMES if name in values}


def _run(function: Any, limits: ExpressionLimits) -> Any:
    token = _budget.set(_Budget(limits))
    try:
        result = function()
    except ExpressionEvaluationError:
        raise
    except (TemplateError, SecurityError, ArithmeticError, TypeError, ValueError) as error:
        raise ExpressionEvaluationError(f"expression failed: {error}") from error
    except (RecursionError, MemoryError) as error:
        raise ExpressionEvaluationError("expression needed too much memory or depth") from error
    finally:
        _budget.reset(token)
    _check_size(result, limits)
    return result


def evaluate(
    source: str,
    context: Mapping[str, Any] | None = None,
    *,
    limits: ExpressionLimits = DEFAULT_LIMITS,
) -> Any:
    """Evaluate an expression against ``context`` (keys among READABLE_NAMES).

    Raises ExpressionSyntaxError for a bad expression and
    ExpressionEvaluationError when evaluation fails or exceeds ``limits``.
    """
    compiled = _compiled_expression(source)
    values = _context(context)
    result = _run(lambda: compiled(**values), limits)
    if isinstance(result, StrictUndefined):
        raise ExpressionEvaluationError(f"expression {source!r} read a value that is not defined")
    return result


def render_template(
    source: str,
    context: Mapping[str, Any] | None = None,
    *,
    limits: ExpressionLimits = DEFAULT_LIMITS,
) -> str:
    """Render a string's ``{{ … }}`` placeholders into text."""
    if "{" not in source:
        return source
    compiled = _compiled_template(source)
    values = _context(context)
    return str(_run(lambda: compiled.render(**values), limits))


def render_value(
    source: str,
    context: Mapping[str, Any] | None = None,
    *,
    limits: ExpressionLimits = DEFAULT_LIMITS,
) -> Any:
    """Like ``render_template``, but a string that is exactly one placeholder
    yields the expression's typed value (a number stays a number)."""
    stripped = source.strip()
    match = _PLACEHOLDER.fullmatch(stripped)
    if match is not None and stripped.count("{{") == 1:
        return evaluate(stripped[2:-2].strip(), context, limits=limits)
    return render_template(source, context, limits=limits)
