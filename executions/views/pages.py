"""The executions list and one execution's page, server-rendered and complete without JavaScript.

The live modules (`executions/static/executions/`) then keep them current
through the data- attributes documented in docs/executions.md ("Live
pages"): the page is rendered at the execution's `event_seq`, and the stream
resumes after it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from executions import selectors
from executions.access import access_execution
from executions.domain import (
    BULK_COMMANDS,
    NODE_COMMANDS,
    Command,
    ExecutionState,
    NodeRunState,
    NodeView,
    available_commands,
    command_targets,
)
from executions.engine.graphs import compiled
from executions.models import Execution, NodeRun
from executions.views import run_form
from symphony_site.api.errors import ApiError
from symphony_site.api.pagination import paginate_queryset
from teams.access import team_role
from teams.roles import Role
from workflows import graph_view

PAGE_SIZE = 50
EXECUTION_STATES = [state.value for state in ExecutionState]
NODE_RUN_STATES = [state.value for state in NodeRunState]


def can_operate(user: Any, team: Any) -> bool:
    role = team_role(user, team)
    return bool(role and role.includes(Role.OPERATOR))


def operate_refusal(user: Any, team: Any) -> str:
    """Why the controls are disabled for this user ("" when they are not)."""
    role = team_role(user, team)
    if role is None or role.includes(Role.OPERATOR):
        return ""
    return f"Your role in {team.name} is {role.value}; running and controlling executions needs operator or higher."


# --------------------------------------------------------------------------------- the list


def _day(raw: str, *, end: bool) -> tuple[str, dt.datetime | None]:
    """A `YYYY-MM-DD` filter as the start of that day (`end`: of the next day), in the site's zone."""
    parsed = parse_date(raw) if raw else None
    if parsed is None:
        return "", None
    if end:
        parsed += dt.timedelta(days=1)
    return raw, timezone.make_aware(dt.datetime.combine(parsed, dt.time.min))


@login_required
@require_GET
def execution_list(request: HttpRequest) -> HttpResponse:
    team = request.team  # type: ignore[attr-defined]
    if not team:
        return redirect("home")
    params = request.GET
    states = [state for state in params.getlist("state") if state in EXECUTION_STATES]
    workflow = params.get("workflow", "")
    workflows = selectors.workflow_choices(request.user, team.pk)
    known_workflows = {str(pk): name for pk, name in workflows}
    workflow_name = known_workflows.get(workflow, "")
    if workflow and not workflow_name:  # beyond the select's first names, or not the team's
        workflow_name = selectors.workflow_name(request.user, team.pk, workflow) if _is_uuid(workflow) else ""
        if workflow_name:
            workflows.append((workflow, workflow_name))
        else:
            workflow = ""
    people = selectors.people_choices(request.user, team.pk)
    started_by = params.get("started_by", "") if params.get("started_by", "") in people else ""
    after_text, started_after = _day(params.get("started_after", ""), end=False)
    before_text, started_before = _day(params.get("started_before", ""), end=True)
    error_text = params.get("error", "").strip()[:500]
    executions = selectors.executions_for_user(
        request.user, team=team.pk, workflow=workflow or None, states=states, started_by=started_by,
        started_after=started_after, started_before=started_before, error_text=error_text)
    cursor = params.get("cursor")
    try:
        rows, next_cursor = paginate_queryset(executions, selectors.LIST_ORDERING, limit=PAGE_SIZE, cursor=cursor)
    except ApiError:  # a stale or edited cursor: the first page
        cursor = None
        rows, next_cursor = paginate_queryset(executions, selectors.LIST_ORDERING, limit=PAGE_SIZE, cursor=None)
    counts = selectors.state_counts([row.pk for row in rows])
    for row in rows:
        row.list_progress = selectors.list_progress(row, counts.get(row.pk, {}))  # type: ignore[attr-defined]
    base = {"state": states, "workflow": workflow, "started_by": started_by, "started_after": after_text,
            "started_before": before_text, "error": error_text}
    base = {key: value for key, value in base.items() if value}
    filtered = bool(states or started_by or after_text or before_text or error_text)
    context = {
        "team": team, "executions": rows, "states": EXECUTION_STATES, "chosen_states": states,
        "workflows": workflows, "workflow": workflow, "workflow_name": workflow_name, "people": people,
        "started_by": started_by, "started_after": after_text, "started_before": before_text,
        "filtered": filtered or bool(workflow),
        # New runs appear at the top of the first page only while nothing but the workflow narrows
        # the list (a new run cannot be told apart by the other filters before it is shown).
        "live_rows": not filtered and not cursor,
        "next_url": "?" + urlencode({**base, "cursor": next_cursor}, doseq=True) if next_cursor else "",
        "first_url": "?" + urlencode(base, doseq=True) if cursor else "",
        "can_operate": can_operate(request.user, team), "error_text": error_text,
        # The bulk bar previews a command over exactly the filters the list shows.
        "bulk_commands": [command.value for command in BULK_COMMANDS],
        "filter_items": [(key, value) for key, values in base.items()
                         for value in (values if isinstance(values, list) else [values])],
    }
    return render(request, "executions/list.html", context)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------- one execution


def _run_details(run: NodeRun) -> str:
    """What the graph's node details say about this node in this run."""
    words = [run.state]
    if run.attempt:
        words.append(f"attempt {run.attempt} of {run.max_attempts}")
    if run.duration_ms is not None:
        words.append(f"{round(run.duration_ms)} ms")
    if run.reused_from_id:
        words.append("output reused from an earlier run")
    if run.skip_reason:
        words.append(run.skip_reason)
    if run.error:
        words.append(str(run.error.get("message", "")) if isinstance(run.error, dict) else str(run.error))
    return " · ".join(word for word in words if word)


def controls_context(request: HttpRequest, execution: Execution, runs: list[NodeRun], graph: Any, *,
                     input_values: dict[str, Any] | None = None,
                     input_errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """What the controls show: the buttons, the waiting-input forms and each node's Retry/Skip
    (the partials `_controls.html`, `_input_forms.html`, `_node_actions.html`). The page renders
    them at load; the live page swaps in the same partials from `execution_controls` when the run
    moves on. Each part carries a key of what decides it, so the live page replaces only a part
    that changed (keeping what someone is typing, and an answer's field errors, otherwise)."""
    state = ExecutionState(execution.state)
    views = {run.node_id: NodeView(state=NodeRunState(run.state), awaiting_input=run.awaiting_input,
                                   edges_settled=run.edges_settled) for run in runs}
    available = available_commands(state, views.values())
    retry_targets = set(command_targets(Command.RETRY_NODE, state, views))
    skip_targets = set(command_targets(Command.SKIP_NODE, state, views))
    waiting = [graph.facts[node_id].node for node_id in command_targets(Command.PROVIDE_INPUT, state, views)]
    names = {node.id: node.name for node in graph.workflow.nodes.values()}
    for run in runs:
        run.display_name = names.get(run.node_id, run.node_id)  # type: ignore[attr-defined]
        run.can_retry = run.node_id in retry_targets  # type: ignore[attr-defined]
        run.can_skip = run.node_id in skip_targets and run.state == NodeRunState.FAILED.value  # type: ignore[attr-defined]
        run.actions_key = f"{run.can_retry}:{run.can_skip}"  # type: ignore[attr-defined]
    input_forms = []
    for node in waiting:
        form = run_form.groups([node], input_values, input_errors, asking=True)
        input_forms.append({"node": node, "form": form, "field_errors": run_form.field_errors(form)})
    allowed = can_operate(request.user, execution.team)
    commands = [command.value for command in available if command not in NODE_COMMANDS]
    can_run_again = allowed and not execution.workflow.is_archived
    reused_count = sum(1 for run in runs if run.state == NodeRunState.COMPLETED.value)
    return {
        "execution": execution, "workflow": execution.workflow, "version": execution.workflow_version,
        "runs": runs, "commands": commands, "can_operate": allowed,
        "refusal": operate_refusal(request.user, execution.team), "input_forms": input_forms,
        "has_node_actions": allowed and any(run.can_retry or run.can_skip for run in runs),  # type: ignore[attr-defined]
        "can_run_again": can_run_again, "reused_count": reused_count,
        "controls_key": f"{state.value}:{','.join(commands)}:{allowed}:{can_run_again}:{reused_count}",
        "input_forms_key": f"{','.join(node.id for node in waiting)}:{allowed}",
        "controls_url": reverse("executions:controls", args=[execution.pk]),
    }


def execution_context(request: HttpRequest, execution: Execution, *,
                      input_values: dict[str, Any] | None = None,
                      input_errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Everything the execution page shows, read after the execution row (whose `event_seq` the
    live stream resumes from: a change that lands meanwhile is shown and then replayed, which
    the modules apply idempotently; log lines are read only up to it, so none repeats)."""
    runs = selectors.node_runs_of(execution)
    progress = selectors.progress_for(execution, runs)
    graph = compiled(execution.workflow_version_id)
    document = execution.workflow_version.workflow_document
    layout = graph_view.layout(document, levels=graph.plan().execution_levels,
                               node_states={run.node_id: run.state for run in runs})
    by_id = {run.node_id: run for run in runs}
    for node in layout.nodes:
        if node.id in by_id:
            node.details["last_run"] = _run_details(by_id[node.id])
    state = ExecutionState(execution.state)
    estimate = progress.estimate
    return {
        **controls_context(request, execution, runs, graph, input_values=input_values, input_errors=input_errors),
        "progress": progress, "counts": progress.to_dict(),
        "settled": sum(1 for run in runs if NodeRunState(run.state).is_settled),
        "eta_seconds": estimate.seconds if not state.is_terminal else None,
        "eta_basis": estimate.basis if not state.is_terminal else "",
        "layout": layout, "state_legend": NODE_RUN_STATES, "show_critical": False, "issues": None,
        "history": selectors.history_of(execution),
        "log_lines": selectors.log_tail(execution, up_to_seq=execution.event_seq),
        "log_limit": selectors.LOG_TAIL_LINES,
        "show_reason": state not in (ExecutionState.RUNNING, ExecutionState.COMPLETED),
        "progress_url": reverse("executions:progress", args=[execution.pk]),
        "inputs": execution.inputs, "outputs": execution.outputs,
    }


@login_required
@require_GET
def execution_detail(request: HttpRequest, execution_id: Any) -> HttpResponse:
    execution = access_execution(request.user, execution_id)
    return render(request, "executions/detail.html", execution_context(request, execution))


@login_required
@require_GET
def execution_progress(request: HttpRequest, execution_id: Any) -> JsonResponse:
    """The progress and estimate as JSON: what the live page asks after nodes settle
    (`data-progress-url`)."""
    execution = access_execution(request.user, execution_id)
    progress = selectors.progress_for(execution, selectors.progress_runs(execution))
    return JsonResponse({"state": execution.state, "progress": progress.to_dict()})


@login_required
@require_GET
@never_cache
def execution_controls(request: HttpRequest, execution_id: Any) -> HttpResponse:
    """The page's controls alone, as an HTML fragment from the same partials and rules: what the
    live page swaps in when the run changes state by itself (`data-controls-url`). A read: it
    writes nothing, and gives each role exactly what the page would."""
    execution = access_execution(request.user, execution_id)
    runs = selectors.control_runs(execution)
    context = controls_context(request, execution, runs, compiled(execution.workflow_version_id))
    return render(request, "executions/controls.html", context)
