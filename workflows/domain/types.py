"""Port data types and the rule that decides whether an edge is well-typed.

The names are the ones of ``workflow-format.md``: ``any``, ``string``,
``number``, ``integer``, ``boolean``, ``object``, ``array``, ``array<T>``,
``bytes`` and ``json``. A plain ``array`` is an array whose items are of type
``any``, which makes ``array<T>`` assignable to ``array`` fall out of the
general rule for arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

SCALAR_TYPE_NAMES: frozenset[str] = frozenset(
    {"any", "string", "number", "integer", "boolean", "object", "bytes", "json"}
)
ARRAY_TYPE_NAME = "array"
ALL_TYPE_NAMES: frozenset[str] = SCALAR_TYPE_NAMES | {ARRAY_TYPE_NAME}


class DataTypeError(ValueError):
    """Raised when a data type string cannot be parsed."""


@dataclass(frozen=True, slots=True)
class DataType:
    """A port's data type. ``item`` is set only for ``array<T>``."""

    name: str
    item: DataType | None = None

    def __post_init__(self) -> None:
        if self.name not in ALL_TYPE_NAMES:
            raise DataTypeError(f"unknown data type {self.name!r}")
        if self.item is not None and self.name != ARRAY_TYPE_NAME:
            raise DataTypeError(f"only array takes an item type, not {self.name!r}")

    @classmethod
    def parse(cls, text: str) -> DataType:
        """Parse ``"array<array<string>>"`` and friends; raise DataTypeError otherwise."""
        if not isinstance(text, str):
            raise DataTypeError(f"a data type is a string, not {type(text).__name__}")
        return _parse_cached(text.strip())

    @property
    def is_any(self) -> bool:
        return self.name == "any"

    @property
    def is_array(self) -> bool:
        return self.name == ARRAY_TYPE_NAME

    @property
    def item_type(self) -> DataType:
        """The item type of an array (``any`` for a plain ``array``)."""
        if not self.is_array:
            raise DataTypeError(f"{self} is not an array type")
        return self.item if self.item is not None else ANY

    def is_assignable_to(self, target: DataType) -> bool:
        """Whether a value of this type may flow into a port of type ``target``.

        The rules of ``workflow-format.md``, and nothing more: anything to
        ``any``, a type to itself, ``integer`` to ``number``, ``array<T>`` to
        ``array<U>`` when ``T`` is assignable to ``U`` (``array`` counting as
        ``array<any>``).
        """
        if target.name == "any" or self is target:
            return True
        if self.name == target.name and not self.is_array:
            return True
        if self.name == "integer" and target.name == "number":
            return True
        if self.is_array and target.is_array:
            return self.item_type.is_assignable_to(target.item_type)
        return False

    def __str__(self) -> str:
        if self.item is None:
            return self.name
        return f"{self.name}<{self.item}>"


@lru_cache(maxsize=256)
def _parse_cached(text: str) -> DataType:
    if text in SCALAR_TYPE_NAMES or text == ARRAY_TYPE_NAME:
        return DataType(text)
    if text.startswith(ARRAY_TYPE_NAME + "<") and text.endswith(">"):
        inner = text[len(ARRAY_TYPE_NAME) + 1 : -1].strip()
        if not inner:
            raise DataTypeError("array<> needs an item type, e.g. array<string>")
        return DataType(ARRAY_TYPE_NAME, _parse_cached(inner))
    known = ", ".join(sorted(ALL_TYPE_NAMES | {"array<T>"}))
    raise DataTypeError(f"unknown data type {text!r}; use one of {known}")


# The constants come from the parse cache so they are the very objects parsed
# documents hold, which lets hot loops compare types by identity first.
ANY = DataType.parse("any")
STRING = DataType.parse("string")
NUMBER = DataType.parse("number")
INTEGER = DataType.parse("integer")
BOOLEAN = DataType.parse("boolean")
OBJECT = DataType.parse("object")
ARRAY = DataType.parse("array")
BYTES = DataType.parse("bytes")
JSON = DataType.parse("json")


def edge_accepts(found: DataType, expected: DataType) -> bool:
    """Whether validation accepts a data edge from a port of type ``found`` into one of type
    ``expected``: assignable, or either side ``any`` (a source typed ``any`` is checked at run
    time). The validation passes inline this test for speed; the canvas editor is served its
    answers, and a test checks both agree on every pair of catalog port types."""
    return (found is expected or expected.name == "any" or found.name == "any"
            or found.is_assignable_to(expected))


def array_of(item: DataType) -> DataType:
    return DataType.parse(f"{ARRAY_TYPE_NAME}<{item}>")
