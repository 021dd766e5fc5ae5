"""Workflow use cases: every write to workflows and their versions goes through here.

Each function takes the acting user explicitly, checks the role (editor or
higher writes, viewer or higher reads), validates the document with the full
graph-core pipeline (`workflows.documents`), writes in one transaction and
appends its audit entry in that same transaction. Versioning rules are in
`workflows.versioning` and docs/workflows.md.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import record_event
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import Conflict, NotFound, ValidationFailed
from teams.access import require_role
from teams.models import Team
from teams.roles import Role
from workflows import documents
from workflows.models import Workflow, WorkflowVersion
from workflows.serialization import SerializationError, TooLargeError, decode, detect_format, encode
from workflows.versioning import SemanticVersion, checksum, next_version

# Export format → (Content-Type, file extension).
EXPORT_FILES = {
    "json": ("application/json", "json"),
    "msgpack": ("application/msgpack", "msgpack"),
    "zstd": ("application/zstd", "msgpack.zst"),
    "lz4": ("application/x-lz4", "msgpack.lz4"),
}
EXPORT_FORMATS = tuple(EXPORT_FILES)


def _columns(workflow_document: dict[str, Any]) -> dict[str, Any]:
    """The workflow row's searchable copies of the document's own fields."""
    metadata = workflow_document.get("metadata") or {}
    return {
        "name": workflow_document["name"].strip(),
        "description": workflow_document.get("description") or "",
        "tags": list(dict.fromkeys(metadata.get("tags") or [])),
        "category": metadata.get("category") or "",
    }


def _parse_version(text: Any) -> SemanticVersion:
    try:
        return SemanticVersion.parse(text)
    except ValueError as error:
        raise ValidationFailed(str(error), details=[{"field": "version", "code": "invalid",
                                                     "message": str(error)}]) from None


def _store_version(*, workflow: Workflow, prepared: documents.PreparedDocument, version: SemanticVersion,
                   actor: Actor, change_message: str) -> WorkflowVersion:
    inner = {**prepared.workflow, "id": str(workflow.pk), "version": str(version)}
    stored = documents.PreparedDocument(workflow=inner, warnings=prepared.warnings).as_envelope()
    return WorkflowVersion.objects.create(
        workflow=workflow, version=str(version), major=version.major, minor=version.minor,
        patch=version.patch, schema_version=stored["schema_version"], document=stored,
        checksum=checksum(stored), node_count=len(inner["nodes"]), edge_count=len(inner["edges"]),
        created_by=actor.user,
        change_message=change_message[:500],
    )


def _create(*, actor: Actor, origin: Origin, team: Team, prepared: documents.PreparedDocument,
            change_message: str, event_type: str, details: dict[str, Any]) -> Workflow:
    version = _parse_version(prepared.workflow.get("version") or "1.0.0")
    with transaction.atomic():
        workflow = Workflow.objects.create(id=uuid.uuid4(), team=team, created_by=actor.user,
                                           **_columns(prepared.workflow))
        current = _store_version(workflow=workflow, prepared=prepared, version=version, actor=actor,
                                 change_message=change_message)
        workflow.current_version = current
        workflow.save(update_fields=["current_version"])
        record_event(team=team, actor=actor, origin=origin, event_type=event_type, target=workflow,
                     target_name=workflow.name,
                     details={"version": current.version, "checksum": current.checksum,
                              "nodes": current.node_count, "edges": current.edge_count, **details})
    return workflow


def workflow_create(*, actor: Actor, origin: Origin, team: Team, document: Any,
                    change_message: str = "") -> Workflow:
    """A new workflow whose first version is `document` (an envelope or a bare workflow object)."""
    require_role(actor.user, team, Role.EDITOR, action="create workflows")
    prepared = documents.prepare(document)
    return _create(actor=actor, origin=origin, team=team, prepared=prepared, change_message=change_message,
                   event_type="workflow.created", details={})


def workflow_update(*, actor: Actor, origin: Origin, workflow: Workflow, document: Any = None,
                    name: str | None = None, description: str | None = None, tags: list[str] | None = None,
                    category: str | None = None, version: str | None = None,
                    change_message: str = "") -> Workflow:
    """Save an edit as a new version; an edit that changes nothing saves nothing.

    Every edit, of the graph or of the name, description, tags or category
    (which live in the document), makes a new immutable version. The number is
    `version` when given (it must be greater than the current one), else the
    document's own `version` when that is greater, else the automatic bump of
    `versioning.next_version`.
    """
    require_role(actor.user, workflow.team, Role.EDITOR, action="edit workflows")
    requested = _parse_version(version) if version is not None else None
    metadata = {key: value for key, value in {"name": name, "description": description, "tags": tags,
                                              "category": category}.items() if value is not None}
    with transaction.atomic():
        # Lock the row alone, then read its current version in a fresh statement: a join in the
        # locking query would be re-checked against the old snapshot after waiting for another
        # editor's commit, and would not see the version that editor just added.
        locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
        if locked.is_archived:
            raise Conflict("This workflow is archived; archived workflows cannot be edited.")
        current = WorkflowVersion.objects.get(pk=locked.current_version_id)
        base = document if document is not None else current.document
        prepared = documents.prepare(base, **metadata)
        current_number = SemanticVersion(current.major, current.minor, current.patch)
        unchanged = {**prepared.workflow, "id": str(locked.pk), "version": current.version}
        if checksum(prepared.as_envelope() | {"workflow": unchanged}) == current.checksum:
            return locked
        if requested is not None:
            if not requested > current_number:
                raise Conflict(
                    f"Version {requested} is not greater than the current version {current.version}.",
                    details=[{"field": "version", "current": current.version, "given": str(requested)}],
                )
            number = requested
        else:
            number = next_version(current_number, current.workflow_document, prepared.workflow)
            try:
                own = SemanticVersion.parse(prepared.workflow.get("version"))
            except ValueError:
                own = None
            if document is not None and own is not None and own > current_number:
                number = own
        new_version = _store_version(workflow=locked, prepared=prepared, version=number, actor=actor,
                                     change_message=change_message)
        for field, value in _columns(prepared.workflow).items():
            setattr(locked, field, value)
        locked.current_version = new_version
        locked.save()
        record_event(team=locked.team, actor=actor, origin=origin, event_type="workflow.versioned",
                     target=locked, target_name=locked.name,
                     details={"version": new_version.version, "previous_version": current.version,
                              "checksum": new_version.checksum, "change_message": change_message[:500]})
    return locked


def workflow_archive(*, actor: Actor, origin: Origin, workflow: Workflow) -> Workflow:
    """Archive instead of delete: versions stay readable, the workflow leaves the lists."""
    require_role(actor.user, workflow.team, Role.EDITOR, action="archive workflows")
    with transaction.atomic():
        updated = Workflow.objects.filter(pk=workflow.pk, archived_at__isnull=True).update(
            archived_at=timezone.now(), updated_at=timezone.now())
        if not updated:
            raise Conflict("This workflow is already archived.")
        workflow.refresh_from_db()
        record_event(team=workflow.team, actor=actor, origin=origin, event_type="workflow.archived",
                     target=workflow, target_name=workflow.name)
    return workflow


def workflow_import(*, actor: Actor, origin: Origin, team: Team, data: bytes) -> Workflow:
    """A new workflow from an exported file in any format (detected), migrated to the current schema."""
    require_role(actor.user, team, Role.EDITOR, action="import workflows")
    if len(data) > documents.MAX_DOCUMENT_BYTES:
        raise documents.serialization_failure(TooLargeError(
            f"The upload is {len(data)} bytes; the limit is {documents.MAX_DOCUMENT_BYTES}.",
            size=len(data), limit=documents.MAX_DOCUMENT_BYTES))
    try:
        detected = str(detect_format(data))
        envelope = decode(data, max_size=documents.MAX_DOCUMENT_BYTES)
    except SerializationError as error:
        raise documents.serialization_failure(error) from None
    source_version = str(envelope.get("workflow", {}).get("version", ""))
    prepared = documents.prepare(envelope)
    return _create(actor=actor, origin=origin, team=team, prepared=prepared, change_message="Imported",
                   event_type="workflow.imported",
                   details={"format": detected, "bytes": len(data), "source_version": source_version})


def version_of(workflow: Workflow, version: str | None) -> WorkflowVersion:
    """One version of `workflow` by its number (None: the current one), or NotFound."""
    if version in (None, ""):
        assert workflow.current_version_id is not None
        # access_workflow() already joined the current version in; reuse it.
        found = workflow.current_version
    else:
        found = WorkflowVersion.objects.filter(workflow=workflow, version=version).first()
    if found is None:
        raise NotFound(f"Version {version} of this workflow does not exist.")
    return found


def workflow_export(*, actor: Actor, origin: Origin, workflow: Workflow, version: str | None = None,
                    format: str = "json") -> bytes:
    """The stored envelope of one version, encoded in `format` (json, msgpack, zstd, lz4)."""
    require_role(actor.user, workflow.team, Role.VIEWER, action="export workflows")
    if format not in EXPORT_FORMATS:
        raise ValidationFailed(f"Unknown export format {format!r}; use one of {', '.join(EXPORT_FORMATS)}.",
                               details=[{"field": "format", "code": "invalid", "allowed": list(EXPORT_FORMATS)}])
    chosen = version_of(workflow, version)
    data = encode(chosen.document, format)
    with transaction.atomic():
        record_event(team=workflow.team, actor=actor, origin=origin, event_type="workflow.exported",
                     target=workflow, target_name=workflow.name,
                     details={"version": chosen.version, "format": format, "bytes": len(data)})
    return data
