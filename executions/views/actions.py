"""The writes of the execution pages: Run a workflow, and control commands. Each is one POST
(CSRF-checked) through `executions.services`; a refusal comes back as a message, bad input as
errors at the fields, and only a success changes anything."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from executions import services
from executions.access import access_execution
from executions.domain import Command
from executions.engine.graphs import compiled
from executions.services.commands import MISSING
from executions.views import run_form
from executions.views.pages import can_operate, execution_context, operate_refusal
from symphony_site.api.errors import ApiError, Conflict, ValidationFailed
from symphony_site.origins import actor_from_request, web_origin
from teams.access import require_role
from teams.roles import Role
from workflows.access import access_workflow
from workflows.domain import InputNode
from workflows.models import Workflow, WorkflowVersion
from workflows.selectors import version_of

MAX_REASON = 1000


def _run_page(request: HttpRequest, workflow: Workflow, version: WorkflowVersion, *,
              values: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None,
              general: list[str] | None = None, status: int = 200) -> HttpResponse:
    graph = compiled(version.pk)
    nodes = run_form.input_nodes(graph.workflow)
    form = run_form.groups(nodes, values, errors)
    settings = graph.workflow.settings
    return render(request, "executions/run.html", {
        "workflow": workflow, "version": version, "is_current": version.pk == workflow.current_version_id,
        "form": form, "field_errors": run_form.field_errors(form), "general_errors": general or [],
        "node_count": len(graph.workflow.nodes), "settings": settings,
        "interactive": [node for node in nodes if node.interactive],
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def run(request: HttpRequest, workflow_id: Any) -> HttpResponse:
    """The Run page: a form from the workflow's input nodes; posting it starts an execution."""
    workflow = access_workflow(request.user, workflow_id)
    require_role(request.user, workflow.team, Role.OPERATOR, action="run workflows")
    if workflow.is_archived:
        messages.error(request, "This workflow is archived; archived workflows cannot run.")
        return redirect("workflows:detail", workflow_id=workflow.pk)
    version = version_of(workflow, request.POST.get("version") or request.GET.get("version") or None)
    if request.method == "GET":
        return _run_page(request, workflow, version)
    nodes = run_form.input_nodes(compiled(version.pk).workflow)
    values = run_form.read(nodes, request.POST)
    try:
        execution = services.execution_start(actor=actor_from_request(request), origin=web_origin(request),
                                             workflow=workflow, version=version.version, inputs=values)
    except (ValidationFailed, Conflict) as error:
        errors, general = run_form.errors_by_node(error.details)
        if not errors:
            general = general or [error.message]
        return _run_page(request, workflow, version, values=values, errors=errors, general=general, status=400)
    messages.success(request, f"{workflow.name} is running (version {version.version}).")
    return redirect("executions:detail", execution_id=execution.pk)


DONE = {
    Command.START: "Started.", Command.PAUSE: "Paused: no new node starts; running nodes finish.",
    Command.RESUME: "Resumed.", Command.CANCEL: "Cancelled.",
    Command.RETRY_NODE: "Node {node} queued again.",
    Command.SKIP_NODE: "Node {node} skipped; what follows it goes on without it.",
    Command.PROVIDE_INPUT: "Answer to {node} recorded.",
}


@login_required
@require_POST
def command(request: HttpRequest, execution_id: Any) -> HttpResponse:
    """One control command from the execution page's buttons and forms."""
    execution = access_execution(request.user, execution_id)
    name = request.POST.get("command", "")
    node_id = request.POST.get("node_id") or None
    reason = request.POST.get("reason", "")[:MAX_REASON]
    value: Any = MISSING
    if name == Command.PROVIDE_INPUT and node_id:
        value = _answer(execution, node_id, request.POST)
    try:
        result = services.execution_command(
            actor=actor_from_request(request), origin=web_origin(request), execution=execution, command=name,
            node_id=node_id, value=value, reason=reason)
    except ValidationFailed as error:
        if name == Command.PROVIDE_INPUT and node_id:
            # The answer is shown again with the problem at its field.
            context = execution_context(request, execution,
                                        input_values={node_id: value} if value is not MISSING else {},
                                        input_errors={str(node_id): [error.message]})
            messages.error(request, error.message)
            return render(request, "executions/detail.html", context, status=400)
        messages.error(request, error.message)
        return redirect("executions:detail", execution_id=execution.pk)
    except ApiError as error:
        if error.status_code != 409:
            raise
        messages.error(request, f"Not done: {error.message}")
        return redirect("executions:detail", execution_id=execution.pk)
    if result.pk != execution.pk:
        messages.success(request, f"Re-run started: it reuses the outputs of the nodes that completed in "
                                  f"execution {str(execution.pk)[:8]}.")
    elif name == Command.RETRY_NODE and result.state == "paused":
        messages.success(request, f"Node {node_id} queued again; it runs when you resume the execution.")
    else:
        messages.success(request, DONE.get(Command(name), "Done.").format(node=node_id))
    return redirect("executions:detail", execution_id=result.pk)


def _answer(execution: Any, node_id: str, data: Any) -> Any:
    """The posted answer to a waiting input, typed as its node's data type (MISSING if empty)."""
    graph = compiled(execution.workflow_version_id)
    node = graph.workflow.nodes.get(node_id)
    if not isinstance(node, InputNode):  # the service names the problem
        return MISSING
    values = run_form.read([node], data, asking=True)
    return values.get(node_id, MISSING)


__all__ = ["can_operate", "command", "operate_refusal", "run"]
