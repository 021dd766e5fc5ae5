"""The executions list's rows from `.values()` (symphony_site/api/rows.py says why); the same shape
as `ExecutionSummarySerializer` (tests/api/test_list_rows.py compares them)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from executions import selectors
from executions.models import Execution
from symphony_site.api.rows import text_or_none, timestamp

LIST_VALUES = (
    "id", "team_id", "workflow_id", "workflow__name", "workflow_version__version", "state", "state_reason",
    "error", "trigger", "started_by_name", "rerun_of_id", "created_at", "started_at", "finished_at",
    "node_count",
)


def list_values(executions: QuerySet[Execution]) -> QuerySet[Any]:
    """`executions` (from selectors.executions_for_user) as the dictionaries `list_rows` reads."""
    return executions.values(*LIST_VALUES)


def list_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page's rows with their progress (node-run counts for all of them in one query)."""
    counts = selectors.state_counts([row["id"] for row in rows])
    return [{
        "id": str(row["id"]),
        "team": str(row["team_id"]),
        "workflow": str(row["workflow_id"]),
        "workflow_name": row["workflow__name"],
        "version": row["workflow_version__version"],
        "state": row["state"],
        "state_reason": row["state_reason"],
        "error": row["error"],
        "progress": selectors.list_progress_of(state=row["state"], node_count=row["node_count"],
                                               counts=counts.get(row["id"], {})),
        "trigger": row["trigger"],
        "started_by": row["started_by_name"] or None,
        "rerun_of": text_or_none(row["rerun_of_id"]),
        "created_at": timestamp(row["created_at"]),
        "started_at": timestamp(row["started_at"]),
        "finished_at": timestamp(row["finished_at"]),
    } for row in rows]
