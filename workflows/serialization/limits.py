"""Limits shared by every encoding, and the walks that enforce them.

The limits exist so that reading untrusted data can neither crash the process
(deep recursion), nor allocate without bound, nor silently change a value
(integers past 64 bits, NaN). Encoding applies the same limits, so whatever
Symphony writes it can read back.
"""

from __future__ import annotations

import datetime
import gc
import math
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from workflows.serialization.errors import (
    IntegerOutOfRangeError,
    NestingTooDeepError,
    NonFiniteNumberError,
    UnsupportedValueError,
)

# Integers must fit a signed 64-bit integer: every JSON library, MessagePack
# and PostgreSQL's bigint hold them without loss.
MIN_INTEGER = -(2**63)
MAX_INTEGER = 2**63 - 1

# Containers (objects and arrays) nested deeper than this are refused. A
# workflow document itself is about 7 levels deep; the rest is room for
# node configuration.
MAX_DEPTH = 64

# Default bound on the decoded (uncompressed) size of one document.
MAX_DOCUMENT_SIZE = 64 * 1024 * 1024


def _path_text(path: list[Any]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path) or "."


def check_encodable(value: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """Refuse what a strict reader would refuse, before writing it.

    Tuples, datetimes, dates, times and UUIDs are accepted: they are written
    as arrays and standard text forms.
    """
    _check_encodable_container([value], -1, max_depth)


def _check_encodable_container(container: Any, depth: int, max_depth: int) -> None:
    # Scalars are checked inline, as in _check_decoded_container.
    if depth >= max_depth:
        raise NestingTooDeepError(f"nesting deeper than {max_depth} levels", max_depth=max_depth)
    if type(container) is dict:
        for key in container:
            if type(key) is not str:
                raise UnsupportedValueError(f"object key {key!r} is not a string")
        items: Any = container.values()
    else:
        items = container
    for item in items:
        item_type = type(item)
        if item_type is str or item_type is bool or item is None:
            continue
        if item_type is dict or item_type is list or item_type is tuple:
            _check_encodable_container(item, depth + 1, max_depth)
        elif item_type is int:
            if item < MIN_INTEGER or item > MAX_INTEGER:
                raise IntegerOutOfRangeError(
                    f"integer {_short_integer(item)} does not fit in a signed 64-bit integer",
                )
        elif item_type is float:
            if not math.isfinite(item):
                raise NonFiniteNumberError(
                    f"{item!r} is not a finite number; JSON has no NaN or infinity"
                )
        elif isinstance(item, datetime.date | datetime.time | uuid.UUID):
            continue
        elif isinstance(item, bool | int | float | str | dict | list | tuple):
            # Subclasses (IntEnum, StrEnum, OrderedDict...): check them as their base type.
            _check_encodable_container([_as_base_type(item)], depth, max_depth)
        else:
            raise UnsupportedValueError(
                f"a value of type {item_type.__name__} cannot be serialized"
            )


def _as_base_type(value: Any) -> Any:
    base: Any
    for base in (bool, int, float, str, dict, list, tuple):
        if isinstance(value, base):
            return base(value)
    return value  # pragma: no cover - guarded by the caller


def _short_integer(value: int) -> str:
    text = str(value) if value.bit_length() < 4000 else f"of {value.bit_length()} bits"
    return text if len(text) <= 40 else f"{text[:20]}…({len(text)} digits)"


# Floats at least this large may be integers past 64 bits that a fast parser
# turned into floats; the JSON reader re-reads such text exactly.
LARGE_FLOAT = float(2**63)


@dataclass
class DecodedCounts:
    """What ``check_decoded`` saw: the JSON reader re-reads exactly when floats are this large."""

    large_floats: int = 0


def check_decoded(value: Any, *, max_depth: int = MAX_DEPTH) -> DecodedCounts:
    """Check a freshly decoded value against the limits and JSON's types."""
    counts = DecodedCounts()
    value_type = type(value)
    if value_type is dict or value_type is list:
        _check_decoded_container(value, 0, max_depth, counts)
    else:
        _check_decoded_container([value], -1, max_depth, counts)
    return counts


def _check_decoded_container(
    container: dict[str, Any] | list[Any], depth: int, max_depth: int, counts: DecodedCounts
) -> None:
    # Scalars are checked inline rather than through a call each: this walk
    # visits every value of every document read, so it is kept tight.
    if depth >= max_depth:
        raise NestingTooDeepError(f"nesting deeper than {max_depth} levels", max_depth=max_depth)
    # Keys need no check here: JSON keys are strings, and the MessagePack
    # reader refuses other keys as it builds each map.
    items: Iterable[Any] = container.values() if type(container) is dict else container
    item: Any
    for item in items:
        item_type = type(item)
        if item_type is str:
            continue
        if item_type is dict or item_type is list:
            _check_decoded_container(item, depth + 1, max_depth, counts)
        elif item_type is int:
            if item < MIN_INTEGER or item > MAX_INTEGER:
                raise IntegerOutOfRangeError(
                    f"integer {_short_integer(item)} does not fit in a signed 64-bit integer",
                )
        elif item_type is float:
            if not math.isfinite(item):
                raise NonFiniteNumberError(f"{item!r} is not a finite number")
            if item >= LARGE_FLOAT or item <= -LARGE_FLOAT:
                counts.large_floats += 1
        elif item_type is not bool and item is not None:
            # Binary input can carry MessagePack types JSON lacks (bin, ext, timestamps).
            raise UnsupportedValueError(
                f"a value of type {item_type.__name__} has no place in a workflow document"
            )


# Below this input size the cyclic collector's passes cost nothing worth saving.
_PAUSE_COLLECTOR_FROM_SIZE = 256 * 1024


@contextmanager
def collector_paused(size: int) -> Iterator[None]:
    """Pause the cyclic garbage collector while a large document is built or read.

    Reading a 10,000-node document allocates hundreds of thousands of
    containers; each allocation burst triggers collector passes over the
    growing (acyclic, still live) structure, which made decoding 2-4x
    slower. Pausing is process-wide but brief, and only for large inputs.
    """
    if size < _PAUSE_COLLECTOR_FROM_SIZE or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def check_encodable_at(value: Any, depth: int, max_depth: int = MAX_DEPTH) -> None:
    """``check_encodable`` for a value found ``depth`` levels inside a document."""
    _check_encodable_container([value], depth - 1, max_depth)


def check_encodable_members(
    container: dict[str, Any], depth: int, max_depth: int = MAX_DEPTH
) -> None:
    """Check the keys and values of an object at ``depth`` (the object itself is trusted)."""
    _check_encodable_container(container, depth, max_depth)


def check_decoded_at(value: Any, depth: int, max_depth: int = MAX_DEPTH) -> None:
    """``check_decoded`` for a value found ``depth`` levels inside a document."""
    _check_decoded_container([value], depth - 1, max_depth, DecodedCounts())


def check_decoded_members(
    container: dict[str, Any], depth: int, max_depth: int = MAX_DEPTH
) -> None:
    _check_decoded_container(container, depth, max_depth, DecodedCounts())


# The decoded walk itself, for callers that keep their own counts.
check_decoded_container = _check_decoded_container
