"""The workflows list's rows from `.values()`, and one workflow's detail, by plain functions
(symphony_site/api/rows.py says why); the same shapes as `WorkflowSerializer` and
`WorkflowDetailSerializer` (tests/api/test_list_rows.py compares them)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from symphony_site.api.rows import Stamp, text_or_none, timestamp, timestamps
from workflows import selectors
from workflows.models import Workflow, WorkflowVersion

VERSION = "current_version__"
LIST_VALUES = (
    "id", "team_id", "team__name", "name", "description", "tags", "category", "archived_at",
    "created_by__username", "created_at", "updated_at", "current_version_id", f"{VERSION}version",
    f"{VERSION}schema_version", f"{VERSION}checksum", f"{VERSION}node_count", f"{VERSION}edge_count",
    f"{VERSION}change_message", f"{VERSION}created_by__username", f"{VERSION}created_at", "last_run_state",
)


def list_values(workflows: QuerySet[Workflow]) -> QuerySet[Any]:
    """`workflows` (from selectors.workflows_for_user) as the dictionaries `list_row` reads."""
    return workflows.values(*LIST_VALUES)


def _current_version(row: dict[str, Any], stamp: Stamp) -> dict[str, Any] | None:
    if row["current_version_id"] is None:
        return None
    return {
        "version": row[f"{VERSION}version"],
        "schema_version": row[f"{VERSION}schema_version"],
        "checksum": row[f"{VERSION}checksum"],
        "node_count": row[f"{VERSION}node_count"],
        "edge_count": row[f"{VERSION}edge_count"],
        "change_message": row[f"{VERSION}change_message"],
        "created_by": row[f"{VERSION}created_by__username"],
        "created_at": stamp(row[f"{VERSION}created_at"]),
    }


def list_row(row: dict[str, Any], stamp: Stamp) -> dict[str, Any]:
    state = row["last_run_state"]
    return {
        "id": str(row["id"]),
        "team": str(row["team_id"]),
        "team_name": row["team__name"],
        "name": row["name"],
        "description": row["description"],
        "tags": [str(tag) for tag in row["tags"]],
        "category": row["category"],
        "archived": row["archived_at"] is not None,
        "archived_at": stamp(row["archived_at"]),
        "created_by": text_or_none(row["created_by__username"]),
        "created_at": stamp(row["created_at"]),
        "updated_at": stamp(row["updated_at"]),
        "current_version": _current_version(row, stamp),
        "last_run": {"state": state} if state else None,
    }


def list_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stamp = timestamps()
    return [list_row(row, stamp) for row in rows]


def _version(version: WorkflowVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {
        "version": version.version,
        "schema_version": version.schema_version,
        "checksum": version.checksum,
        "node_count": version.node_count,
        "edge_count": version.edge_count,
        "change_message": version.change_message,
        "created_by": version.created_by.username if version.created_by else None,
        "created_at": timestamp(version.created_at),
    }


def detail(workflow: Workflow) -> dict[str, Any]:
    """One workflow (from workflows.access.access_workflow, its current version and creators joined
    in) as `WorkflowDetailSerializer` gives it."""
    version = workflow.current_version
    return {
        "id": str(workflow.pk),
        "team": str(workflow.team_id),
        "team_name": workflow.team.name,
        "name": workflow.name,
        "description": workflow.description,
        "tags": [str(tag) for tag in workflow.tags],
        "category": workflow.category,
        "archived": workflow.is_archived,
        "archived_at": timestamp(workflow.archived_at),
        "created_by": workflow.created_by.username if workflow.created_by else None,
        "created_at": timestamp(workflow.created_at),
        "updated_at": timestamp(workflow.updated_at),
        "current_version": _version(version),
        "last_run": selectors.last_run_of(workflow),
        "document": version.document if version is not None else None,
    }
