"""The compact MessagePack layout of an envelope (layout version 1).

Documented for other languages in ``docs/binary-format.md``. In short:

    payload = [ "SWF", 1, strings, envelope_record ]

A *record* (envelope, workflow, node, port, edge, ...) is an array
``[mask, value..., extras?]``: bit ``i`` of the integer ``mask`` says field
``i`` of the record's field list (``RECORDS`` below) is present, the present
values follow in field order, and one optional trailing map holds keys the
layout does not know, so any document round-trips. Fields whose values repeat
across a workflow (node ids, kinds, port names, data types, edge endpoints)
are *interned*: written as an index into ``strings``. A value that does not
have the shape its field expects (say, a node id that is a number) is written
as ``ExtType(1, msgpack(value))`` and read back as is.

The field lists are part of the format: fields are only ever appended.
"""

from __future__ import annotations

import datetime
import math
import uuid
from dataclasses import dataclass
from typing import Any

import msgpack
import orjson

from workflows.serialization.errors import (
    CorruptDataError,
    DuplicateKeyError,
    InvalidUtf8Error,
    NestingTooDeepError,
    SerializationError,
    TooLargeError,
    TruncatedInputError,
    UnsupportedValueError,
)
from workflows.serialization.limits import (
    MAX_DEPTH,
    MAX_INTEGER,
    MIN_INTEGER,
    DecodedCounts,
    check_decoded_at,
    check_decoded_container,
    check_decoded_members,
    check_encodable_at,
    check_encodable_members,
)

LAYOUT_MARKER = "SWF"
LAYOUT_VERSION = 1
# A bare compact payload starts with: fixarray(4), fixstr(3) "SWF".
BARE_PREFIX = b"\x94\xa3SWF"
# The ExtType code of a value written as is, outside its field's expected shape.
RAW_VALUE_EXT_CODE = 1

# Field kinds.
VALUE = "value"  # any JSON value, written as plain MessagePack
STRING = "string"  # a string, interned
RECORD = "record"  # a nested record
RECORD_LIST = "records"  # an array of nested records

# Field lists, in layout order. Never reorder or remove: only append.
RECORDS: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "envelope": (
        ("schema_version", VALUE, None),
        ("created_with", VALUE, None),
        ("workflow", RECORD, "workflow"),
    ),
    "workflow": (
        ("id", VALUE, None),
        ("name", VALUE, None),
        ("description", VALUE, None),
        ("version", VALUE, None),
        ("metadata", RECORD, "workflow_metadata"),
        ("settings", RECORD, "settings"),
        ("nodes", RECORD_LIST, "node"),
        ("edges", RECORD_LIST, "edge"),
        ("created_at", VALUE, None),
        ("updated_at", VALUE, None),
    ),
    "workflow_metadata": (
        ("author", VALUE, None),
        ("tags", VALUE, None),
        ("category", VALUE, None),
        ("icon", VALUE, None),
        ("color", VALUE, None),
        ("custom", VALUE, None),
    ),
    "settings": (
        ("error_policy", STRING, None),
        ("max_parallel", VALUE, None),
        ("timeout_s", VALUE, None),
        ("concurrency", VALUE, None),
        ("retry_workflow", VALUE, None),
    ),
    # Most frequent fields first, so the mask of a typical node stays small.
    "node": (
        ("id", STRING, None),
        ("kind", STRING, None),
        ("name", VALUE, None),
        ("description", VALUE, None),
        ("position", RECORD, "position"),
        ("enabled", VALUE, None),
        ("metadata", RECORD, "node_metadata"),
        ("config", VALUE, None),
        ("inputs", RECORD_LIST, "port"),
        ("outputs", RECORD_LIST, "port"),
        ("retry", RECORD, "retry"),
        ("timeout_s", VALUE, None),
        ("data_type", STRING, None),
        ("required", VALUE, None),
        ("default", VALUE, None),
        ("model_id", STRING, None),
        ("model_version", STRING, None),
        ("operator", STRING, None),
        ("control", STRING, None),
        ("interactive", VALUE, None),
        ("prompt", VALUE, None),
        ("condition", VALUE, None),
        ("over", VALUE, None),
        ("body", VALUE, None),
    ),
    "node_metadata": (
        ("documentation", VALUE, None),
        ("examples", VALUE, None),
        ("warnings", VALUE, None),
        ("custom", VALUE, None),
    ),
    "position": (("x", VALUE, None), ("y", VALUE, None)),
    "port": (
        ("name", STRING, None),
        ("data_type", STRING, None),
        ("required", VALUE, None),
        ("default", VALUE, None),
        ("description", VALUE, None),
    ),
    "retry": (
        ("max_attempts", VALUE, None),
        ("delay_ms", VALUE, None),
        ("backoff_multiplier", VALUE, None),
    ),
    "edge": (
        ("id", VALUE, None),
        ("kind", STRING, None),
        ("source", STRING, None),
        ("source_port", STRING, None),
        ("target", STRING, None),
        ("target_port", STRING, None),
        ("transform", RECORD, "transform"),
        ("priority", VALUE, None),
        ("condition", VALUE, None),
        ("label", VALUE, None),
    ),
    "transform": (("type", STRING, None), ("config", VALUE, None)),
}


# Kinds as small integers for the hot loops below.
_KIND_CODES = {VALUE: 0, STRING: 1, RECORD: 2, RECORD_LIST: 3}


@dataclass
class _Record:
    name: str
    # (key, bit, kind code, nested record) per field, in layout order.
    fields: tuple[tuple[str, int, int, _Record | None], ...] = ()
    keys: frozenset[str] = frozenset()
    all_bits: int = 0


def _build_records() -> dict[str, _Record]:
    records = {name: _Record(name) for name in RECORDS}
    for name, field_list in RECORDS.items():
        record = records[name]
        record.fields = tuple(
            (key, 1 << index, _KIND_CODES[kind], records[nested] if nested else None)
            for index, (key, kind, nested) in enumerate(field_list)
        )
        record.keys = frozenset(key for key, _, _ in field_list)
        record.all_bits = (1 << len(field_list)) - 1
    return records


_RECORDS = _build_records()


def _standard_text(value: Any) -> Any:
    """Datetimes, dates, times and UUIDs as the same text the JSON writer produces."""
    if isinstance(value, datetime.date | datetime.time | uuid.UUID):
        return orjson.loads(orjson.dumps(value))
    raise TypeError(f"a value of type {type(value).__name__} cannot be serialized")


def _pack_plain(value: Any) -> bytes:
    packed: bytes = msgpack.packb(
        value, default=_standard_text, use_bin_type=True, strict_types=False
    )
    return packed


def _raw(value: Any) -> msgpack.ExtType:
    return msgpack.ExtType(RAW_VALUE_EXT_CODE, _pack_plain(value))


def _record_depths() -> dict[str, int]:
    """How deep each record sits in a document (the envelope is at 0).

    Every record type has one place in the document, so its depth is fixed;
    the generated codecs use it to apply the nesting limit to free-form values
    without walking the whole document a second time.
    """
    depths = {"envelope": 0}
    pending = ["envelope"]
    while pending:
        name = pending.pop()
        for _, kind, nested in RECORDS[name]:
            if nested is None:
                continue
            depth = depths[name] + (1 if kind == RECORD else 2)
            if depths.setdefault(nested, depth) != depth:
                raise AssertionError(f"record {nested} appears at two depths")
            pending.append(nested)
    return depths


_DEPTHS = _record_depths()
_MISSING = object()


def _value_check_lines(indent: str, depth: int) -> list[str]:
    """Inline limit checks for a free-form value at ``depth``.

    Strings, booleans and null need nothing; numbers are range-checked in
    place; only containers (and unusual types) cost a call.
    """
    return [
        indent + "if type(item) is not str and item is not None and item is not True "
        "and item is not False:",
        indent + "    item_type = type(item)",
        indent + "    if item_type is dict or item_type is list:",
        indent + f"        if item or max_depth <= {depth}:",
        indent + f"            check_container(item, {depth}, max_depth, counts)",
        indent + "    elif item_type is float:",
        indent + "        if not isfinite(item):",
        indent + f"            check(item, {depth})",
        indent + "    elif item_type is int:",
        indent + "        if item < MIN_INTEGER or item > MAX_INTEGER:",
        indent + f"            check(item, {depth})",
        indent + "    else:",
        indent + f"        check(item, {depth})",
    ]


def _generate_source() -> str:
    """Python source of one encode and one decode function per record type.

    Generated (as ``dataclasses`` does) rather than interpreted from the
    field lists: unrolled field checks, with the limits checked inline for
    free-form values, make encoding and decoding markedly faster than a
    generic loop over the fields followed by a separate checking walk.
    """
    encoders = [
        "def make_encoder(strings, string_indexes, raw, check, check_members, check_container, "
        "max_depth, counts):"
    ]
    decoders = [
        "def make_decoder(strings, string_of, record_fallback, finish, check, check_container, "
        "max_depth, counts):"
    ]
    for name, record in _RECORDS.items():
        depth = _DEPTHS[name]
        encoders += [
            f"    def encode_{name}(value):",
            "        if type(value) is not dict:",
            f"            return raw(value, {depth})",
            "        get = value.get",
            "        encoded = [0]",
            "        append = encoded.append",
            "        mask = 0",
        ]
        decoders += [
            f"    def decode_{name}(encoded):",
            "        if type(encoded) is not list or not encoded or type(encoded[0]) is not int:",
            f"            return record_fallback({name!r}, encoded, {depth})",
            "        mask = encoded[0]",
            f"        if mask < 0 or mask & ~{record.all_bits}:",
            f"            return record_fallback({name!r}, encoded, {depth})",
            "        result = {}",
            "        position = 1",
            "        try:",
        ]
        for key, bit, kind, nested in record.fields:
            nested_name = nested.name if nested is not None else ""
            encoders += [
                f"        item = get({key!r}, MISSING)",
                "        if item is not MISSING:",
                f"            mask |= {bit}",
            ]
            decoders += [
                f"            if mask & {bit}:",
                "                item = encoded[position]",
                "                position += 1",
            ]
            if kind == _KIND_CODES[VALUE]:
                encoders += [
                    *_value_check_lines("            ", depth + 1),
                    "            append(item)",
                ]
                decoders += [
                    *_value_check_lines("                ", depth + 1),
                    f"                result[{key!r}] = item",
                ]
            elif kind == _KIND_CODES[STRING]:
                encoders += [
                    "            if type(item) is str:",
                    "                index = string_indexes.get(item)",
                    "                if index is None:",
                    "                    index = string_indexes[item] = len(strings)",
                    "                    strings.append(item)",
                    "                append(index)",
                    "            else:",
                    f"                append(raw(item, {depth + 1}))",
                ]
                decoders.append(
                    f"                result[{key!r}] = strings[item] "
                    f"if type(item) is int and item >= 0 else string_of(item, {depth + 1})"
                )
            elif kind == _KIND_CODES[RECORD]:
                encoders.append(f"            append(encode_{nested_name}(item))")
                decoders.append(f"                result[{key!r}] = decode_{nested_name}(item)")
            else:
                encoders.append(
                    f"            append([encode_{nested_name}(element) for element in item] "
                    f"if type(item) is list else raw(item, {depth + 1}))"
                )
                decoders.append(
                    f"                result[{key!r}] = [decode_{nested_name}(element) for element "
                    f"in item] if type(item) is list else "
                    f"record_fallback({name!r}, item, {depth + 1}, {key!r})"
                )
        encoders += [
            "        if len(encoded) - 1 != len(value):",
            f"            keys = RECORDS[{name!r}].keys",
            "            extras = {key: item for key, item in value.items() if key not in keys}",
            f"            check_members(extras, {depth})",
            "            append(extras)",
            "        encoded[0] = mask",
            "        return encoded",
        ]
        decoders += [
            "        except IndexError:",
            f"            return record_fallback({name!r}, encoded, {depth}, index_error=True)",
            "        if position != len(encoded):",
            f"            finish({name!r}, encoded, position, result, {depth})",
            "        return result",
        ]
    encoders.append("    return encode_envelope")
    decoders.append("    return decode_envelope")
    return "\n".join(encoders + decoders) + "\n"


_GENERATED: dict[str, Any] = {
    "MISSING": _MISSING,
    "RECORDS": _RECORDS,
    "isfinite": math.isfinite,
    "MIN_INTEGER": MIN_INTEGER,
    "MAX_INTEGER": MAX_INTEGER,
}
exec(compile(_generate_source(), "<compact layout codecs>", "exec"), _GENERATED)


def encode_compact(envelope: dict[str, Any], *, max_depth: int = MAX_DEPTH) -> bytes:
    """The compact MessagePack payload of an envelope, checked against the limits as it goes."""

    def raw(value: Any, depth: int) -> msgpack.ExtType:
        check_encodable_at(value, depth, max_depth)
        return _raw(value)

    def check(value: Any, depth: int) -> None:
        check_encodable_at(value, depth, max_depth)

    def check_members(value: dict[str, Any], depth: int) -> None:
        check_encodable_members(value, depth, max_depth)

    strings: list[str] = []

    def check_container(value: Any, depth: int, max_depth: int, counts: None) -> None:
        check_encodable_members(value, depth, max_depth)

    encode_envelope = _GENERATED["make_encoder"](
        strings, {}, raw, check, check_members, check_container, max_depth, None
    )
    body = encode_envelope(envelope)
    try:
        return _pack_plain([LAYOUT_MARKER, LAYOUT_VERSION, strings, body])
    except (TypeError, ValueError, OverflowError) as error:
        raise UnsupportedValueError(f"cannot write MessagePack: {error}") from error


def _pairs_without_duplicates(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    for key, _ in pairs:
        if type(key) is not str:
            raise UnsupportedValueError(f"map key {key!r} is not a string")
    result = dict(pairs)
    if len(result) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(f"duplicate key {key!r} in a MessagePack map", key=key)
            seen.add(key)
    return result


def unpack_strict(data: bytes, *, max_length: int) -> Any:
    """Unpack one MessagePack value with every declared length bounded.

    A container or string may not declare more elements or bytes than the
    input holds (nor more than ``max_length``), so a forged length cannot make
    the reader allocate.
    """
    bound = min(len(data), max_length)
    try:
        return msgpack.unpackb(
            data,
            raw=False,
            use_list=True,
            strict_map_key=True,
            object_pairs_hook=_pairs_without_duplicates,
            max_str_len=bound,
            max_bin_len=bound,
            max_array_len=bound,
            max_map_len=bound,
            max_ext_len=bound,
        )
    except SerializationError:
        raise
    except UnicodeDecodeError as error:
        raise InvalidUtf8Error(
            f"a MessagePack string is not valid UTF-8: {error.reason}"
        ) from error
    except msgpack.StackError as error:
        raise NestingTooDeepError("MessagePack nesting is too deep") from error
    except msgpack.ExtraData as error:
        raise CorruptDataError(
            f"{len(error.extra)} unexpected bytes after the MessagePack value"
        ) from error
    except ValueError as error:
        message = str(error)
        if "exceeds max" in message:
            raise TooLargeError(
                f"MessagePack declares a length past what the input holds: {message}"
            ) from error
        if "incomplete" in message:
            raise TruncatedInputError(
                "MessagePack data ends too early (or declares a length past its end)"
            ) from error
        raise CorruptDataError(f"invalid MessagePack: {message}") from error
    except (TypeError, msgpack.UnpackException) as error:
        raise CorruptDataError(f"invalid MessagePack: {error}") from error


class _Decoder:
    def __init__(self, strings: list[str], max_length: int, max_depth: int) -> None:
        self.strings = strings
        self.max_length = max_length
        self.max_depth = max_depth

    def raw(self, value: msgpack.ExtType, depth: int) -> Any:
        if value.code != RAW_VALUE_EXT_CODE:
            raise CorruptDataError(f"unknown MessagePack extension type {value.code}")
        decoded = unpack_strict(value.data, max_length=self.max_length)
        check_decoded_at(decoded, depth, self.max_depth)
        return decoded

    def check(self, value: Any, depth: int) -> None:
        check_decoded_at(value, depth, self.max_depth)

    def string(self, value: Any, depth: int) -> Any:
        if type(value) is int:
            raise CorruptDataError(f"string index {value} is outside the string table")
        if type(value) is msgpack.ExtType:
            return self.raw(value, depth)
        raise CorruptDataError(f"expected a string index, found {type(value).__name__}")

    def record_fallback(
        self,
        name: str,
        encoded: Any,
        depth: int,
        key: str | None = None,
        *,
        index_error: bool = False,
    ) -> Any:
        """Everything the generated decoder does not handle inline: raw values and errors."""
        if type(encoded) is msgpack.ExtType:
            return self.raw(encoded, depth)
        if index_error:
            raise CorruptDataError(
                f"a {name} record refers past its values or past the string table"
            )
        if key is not None:
            raise CorruptDataError(f"{name}.{key} is not a list of records")
        if type(encoded) is not list or not encoded or type(encoded[0]) is not int:
            raise CorruptDataError(f"a {name} record is not [mask, values...]")
        raise CorruptDataError(f"a {name} record has unknown fields in its mask")

    def finish(
        self, name: str, encoded: list[Any], position: int, result: dict[str, Any], depth: int
    ) -> None:
        """Merge a record's trailing extras map, refusing anything else left over."""
        extras = encoded[position]
        if position + 1 != len(encoded) or type(extras) is not dict:
            raise CorruptDataError(f"a {name} record has more values than its mask")
        if not extras or _RECORDS[name].keys.intersection(extras):
            # Known fields travel in the mask, never in the extras map.
            raise CorruptDataError(f"a {name} record has an invalid extras map")
        check_decoded_members(extras, depth, self.max_depth)
        result.update(extras)

    def decode(self, body: Any) -> Any:
        decode_envelope = _GENERATED["make_decoder"](
            self.strings,
            self.string,
            self.record_fallback,
            self.finish,
            self.check,
            check_decoded_container,
            self.max_depth,
            DecodedCounts(),
        )
        return decode_envelope(body)


def decode_compact(data: bytes, *, max_length: int, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Read a compact payload back into the envelope it was written from."""
    payload = unpack_strict(data, max_length=max_length)
    if (
        type(payload) is not list
        or len(payload) != 4
        or payload[0] != LAYOUT_MARKER
        or type(payload[1]) is not int
    ):
        raise CorruptDataError("not a compact workflow payload (expected ['SWF', version, ...])")
    if payload[1] != LAYOUT_VERSION:
        raise CorruptDataError(
            f"compact layout version {payload[1]} is not one this Symphony reads ({LAYOUT_VERSION})"
        )
    strings = payload[2]
    if type(strings) is not list or any(type(item) is not str for item in strings):
        raise CorruptDataError("the string table of a compact payload must be a list of strings")
    envelope = _Decoder(strings, max_length, max_depth).decode(payload[3])
    if type(envelope) is not dict:
        raise CorruptDataError("a compact payload must hold an envelope object")
    return envelope


__all__ = [
    "BARE_PREFIX",
    "decode_compact",
    "encode_compact",
    "unpack_strict",
]
