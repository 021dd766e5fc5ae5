"""The versioned envelope around every serialized workflow (workflow-format.md)."""

from __future__ import annotations

from typing import Any

from workflows.serialization.errors import InvalidEnvelopeError
from workflows.serialization.versions import CURRENT_SCHEMA_VERSION, SchemaVersion

DEFAULT_CREATED_WITH = "symphony 0.1.0"
ENVELOPE_KEYS = ("schema_version", "created_with", "workflow")


def envelope(
    workflow_doc: dict[str, Any],
    *,
    created_with: str = DEFAULT_CREATED_WITH,
    schema_version: SchemaVersion | str = CURRENT_SCHEMA_VERSION,
) -> dict[str, Any]:
    """Wrap a workflow document (``Workflow.to_document()``) in the current envelope."""
    if not isinstance(workflow_doc, dict):
        raise InvalidEnvelopeError(
            f"a workflow document is an object, not {type(workflow_doc).__name__}"
        )
    return {
        "schema_version": str(SchemaVersion.parse(schema_version)),
        "created_with": created_with,
        "workflow": workflow_doc,
    }


def is_envelope(value: Any) -> bool:
    return isinstance(value, dict) and "schema_version" in value and "workflow" in value


def check_envelope(value: Any) -> dict[str, Any]:
    """Refuse anything that is not an envelope; return it unchanged."""
    if not isinstance(value, dict):
        raise InvalidEnvelopeError(f"expected an envelope object, found {type(value).__name__}")
    missing = [key for key in ("schema_version", "workflow") if key not in value]
    if missing:
        raise InvalidEnvelopeError(
            f"the envelope is missing {', '.join(repr(key) for key in missing)}",
            missing=missing,
        )
    SchemaVersion.parse(value["schema_version"])
    if not isinstance(value["workflow"], dict):
        raise InvalidEnvelopeError("the envelope's 'workflow' must be an object")
    if "created_with" in value and not isinstance(value["created_with"], str):
        raise InvalidEnvelopeError("the envelope's 'created_with' must be a string")
    return value


def workflow_of(value: dict[str, Any]) -> dict[str, Any]:
    """The workflow document inside an envelope, or the value itself if it is a bare document."""
    if is_envelope(value) and isinstance(value["workflow"], dict):
        return value["workflow"]
    return value
