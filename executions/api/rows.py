"""The executions list's pages, as `ExecutionSummarySerializer` shapes them, read by one statement
composed once and prepared (symphony_site/api/statements.py says why). One execution's full shape
(`detail`), as `ExecutionSerializer` gives it, from the instances the page loads. tests/api/test_list_rows.py compares both with the
serializers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.request import Request

from executions import selectors
from executions.domain import Command
from executions.models import Execution, ExecutionTransition, NodeRun
from symphony_site.api.rows import Stamp, text_or_none, timestamp, timestamps
from symphony_site.api.statements import Table, composed, order_by, page, stamp
from symphony_site.api.statements import after as after_cursor
from teams.models import Membership, Team
from workflows.models import Workflow, WorkflowVersion


def _list_tables() -> dict[str, Table]:
    return {"execution": Table(Execution, "execution"), "team": Table(Team, "team"),
            "membership": Table(Membership, "membership"), "workflow": Table(Workflow, "workflow"),
            "version": Table(WorkflowVersion, "version"), "node_run": Table(NodeRun, "node_run"),
            "starter": Table(get_user_model(), "starter")}


@composed
def _list_statement(present: frozenset[str]) -> str:
    """`selectors.executions_for_user`'s rows, one page: the same joins (the user's memberships keep
    other teams out), filters and ordering; each row's node-run counts per state (what
    `selectors.state_counts` read in a statement of its own) ride in `progress` until `list_page`
    replaces them with the progress."""
    tables = _list_tables()
    execution, node_run = tables["execution"], tables["node_run"]
    counts = (f"(SELECT coalesce(json_object_agg(counted.state, counted.count), '{{}}') FROM "
              f"(SELECT {node_run('state')} AS state, count(*) AS count FROM {node_run.sql} "
              f"WHERE {node_run('execution')} = {execution('id')} GROUP BY {node_run('state')}) AS counted)")
    fields = [
        ("id", execution("id")), ("team", execution("team")), ("workflow", execution("workflow")),
        ("workflow_name", tables["workflow"]("name")), ("version", tables["version"]("version")),
        ("state", execution("state")), ("state_reason", execution("state_reason")), ("error", execution("error")),
        ("progress", f"json_build_object('node_count', {execution('node_count')}, 'counts', {counts})"),
        ("trigger", execution("trigger")), ("started_by", f"NULLIF({execution('started_by_name')}, '')"),
        ("rerun_of", execution("rerun_of")), ("created_at", stamp(execution("created_at"))),
        ("started_at", stamp(execution("started_at"))), ("finished_at", stamp(execution("finished_at"))),
    ]
    joins = [
        f"JOIN {tables['team'].sql} ON {tables['team']('id')} = {execution('team')}",
        f"JOIN {tables['membership'].sql} ON {tables['membership']('team')} = {tables['team']('id')}",
        f"JOIN {tables['workflow'].sql} ON {tables['workflow']('id')} = {execution('workflow')}",
        f"JOIN {tables['version'].sql} ON {tables['version']('id')} = {execution('workflow_version')}",
    ]
    conditions = [f"{tables['membership']('user')} = %(user)s"]
    if "team" in present:
        conditions.append(f"{execution('team')} = %(team)s")
    if "workflow" in present:
        conditions.append(f"{execution('workflow')} = %(workflow)s")
    if "states" in present:
        conditions.append(f"{execution('state')} = ANY(%(states)s::varchar[])")
    if "started_by" in present:
        joins.append(f"JOIN {tables['starter'].sql} ON {tables['starter']('id')} = {execution('started_by')}")
        conditions.append(f"{tables['starter']('username')} = %(started_by)s")
    if "started_after" in present:
        conditions.append(f"{execution('started_at')} >= %(started_after)s")
    if "started_before" in present:
        conditions.append(f"{execution('started_at')} < %(started_before)s")
    columns = {"created_at": execution("created_at"), "id": execution("id")}
    if "after" in present:
        conditions.append(after_cursor(selectors.LIST_ORDERING, columns))
    return (
        "SELECT json_build_object(" + ", ".join(f"'{key}', {value}" for key, value in fields) + ")::text, "
        f"{', '.join(columns[field.lstrip('-')] for field in selectors.LIST_ORDERING)} "
        f"FROM {execution.sql} {' '.join(joins)} WHERE {' AND '.join(conditions)} "
        f"ORDER BY {order_by(selectors.LIST_ORDERING, columns)} LIMIT %(limit)s"
    )


def list_page(request: Request, *, team: Any, workflow: Any, states: list[str], started_by: str,
              started_after: dt.datetime | None, started_before: dt.datetime | None) -> tuple[list[Any], str | None]:
    """A page of the executions of the user's teams, filtered as `selectors.executions_for_user`
    filters (`team` and `workflow` already checked by their access helpers), with each row's
    progress (counts and percentage; the estimate is on the execution's own page)."""
    filters = {"user": request.user.pk, "team": team, "workflow": workflow, "states": states or None,
               "started_by": started_by or None, "started_after": started_after,
               "started_before": started_before}
    results, next_cursor = page(request, _list_statement, filters=filters, model=Execution,
                                ordering=selectors.LIST_ORDERING)
    # Rows of one shape (state, node count, counts) have one progress: a page of finished runs of
    # a few workflows has a handful of shapes, and the domain's progress is ~60 Python calls.
    shapes: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in results:
        counted = row["progress"]
        shape = (row["state"], counted["node_count"], *sorted(counted["counts"].items()))
        if shape not in shapes:
            shapes[shape] = selectors.list_progress_of(state=row["state"], node_count=counted["node_count"],
                                                       counts=counted["counts"])
        row["progress"] = shapes[shape]
    return results, next_cursor


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
