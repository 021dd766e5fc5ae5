"""Overrides: set a value anywhere in an instantiated document by JSON path.

Paths are JSON Pointers (RFC 6901), e.g. ``/settings/max_parallel``, with
one convenience: inside an array of objects, ``@ID`` picks the element whose
``id`` is ID, so ``/nodes/@classify/config/temperature`` survives nodes
being reordered. The parent must exist; the last step may add a key to an
object but not grow an array.
"""

from __future__ import annotations

import copy
from typing import Any

from templates_app.domain.placeholders import PlaceholderProblem


class OverrideError(ValueError):
    def __init__(self, problems: list[PlaceholderProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems[:5]))


def parse_pointer(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError("a JSON path must start with / (e.g. /settings/max_parallel)")
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def _step(container: Any, token: str, pointer: str) -> tuple[Any, Any]:
    """The key or index that ``token`` names in ``container``."""
    if isinstance(container, dict):
        return token, container.get(token)
    if isinstance(container, list):
        if token.startswith("@"):
            wanted = token[1:]
            for index, item in enumerate(container):
                if isinstance(item, dict) and item.get("id") == wanted:
                    return index, item
            raise ValueError(f"no element with id {wanted!r}")
        # ASCII digits (RFC 6901): str.isdigit() alone takes a superscript two and other scripts' digits.
        if not (token.isascii() and token.isdigit()) or (token != "0" and token.startswith("0")):
            raise ValueError(f"{token!r} is not an array index")
        index = int(token)
        if index >= len(container):
            raise ValueError(f"index {index} is past the end of the array")
        return index, container[index]
    raise ValueError("the path goes through a value that is neither an object nor an array")


def apply_overrides(document: Any, overrides: dict[str, Any]) -> Any:
    """A copy of ``document`` with each override applied, in the order given."""
    if not isinstance(overrides, dict):
        raise OverrideError([PlaceholderProblem("", "invalid_override",
                                                "overrides must be an object of JSON path → value")])
    result = copy.deepcopy(document)
    problems: list[PlaceholderProblem] = []
    for pointer, value in overrides.items():
        try:
            tokens = parse_pointer(pointer)
            if not tokens:
                raise ValueError("cannot replace the whole document")
            container = result
            for token in tokens[:-1]:
                _, container = _step(container, token, pointer)
                if container is None:
                    raise ValueError(f"{token!r} does not exist")
            key, _ = _step(container, tokens[-1], pointer)
            container[key] = copy.deepcopy(value)
        except ValueError as error:
            problems.append(PlaceholderProblem(pointer, "invalid_override", f"{pointer}: {error}"))
    if problems:
        raise OverrideError(problems)
    return result
