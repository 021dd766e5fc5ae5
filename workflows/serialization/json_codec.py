"""Canonical JSON writing and strict JSON reading.

Writing sorts keys, so two exports of the same workflow are byte-identical.
Reading is strict: invalid UTF-8, duplicate keys, NaN and infinities, integers
past 64 bits, nesting past ``MAX_DEPTH`` and truncated text are each refused
with their own error.

Reading has a fast path and an exact path. The fast path parses with orjson
and then walks the result once to check depth and integers. orjson keeps the
last of two duplicate keys and turns integers past 64 bits into floats
without saying so, so the fast path proves neither happened:

- duplicate keys: a colon outside a string follows each key, and orjson
  never escapes a colon inside one. So writing the parsed value back out
  gives exactly as many colons as the input had, unless the input held keys
  (with their colons) that the parse dropped: a duplicate. ``\\u003a`` (an
  escaped colon) would upset the count, so text containing ``\\u003`` goes
  to the exact path.
- big integers: orjson reads an integer past 64 bits as a float of at least
  2**63, so a document holding such a float is re-read on the exact path
  (which tells a real float from an oversized integer).

The exact path (stdlib ``json`` with hooks) is also used whenever orjson
refuses the input, to name the problem precisely.
"""

from __future__ import annotations

import io
import json
import math
from typing import IO, Any

import orjson

from workflows.serialization.errors import (
    DuplicateKeyError,
    IntegerOutOfRangeError,
    InvalidUtf8Error,
    MalformedInputError,
    NestingTooDeepError,
    NonFiniteNumberError,
    SerializationError,
    TooLargeError,
    TruncatedInputError,
    UnsupportedValueError,
)
from workflows.serialization.limits import (
    MAX_DEPTH,
    MAX_DOCUMENT_SIZE,
    MAX_INTEGER,
    MIN_INTEGER,
    check_decoded,
    check_encodable,
)

# Widest integer literal that can still be in range: "-9223372036854775808".
_MAX_INTEGER_LITERAL_LENGTH = 20


def dumps_json_bytes(value: Any, *, pretty: bool = False, max_depth: int = MAX_DEPTH) -> bytes:
    """Canonical JSON as UTF-8 bytes: sorted keys; compact, or indented by 2 with a final newline."""
    check_encodable(value, max_depth=max_depth)
    option = orjson.OPT_SORT_KEYS
    if pretty:
        option |= orjson.OPT_INDENT_2
    try:
        encoded = orjson.dumps(value, option=option)
    except orjson.JSONEncodeError as error:
        raise UnsupportedValueError(f"cannot write JSON: {error}") from error
    return encoded + b"\n" if pretty else encoded


def dumps_json(value: Any, *, pretty: bool = False, max_depth: int = MAX_DEPTH) -> str:
    """Canonical JSON text of an envelope or a workflow document."""
    return dumps_json_bytes(value, pretty=pretty, max_depth=max_depth).decode("utf-8")


def dump_json(value: Any, stream: IO[Any], *, pretty: bool = False) -> None:
    """Write canonical JSON to a binary or text stream."""
    encoded = dumps_json_bytes(value, pretty=pretty)
    if isinstance(stream, io.TextIOBase):
        stream.write(encoded.decode("utf-8"))
    else:
        stream.write(encoded)


def load_json(
    stream: IO[Any], *, max_size: int = MAX_DOCUMENT_SIZE, max_depth: int = MAX_DEPTH
) -> dict[str, Any]:
    """Read strict JSON from a stream, reading at most ``max_size + 1`` characters."""
    data = stream.read(max_size + 1)
    return loads_json(data, max_size=max_size, max_depth=max_depth)


def loads_json(
    data: str | bytes | bytearray | memoryview,
    *,
    max_size: int = MAX_DOCUMENT_SIZE,
    max_depth: int = MAX_DEPTH,
) -> dict[str, Any]:
    """Parse strict JSON whose top level is an object."""
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if len(data) > max_size:
        raise TooLargeError(
            f"JSON input of {len(data)} bytes is larger than the limit of {max_size}",
            size=len(data),
            limit=max_size,
        )
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        _loads_exact(data, max_depth=max_depth)
        # The exact reader accepted what orjson refused: a lone surrogate,
        # which no UTF-8 document can carry. Refuse it anyway.
        if "surrogate" in str(error) or "UTF-8" in str(error):
            raise InvalidUtf8Error(
                f"text holds a lone surrogate, which UTF-8 cannot encode: {error}"
            ) from error
        raise MalformedInputError(f"invalid JSON: {error}") from error
    if _has_escaped_colon(data):
        value = _loads_exact(data, max_depth=max_depth)
    else:
        counts = check_decoded(value, max_depth=max_depth)
        if counts.large_floats or _colon_count(data) != orjson.dumps(value).count(b":"):
            value = _loads_exact(data, max_depth=max_depth)
    return _require_object(value)


def _colon_count(data: str | bytes) -> int:
    return data.count(b":") if isinstance(data, bytes) else data.count(":")


def _has_escaped_colon(data: str | bytes) -> bool:
    # Any "\u003" escape sends the text to the exact path: cheap to look for,
    # and rare in real documents.
    if isinstance(data, bytes):
        return b"\\u003" in data
    return "\\u003" in data


def _require_object(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise MalformedInputError(
            f"expected a JSON object at the top level, found {_json_type_name(value)}"
        )
    return value


def _json_type_name(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(f"duplicate key {key!r} in a JSON object", key=key)
            seen.add(key)
    return result


def _reject_constant(name: str) -> Any:
    raise NonFiniteNumberError(f"{name} is not a valid JSON number (no NaN or infinity)")


def _checked_integer(literal: str) -> int:
    if len(literal) > _MAX_INTEGER_LITERAL_LENGTH:
        raise IntegerOutOfRangeError(
            f"integer of {len(literal.lstrip('-'))} digits does not fit in a signed 64-bit integer",
        )
    value = int(literal)
    if value < MIN_INTEGER or value > MAX_INTEGER:
        raise IntegerOutOfRangeError(f"integer {literal} does not fit in a signed 64-bit integer")
    return value


def _checked_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise NonFiniteNumberError(f"number {literal[:40]} is too large for a 64-bit float")
    return value


def _loads_exact(data: str | bytes, *, max_depth: int) -> Any:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidUtf8Error(
                f"input is not valid UTF-8: byte 0x{data[error.start]:02x} at offset {error.start}",
                offset=error.start,
            ) from error
    else:
        text = data
    if text.startswith("\ufeff"):
        raise MalformedInputError("JSON must not start with a byte order mark")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_reject_duplicate_keys,
            parse_constant=_reject_constant,
            parse_int=_checked_integer,
            parse_float=_checked_float,
        )
    except RecursionError as error:
        raise NestingTooDeepError(
            f"nesting deeper than {max_depth} levels", max_depth=max_depth
        ) from error
    except json.JSONDecodeError as error:
        if error.pos >= len(text.rstrip()) or error.msg.startswith("Unterminated string"):
            raise TruncatedInputError(
                f"JSON ends too early (line {error.lineno}, column {error.colno}): {error.msg}",
                offset=error.pos,
            ) from error
        raise MalformedInputError(
            f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}",
            offset=error.pos,
        ) from error
    except SerializationError:
        raise
    except ValueError as error:
        raise MalformedInputError(f"invalid JSON: {error}") from error
    check_decoded(value, max_depth=max_depth)
    return value
