"""Format names, detection, the framed header, streams and the compact layout."""

from __future__ import annotations

import datetime
import io
import struct
import uuid
import zlib

import msgpack
import pytest

from bench.serialization.generate import generate_envelope
from tests.serialization.helpers import frame, small_envelope
from workflows.serialization import (
    Compression,
    CorruptDataError,
    Format,
    InvalidEnvelopeError,
    UnknownFormatError,
    decode,
    detect_format,
    dump_json,
    dumps_json,
    encode,
    envelope,
    load_json,
    loads_json,
    read,
    write,
)
from workflows.serialization.compact import BARE_PREFIX, RAW_VALUE_EXT_CODE, encode_compact
from workflows.serialization.container import HEADER_SIZE, MAGIC, parse_format


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("json", (Format.JSON, Compression.NONE)),
        ("msgpack", (Format.MSGPACK, Compression.NONE)),
        ("zstd", (Format.MSGPACK, Compression.ZSTD)),
        ("lz4", (Format.MSGPACK, Compression.LZ4)),
        ("json+zstd", (Format.JSON, Compression.ZSTD)),
        ("JSON+LZ4", (Format.JSON, Compression.LZ4)),
        ("msgpack+zstd", (Format.MSGPACK, Compression.ZSTD)),
        (Format.JSON, (Format.JSON, Compression.NONE)),
        (Compression.LZ4, (Format.MSGPACK, Compression.LZ4)),
    ],
)
def test_format_names(name: object, expected: tuple) -> None:
    assert parse_format(name) == expected  # type: ignore[arg-type]


def test_an_unknown_format_name_lists_the_known_ones() -> None:
    with pytest.raises(
        ValueError, match=r"unknown format 'yaml' \(known: json, msgpack, zstd, lz4"
    ):
        encode(small_envelope(), "yaml")


def test_the_compression_keyword_applies_to_the_named_encoding() -> None:
    data = encode(small_envelope(), Format.JSON, compression=Compression.ZSTD)
    assert str(detect_format(data)) == "json+zstd"


@pytest.mark.parametrize(
    ("format_name", "detected", "framed"),
    [
        ("json", "json", False),
        ("msgpack", "msgpack", True),
        ("zstd", "msgpack+zstd", True),
        ("lz4", "msgpack+lz4", True),
        ("json+zstd", "json+zstd", True),
        ("json+lz4", "json+lz4", True),
    ],
)
def test_every_format_is_detected_from_its_bytes(
    format_name: str, detected: str, framed: bool
) -> None:
    data = encode(small_envelope(), format_name)
    found = detect_format(data)
    assert str(found) == detected
    assert found.framed is framed
    assert data.startswith(MAGIC) is framed


def test_json_is_detected_after_leading_whitespace_and_as_text() -> None:
    text = "\n\t  " + dumps_json(small_envelope(), pretty=True)
    assert str(detect_format(text.encode())) == "json"
    assert str(detect_format(text)) == "json"
    assert decode(text) == small_envelope()
    with pytest.raises(UnknownFormatError):
        detect_format("[]")


def test_a_bare_compact_payload_is_detected_and_read() -> None:
    payload = encode_compact(small_envelope())
    assert payload.startswith(BARE_PREFIX)
    assert str(detect_format(payload)) == "msgpack"
    assert detect_format(payload).framed is False
    assert decode(payload) == small_envelope()


def test_the_header_layout_is_as_documented() -> None:
    data = encode(small_envelope(), "zstd")
    payload = encode_compact(small_envelope())
    magic, version, encoding, compression, flags, size, checksum = struct.unpack(
        ">4sBBBBQI", data[:20]
    )
    assert (magic, version, encoding, compression, flags) == (b"\x89SWF", 1, 1, 1, 0)
    assert size == len(payload)
    assert checksum == zlib.crc32(payload)
    assert HEADER_SIZE == 20
    assert detect_format(data).declared_size == len(payload)


def test_plain_json_has_no_header_and_is_canonical() -> None:
    data = encode(small_envelope(), "json")
    assert data == dumps_json(small_envelope()).encode()
    assert data.startswith(
        b'{"created_with":"symphony 0.1.0","schema_version":"1.0.0","workflow":{'
    )
    pretty_data = encode(small_envelope(), "json", pretty=True)
    assert pretty_data.startswith(
        b'{\n  "created_with": "symphony 0.1.0",\n  "schema_version": "1.0.0",\n'
    )
    assert pretty_data.endswith(b"}\n")
    assert decode(pretty_data) == small_envelope()


def test_envelope_wraps_a_workflow_document() -> None:
    document = small_envelope()["workflow"]
    assert envelope(document) == {
        "schema_version": "1.0.0",
        "created_with": "symphony 0.1.0",
        "workflow": document,
    }
    assert envelope(document, created_with="composer 2.1")["created_with"] == "composer 2.1"
    with pytest.raises(InvalidEnvelopeError):
        envelope([])  # type: ignore[arg-type]


def test_encode_refuses_what_is_not_an_envelope() -> None:
    with pytest.raises(InvalidEnvelopeError, match="missing 'schema_version'"):
        encode(small_envelope()["workflow"], "msgpack")


def test_times_and_uuids_are_written_in_standard_text_forms_in_every_format() -> None:
    moment = datetime.datetime(2026, 11, 21, 23, 55, 42, 123000, tzinfo=datetime.UTC)
    identifier = uuid.UUID("5a0f3c2e-8a55-4b7e-9f5e-0d7d2c9b1a11")
    value = small_envelope(
        id=identifier, metadata={"custom": {"saved_at": moment, "day": moment.date()}}
    )
    expected = small_envelope(
        id="5a0f3c2e-8a55-4b7e-9f5e-0d7d2c9b1a11",
        metadata={"custom": {"saved_at": "2026-11-21T23:55:42.123000+00:00", "day": "2026-11-21"}},
    )
    for format_name in ("json", "msgpack", "zstd", "json+lz4"):
        assert decode(encode(value, format_name)) == expected


def test_json_streams_in_text_and_binary() -> None:
    binary = io.BytesIO()
    dump_json(small_envelope(), binary)
    binary.seek(0)
    assert load_json(binary) == small_envelope()
    text = io.StringIO()
    dump_json(small_envelope(), text, pretty=True)
    assert text.getvalue() == dumps_json(small_envelope(), pretty=True)
    text.seek(0)
    assert load_json(text) == small_envelope()


def test_streams_of_any_format() -> None:
    for format_name in ("json", "msgpack", "zstd", "lz4"):
        stream = io.BytesIO()
        written = write(small_envelope(), stream, format_name)
        assert written == len(stream.getvalue())
        stream.seek(0)
        assert read(stream) == small_envelope()


def test_loads_json_accepts_str_bytes_and_bytearray() -> None:
    text = dumps_json(small_envelope())
    for data in (text, text.encode(), bytearray(text.encode()), memoryview(text.encode())):
        assert loads_json(data) == small_envelope()


# The compact layout -----------------------------------------------------------------


def test_the_compact_layout_interns_repeated_strings() -> None:
    payload = msgpack.unpackb(encode_compact(small_envelope()), strict_map_key=False)
    marker, version, strings, body = payload
    assert (marker, version) == ("SWF", 1)
    # Node ids, kinds, data types, model names and ports, in order of first use.
    assert strings == [
        "stop",
        "ticket",
        "input",
        "string",
        "classify",
        "instrument",
        "text",
        "label",
        "gpt-4o",
        "2024-08-06",
        "data",
        "value",
    ]
    edge = body[-1][-1][0]
    # [mask, id, kind, source, source_port, target, target_port]
    assert edge == [0b111111, "e1", 10, 1, 11, 4, 6]


def test_unknown_fields_round_trip_through_the_extras_map() -> None:
    value = small_envelope(future_field={"x": [1, 2]})
    value["workflow"]["nodes"][0]["colour"] = "red"
    value["workflow"]["edges"][0]["weight"] = 0.5
    value["signature"] = "abc"
    assert decode(encode(value, "msgpack")) == value


def test_values_outside_their_fields_shape_round_trip_as_raw_values() -> None:
    value = small_envelope(
        nodes={"not": "a list"}, edges=[7, None, {"id": 3, "kind": ["odd"]}], settings="fast"
    )
    value["workflow"]["metadata"] = ["a", "list"]
    payload = encode_compact(value)
    workflow_record = msgpack.unpackb(payload, strict_map_key=False)[3][3]
    assert msgpack.ExtType(RAW_VALUE_EXT_CODE, msgpack.packb("fast")) in workflow_record
    assert msgpack.ExtType(RAW_VALUE_EXT_CODE, msgpack.packb(["a", "list"])) in workflow_record
    assert decode(payload) == value
    assert decode(encode(value, "zstd")) == value


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (["SWF", 2, [], [0]], "compact layout version 2"),
        (["SWF", 1, [1], [0]], "string table"),
        (["SWF", 1, [], [0b1000]], "unknown fields in its mask"),
        (["SWF", 1, [], [0b100, [0b1]]], "refers past its values"),
        (["SWF", 1, [], [0b100, [0b1, "w"], "extra", "more"]], "more values than its mask"),
        (
            ["SWF", 1, [], [0b100, [0b1000000, [[0b1, 5]]]]],
            "refers past its values or past the string table",
        ),
        (["SWF", 1, [], [0b100, [0b1000000, 5]]], "workflow.nodes is not a list of records"),
        (["SWF", 1, [], [0b100, [0, {"name": "x"}]]], "invalid extras map"),
        (["SWF", 1, [], "envelope"], "record is not [mask, values...]"),
    ],
)
def test_inconsistent_compact_payloads_are_corrupt(body: list, message: str) -> None:
    data = b"\x94" + msgpack.packb(body)[1:]
    assert data.startswith(BARE_PREFIX)
    with pytest.raises(CorruptDataError) as caught:
        decode(data)
    assert message in str(caught.value)


def test_a_framed_payload_that_is_not_the_compact_layout_is_corrupt() -> None:
    payload = msgpack.packb(["XYZ", 1, [], [0]])
    with pytest.raises(CorruptDataError, match=r"not a compact workflow payload"):
        decode(frame(payload))


def test_an_unknown_extension_type_is_corrupt() -> None:
    body = ["SWF", 1, [], msgpack.ExtType(9, b"")]
    with pytest.raises(CorruptDataError, match="unknown MessagePack extension type 9"):
        decode(msgpack.packb(body))


def test_trailing_bytes_after_a_compact_payload_are_corrupt() -> None:
    payload = encode_compact(small_envelope()) + b"\x00"
    with pytest.raises(CorruptDataError, match="1 unexpected bytes"):
        decode(frame(payload))


# Sizes (deterministic, so they are tested; times are only benchmarked) -------------------


@pytest.mark.parametrize("node_count", [20, 100, 1000])
def test_binary_is_at_least_half_the_size_of_compact_json(node_count: int) -> None:
    value = generate_envelope(node_count, seed=7)
    assert len(encode(value, "msgpack")) <= 0.5 * len(encode(value, "json"))


@pytest.mark.parametrize("compression", ["zstd", "lz4"])
@pytest.mark.parametrize("node_count", [20, 100, 1000])
def test_compression_is_at_least_30_percent_smaller_than_binary(
    compression: str, node_count: int
) -> None:
    value = generate_envelope(node_count, seed=7)
    assert len(encode(value, compression)) <= 0.7 * len(encode(value, "msgpack"))


def test_the_example_fixture_meets_the_size_targets_too() -> None:
    value = small_envelope()
    json_size, binary_size = len(encode(value, "json")), len(encode(value, "msgpack"))
    assert binary_size <= 0.5 * json_size
