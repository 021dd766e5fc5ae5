"""Team-scoped reads of executions: lists with filters, one execution in full, and progress."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet
from django.utils import timezone

from executions.domain import ExecutionState, NodeRunState
from executions.domain.progress import Estimate, Progress, estimate_remaining, progress_of
from executions.engine.graphs import compiled
from executions.models import Execution, ExecutionEvent, NodeRun
from teams.access import scoped, teams_for_user
from teams.models import Membership
from workflows.models import Workflow

LIST_ORDERING = ("-created_at", "-id")
# How many recent durations of a node type its typical duration is the median of.
HISTORY_SAMPLES = 50


def executions_for_user(user: Any, *, team: Any = None, workflow: Any = None, states: list[str] | None = None,
                        started_by: str = "", started_after: dt.datetime | None = None,
                        started_before: dt.datetime | None = None, error_text: str = "") -> QuerySet[Execution]:
    executions = scoped(Execution.objects.all(), user).select_related(
        "workflow_version", "workflow", "started_by").defer("inputs", "outputs", "workflow_version__document")
    if team:
        executions = executions.filter(team_id=team)
    if workflow:
        executions = executions.filter(workflow_id=workflow)
    if states:
        executions = executions.filter(state__in=states)
    if started_by:
        executions = executions.filter(started_by__username=started_by)
    if started_after is not None:
        executions = executions.filter(started_at__gte=started_after)
    if started_before is not None:
        executions = executions.filter(started_at__lt=started_before)
    if error_text:
        # The failure's message (a node's error, a timeout) as the execution records it.
        executions = executions.filter(error__message__icontains=error_text)
    return executions


def state_counts(execution_ids: list[Any]) -> dict[Any, dict[str, int]]:
    """Node-run counts per state for several executions, in one grouped query."""
    counts: dict[Any, dict[str, int]] = defaultdict(dict)
    rows = (NodeRun.objects.filter(execution_id__in=execution_ids).order_by()
            .values("execution_id", "state").annotate(count=Count("id")))
    for row in rows:
        counts[row["execution_id"]][row["state"]] = row["count"]
    return counts


def list_progress(execution: Execution, counts: dict[str, int]) -> dict[str, Any]:
    """Progress for a list row: counts and percentage; the estimate is on the detail page."""
    return list_progress_of(state=execution.state, node_count=execution.node_count, counts=counts)


def list_progress_of(*, state: str, node_count: int, counts: dict[str, int]) -> dict[str, Any]:
    """`list_progress` from a row's values."""
    return progress_of(state=ExecutionState(state), counts=counts, total=node_count,
                       estimate=Estimate(None, "estimated on the execution's own page")).to_dict()


def typical_durations(node_types: list[str]) -> dict[str, float]:
    """The median of each node type's last HISTORY_SAMPLES durations on this platform (node runs
    that ran: not re-used, not served from a cache), for the types that have any."""
    if not node_types:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.node_type, (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY h.duration_ms) "
            "FROM (SELECT extract(epoch FROM r.finished_at - r.started_at) * 1000 AS duration_ms "
            "FROM executions_noderun AS r WHERE r.node_type = t.node_type AND r.state = 'completed' "
            "AND r.reused_from_id IS NULL AND NOT r.cached AND r.started_at IS NOT NULL "
            "ORDER BY r.finished_at DESC LIMIT %s) AS h) FROM unnest(%s::text[]) AS t(node_type)",
            [HISTORY_SAMPLES, sorted(set(node_types))])
        return {node_type: float(median) for node_type, median in cursor.fetchall() if median is not None}


def progress_for(execution: Execution, runs: list[NodeRun]) -> Progress:
    """Counts, percentage and the remaining-time estimate, from the node runs already loaded."""
    state = ExecutionState(execution.state)
    counts: dict[str, int] = defaultdict(int)
    for run in runs:
        counts[run.state] += 1
    node_states = {run.node_id: NodeRunState(run.state) for run in runs}
    node_types = {run.node_id: run.node_type for run in runs}
    now = timezone.now()
    elapsed = {run.node_id: (now - run.started_at).total_seconds() * 1000 for run in runs
               if run.state == NodeRunState.RUNNING.value and run.started_at is not None}
    if state.is_terminal:
        estimate = Estimate(0.0, "finished")
    else:
        remaining_types = [run.node_type for run in runs if not NodeRunState(run.state).is_settled]
        estimate = estimate_remaining(
            state=state, workflow=compiled(execution.workflow_version_id).workflow, node_states=node_states,
            node_types=node_types, typical_ms=typical_durations(remaining_types), elapsed_ms=elapsed)
    return progress_of(state=state, counts=counts, total=len(runs), estimate=estimate)


def node_runs_of(execution: Execution) -> list[NodeRun]:
    return list(NodeRun.objects.filter(execution=execution).order_by("id"))


def history_of(execution: Execution) -> list[Any]:
    return list(execution.transitions.order_by("id"))


def progress_runs(execution: Execution) -> list[NodeRun]:
    """The node runs with only what `progress_for` reads (no inputs or outputs)."""
    return list(NodeRun.objects.filter(execution=execution).only("id", "node_id", "state", "node_type",
                                                                 "started_at").order_by("id"))


def control_runs(execution: Execution) -> list[NodeRun]:
    """The node runs with only what the controls read (which commands each node accepts)."""
    return list(NodeRun.objects.filter(execution=execution).only("id", "node_id", "state", "awaiting_input",
                                                                 "edges_settled").order_by("id"))


LOG_TAIL_LINES = 200


def log_tail(execution: Execution, *, up_to_seq: int, limit: int = LOG_TAIL_LINES) -> list[ExecutionEvent]:
    """The last `limit` log events at or before `up_to_seq`, oldest first (the page shows them and
    the live stream goes on from `up_to_seq`, so no line appears twice)."""
    events = list(ExecutionEvent.objects.filter(execution=execution, type="log", seq__lte=up_to_seq)
                  .order_by("-seq")[:limit])
    events.reverse()
    return events


def workflow_choices(user: Any, team: Any, *, limit: int = 200) -> list[tuple[Any, str]]:
    """The team's workflows by name for the list's filter (the first `limit`)."""
    return list(scoped(Workflow.objects.filter(team_id=team), user).order_by("name", "id")
                .values_list("id", "name")[:limit])


def workflow_name(user: Any, team: Any, workflow_id: Any) -> str:
    """The name of one of the team's workflows ("" when it is not one)."""
    return scoped(Workflow.objects.filter(team_id=team, pk=workflow_id), user).values_list(
        "name", flat=True).first() or ""


def people_choices(user: Any, team: Any) -> list[str]:
    """The usernames of the team's members, for "started by"."""
    if not teams_for_user(user).filter(pk=team).exists():
        return []
    return list(Membership.objects.filter(team_id=team).order_by("user__username")
                .values_list("user__username", flat=True))
