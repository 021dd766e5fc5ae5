"""The document pipeline every write and the validate endpoint share.

Cheap checks first (shape, envelope and schema version, node and edge counts,
size), then the graph core's full validation against the built-in catalog,
then canonicalisation: the stored document is what the graph core writes back
(`Workflow.from_document(…).to_document()`), so equal graphs have equal
checksums and diffs are not polluted by defaults a client left out.

Errors are the API's exceptions: a document that cannot be read is 400 with
the serialization error's code, one too big is 413 `too_large`, an invalid
one is 400 `validation_failed` whose details are every validation error.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from symphony_site.api.errors import ApiError, TooLarge, ValidationFailed
from symphony_site.api.parsers import refuse_null_characters
from workflows import graphs
from workflows.domain import ValidationResult
from workflows.domain.validation import DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES
from workflows.serialization import (
    CURRENT_SCHEMA_VERSION,
    SerializationError,
    TooLargeError,
    check_envelope,
    envelope,
    migrate_envelope,
)
from workflows.versioning import canonical_json

# The graph core's limits (10,000 nodes, 50,000 edges), checked here before anything parses
# the graph; the byte limit matches the API's request body limit.
MAX_NODES = DEFAULT_MAX_NODES
MAX_EDGES = DEFAULT_MAX_EDGES
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_NAME_LENGTH = 200
MAX_TAG_LENGTH = 50
# Fields the platform keeps on its own rows; a stored document does not repeat them.
PLATFORM_FIELDS = ("created_at", "updated_at")


def serialization_failure(error: SerializationError) -> ApiError:
    """A SerializationError as the API error it becomes: its code, 413 when too large."""
    status_code = 413 if isinstance(error, TooLargeError) else 400
    return ApiError(error.message, code=error.code, status_code=status_code,
                    details=[{"code": error.code, "message": error.message, **error.details}])


def read_envelope(document: Any) -> dict[str, Any]:
    """An envelope (migrated to the current schema) or a bare workflow object, as an envelope."""
    if not isinstance(document, dict):
        raise ValidationFailed(
            f"A workflow document is a JSON object, not {type(document).__name__}.",
            details=[{"code": "invalid_document", "message": "expected an object", "path": []}],
        )
    try:
        if "schema_version" in document or "workflow" in document:
            return migrate_envelope(check_envelope(document))
        return envelope(document)
    except SerializationError as error:
        raise serialization_failure(error) from None


def check_size(workflow_document: dict[str, Any]) -> None:
    """Counts and bytes, before anything costly looks at the graph."""
    nodes, edges = workflow_document.get("nodes"), workflow_document.get("edges")
    node_count = len(nodes) if isinstance(nodes, list) else 0
    edge_count = len(edges) if isinstance(edges, list) else 0
    if node_count > MAX_NODES or edge_count > MAX_EDGES:
        raise TooLarge(
            f"The workflow has {node_count} nodes and {edge_count} edges; the limits are "
            f"{MAX_NODES} nodes and {MAX_EDGES} edges.",
            details=[{"code": "too_large", "nodes": node_count, "edges": edge_count,
                      "max_nodes": MAX_NODES, "max_edges": MAX_EDGES}],
        )
    try:
        size = len(canonical_json(workflow_document))
    except (TypeError, ValueError):
        raise ValidationFailed("The document holds values JSON cannot represent.",
                               details=[{"code": "invalid_document", "message": "not JSON"}]) from None
    if size > MAX_DOCUMENT_BYTES:
        raise TooLarge(f"The document is {size} bytes; the limit is {MAX_DOCUMENT_BYTES}.",
                       details=[{"code": "too_large", "bytes": size, "max_bytes": MAX_DOCUMENT_BYTES}])


def validation_of(document: Any) -> tuple[dict[str, Any], ValidationResult]:
    """The envelope and the full validation result (never raises for an invalid graph)."""
    read = read_envelope(document)
    inner = read["workflow"]
    check_size(inner)
    return read, graphs.validate(inner)


def refuse_invalid(result: ValidationResult) -> None:
    if result.valid:
        return
    errors = [issue.to_dict() for issue in result.errors]
    first = errors[0]["message"]
    raise ValidationFailed(
        f"The workflow document has {len(errors)} error{'s' if len(errors) != 1 else ''}; "
        f"the first: {first}",
        details=errors,
    )


@dataclass(frozen=True)
class PreparedDocument:
    """A valid document in canonical form, ready to be stored as a version."""

    workflow: dict[str, Any]  # the inner workflow object
    warnings: list[dict[str, Any]]

    def as_envelope(self) -> dict[str, Any]:
        return envelope(self.workflow, schema_version=CURRENT_SCHEMA_VERSION)


def apply_metadata(workflow_document: dict[str, Any], *, name: str | None = None,
                   description: str | None = None, tags: list[str] | None = None,
                   category: str | None = None) -> dict[str, Any]:
    """A copy of the document with the given workflow-level fields replaced."""
    result = copy.deepcopy(workflow_document)
    if name is not None:
        result["name"] = name
    if description is not None:
        result["description"] = description
    if tags is not None or category is not None:
        metadata = result.get("metadata") if isinstance(result.get("metadata"), dict) else {}
        if tags is not None:
            metadata["tags"] = list(tags)
        if category is not None:
            metadata["category"] = category
        result["metadata"] = metadata
    return result


def _check_platform_limits(workflow_document: dict[str, Any]) -> None:
    """Limits of the platform's columns, which the graph core does not know."""
    problems = []
    name = workflow_document.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append({"code": "invalid_document", "path": ["name"],
                         "message": "The workflow needs a name."})
    elif len(name) > MAX_NAME_LENGTH:
        problems.append({"code": "invalid_document", "path": ["name"],
                         "message": f"The name is longer than {MAX_NAME_LENGTH} characters."})
    metadata = workflow_document.get("metadata") or {}
    for index, tag in enumerate(metadata.get("tags") or ()):
        if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG_LENGTH:
            problems.append({"code": "invalid_document", "path": ["metadata", "tags", index],
                             "message": f"A tag is a non-empty string of at most {MAX_TAG_LENGTH} characters."})
    if len(str(metadata.get("category") or "")) > 100:
        problems.append({"code": "invalid_document", "path": ["metadata", "category"],
                         "message": "The category is longer than 100 characters."})
    if problems:
        raise ValidationFailed(f"The workflow document has {len(problems)} error(s); the first: "
                               f"{problems[0]['message']}", details=problems)


def prepare(document: Any, **metadata: Any) -> PreparedDocument:
    """Read, check, validate and canonicalise; raise the API error that says what is wrong."""
    read = read_envelope(document)
    inner = apply_metadata(read["workflow"], **metadata) if metadata else read["workflow"]
    check_size(inner)
    # Imports and the web editor come in by other doors than the API's parser.
    refuse_null_characters(inner, what="The workflow document")
    result = graphs.validate(inner)
    refuse_invalid(result)
    assert result.workflow is not None  # a valid result carries the workflow it read
    canonical = result.workflow.to_document()
    for field in PLATFORM_FIELDS:
        canonical.pop(field, None)
    _check_platform_limits(canonical)
    return PreparedDocument(workflow=canonical,
                            warnings=[issue.to_dict() for issue in result.warnings])
