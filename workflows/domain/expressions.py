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

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NoReturn, TypeVar

from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError
from jinja2.parser import Parser

from workflows.domain.sandbox import (
    DEFAULT_LIMITS,
    ENVIRONMENT,
    LENIENT_ENVIRONMENT,
    Budget,
    ExpressionEvaluationError,
    ExpressionLimits,
    OffsetRecorder,
    check_size,
    current_budget,
    current_recorder,
)

__all__ = [
    "ALLOWED_FUNCTIONS",
    "DEFAULT_LIMITS",
    "READABLE_NAMES",
    "ExpressionError",
    "ExpressionEvaluationError",
    "ExpressionLimits",
    "ExpressionSyntaxError",
    "check_expression",
    "check_template",
    "evaluate",
    "render_template",
    "render_value",
    "template_placeholders",
]

NodeT = TypeVar("NodeT", bound=nodes.Node)

# ``~`` joins run inside Jinja's runtime where no limit can intercept them, so
# the number of joined values is capped statically: the result is then at most
# this many times the largest input.
MAX_JOINED_OPERANDS = 32
CACHED_TEMPLATE_LENGTH = 4_096

READABLE_NAMES: tuple[str, ...] = ("inputs", "params", "item", "execution", "secrets")
ALLOWED_FUNCTIONS: tuple[str, ...] = ("range", "dict")


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


_PLACEHOLDER = re.compile(r"\{\{.*?\}\}", re.DOTALL)


# ------------------------------------------------------------------- checking


def _syntax_error(error: TemplateSyntaxError, recorder: OffsetRecorder) -> ExpressionError:
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
        if filter_node.name not in ENVIRONMENT.filters:
            return ExpressionError(
                message=f"unknown or disallowed filter {filter_node.name!r}",
                position=_name_position(source, filter_node.name),
                line=filter_node.lineno,
            )
    for test_node in _walk(tree, nodes.Test):
        if test_node.name not in ENVIRONMENT.tests:
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
    recorder = OffsetRecorder()
    token = current_recorder.set(recorder)
    try:
        parser = Parser(ENVIRONMENT, source, state="variable")
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
        current_recorder.reset(token)
    problem = _check_tree(expression, source)
    if problem is not None:
        raise ExpressionSyntaxError(problem)
    return expression


def _parse_template(source: str) -> nodes.Template:
    if not isinstance(source, str):
        raise ExpressionSyntaxError(ExpressionError("a template must be a string"))
    if len(source) > DEFAULT_LIMITS.max_output_size:
        raise ExpressionSyntaxError(ExpressionError("template text is too long"))
    recorder = OffsetRecorder()
    token = current_recorder.set(recorder)
    try:
        tree = Parser(ENVIRONMENT, source).parse()
    except TemplateSyntaxError as error:
        raise ExpressionSyntaxError(_syntax_error(error, recorder)) from error
    except (RecursionError, MemoryError) as error:
        raise ExpressionSyntaxError(ExpressionError("template is nested too deeply")) from error
    finally:
        current_recorder.reset(token)
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
    if not isinstance(source, str):
        return ExpressionError("a template must be a string")
    if "{" not in source:
        return None
    try:
        _compiled_template(source)
    except ExpressionSyntaxError as error:
        return error.error
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
        return ENVIRONMENT.compile_expression(source, undefined_to_none=False)
    except TemplateError as error:
        raise ExpressionSyntaxError(ExpressionError(f"invalid expression: {error}")) from error


def _compiled_template(source: str, *, strict: bool = True) -> Any:
    # Long templates are compiled each time rather than kept: a cache of 2,048
    # texts of up to a megabyte each would be gigabytes.
    if len(source) > CACHED_TEMPLATE_LENGTH:
        return _compile_template(source, ENVIRONMENT if strict else LENIENT_ENVIRONMENT)
    if strict:
        return _compiled_short_template(source)
    return _compiled_short_lenient_template(source)


@lru_cache(maxsize=2048)
def _compiled_short_template(source: str) -> Any:
    return _compile_template(source, ENVIRONMENT)


@lru_cache(maxsize=256)
def _compiled_short_lenient_template(source: str) -> Any:
    return _compile_template(source, LENIENT_ENVIRONMENT)


def _compile_template(source: str, environment: Any) -> Any:
    _parse_template(source)
    try:
        return environment.from_string(source)
    except TemplateError as error:
        raise ExpressionSyntaxError(ExpressionError(f"invalid template: {error}")) from error


def _context(context: Mapping[str, Any] | None) -> dict[str, Any]:
    values = dict(context or {})
    return {name: values[name] for name in READABLE_NAMES if name in values}


def _run(function: Any, limits: ExpressionLimits) -> Any:
    token = current_budget.set(Budget(limits))
    try:
        result = function()
    except ExpressionEvaluationError:
        raise
    except (TemplateError, SecurityError, ArithmeticError, TypeError, ValueError) as error:
        raise ExpressionEvaluationError(f"expression failed: {error}") from error
    except (RecursionError, MemoryError) as error:
        raise ExpressionEvaluationError("expression needed too much memory or depth") from error
    finally:
        current_budget.reset(token)
    check_size(result, limits)
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
    strict: bool = True,
) -> str:
    """Render a string's ``{{ … }}`` placeholders into text. With ``strict=False`` a
    value that is not defined renders as empty text instead of failing."""
    if "{" not in source:
        return source
    compiled = _compiled_template(source, strict=strict)
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
