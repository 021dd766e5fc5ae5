"""Each kind of bad input in the issue gets its own clear error: never a crash or a hang."""

from __future__ import annotations

import copy
import tracemalloc

import lz4.frame
import msgpack
import pytest
import zstandard

from tests.serialization.helpers import frame, small_envelope
from workflows.serialization import (
    ChecksumMismatchError,
    CorruptDataError,
    DuplicateKeyError,
    IntegerOutOfRangeError,
    InvalidEnvelopeError,
    InvalidUtf8Error,
    MalformedInputError,
    NestingTooDeepError,
    NonFiniteNumberError,
    SerializationError,
    SizeMismatchError,
    TooLargeError,
    TruncatedInputError,
    UnknownFormatError,
    UnsupportedContainerError,
    UnsupportedValueError,
    decode,
    dumps_json,
    encode,
    loads_json,
)
from workflows.serialization.compact import BARE_PREFIX, encode_compact

VALID_JSON = dumps_json(small_envelope()).encode()


def _compact_payload(workflow_config: object) -> bytes:
    """A bare compact payload whose one node's config is ``workflow_config``, packed by hand."""
    envelope = small_envelope()
    envelope["workflow"]["nodes"][1]["config"] = {"placeholder": True}
    payload = encode_compact(envelope)
    replacement = msgpack.packb(workflow_config)
    original = msgpack.packb({"placeholder": True})
    assert payload.count(original) == 1
    return payload.replace(original, replacement)


# Invalid UTF-8 ---------------------------------------------------------------


def test_invalid_utf8_in_json_is_named_with_its_offset() -> None:
    data = VALID_JSON.replace(b"Triage", b"Tri\xffage")
    with pytest.raises(InvalidUtf8Error) as caught:
        decode(data)
    assert caught.value.code == "invalid_utf8"
    offset = data.index(b"\xff")
    assert caught.value.details == {"offset": offset}
    assert f"byte 0xff at offset {offset}" in str(caught.value)


def test_invalid_utf8_in_a_json_string_passed_to_loads_json() -> None:
    with pytest.raises(InvalidUtf8Error):
        loads_json(b'{"name": "\xc3\x28"}')


@pytest.mark.parametrize(
    "data",
    ['{"a": "\ud800"}', b'{"a": "\\ud800"}', '{"a": "\\udc00 x"}'],
    ids=["raw-in-text", "escaped-in-bytes", "escaped-low-in-text"],
)
def test_lone_surrogates_are_refused_as_invalid_utf8(data: str | bytes) -> None:
    with pytest.raises(InvalidUtf8Error, match="lone surrogate"):
        loads_json(data)


def test_invalid_utf8_in_a_messagepack_string() -> None:
    payload = encode_compact(small_envelope())
    corrupted = payload.replace(b"Triage", b"Tr\xffage")
    with pytest.raises(InvalidUtf8Error, match="MessagePack string is not valid UTF-8"):
        decode(corrupted)
    with pytest.raises(InvalidUtf8Error):
        decode(frame(corrupted, checksum_of=corrupted))


# Truncated data ---------------------------------------------------------------


@pytest.mark.parametrize("cut", [1, 10, len(VALID_JSON) // 2, len(VALID_JSON) - 1])
def test_truncated_json_is_reported_as_truncated(cut: int) -> None:
    with pytest.raises(TruncatedInputError) as caught:
        decode(VALID_JSON[:cut])
    assert caught.value.code == "truncated"


@pytest.mark.parametrize("format_name", ["msgpack", "zstd", "lz4", "json+zstd", "json+lz4"])
@pytest.mark.parametrize("keep", [0.99, 0.5, 0.1])
def test_truncated_framed_payloads_are_reported_as_truncated(format_name: str, keep: float) -> None:
    data = encode(small_envelope(), format_name)
    cut = max(21, int(len(data) * keep))
    with pytest.raises(TruncatedInputError):
        decode(data[:cut])


@pytest.mark.parametrize("length", [1, 3, 4, 12, 19])
def test_a_header_cut_short_is_truncated(length: int) -> None:
    data = encode(small_envelope(), "zstd")
    with pytest.raises(TruncatedInputError):
        decode(data[:length])


def test_a_bare_compact_payload_cut_short_is_truncated() -> None:
    payload = encode_compact(small_envelope())
    with pytest.raises(TruncatedInputError, match="MessagePack data ends too early"):
        decode(payload[: len(payload) - 3])


def test_empty_input_is_truncated() -> None:
    with pytest.raises(TruncatedInputError, match="empty"):
        decode(b"")


# Wrong magic bytes, unknown containers ---------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(40),
        b"PK\x03\x04" + bytes(40),
        b"\x00" * 30,
        b"[1, 2]",
        b"hello",
    ],
    ids=["png", "zip", "zeros", "json-array", "text"],
)
def test_unrecognised_data_is_refused_naming_the_expected_magic(data: bytes) -> None:
    with pytest.raises(UnknownFormatError) as caught:
        decode(data)
    assert "89 53 57 46" in str(caught.value)
    assert data[:4].hex(" ") in str(caught.value)


def test_a_magic_with_one_byte_changed_is_unknown() -> None:
    data = bytearray(encode(small_envelope(), "zstd"))
    data[1] = ord("X")
    with pytest.raises(UnknownFormatError):
        decode(bytes(data))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"version": 2}, "container version 2"),
        ({"encoding": 7}, "unknown encoding code 7"),
        ({"compression": 9}, "unknown compression code 9"),
        ({"flags": 1}, "unknown header flags 0x01"),
    ],
)
def test_unknown_container_fields_are_refused(options: dict, message: str) -> None:
    with pytest.raises(UnsupportedContainerError, match=message):
        decode(frame(encode_compact(small_envelope()), **options))


def test_a_corrupted_payload_fails_its_checksum() -> None:
    payload = encode_compact(small_envelope())
    corrupted = payload.replace(b"Classify", b"Classifx")
    with pytest.raises(ChecksumMismatchError):
        decode(frame(corrupted, checksum_of=payload))


def test_corrupt_zstd_data_is_reported_as_corrupt() -> None:
    payload = encode_compact(small_envelope())
    compressed = bytearray(zstandard.ZstdCompressor().compress(payload))
    compressed[8:16] = b"\xff" * 8
    with pytest.raises((CorruptDataError, TruncatedInputError, ChecksumMismatchError)) as caught:
        decode(frame(bytes(compressed), compression=1, checksum_of=payload))
    assert caught.value.code in {"corrupt", "truncated", "checksum_mismatch"}


def test_a_byte_order_mark_is_refused() -> None:
    with pytest.raises(MalformedInputError, match="byte order mark"):
        decode(b"\xef\xbb\xbf" + VALID_JSON)


# Huge integers --------------------------------------------------------------------


@pytest.mark.parametrize(
    "literal",
    [
        "9223372036854775808",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "9" * 5000,
    ],
    ids=["2**63", "2**64-1", "2**64", "-2**63-1", "30-digits", "5000-digits"],
)
def test_integers_past_64_bits_are_refused_in_json(literal: str) -> None:
    data = VALID_JSON.replace(b'"max_parallel":8', b'"max_parallel":' + literal.encode())
    assert data != VALID_JSON
    with pytest.raises(IntegerOutOfRangeError, match="signed 64-bit"):
        decode(data)


def test_the_64_bit_limits_themselves_are_accepted() -> None:
    for value in (2**63 - 1, -(2**63)):
        envelope = small_envelope(settings={"max_parallel": value})
        for format_name in ("json", "msgpack", "zstd"):
            assert decode(encode(envelope, format_name)) == envelope


def test_large_floats_are_not_mistaken_for_huge_integers() -> None:
    envelope = small_envelope(settings={"timeout_s": 1e20})
    data = encode(envelope, "json")
    assert b'"timeout_s":1e+20' in data
    assert decode(data) == envelope
    assert type(decode(data)["workflow"]["settings"]["timeout_s"]) is float


def test_integers_past_64_bits_are_refused_in_messagepack() -> None:
    with pytest.raises(IntegerOutOfRangeError):
        decode(_compact_payload({"big": 2**64 - 1}))


def test_integers_past_64_bits_are_refused_when_encoding() -> None:
    envelope = small_envelope(settings={"max_parallel": 2**70})
    for format_name in ("json", "msgpack", "lz4"):
        with pytest.raises(IntegerOutOfRangeError):
            encode(envelope, format_name)


# NaN and infinities ---------------------------------------------------------------


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_nan_and_infinities_are_refused_in_json(literal: str) -> None:
    data = VALID_JSON.replace(b'"temperature":0.2', b'"temperature":' + literal.encode())
    assert data != VALID_JSON
    with pytest.raises(NonFiniteNumberError) as caught:
        decode(data)
    assert caught.value.code == "non_finite_number"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinities_are_refused_when_encoding(value: float) -> None:
    envelope = small_envelope(settings={"timeout_s": value})
    for format_name in ("json", "msgpack", "zstd"):
        with pytest.raises(NonFiniteNumberError):
            encode(envelope, format_name)
    with pytest.raises(NonFiniteNumberError):
        dumps_json(envelope)


def test_nan_is_refused_in_messagepack() -> None:
    with pytest.raises(NonFiniteNumberError):
        decode(_compact_payload({"t": float("nan")}))


# Nesting past a limit -------------------------------------------------------------


def _nested(levels: int) -> object:
    value: object = 0
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("levels", [65, 2_000, 200_000])
def test_deep_json_nesting_is_refused(levels: int) -> None:
    data = VALID_JSON.replace(
        b'"temperature":0.2', b'"temperature":' + b"[" * levels + b"]" * levels
    )
    with pytest.raises(NestingTooDeepError) as caught:
        decode(data)
    assert caught.value.code == "nesting_too_deep"


def test_nesting_just_inside_the_limit_is_read() -> None:
    # envelope > workflow > nodes > node > config > temperature: 5 levels used already.
    envelope = small_envelope()
    envelope["workflow"]["nodes"][1]["config"]["temperature"] = _nested(58)
    for format_name in ("json", "msgpack"):
        assert decode(encode(envelope, format_name)) == envelope
    envelope["workflow"]["nodes"][1]["config"]["temperature"] = _nested(60)
    with pytest.raises(NestingTooDeepError):
        encode(envelope, "json")


@pytest.mark.parametrize("levels", [70, 5_000])
def test_deep_messagepack_nesting_is_refused(levels: int) -> None:
    payload = _compact_payload({"deep": 0}).replace(
        msgpack.packb({"deep": 0}), b"\x81\xa4deep" + b"\x91" * levels + b"\x00"
    )
    with pytest.raises(NestingTooDeepError):
        decode(payload)


# Duplicate keys ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "duplicated", "key"),
    [
        (
            b'"created_with":"symphony 0.1.0"',
            b'"created_with":"a","created_with":"symphony 0.1.0"',
            "created_with",
        ),
        (b'"temperature":0.2', b'"temperature":0.9,"temperature":0.2', "temperature"),
        (b'"temperature":0.2', b'"temperature":0.9,"temper\\u0061ture":0.2', "temperature"),
        (b'"temperature":0.2', b'"a\\u003ab":1,"a:b":0.2', "a:b"),
    ],
    ids=["top-level", "nested", "escaped-letter", "escaped-colon"],
)
def test_duplicate_keys_in_json_are_refused_naming_the_key(
    original: bytes, duplicated: bytes, key: str
) -> None:
    data = VALID_JSON.replace(original, duplicated)
    assert data != VALID_JSON
    with pytest.raises(DuplicateKeyError) as caught:
        decode(data)
    assert caught.value.details == {"key": key}
    assert repr(key) in str(caught.value)


def test_colons_inside_strings_do_not_look_like_duplicates() -> None:
    envelope = small_envelope(name="a: b :: c", description='"x": 1, "x": 2')
    envelope["workflow"]["metadata"]["custom"] = {"k:e:y": "v:a:l", "::": ":"}
    assert decode(encode(envelope, "json")) == envelope


def test_duplicate_keys_in_a_messagepack_map_are_refused() -> None:
    forged = b"\x82\xa1a\x01\xa1a\x02"  # {"a": 1, "a": 2}, which no encoder would write
    payload = _compact_payload({"b": 0}).replace(msgpack.packb({"b": 0}), forged)
    with pytest.raises(DuplicateKeyError, match="duplicate key 'a' in a MessagePack map"):
        decode(payload)


# MessagePack with huge declared lengths ---------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"\xdd\xff\xff\xff\xff", TooLargeError),
        (b"\xdf\xff\xff\xff\xff", TooLargeError),
        # For strings, bin and ext, msgpack finds the input too short before
        # comparing with the limit: refused all the same, without allocating.
        (b"\xdb\x7f\xff\xff\xff", TruncatedInputError),
        (b"\xc6\x7f\xff\xff\xff", TruncatedInputError),
        (b"\xc9\x7f\xff\xff\xff\x01", TruncatedInputError),
    ],
    ids=["array32", "map32", "str32", "bin32", "ext32"],
)
def test_messagepack_declaring_lengths_past_the_input_is_refused(
    header: bytes, expected: type[SerializationError]
) -> None:
    payload = _compact_payload({"b": 0}).replace(msgpack.packb({"b": 0}), header)
    tracemalloc.start()
    try:
        with pytest.raises(expected, match="length past"):
            decode(payload)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024
    with pytest.raises(expected):
        decode(frame(payload))


def test_a_huge_string_table_declaration_is_refused() -> None:
    payload = BARE_PREFIX + b"\x01" + b"\xdd\x7f\xff\xff\xff"
    with pytest.raises(TooLargeError):
        decode(payload)


# Compressed bombs ---------------------------------------------------------------------


BOMB_SIZE = 64 * 1024 * 1024


@pytest.fixture(scope="module")
def zeros() -> bytes:
    return bytes(BOMB_SIZE)


@pytest.mark.parametrize("compression", [1, 2], ids=["zstd", "lz4"])
def test_a_bomb_declaring_a_small_size_is_refused_without_expanding_it(
    zeros: bytes, compression: int
) -> None:
    compressed = (
        zstandard.ZstdCompressor(level=1, write_content_size=False).compress(zeros)
        if compression == 1
        else lz4.frame.compress(zeros, store_size=False)
    )
    assert len(compressed) < BOMB_SIZE // 100
    data = frame(compressed, compression=compression, declared_size=1000, checksum_of=zeros[:1000])
    tracemalloc.start()
    try:
        with pytest.raises(
            SizeMismatchError, match="larger than the 1000 bytes the header declares"
        ):
            decode(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024


@pytest.mark.parametrize("format_name", ["zstd", "lz4", "msgpack", "json+zstd"])
def test_a_declared_size_past_the_limit_is_refused_before_decompressing(format_name: str) -> None:
    data = encode(small_envelope(), format_name)
    with pytest.raises(TooLargeError, match=r"declares \d+ bytes, more than the limit of 100"):
        decode(data, max_size=100)


def test_a_forged_header_declaring_terabytes_is_refused() -> None:
    data = frame(b"\x28\xb5\x2f\xfd", compression=1, declared_size=2**40)
    with pytest.raises(TooLargeError):
        decode(data)


def test_plain_json_past_the_limit_is_refused() -> None:
    with pytest.raises(TooLargeError, match="larger than the limit of 100"):
        decode(VALID_JSON, max_size=100)


# Other shapes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b'{"workflow": {}}',
        b'{"schema_version": "1.0.0"}',
        b'{"schema_version": "1.0.0", "workflow": []}',
    ],
)
def test_objects_that_are_not_envelopes_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidEnvelopeError):
        decode(data)


def test_unsupported_python_values_are_refused_when_encoding() -> None:
    for value in (b"bytes", {1, 2}, object()):
        envelope = small_envelope(settings={"odd": value})
        with pytest.raises(UnsupportedValueError):
            encode(envelope, "msgpack")
        with pytest.raises(UnsupportedValueError):
            encode(envelope, "json")
    with pytest.raises(UnsupportedValueError, match="object key 1 is not a string"):
        encode(small_envelope(settings={1: "x"}), "json")


def test_messagepack_types_json_lacks_are_refused() -> None:
    with pytest.raises(UnsupportedValueError, match="bytes"):
        decode(_compact_payload({"b": b"\x00\x01"}))


def test_a_failed_decode_changes_nothing_it_was_given() -> None:
    envelope = small_envelope()
    before = copy.deepcopy(envelope)
    data = bytearray(encode(envelope, "msgpack"))
    snapshot = bytes(data)
    with pytest.raises(SerializationError):
        decode(bytes(data[:-5]))
    assert bytes(data) == snapshot
    assert envelope == before


def test_every_error_has_a_stable_code_and_an_api_shape() -> None:
    with pytest.raises(SerializationError) as caught:
        decode(b'{"a": NaN}')
    assert caught.value.as_dict() == {
        "code": "non_finite_number",
        "message": "NaN is not a valid JSON number (no NaN or infinity)",
        "details": {},
    }


def test_a_failed_decompression_does_not_spoil_the_next_one() -> None:
    # zstd contexts are reused per thread: a corrupt or cut payload must not leave one broken.
    good = encode(small_envelope(), "zstd")
    corrupt = bytearray(good)
    corrupt[30:40] = b"\xff" * 10
    for _ in range(2):
        with pytest.raises(CorruptDataError):
            decode(bytes(corrupt))
        with pytest.raises(TruncatedInputError):
            decode(good[: len(good) // 2])
        assert decode(good) == small_envelope()
