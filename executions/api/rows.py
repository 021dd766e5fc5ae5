"""The executions list's rows from `.values()` (symphony_site/api/rows.py says why); the same shape
as `ExecutionSummarySerializer`. One execution's full shape (`detail`), as `ExecutionSerializer`
gives it, from the instances the page loads. tests/api/test_list_rows.py compares both with the
serializers."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from executions import selectors
from executions.domain import Command
from executions.models import Execution, ExecutionTransition, NodeRun
from symphony_site.api.rows import Stamp, text_or_none, timestamp, timestamps

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
    stamp = timestamps()
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
        "created_at": stamp(row["created_at"]),
        "started_at": stamp(row["started_at"]),
        "finished_at": stamp(row["finished_at"]),
    } for row in rows]


# -- one execution in full ----------------------------------------------------------------------


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def node_run_row(run: NodeRun, stamp: Stamp = timestamp) -> dict[str, Any]:
    """`NodeRunSerializer`'s shape."""
    return {
        "node_id": run.node_id,
        "node_kind": run.node_kind,
        "node_type": run.node_type,
        "state": run.state,
        "attempt": int(run.attempt),
        "max_attempts": int(run.max_attempts),
        "started_at": stamp(run.started_at),
        "finished_at": stamp(run.finished_at),
        "duration_ms": _float_or_none(run.duration_ms),
        "output": run.output,
        "error": run.error,
        "progress": _float_or_none(run.progress),
        "message": run.message,
        "skip_reason": run.skip_reason or None,
        "awaiting_input": bool(run.awaiting_input),
        "reused_from": text_or_none(run.reused_from_id),
        "cached": bool(run.cached),
        "usage": run.usage,
    }


def transition_row(transition: ExecutionTransition, stamp: Stamp = timestamp) -> dict[str, Any]:
    """`TransitionSerializer`'s shape."""
    return {
        "from_state": transition.from_state,
        "to_state": transition.to_state,
        "actor": transition.actor_name,
        "reason": transition.reason,
        "at": stamp(transition.at),
    }


def detail(execution: Execution, *, runs: list[NodeRun], history: list[ExecutionTransition],
           progress: dict[str, Any], commands: list[Command]) -> dict[str, Any]:
    """`ExecutionSerializer`'s shape (the execution from `access_execution`, with its workflow and
    version loaded); tests/api/test_list_rows.py compares them."""
    from instruments.selectors import execution_usage

    stamp = timestamps()
    return {
        "id": str(execution.pk),
        "team": str(execution.team_id),
        "workflow": str(execution.workflow_id),
        "workflow_name": execution.workflow.name,
        "version": str(execution.workflow_version.version),
        "state": execution.state,
        "state_reason": execution.state_reason,
        "inputs": execution.inputs,
        "outputs": execution.outputs,
        "error": execution.error,
        "progress": progress,
        "node_runs": [node_run_row(run, stamp) for run in runs],
        "history": [transition_row(transition, stamp) for transition in history],
        "available_commands": [command.value for command in commands],
        "trigger": execution.trigger,
        "started_by": execution.started_by_name or None,
        "rerun_of": text_or_none(execution.rerun_of_id),
        "created_at": stamp(execution.created_at),
        "started_at": stamp(execution.started_at),
        "finished_at": stamp(execution.finished_at),
        "usage": execution_usage([{"node_id": run.node_id, "usage": run.usage, "cached": run.cached,
                                   "reused_from": run.reused_from_id} for run in runs]),
    }
