"""The workflow's triggers page: schedules, webhooks with their deliveries, "run after" rules,
and concurrency (limits, what runs, the queue). Viewers read; editors change (admins the
team's limit). Each form posts one action that calls one service; a refused action shows
the service's message and changes nothing."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from executions.triggers import selectors
from executions.triggers.access import access_run_after, access_schedule, access_webhook
from executions.triggers.domain.cron import CatchUp
from executions.triggers.domain.signatures import ALGORITHMS
from executions.triggers.services import limits, run_after, schedules, webhooks
from symphony_site.api.errors import ApiError
from symphony_site.origins import actor_from_request, web_origin
from teams.access import team_role
from teams.roles import Role
from workflows.access import access_workflow
from workflows.models import Workflow

COMMON_ZONES = ["UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York", "America/Chicago",
                "America/Los_Angeles", "America/Sao_Paulo", "Asia/Tokyo", "Asia/Kolkata", "Asia/Singapore",
                "Australia/Sydney"]


def _json_field(request: HttpRequest, name: str) -> Any:
    text = (request.POST.get(name) or "").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ApiError(f"{name.replace('_', ' ').capitalize()} is not valid JSON: {error.msg} "
                       f"(line {error.lineno}, column {error.colno}).") from None


def _page(request: HttpRequest, workflow: Workflow, *, issued: webhooks.Issued | None = None,
          status: int = 200) -> HttpResponse:
    role = team_role(request.user, workflow.team)
    editable = bool(role and role.includes(Role.EDITOR)) and not workflow.is_archived
    team_workflows = (Workflow.objects.filter(team_id=workflow.team_id, archived_at__isnull=True)
                      .exclude(pk=workflow.pk).order_by("name").values_list("pk", "name")[:500])
    context = {
        "workflow": workflow, "can_edit": editable, "can_set_team_limit": bool(role and role.includes(Role.ADMIN)),
        "schedules": [_with_inputs_text(schedule) for schedule in selectors.schedules_of(workflow)[:200]],
        "webhooks": list(selectors.webhooks_of(workflow)[:200]),
        "rules": list(selectors.rules_of(workflow)[:200]),
        "workflow_occupancy": selectors.workflow_occupancy(workflow),
        "team_occupancy": selectors.team_occupancy(workflow.team_id),
        "queue": selectors.queue_of(team_id=workflow.team_id, workflow_id=workflow.pk),
        "team_workflows": list(team_workflows), "zones": COMMON_ZONES,
        "catch_up_policies": [policy.value for policy in CatchUp], "algorithms": list(ALGORITHMS),
        "on_limit_choices": ["queue", "cancel", "fail"],
        "issued": issued, "issued_url": request.build_absolute_uri(f"/hooks/{issued.token}/") if issued else "",
    }
    return render(request, "executions/triggers.html", context, status=status)


def _with_inputs_text(schedule: Any) -> Any:
    schedule.inputs_text = json.dumps(schedule.inputs or {}, indent=1, ensure_ascii=False)
    return schedule


@login_required
def workflow_triggers(request: HttpRequest, workflow_id: Any) -> HttpResponse:
    return _page(request, access_workflow(request.user, workflow_id))


@login_required
@require_http_methods(["POST"])
def trigger_action(request: HttpRequest, workflow_id: Any) -> HttpResponse:
    """One form post: `action` names what to do; the service decides whether it may."""
    workflow = access_workflow(request.user, workflow_id)
    actor, origin = actor_from_request(request), web_origin(request)
    action = request.POST.get("action", "")
    try:
        issued = _act(request, workflow, action, actor, origin)
    except ApiError as error:
        if error.status_code == 404:
            raise
        messages.error(request, error.message)
        return _page(request, workflow, status=error.status_code if error.status_code in (400, 403, 409) else 400)
    if issued is not None:
        # The URL and secret are shown in this answer only: no redirect that would lose them.
        return _page(request, workflow, issued=issued)
    return redirect("triggers:workflow", workflow_id=workflow.pk)


def _act(request: HttpRequest, workflow: Workflow, action: str, actor: Any, origin: Any) -> webhooks.Issued | None:
    post = request.POST
    if action == "schedule-create":
        schedules.schedule_create(actor=actor, origin=origin, workflow=workflow, cron_expression=post.get("cron", ""),
                                  timezone_name=post.get("timezone") or "UTC", inputs=_json_field(request, "inputs"),
                                  catch_up=post.get("catch_up") or "skip", enabled="enabled" in post,
                                  name=post.get("name", ""))
        messages.success(request, "Schedule created.")
    elif action in ("schedule-update", "schedule-enable", "schedule-disable"):
        schedule = access_schedule(request.user, post.get("schedule"))
        _same_workflow(schedule.workflow_id, workflow)
        if action == "schedule-update":
            changes = {"name": post.get("name", ""), "cron": post.get("cron", ""),
                       "timezone": post.get("timezone") or "UTC", "inputs": _json_field(request, "inputs") or {},
                       "catch_up": post.get("catch_up") or "skip"}
        else:
            changes = {"enabled": action == "schedule-enable"}
        schedules.schedule_update(actor=actor, origin=origin, schedule=schedule, **changes)
        messages.success(request, "Schedule saved.")
    elif action == "schedule-delete":
        schedule = access_schedule(request.user, post.get("schedule"))
        _same_workflow(schedule.workflow_id, workflow)
        schedules.schedule_delete(actor=actor, origin=origin, schedule=schedule)
        messages.success(request, "Schedule deleted.")
    elif action == "webhook-create":
        signature = ({"header": post.get("signature_header") or "X-Symphony-Signature",
                      "algorithm": post.get("signature_algorithm") or "sha256",
                      "timestamp_header": post.get("timestamp_header") or "X-Symphony-Timestamp",
                      "tolerance_s": 300} if "signed" in post else None)
        return webhooks.webhook_create(actor=actor, origin=origin, workflow=workflow, name=post.get("name", ""),
                                       signature=signature, input_mapping=_json_field(request, "input_mapping"))
    elif action in ("webhook-rotate", "webhook-delete", "webhook-enable", "webhook-disable"):
        webhook = access_webhook(request.user, post.get("webhook"))
        _same_workflow(webhook.workflow_id, workflow)
        if action == "webhook-rotate":
            return webhooks.webhook_rotate(actor=actor, origin=origin, webhook=webhook)
        if action == "webhook-delete":
            webhooks.webhook_delete(actor=actor, origin=origin, webhook=webhook)
            messages.success(request, "Webhook deleted; its URL no longer works.")
        else:
            webhooks.webhook_update(actor=actor, origin=origin, webhook=webhook,
                                    enabled=action == "webhook-enable")
            messages.success(request, "Webhook saved.")
    elif action == "run-after-create":
        upstream = access_workflow(request.user, post.get("after"))
        run_after.run_after_create(actor=actor, origin=origin, downstream=workflow, upstream=upstream,
                                   on_completed="on_completed" in post, on_failed="on_failed" in post,
                                   input_mapping=_json_field(request, "input_mapping") or {})
        messages.success(request, f"{workflow.name} now runs after {upstream.name}.")
    elif action in ("run-after-delete", "run-after-enable", "run-after-disable"):
        rule = access_run_after(request.user, post.get("rule"))
        if action == "run-after-delete":
            run_after.run_after_delete(actor=actor, origin=origin, rule=rule)
            messages.success(request, "Rule deleted.")
        else:
            run_after.run_after_update(actor=actor, origin=origin, rule=rule, enabled=action == "run-after-enable")
            messages.success(request, "Rule saved.")
    elif action == "team-limit":
        raw = (post.get("limit") or "").strip()
        limit = None
        if raw:
            if not (raw.isascii() and raw.isdigit()):  # isdigit() alone takes a superscript two
                raise ApiError("The team's limit is a whole number, or empty for none.")
            limit = int(raw)
        limits.team_limit_set(actor=actor, origin=origin, team=workflow.team, limit=limit,
                              on_limit=post.get("on_limit") or "queue")
        messages.success(request, "The team's concurrency limit is saved.")
    else:
        raise ApiError(f"Unknown action {action!r}.")
    return None


def _same_workflow(workflow_id: Any, workflow: Workflow) -> None:
    if workflow_id != workflow.pk:
        raise ApiError("That trigger belongs to another workflow.", status_code=404, code="not_found")


@login_required
def webhook_deliveries(request: HttpRequest, workflow_id: Any, webhook_id: Any) -> HttpResponse:
    workflow = access_workflow(request.user, workflow_id)
    webhook = access_webhook(request.user, webhook_id)
    _same_workflow(webhook.workflow_id, workflow)
    deliveries = list(selectors.deliveries_of(webhook).order_by(*selectors.DELIVERY_ORDERING)[:200])
    return render(request, "executions/deliveries.html", {"workflow": workflow, "webhook": webhook,
                                                          "deliveries": deliveries})
