"""The executions list's pages, as `ExecutionSummarySerializer` shapes them, read by one statement
composed once and prepared (symphony_site/api/statements.py says why). One execution's full shape
(`detail`), as `ExecutionSerializer` gives it, from the instances the page loads. tests/api/test_list_rows.py compares both with the
serializers."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.request import Request

from executions import selectors
from executions.models import Execution, ExecutionTransition, NodeRun
from executions.services.availability import commands_available_from
from symphony_site.api.errors import NotFound
from symphony_site.api.responses import JSONBodyResponse, render
from symphony_site.api.statements import (
    Table,
    composed,
    json_object,
    order_by,
    ordering_columns,
    page,
    page_response,
    parameters,
    rows,
    stamp,
)
from symphony_site.api.statements import after as after_cursor
from teams.access import in_team, role_subquery
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
    other teams out), filters and ordering. A row is its JSON in two parts written by PostgreSQL
    (`json_object`), the keys before `error` and those after `progress`, with what goes between:
    `error` (jsonb, which PostgreSQL writes with spaces) as its text, and the state, node count
    and node-run counts per state (what `selectors.state_counts` read in a statement of its own)
    that `list_page` makes the progress of."""
    tables = _list_tables()
    execution, node_run = tables["execution"], tables["node_run"]
    counts = (f"(SELECT coalesce(json_object_agg(counted.state, counted.count), '{{}}')::text FROM "
              f"(SELECT {node_run('state')} AS state, count(*) AS count FROM {node_run.sql} "
              f"WHERE {node_run('execution')} = {execution('id')} GROUP BY {node_run('state')}) AS counted)")
    before = [
        ("id", execution("id")), ("team", execution("team")), ("workflow", execution("workflow")),
        ("workflow_name", tables["workflow"]("name")), ("version", tables["version"]("version")),
        ("state", execution("state")), ("state_reason", execution("state_reason")),
    ]
    after = [
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
    statement = (
        f"SELECT {json_object(before)}::text, {execution('error')}::text, {execution('state')}, "
        f"{execution('node_count')}, {counts}, {json_object(after)}::text, "
        f"{ordering_columns(selectors.LIST_ORDERING, columns)} "
        f"FROM {execution.sql} {' '.join(joins)} WHERE {' AND '.join(conditions)} "
        f"ORDER BY {order_by(selectors.LIST_ORDERING, columns)} LIMIT %(limit)s"
    )
    return in_team(statement, selectors.LIST_ORDERING) if "team" in present else statement


def list_page(request: Request, *, team: Any, workflow: Any, states: list[str], started_by: str,
              started_after: dt.datetime | None, started_before: dt.datetime | None) -> JSONBodyResponse:
    """A page of the executions of the user's teams, filtered as `selectors.executions_for_user`
    filters (`workflow` already checked by `access_workflow`; a `team` the user is not in is 404:
    `teams.access.in_team`), with each row's
    progress (counts and percentage; the estimate is on the execution's own page): the list's
    response, written from PostgreSQL's JSON without parsing it."""
    filters = {"user": request.user.pk, "team": team, "workflow": workflow, "states": states or None,
               "started_by": started_by or None, "started_after": started_after,
               "started_before": started_before}
    found, next_cursor = page(request, _list_statement, filters=filters, model=Execution,
                              ordering=selectors.LIST_ORDERING)
    # Rows of one shape (state, node count, counts) have one progress: a page of finished runs of
    # a few workflows has a handful of shapes, and the domain's progress is ~60 Python calls.
    progress = {shape: render(selectors.list_progress_of(state=shape[0], node_count=shape[1],
                                                         counts=json.loads(shape[2])))
                for shape in {(state, node_count, counts) for _, _, state, node_count, counts, *_ in found}}
    return page_response([
        f'{before[:-1]},"error":{"null" if error is None else render(json.loads(error))},'
        f'"progress":{progress[state, node_count, counts]},{after[1:]}'
        for before, error, state, node_count, counts, after, *_ in found], next_cursor)


# -- one execution in full ----------------------------------------------------------------------

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class _Run:
    """What the progress and the commands read of a node run (`selectors.progress_for`,
    `commands_available_from`)."""

    node_id: str
    node_type: str
    state: str
    started_at: dt.datetime | None
    awaiting_input: bool
    edges_settled: bool


@dataclass(frozen=True, slots=True)
class _Execution:
    """What the progress reads of an execution."""

    state: str
    workflow_version_id: Any


def _microseconds(column: str) -> str:
    """A timestamptz as whole microseconds since the epoch (exact: PostgreSQL keeps microseconds)."""
    return f"(extract(epoch FROM {column}) * 1000000)::bigint"


@composed
def _detail_statement(present: frozenset[str]) -> str:
    """One execution with its node runs and history as JSON arrays, and the user's role in its
    team: no role, no row (`teams.access.access_object`). The keys are `ExecutionSerializer`'s in
    its order; `detail_of` fills in the progress, the commands and the usage (null here), and
    turns each node run's microseconds into its duration."""
    execution = Table(Execution, "execution")
    workflow, version = Table(Workflow, "workflow"), Table(WorkflowVersion, "version")
    run, transition = Table(NodeRun, "run"), Table(ExecutionTransition, "transition")
    role = role_subquery(execution("team"))
    run_fields = [
        ("node_id", run("node_id")), ("node_kind", run("node_kind")), ("node_type", run("node_type")),
        ("state", run("state")), ("attempt", run("attempt")), ("max_attempts", run("max_attempts")),
        ("started_at", stamp(run("started_at"))), ("finished_at", stamp(run("finished_at"))),
        # The duration's microseconds, for `detail_of` to divide as `NodeRun.duration_ms` does.
        ("duration_ms", f"{_microseconds(run('finished_at'))} - {_microseconds(run('started_at'))}"),
        ("output", run("output")), ("error", run("error")), ("progress", run("progress")),
        ("message", run("message")), ("skip_reason", f"NULLIF({run('skip_reason')}, '')"),
        ("awaiting_input", run("awaiting_input")), ("reused_from", run("reused_from")),
        ("cached", run("cached")), ("usage", run("usage")),
        # Read by the progress and the commands; `detail_of` takes them out.
        ("edges_settled", run("edges_settled")), ("started_us", _microseconds(run("started_at"))),
    ]
    runs = ("(SELECT coalesce(json_agg(json_build_object("
            + ", ".join(f"'{key}', {value}" for key, value in run_fields)
            + f") ORDER BY {run('id')}), '[]') FROM {run.sql} WHERE {run('execution')} = {execution('id')})")
    history = (f"(SELECT coalesce(json_agg(json_build_object('from_state', {transition('from_state')}, "
               f"'to_state', {transition('to_state')}, 'actor', {transition('actor_name')}, "
               f"'reason', {transition('reason')}, 'at', {stamp(transition('at'))}) ORDER BY {transition('id')}), '[]') "
               f"FROM {transition.sql} WHERE {transition('execution')} = {execution('id')})")
    fields = [
        ("id", execution("id")), ("team", execution("team")), ("workflow", execution("workflow")),
        ("workflow_name", workflow("name")), ("version", version("version")), ("state", execution("state")),
        ("state_reason", execution("state_reason")), ("inputs", execution("inputs")),
        ("outputs", execution("outputs")), ("error", execution("error")), ("progress", "NULL"),
        ("node_runs", runs), ("history", history), ("available_commands", "NULL"),
        ("trigger", execution("trigger")), ("started_by", f"NULLIF({execution('started_by_name')}, '')"),
        ("rerun_of", execution("rerun_of")), ("created_at", stamp(execution("created_at"))),
        ("started_at", stamp(execution("started_at"))), ("finished_at", stamp(execution("finished_at"))),
        ("usage", "NULL"),
    ]
    return (
        "SELECT json_build_object(" + ", ".join(f"'{key}', {value}" for key, value in fields) + ")::text, "
        f"{execution('workflow_version')} FROM {execution.sql} "
        f"JOIN {workflow.sql} ON {workflow('id')} = {execution('workflow')} "
        f"JOIN {version.sql} ON {version('id')} = {execution('workflow_version')} "
        f"WHERE {execution('id')} = %(id)s AND {role} IS NOT NULL"
    )


def detail_of(user: Any, execution_id: Any) -> dict[str, Any]:
    """One execution of the user's teams as `ExecutionSerializer` shapes it — node runs, history,
    progress with its estimate, the commands it accepts now, usage — from one statement; another
    team's (or none) is 404, as `access_execution` answers. Any role may read it."""
    from instruments.selectors import execution_usage

    found = rows(_detail_statement(frozenset()), parameters(user=user.pk, id=execution_id)) if user.pk else []
    if not found:
        raise NotFound("Execution not found.")
    text, version_id = found[0]
    body = json.loads(text)
    runs = []
    for row in body["node_runs"]:
        edges_settled, started_us = row.pop("edges_settled"), row.pop("started_us")
        runs.append(_Run(node_id=row["node_id"], node_type=row["node_type"], state=row["state"],
                         started_at=None if started_us is None else EPOCH + dt.timedelta(microseconds=started_us),
                         awaiting_input=row["awaiting_input"], edges_settled=edges_settled))
        # As NodeRun.duration_ms: a timedelta's seconds, in milliseconds to three places.
        duration = row["duration_ms"]
        row["duration_ms"] = None if duration is None else round(
            dt.timedelta(microseconds=duration).total_seconds() * 1000, 3)
        if row["progress"] is not None:
            row["progress"] = float(row["progress"])
    execution = _Execution(state=body["state"], workflow_version_id=version_id)
    body["progress"] = selectors.progress_for(execution, runs).to_dict()  # type: ignore[arg-type]
    body["available_commands"] = [command.value for command in
                                  commands_available_from(execution, runs)]  # type: ignore[arg-type]
    body["usage"] = execution_usage([{"node_id": row["node_id"], "usage": row["usage"], "cached": row["cached"],
                                      "reused_from": row["reused_from"]} for row in body["node_runs"]])
    return body  # type: ignore[no-any-return]
