"""Errors raised while reading or writing workflow documents.

Every problem has its own subclass with a stable ``code`` so callers (the API,
the importer, the CLI) can map them without parsing messages. Messages name
the problem and, where known, where it is.
"""

from __future__ import annotations

from typing import Any


class SerializationError(ValueError):
    """Base class: the data cannot be read or written as a workflow document."""

    code = "serialization_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        """The error in the shape the API reports (code, message, details)."""
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidUtf8Error(SerializationError):
    code = "invalid_utf8"


class TruncatedInputError(SerializationError):
    code = "truncated"


class MalformedInputError(SerializationError):
    code = "malformed"


class DuplicateKeyError(SerializationError):
    code = "duplicate_key"


class NonFiniteNumberError(SerializationError):
    code = "non_finite_number"


class IntegerOutOfRangeError(SerializationError):
    code = "integer_out_of_range"


class NestingTooDeepError(SerializationError):
    code = "nesting_too_deep"


class UnsupportedValueError(SerializationError):
    """A value that has no place in a JSON document (bytes, sets, non-string keys...)."""

    code = "unsupported_value"


class TooLargeError(SerializationError):
    """Input, declared size, decompressed size or a declared length is past its limit."""

    code = "too_large"


class SizeMismatchError(SerializationError):
    """The payload does not have the size its header declares."""

    code = "size_mismatch"


class ChecksumMismatchError(SerializationError):
    code = "checksum_mismatch"


class UnknownFormatError(SerializationError):
    """Neither JSON, a framed Symphony payload nor a bare compact MessagePack payload."""

    code = "unknown_format"


class UnsupportedContainerError(SerializationError):
    """A framed payload whose container version, encoding or compression is unknown."""

    code = "unsupported_container"


class CorruptDataError(SerializationError):
    """Compressed or compact data that is internally inconsistent."""

    code = "corrupt"


class InvalidEnvelopeError(SerializationError):
    code = "invalid_envelope"


class InvalidSchemaVersionError(SerializationError):
    code = "invalid_schema_version"


class SchemaTooNewError(SerializationError):
    """Written by a newer Symphony: the reader must be upgraded, not the document."""

    code = "schema_too_new"


class UnsupportedSchemaVersionError(SerializationError):
    code = "unsupported_schema_version"


class MigrationFailedError(SerializationError):
    code = "migration_failed"
