"""Finding ``{{ params.NAME }}`` placeholders in a workflow document and substituting them.

A template version's document may hold placeholders in any string value
(never in object keys). Each ``{{ … }}`` segment of a string is one of:

* a *simple* placeholder, ``{{ params.NAME }}``: substituted with the value
  itself when it is the whole string (a number stays a number, a list a
  list), rendered as text when it is part of a longer string;
* a *params expression*, e.g. ``{{ params.tone | upper }}`` or
  ``{{ params.limits.max }}``: evaluated in the expression sandbox of the
  graph core (typed when it is the whole string, rendered otherwise);
* a *run-time* expression that reads no ``params`` (``{{ inputs.text }}``):
  left untouched for the engine.

A segment that reads ``params`` together with run-time names cannot be
resolved at instantiation and is refused when the template is published,
as are placeholders naming undeclared parameters.

Only the ``params`` segments are replaced, textually, so a string like
``"Reply in {{ params.language }}: {{ inputs.ticket }}"`` keeps its
run-time half exactly as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from workflows.domain.expressions import (
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    evaluate,
    render_template,
    template_placeholders,
)

_SEGMENT = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_SIMPLE = re.compile(r"^\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*$")
_READS_PARAMS = re.compile(r"\bparams\b")


@dataclass(frozen=True)
class Placeholder:
    """One ``params`` segment: where it is (a JSON pointer) and what it reads."""

    path: str
    parameters: tuple[str, ...]
    source: str
    whole: bool
    simple: bool

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "parameters": list(self.parameters), "source": self.source,
                "whole": self.whole}


@dataclass(frozen=True)
class PlaceholderProblem:
    path: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "code": self.code, "message": self.message}


def escape_pointer_token(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _walk_strings(value: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield pointer, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_strings(item, f"{pointer}/{escape_pointer_token(key)}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_strings(item, f"{pointer}/{index}")


def _analyse(pointer: str, text: str) -> tuple[list[Placeholder], list[PlaceholderProblem]]:
    placeholders: list[Placeholder] = []
    problems: list[PlaceholderProblem] = []
    if "{{" not in text:
        return placeholders, problems
    stripped = text.strip()
    for match in _SEGMENT.finditer(text):
        inner = match.group(1)
        if not _READS_PARAMS.search(inner):
            continue
        segment = match.group(0)
        whole = stripped == segment
        simple = _SIMPLE.match(inner)
        if simple:
            placeholders.append(Placeholder(pointer, (simple.group(1),), segment, whole, True))
            continue
        try:
            names = template_placeholders(segment)
        except ExpressionSyntaxError as error:
            problems.append(PlaceholderProblem(pointer, "invalid_placeholder",
                                               f"{segment} is not a valid placeholder: {error}"))
            continue
        roots = {name.split(".", 1)[0] for name in names}
        parameters = tuple(name.split(".", 1)[1] for name in names if name.startswith("params."))
        if "params" in names:
            problems.append(PlaceholderProblem(
                pointer, "invalid_placeholder",
                f"{segment} must read parameters by name (params.NAME), not the params object"))
            continue
        if roots - {"params"}:
            runtime = ", ".join(sorted(roots - {"params"}))
            problems.append(PlaceholderProblem(
                pointer, "mixed_placeholder",
                f"{segment} mixes template parameters with run-time values ({runtime}); "
                "put them in separate {{ … }} segments"))
            continue
        if not parameters:
            continue
        placeholders.append(Placeholder(pointer, parameters, segment, whole, False))
    return placeholders, problems


def find_placeholders(document: Any) -> tuple[list[Placeholder], list[PlaceholderProblem]]:
    """Every ``params`` placeholder in ``document`` in document order, and every bad one."""
    placeholders: list[Placeholder] = []
    problems: list[PlaceholderProblem] = []
    for pointer, text in _walk_strings(document):
        found, bad = _analyse(pointer, text)
        placeholders.extend(found)
        problems.extend(bad)
    return placeholders, problems


def referenced_parameters(placeholders: list[Placeholder]) -> list[str]:
    names: list[str] = []
    for placeholder in placeholders:
        for name in placeholder.parameters:
            if name not in names:
                names.append(name)
    return names


def as_text(value: Any) -> str:
    """How a typed value reads inside a longer string: JSON spelling for non-text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


class SubstitutionError(ValueError):
    def __init__(self, problems: list[PlaceholderProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems[:5]))


def _substitute_string(pointer: str, text: str, values: Mapping[str, Any],
                       problems: list[PlaceholderProblem]) -> Any:
    placeholders, bad = _analyse(pointer, text)
    problems.extend(bad)
    if not placeholders or bad:
        return text
    context = {"params": dict(values)}
    if len(placeholders) == 1 and placeholders[0].whole:
        placeholder = placeholders[0]
        if placeholder.simple:
            return values.get(placeholder.parameters[0])
        try:
            return evaluate(placeholder.source.strip()[2:-2].strip(), context)
        except (ExpressionEvaluationError, ExpressionSyntaxError) as error:
            problems.append(PlaceholderProblem(pointer, "placeholder_failed",
                                               f"{placeholder.source} failed: {error}"))
            return text
    replacements: dict[str, str] = {}
    for placeholder in placeholders:
        if placeholder.source in replacements:
            continue
        if placeholder.simple:
            replacements[placeholder.source] = as_text(values.get(placeholder.parameters[0]))
            continue
        try:
            replacements[placeholder.source] = render_template(placeholder.source, context)
        except (ExpressionEvaluationError, ExpressionSyntaxError) as error:
            problems.append(PlaceholderProblem(pointer, "placeholder_failed",
                                               f"{placeholder.source} failed: {error}"))
            return text

    # Replace segment by segment so run-time segments stay byte-for-byte.
    def replace(match: re.Match[str]) -> str:
        return replacements.get(match.group(0), match.group(0))

    return _SEGMENT.sub(replace, text)


def substitute(document: Any, values: Mapping[str, Any]) -> Any:
    """A copy of ``document`` with every ``params`` placeholder replaced.

    ``values`` should hold every declared parameter (missing optional ones
    as None). Raises SubstitutionError listing every placeholder that failed.
    """
    problems: list[PlaceholderProblem] = []

    def walk(value: Any, pointer: str) -> Any:
        if isinstance(value, str):
            return _substitute_string(pointer, value, values, problems)
        if isinstance(value, dict):
            return {key: walk(item, f"{pointer}/{escape_pointer_token(key)}") for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, f"{pointer}/{index}") for index, item in enumerate(value)]
        return value

    result = walk(document, "")
    if problems:
        raise SubstitutionError(problems)
    return result
