"""Formats on the wire: plain JSON, or a framed payload with a small header.

A framed payload (``docs/binary-format.md``) is a 20-byte header followed by
the encoded, possibly compressed, envelope::

    offset size  field
    0      4     magic b"\\x89SWF"
    4      1     container version (1)
    5      1     encoding: 0 JSON, 1 compact MessagePack
    6      1     compression: 0 none, 1 zstd, 2 lz4 (frame format)
    7      1     flags, 0 (reserved)
    8      8     uncompressed payload size, unsigned big-endian
    16     4     CRC-32 of the uncompressed payload, unsigned big-endian

``decode`` recognises JSON (first non-blank byte ``{``), a framed payload (the
magic) and a bare compact MessagePack payload (``BARE_PREFIX``) by themselves.
The declared size is checked against the limit before anything is
decompressed, and decompression never produces more than the declared size
plus one byte, so a compressed bomb is refused without being expanded.
"""

from __future__ import annotations

import struct
import threading
import zlib
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import IO, Any

import lz4.frame
import zstandard

from workflows.serialization.compact import BARE_PREFIX, decode_compact, encode_compact
from workflows.serialization.envelope import check_envelope
from workflows.serialization.errors import (
    ChecksumMismatchError,
    CorruptDataError,
    MalformedInputError,
    SizeMismatchError,
    TooLargeError,
    TruncatedInputError,
    UnknownFormatError,
    UnsupportedContainerError,
)
from workflows.serialization.json_codec import dumps_json_bytes, loads_json
from workflows.serialization.limits import (
    MAX_DEPTH,
    MAX_DOCUMENT_SIZE,
    collector_paused,
)
from workflows.serialization.versions import MigrationRegistry, migrate_envelope

MAGIC = b"\x89SWF"
CONTAINER_VERSION = 1
HEADER = struct.Struct(">4sBBBBQI")
HEADER_SIZE = HEADER.size  # 20

DEFAULT_ZSTD_LEVEL = 3
DEFAULT_LZ4_LEVEL = lz4.frame.COMPRESSIONLEVEL_MIN

_JSON_START_BYTES = frozenset(b"{ \t\r\n")


class Format(StrEnum):
    """How the envelope itself is encoded."""

    JSON = "json"
    MSGPACK = "msgpack"


class Compression(StrEnum):
    NONE = "none"
    ZSTD = "zstd"
    LZ4 = "lz4"


_ENCODING_CODES = {Format.JSON: 0, Format.MSGPACK: 1}
_COMPRESSION_CODES = {Compression.NONE: 0, Compression.ZSTD: 1, Compression.LZ4: 2}
_ENCODING_BY_CODE = {code: encoding for encoding, code in _ENCODING_CODES.items()}
_COMPRESSION_BY_CODE = {code: compression for compression, code in _COMPRESSION_CODES.items()}


@dataclass(frozen=True)
class DetectedFormat:
    encoding: Format
    compression: Compression
    framed: bool
    declared_size: int | None = None

    def __str__(self) -> str:
        if self.compression is Compression.NONE:
            return self.encoding.value
        return f"{self.encoding.value}+{self.compression.value}"


def parse_format(
    format: Format | Compression | str, compression: Compression | str | None = None
) -> tuple[Format, Compression]:
    """Read a format name: ``json``, ``msgpack``, ``zstd``, ``lz4``, ``json+zstd``, ``msgpack+lz4``...

    A compression name alone means compact MessagePack compressed with it.
    """
    text = format.value if isinstance(format, Enum) else str(format)
    encoding_text, _, compression_text = text.lower().partition("+")
    try:
        if encoding_text in {item.value for item in Compression} - {"none"}:
            encoding, chosen = Format.MSGPACK, Compression(encoding_text)
        else:
            encoding = Format(encoding_text)
            chosen = Compression(compression_text) if compression_text else Compression.NONE
        if compression is not None:
            chosen = Compression(compression)
    except ValueError:
        known = "json, msgpack, zstd, lz4, json+zstd, json+lz4, msgpack+zstd, msgpack+lz4"
        raise ValueError(f"unknown format {text!r} (known: {known})") from None
    return encoding, chosen


def encode(
    envelope: dict[str, Any],
    format: Format | Compression | str = Format.JSON,
    *,
    compression: Compression | str | None = None,
    level: int | None = None,
    pretty: bool = False,
) -> bytes:
    """Serialize an envelope. Plain JSON is written without a header; every other form is framed."""
    check_envelope(envelope)
    encoding, chosen_compression = parse_format(format, compression)
    if encoding is Format.JSON:
        payload = dumps_json_bytes(envelope, pretty=pretty)
        if chosen_compression is Compression.NONE:
            return payload
    else:
        with collector_paused(_approximate_size(envelope)):
            payload = encode_compact(envelope)
    header = HEADER.pack(
        MAGIC,
        CONTAINER_VERSION,
        _ENCODING_CODES[encoding],
        _COMPRESSION_CODES[chosen_compression],
        0,
        len(payload),
        zlib.crc32(payload),
    )
    return header + _compress(payload, chosen_compression, level)


def _approximate_size(envelope: dict[str, Any]) -> int:
    workflow = envelope.get("workflow")
    nodes = workflow.get("nodes") if isinstance(workflow, dict) else None
    return 500 * len(nodes) if isinstance(nodes, list) else 0


# zstd contexts are costly to create (about a third of compressing a typical
# workflow) and not safe to share between threads: one per thread and level.
_THREAD_STATE = threading.local()


def _zstd_compressor(level: int) -> zstandard.ZstdCompressor:
    compressors: dict[int, zstandard.ZstdCompressor] = _THREAD_STATE.__dict__.setdefault(
        "zstd_compressors", {}
    )
    compressor = compressors.get(level)
    if compressor is None:
        compressor = compressors[level] = zstandard.ZstdCompressor(
            level=level, write_content_size=True
        )
    return compressor


def _zstd_decompressor() -> zstandard.ZstdDecompressor:
    decompressor: zstandard.ZstdDecompressor | None = _THREAD_STATE.__dict__.get(
        "zstd_decompressor"
    )
    if decompressor is None:
        decompressor = _THREAD_STATE.zstd_decompressor = zstandard.ZstdDecompressor()
    return decompressor


def _compress(payload: bytes, compression: Compression, level: int | None) -> bytes:
    if compression is Compression.ZSTD:
        return _zstd_compressor(DEFAULT_ZSTD_LEVEL if level is None else level).compress(payload)
    if compression is Compression.LZ4:
        compressed: bytes = lz4.frame.compress(
            payload,
            compression_level=DEFAULT_LZ4_LEVEL if level is None else level,
            store_size=True,
        )
        return compressed
    return payload


def detect_format(data: bytes | bytearray | memoryview | str) -> DetectedFormat:
    """Recognise the format of ``data`` from its first bytes, without decoding it."""
    if isinstance(data, str):
        if data.lstrip()[:1] == "{":
            return DetectedFormat(Format.JSON, Compression.NONE, framed=False)
        raise UnknownFormatError("text input is not a JSON object")
    head = bytes(data[:HEADER_SIZE])
    if not head:
        raise TruncatedInputError("the input is empty")
    if head.startswith(MAGIC):
        if len(head) < HEADER_SIZE:
            raise TruncatedInputError(
                f"the header is cut short: {len(head)} of {HEADER_SIZE} bytes"
            )
        _, version, encoding_code, compression_code, flags, size, _ = HEADER.unpack(head)
        if version != CONTAINER_VERSION:
            raise UnsupportedContainerError(
                f"container version {version} is not one this Symphony reads ({CONTAINER_VERSION})"
            )
        if encoding_code not in _ENCODING_BY_CODE:
            raise UnsupportedContainerError(f"unknown encoding code {encoding_code} in the header")
        if compression_code not in _COMPRESSION_BY_CODE:
            raise UnsupportedContainerError(
                f"unknown compression code {compression_code} in the header"
            )
        if flags != 0:
            raise UnsupportedContainerError(f"unknown header flags 0x{flags:02x}")
        return DetectedFormat(
            _ENCODING_BY_CODE[encoding_code],
            _COMPRESSION_BY_CODE[compression_code],
            framed=True,
            declared_size=size,
        )
    if head.startswith(BARE_PREFIX):
        return DetectedFormat(Format.MSGPACK, Compression.NONE, framed=False)
    if head[0] in _JSON_START_BYTES:
        return DetectedFormat(Format.JSON, Compression.NONE, framed=False)
    if head.startswith(b"\xef\xbb\xbf"):
        raise MalformedInputError("JSON must not start with a byte order mark")
    if MAGIC.startswith(head) or BARE_PREFIX.startswith(head):
        raise TruncatedInputError(f"the input ends after {len(head)} bytes, inside the magic")
    raise UnknownFormatError(
        f"unrecognised data starting with bytes {head[:4].hex(' ')}: expected JSON (an object), "
        f"or a Symphony payload starting with the magic {MAGIC.hex(' ')}",
    )


def decode(
    data: bytes | bytearray | memoryview | str,
    *,
    max_size: int = MAX_DOCUMENT_SIZE,
    max_depth: int = MAX_DEPTH,
    registry: MigrationRegistry | None = None,
    migrate: bool = True,
) -> dict[str, Any]:
    """Read an envelope in any format ``encode`` writes, migrated to the current schema.

    ``max_size`` bounds the input and the decoded payload, in bytes.
    """
    detected = detect_format(data)
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    with collector_paused(max(len(data), detected.declared_size or 0)):
        value = _decode_any(data, detected, max_size=max_size, max_depth=max_depth)
    check_envelope(value)
    return migrate_envelope(value, registry=registry) if migrate else value


def _decode_any(
    data: bytes | str, detected: DetectedFormat, *, max_size: int, max_depth: int
) -> Any:
    if detected.encoding is Format.JSON and not detected.framed:
        value: Any = loads_json(data, max_size=max_size, max_depth=max_depth)
    elif not detected.framed:
        value = _decode_compact_checked(data, max_size=max_size, max_depth=max_depth)  # type: ignore[arg-type]
    else:
        payload = _unframe(data, detected, max_size=max_size)  # type: ignore[arg-type]
        if detected.encoding is Format.JSON:
            value = loads_json(payload, max_size=max_size, max_depth=max_depth)
        else:
            value = _decode_compact_checked(payload, max_size=max_size, max_depth=max_depth)
    return value


def _decode_compact_checked(data: bytes, *, max_size: int, max_depth: int) -> dict[str, Any]:
    if len(data) > max_size:
        raise TooLargeError(
            f"payload of {len(data)} bytes is larger than the limit of {max_size}",
            size=len(data),
            limit=max_size,
        )
    return decode_compact(data, max_length=max_size, max_depth=max_depth)


def _unframe(data: bytes, detected: DetectedFormat, *, max_size: int) -> bytes:
    declared = detected.declared_size or 0
    if declared > max_size:
        raise TooLargeError(
            f"the header declares {declared} bytes, more than the limit of {max_size}",
            declared_size=declared,
            limit=max_size,
        )
    body = data[HEADER_SIZE:]
    if detected.compression is Compression.NONE:
        payload = body
    elif detected.compression is Compression.ZSTD:
        payload = _zstd_decompress_bounded(body, declared)
    else:
        payload = _lz4_decompress_bounded(body, declared)
    if len(payload) < declared:
        raise TruncatedInputError(
            f"the payload ends after {len(payload)} of the {declared} bytes the header declares",
        )
    if len(payload) > declared:
        raise SizeMismatchError(
            f"the payload is larger than the {declared} bytes the header declares"
            + (
                " (refused without decompressing further)"
                if detected.compression is not Compression.NONE
                else ""
            ),
            declared_size=declared,
        )
    (expected_checksum,) = struct.unpack_from(">I", data, 16)
    if zlib.crc32(payload) != expected_checksum:
        raise ChecksumMismatchError("the payload does not match the checksum in its header")
    return payload


def _zstd_decompress_bounded(body: bytes, declared: int) -> bytes:
    """Decompress at most ``declared + 1`` bytes: one more than declared proves a lie."""
    limit = declared + 1
    chunks: list[bytes] = []
    produced = 0
    try:
        with _zstd_decompressor().stream_reader(body) as reader:
            while produced < limit:
                chunk = reader.read(limit - produced)
                if not chunk:
                    break
                chunks.append(chunk)
                produced += len(chunk)
    except zstandard.ZstdError as error:
        raise CorruptDataError(f"zstd data is corrupt or cut short: {error}") from error
    return b"".join(chunks)


def _lz4_decompress_bounded(body: bytes, declared: int) -> bytes:
    decompressor = lz4.frame.LZ4FrameDecompressor()
    try:
        payload: bytes = decompressor.decompress(body, max_length=declared + 1)
    except RuntimeError as error:
        raise CorruptDataError(f"lz4 data is corrupt: {error}") from error
    if len(payload) <= declared and not decompressor.eof:
        raise TruncatedInputError("lz4 data ends before the end of its frame")
    return payload


def write(
    envelope: dict[str, Any],
    stream: IO[bytes],
    format: Format | Compression | str = Format.JSON,
    **options: Any,
) -> int:
    """Encode ``envelope`` to a binary stream; return the number of bytes written."""
    encoded = encode(envelope, format, **options)
    stream.write(encoded)
    return len(encoded)


def read(stream: IO[bytes], *, max_size: int = MAX_DOCUMENT_SIZE, **options: Any) -> dict[str, Any]:
    """Decode an envelope from a binary stream, reading no more than the limit allows."""
    # A framed payload may be a little larger than its content (header, incompressible data).
    data = stream.read(max_size + HEADER_SIZE + 1024)
    return decode(data, max_size=max_size, **options)
