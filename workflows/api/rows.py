"""The workflows list's rows from `.values()` (symphony_site/api/rows.py says why); the same shape
as `WorkflowSerializer` (tests/api/test_list_rows.py compares them)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from symphony_site.api.rows import text_or_none, timestamp
from workflows.models import Workflow

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


def _current_version(row: dict[str, Any]) -> dict[str, Any] | None:
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
        "created_at": timestamp(row[f"{VERSION}created_at"]),
    }


def list_row(row: dict[str, Any]) -> dict[str, Any]:
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
        "archived_at": timestamp(row["archived_at"]),
        "created_by": text_or_none(row["created_by__username"]),
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
        "current_version": _current_version(row),
        "last_run": {"state": state} if state else None,
    }


def list_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [list_row(row) for row in rows]
