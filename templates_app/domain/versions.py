"""Semantic versions of templates and the constraints that pick one.

A template keeps several versions side by side; an instantiation names the
one it wants with a constraint and gets the highest version that satisfies
it. Constraint forms (npm's, which most people already know):

* ``latest`` (or empty, or ``*``): any version;
* exact: ``1.2.0``; partial exact ``1.2`` means any ``1.2.x``, ``1`` any ``1.x.y``;
* comparators, all of which must hold: ``>=1.2,<2`` (commas or spaces);
* caret ``^1.2``: compatible releases, same left-most non-zero component
  (``>=1.2.0,<2.0.0``; ``^0.3.1`` is ``>=0.3.1,<0.4.0``);
* tilde ``~1.2.3``: patch releases (``>=1.2.3,<1.3.0``; ``~1`` is ``<2.0.0``);
* alternatives joined by ``||``.

Pre-release and build suffixes are not supported: template versions are
plain ``MAJOR.MINOR.PATCH``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import total_ordering

# ASCII only (digits 0-9, whitespace " \t\n\r\f\v"), so the patterns below, published in the
# API schema, accept exactly what this module reads.
_WHITESPACE = " \t\n\r\f\v"
_VERSION = re.compile(r"(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})")
_PARTIAL = re.compile(r"v?(0|[1-9][0-9]{0,5})(?:\.(0|[1-9][0-9]{0,5}|[xX*]))?(?:\.(0|[1-9][0-9]{0,5}|[xX*]))?")
_COMPARATOR = re.compile(r"(>=|<=|>|<|=|\^|~)?(.+)", re.DOTALL)
_OPERATOR_SPACE = re.compile(r"(>=|<=|>|<|=|\^|~)[ \t\n\r\f\v]+")
_SEPARATOR = re.compile(r"[, \t\n\r\f\v]+")

# The same grammars as regular expressions (ECMA-262 and Python alike), for JSON Schema.
_NUMBER = "(?:0|[1-9][0-9]{0,5})"
_WILDCARD = "[xX*]"
_SPACE = "[ \\t\\n\\r\\f\\v]"
_PIECE = (f"(?:(?:>{_SPACE}*=|<{_SPACE}*=|[<>=^~]){_SPACE}*)?v?{_NUMBER}"
          f"(?:\\.(?:{_NUMBER}(?:\\.(?:{_NUMBER}|{_WILDCARD}))?|{_WILDCARD}(?:\\.{_WILDCARD})?))?")
_ALTERNATIVE = f"[, \\t\\n\\r\\f\\v]*{_PIECE}(?:[, \\t\\n\\r\\f\\v]+{_PIECE})*[, \\t\\n\\r\\f\\v]*"
VERSION_PATTERN = f"^{_SPACE}*{_NUMBER}\\.{_NUMBER}\\.{_NUMBER}{_SPACE}*$"
CONSTRAINT_PATTERN = (f"^{_SPACE}*(?:[lL][aA][tT][eE][sS][tT]|\\*|[xX]|"
                      f"{_ALTERNATIVE}(?:\\|\\|{_ALTERNATIVE})*)?{_SPACE}*$")
MAX_CONSTRAINT_LENGTH = 200


class VersionError(ValueError):
    """A version or a constraint that cannot be parsed."""


class NoMatchingVersion(VersionError):
    """A valid constraint that no available version satisfies."""


@total_ordering
@dataclass(frozen=True, slots=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: object) -> Version:
        if not isinstance(text, str):
            raise VersionError("a version must be a string like 1.2.0")
        match = _VERSION.fullmatch(text.strip(_WHITESPACE))
        if match is None:
            raise VersionError(f"{text!r} is not a semantic version MAJOR.MINOR.PATCH (e.g. 1.2.0)")
        return cls(int(match[1]), int(match[2]), int(match[3]))

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.key < other.key

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


Predicate = Callable[[Version], bool]


def _partial(text: str) -> tuple[int, int | None, int | None]:
    match = _PARTIAL.fullmatch(text.strip(_WHITESPACE))
    if match is None:
        raise VersionError(f"{text!r} is not a version")
    parts = [match[1], match[2], match[3]]
    numbers: list[int | None] = []
    for part in parts:
        numbers.append(None if part is None or part in {"x", "X", "*"} else int(part))
    if numbers[1] is None and numbers[2] is not None:
        raise VersionError(f"{text!r}: a wildcard minor cannot have a patch")
    major = numbers[0]
    assert major is not None
    return major, numbers[1], numbers[2]


def _range(lower: Version, upper: Version | None) -> Predicate:
    return lambda version: version >= lower and (upper is None or version < upper)


def _comparator(text: str) -> Predicate:
    match = _COMPARATOR.fullmatch(text)
    if match is None:
        raise VersionError(f"{text!r} is not a version constraint")
    operator, rest = match[1] or "=", match[2]
    major, minor, patch = _partial(rest)
    floor = Version(major, minor or 0, patch or 0)
    if operator == "^":
        if major > 0 or minor is None:
            return _range(floor, Version(major + 1, 0, 0))
        if minor > 0 or patch is None:
            return _range(floor, Version(0, minor + 1, 0))
        return _range(floor, Version(0, 0, patch + 1))
    if operator == "~":
        if minor is None:
            return _range(floor, Version(major + 1, 0, 0))
        return _range(floor, Version(major, minor + 1, 0))
    if operator == "=":
        if minor is None:
            return _range(floor, Version(major + 1, 0, 0))
        if patch is None:
            return _range(floor, Version(major, minor + 1, 0))
        return lambda version: version == floor
    # For < and <= a partial version means its lowest (<1.2 is <1.2.0) or the
    # top of its range (<=1.2 is <1.3.0), as npm reads them.
    if operator == ">=":
        return lambda version: version >= floor
    if operator == "<":
        return lambda version: version < floor
    if operator == ">":
        if minor is None:
            ceiling = Version(major + 1, 0, 0)
            return lambda version: version >= ceiling
        if patch is None:
            ceiling = Version(major, minor + 1, 0)
            return lambda version: version >= ceiling
        return lambda version: version > floor
    # "<="
    if minor is None:
        top = Version(major + 1, 0, 0)
        return lambda version: version < top
    if patch is None:
        top = Version(major, minor + 1, 0)
        return lambda version: version < top
    return lambda version: version <= floor


@dataclass(frozen=True)
class VersionConstraint:
    """A parsed constraint; ``matches`` says whether a version satisfies it."""

    text: str
    alternatives: tuple[tuple[Predicate, ...], ...]

    @classmethod
    def parse(cls, text: object) -> VersionConstraint:
        if text is None:
            text = "latest"
        if not isinstance(text, str) or len(text) > MAX_CONSTRAINT_LENGTH:
            raise VersionError("a version constraint must be a short string like ^1.2")
        stripped = text.strip(_WHITESPACE)
        if stripped.lower() in {"", "latest", "*", "x"}:
            return cls(text="latest", alternatives=((),))
        alternatives: list[tuple[Predicate, ...]] = []
        for alternative in stripped.split("||"):
            # ">= 1.2" may be written with a space between operator and version.
            normalized = _OPERATOR_SPACE.sub(r"\1", alternative.strip(_WHITESPACE))
            pieces = [piece for piece in _SEPARATOR.split(normalized) if piece]
            if not pieces:
                raise VersionError(f"{text!r} has an empty alternative")
            alternatives.append(tuple(_comparator(piece) for piece in pieces))
        return cls(text=stripped, alternatives=tuple(alternatives))

    @property
    def is_latest(self) -> bool:
        return self.alternatives == ((),)

    def matches(self, version: Version) -> bool:
        return any(all(check(version) for check in group) for group in self.alternatives)

    def best(self, versions: Iterable[Version]) -> Version | None:
        """The highest of ``versions`` satisfying the constraint, or None."""
        matching = [version for version in versions if self.matches(version)]
        return max(matching) if matching else None


def resolve_version(constraint: object, available: Iterable[str | Version]) -> Version:
    """The highest available version satisfying ``constraint``; VersionError when none does."""
    parsed = VersionConstraint.parse(constraint)
    versions = [item if isinstance(item, Version) else Version.parse(item) for item in available]
    best = parsed.best(versions)
    if best is None:
        listed = ", ".join(str(version) for version in sorted(versions, reverse=True)) or "none"
        raise NoMatchingVersion(f"no version satisfies {parsed.text!r} (available: {listed})")
    return best
