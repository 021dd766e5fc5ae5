"""A team's concurrency limit (a workflow's own limit is in its document's settings)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from executions.models import TeamLimit
from executions.triggers.services.common import audit_trigger
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import ValidationFailed
from symphony_site.events import send_task_on_commit
from teams.access import require_role
from teams.roles import Role

MAX_LIMIT = 100_000


def team_limit_set(*, actor: Actor, origin: Origin, team: Any, limit: Any, on_limit: Any = "queue") -> TeamLimit | None:
    """Set the team's limit (`limit` None removes it). Admins and owners: it bounds every
    workflow of the team. Raising or removing it starts queued executions that now fit."""
    require_role(actor.user, team, Role.ADMIN, action="change the team's concurrency limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT):
        raise ValidationFailed(f"limit is a whole number from 1 to {MAX_LIMIT}, or null for none.",
                               details=[{"field": "limit", "code": "invalid", "message": "out of range"}])
    if on_limit not in ("queue", "cancel", "fail"):
        raise ValidationFailed("on_limit is queue, cancel or fail.",
                               details=[{"field": "on_limit", "code": "invalid", "message": "unknown"}])
    with transaction.atomic():
        current = TeamLimit.objects.select_for_update().filter(team=team).first()
        before = None if current is None else {"limit": current.limit, "on_limit": current.on_limit}
        after = None if limit is None else {"limit": limit, "on_limit": on_limit}
        if before == after:
            return current
        row = None
        if after is None:
            TeamLimit.objects.filter(team=team).delete()
        else:
            row, _ = TeamLimit.objects.update_or_create(team=team, defaults={
                **after, "updated_by": actor.user, "updated_at": timezone.now()})
        audit_trigger(actor=actor, origin=origin, team_id=team.pk, event_type="team.limit_changed",
                      target_type="team", target_id=team.pk, workflow_name=team.name,
                      details={"from": before, "to": after})
        from executions.triggers import tasks

        send_task_on_commit(tasks.promote, args=[str(team.pk)])
    return row
