"""Serialization of workflow documents: JSON, compact MessagePack, compression,
schema versions and migrations, the JSON Schema, and a pretty printer.

Pure Python (no Django). It works on the document level — the plain dicts of
``Workflow.to_document()`` wrapped in the versioned envelope — so it does not
depend on the graph model.
"""

from workflows.serialization.container import (
    Compression,
    DetectedFormat,
    Format,
    decode,
    detect_format,
    encode,
    read,
    write,
)
from workflows.serialization.envelope import check_envelope, envelope, workflow_of
from workflows.serialization.errors import (
    ChecksumMismatchError,
    CorruptDataError,
    DuplicateKeyError,
    IntegerOutOfRangeError,
    InvalidEnvelopeError,
    InvalidSchemaVersionError,
    InvalidUtf8Error,
    MalformedInputError,
    MigrationFailedError,
    NestingTooDeepError,
    NonFiniteNumberError,
    SchemaTooNewError,
    SerializationError,
    SizeMismatchError,
    TooLargeError,
    TruncatedInputError,
    UnknownFormatError,
    UnsupportedContainerError,
    UnsupportedSchemaVersionError,
    UnsupportedValueError,
)
from workflows.serialization.json_codec import dump_json, dumps_json, load_json, loads_json
from workflows.serialization.limits import MAX_DEPTH, MAX_DOCUMENT_SIZE
from workflows.serialization.pretty import pretty, show, summary
from workflows.serialization.schema import (
    schema_errors,
    workflow_document_schema,
    workflow_json_schema,
)
from workflows.serialization.versions import (
    CURRENT_SCHEMA_VERSION,
    Migration,
    MigrationRegistry,
    SchemaVersion,
    default_registry,
    migrate_envelope,
)

__all__ = [
    "CURRENT_SCHEMA_VERSION",
    "MAX_DEPTH",
    "MAX_DOCUMENT_SIZE",
    "ChecksumMismatchError",
    "Compression",
    "CorruptDataError",
    "DetectedFormat",
    "DuplicateKeyError",
    "Format",
    "IntegerOutOfRangeError",
    "InvalidEnvelopeError",
    "InvalidSchemaVersionError",
    "InvalidUtf8Error",
    "MalformedInputError",
    "Migration",
    "MigrationFailedError",
    "MigrationRegistry",
    "NestingTooDeepError",
    "NonFiniteNumberError",
    "SchemaTooNewError",
    "SchemaVersion",
    "SerializationError",
    "SizeMismatchError",
    "TooLargeError",
    "TruncatedInputError",
    "UnknownFormatError",
    "UnsupportedContainerError",
    "UnsupportedSchemaVersionError",
    "UnsupportedValueError",
    "check_envelope",
    "decode",
    "default_registry",
    "detect_format",
    "dump_json",
    "dumps_json",
    "encode",
    "envelope",
    "load_json",
    "loads_json",
    "migrate_envelope",
    "pretty",
    "read",
    "schema_errors",
    "show",
    "summary",
    "workflow_document_schema",
    "workflow_json_schema",
    "workflow_of",
    "write",
]
