"""The list page's bulk bar: preview a command over the listed filter, then confirm it.

GET previews (a dry run: it writes nothing) and shows what would change and why
the rest would be skipped; the confirm form carries the ids it listed, and its
POST changes exactly those (through `executions.services.bulk`, like the API),
then shows each execution's outcome.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from executions import selectors
from executions.domain import BULK_COMMANDS
from executions.services.bulk import BulkFilter, BulkResult, execution_bulk_command
from executions.views.pages import EXECUTION_STATES, _day, _is_uuid, can_operate, operate_refusal
from symphony_site.api.errors import ApiError
from symphony_site.origins import actor_from_request, web_origin

FILTER_FIELDS = ("state", "workflow", "started_by", "started_after", "started_before", "error")
COMMAND_NAMES = [command.value for command in BULK_COMMANDS]


def _filter(request: HttpRequest, data: QueryDict) -> tuple[BulkFilter, dict[str, Any]]:
    """The list's filters (the current team only) as a bulk filter, and as query parameters."""
    team = request.team  # type: ignore[attr-defined]
    states = [state for state in data.getlist("state") if state in EXECUTION_STATES]
    workflow = data.get("workflow", "")
    if workflow and not (_is_uuid(workflow) and selectors.workflow_name(request.user, team.pk, workflow)):
        workflow = ""
    people = selectors.people_choices(request.user, team.pk)
    started_by = data.get("started_by", "") if data.get("started_by", "") in people else ""
    after_text, started_after = _day(data.get("started_after", ""), end=False)
    before_text, started_before = _day(data.get("started_before", ""), end=True)
    error_text = data.get("error", "").strip()[:500]
    selection = BulkFilter(states=tuple(states), team=team.pk, workflow=workflow or None,
                           started_after=started_after, started_before=started_before, error_text=error_text,
                           started_by=started_by)
    shown = {"state": states, "workflow": workflow, "started_by": started_by, "started_after": after_text,
             "started_before": before_text, "error": error_text}
    return selection, {key: value for key, value in shown.items() if value}


def _page(request: HttpRequest, *, result: BulkResult, params: dict[str, Any], reason: str,
          status: int = 200) -> HttpResponse:
    return render(request, "executions/bulk.html", {
        "team": request.team, "result": result, "params": params,  # type: ignore[attr-defined]
        "param_items": [(key, value) for key, values in params.items()
                        for value in (values if isinstance(values, list) else [values])],
        "list_url": "?" + urlencode(params, doseq=True), "reason": reason,
        "changes": [outcome for outcome in result.outcomes if outcome.action == "change"],
        "skips": [outcome for outcome in result.outcomes if outcome.action == "skip"],
        "can_operate": can_operate(request.user, request.team),  # type: ignore[attr-defined]
        "refusal": operate_refusal(request.user, request.team),  # type: ignore[attr-defined]
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def bulk(request: HttpRequest) -> HttpResponse:
    team = request.team  # type: ignore[attr-defined]
    if not team:
        return redirect("home")
    data = request.POST if request.method == "POST" else request.GET
    name = data.get("command", "")
    selection, params = _filter(request, data)
    back = "?" + urlencode(params, doseq=True)
    if name not in COMMAND_NAMES:
        messages.error(request, f"Choose a command: {', '.join(COMMAND_NAMES)}.")
        return redirect(f"{_list_url()}{back}")
    reason = data.get("reason", "")[:1000]
    confirming = request.method == "POST"
    ids = [pk for pk in request.POST.getlist("ids") if _is_uuid(pk)] if confirming else None
    try:
        result = execution_bulk_command(actor=actor_from_request(request), origin=web_origin(request),
                                        command=name, selection=selection, reason=reason,
                                        dry_run=not confirming, ids=ids)
    except ApiError as error:
        messages.error(request, f"Not done: {error.message}")
        return redirect(f"{_list_url()}{back}")
    if confirming:
        messages.success(request, f"Bulk {name}: {len(result.changed)} changed, {len(result.skipped)} skipped.")
    return _page(request, result=result, params=params, reason=reason)


def _list_url() -> str:
    return reverse("executions:list")
