"""The one way a user reaches a trigger: through its team (another team's is "not found")."""

from __future__ import annotations

from typing import Any

from executions.models import RunAfter, Schedule, Webhook
from teams.access import access_object
from teams.roles import Role


def access_schedule(user: Any, schedule_id: Any, minimum: Role = Role.VIEWER, *,
                    action: str = "do this") -> Schedule:
    return access_object(Schedule.objects.select_related("team", "workflow", "workflow__team"),
                         user, schedule_id, minimum, action=action, label="Schedule")


def access_webhook(user: Any, webhook_id: Any, minimum: Role = Role.VIEWER, *,
                   action: str = "do this") -> Webhook:
    return access_object(Webhook.objects.select_related("team", "workflow", "workflow__team"),
                         user, webhook_id, minimum, action=action, label="Webhook")


def access_run_after(user: Any, rule_id: Any, minimum: Role = Role.VIEWER, *,
                     action: str = "do this") -> RunAfter:
    return access_object(RunAfter.objects.select_related("team", "upstream", "downstream", "downstream__team"),
                         user, rule_id, minimum, action=action, label="Rule")
