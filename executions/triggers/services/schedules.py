"""Schedules: configuring them, and firing their due times exactly once.

A due time is claimed with a conditional UPDATE of the schedule's `next_run_at` (from
the due time to the one after), in the transaction that creates its execution. Two
ticks that read the same due time both try; the second waits for the first's row lock,
finds `next_run_at` moved and claims nothing. A tick that dies before committing leaves
the claim undone and the next tick fires it. A unique constraint on (schedule, due time)
of `TriggeredBy` backs the claim. DST and catch-up rules: `executions.triggers.domain.cron`.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from executions.engine.graphs import compiled
from executions.models import Schedule, Trigger
from executions.runtime.flow import start_input_problems
from executions.triggers.domain import cron
from executions.triggers.services.common import audit_trigger, start_triggered
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import ApiError, Conflict, ValidationFailed
from teams.access import require_role
from teams.roles import Role

logger = logging.getLogger(__name__)

SCHEDULER = Actor.system("schedule")
FIELDS = ("name", "cron", "timezone", "inputs", "catch_up", "enabled")


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": field, "code": "invalid", "message": message}])


def _parsed(expression: Any, zone: Any) -> cron.Cron:
    try:
        cron.zone_of(zone)
    except cron.CronError as error:
        raise _invalid("timezone", str(error)) from None
    try:
        return cron.parse(expression, zone)
    except cron.CronError as error:
        raise _invalid("cron", str(error)) from None


def check_inputs(workflow: Any, inputs: Any, field: str = "inputs") -> dict[str, Any]:
    """Inputs a trigger will start `workflow` with, checked against its current version."""
    if inputs is None:
        return {}
    if not isinstance(inputs, dict):
        raise _invalid(field, "inputs is an object keyed by input node id.")
    problems = start_input_problems(compiled(workflow.current_version_id).workflow, inputs)
    if problems:
        raise ValidationFailed(f"These inputs cannot start the workflow: {problems[0].message}",
                               details=[{"field": f"{field}.{problem.node_id}", **problem.to_dict()}
                                        for problem in problems])
    return inputs


def _catch_up(value: Any) -> str:
    try:
        return cron.CatchUp(value).value
    except ValueError:
        raise _invalid("catch_up", "catch_up is skip, once or all.") from None


def _writable(actor: Actor, workflow: Any) -> None:
    require_role(actor.user, workflow.team, Role.EDITOR, action="manage schedules")
    if workflow.is_archived:
        raise Conflict("This workflow is archived; archived workflows cannot be scheduled.")


def schedule_create(*, actor: Actor, origin: Origin, workflow: Any, cron_expression: str,
                    timezone_name: str = "UTC", inputs: Any = None, catch_up: str = "skip",
                    enabled: bool = True, name: str = "") -> Schedule:
    _writable(actor, workflow)
    parsed = _parsed(cron_expression, timezone_name)
    checked = check_inputs(workflow, inputs)
    policy = _catch_up(catch_up)
    now = timezone.now()
    with transaction.atomic():
        schedule = Schedule.objects.create(
            team_id=workflow.team_id, workflow=workflow, name=(name or "").strip()[:200], cron=parsed.expression,
            timezone=timezone_name, inputs=checked, catch_up=policy, enabled=bool(enabled),
            next_run_at=cron.next_due(parsed, now) if enabled else None,
            created_by=actor.user, created_at=now, updated_at=now)
        audit_trigger(actor=actor, origin=origin, team_id=workflow.team_id, event_type="schedule.created",
                      target_type="schedule", target_id=schedule.pk, workflow_name=workflow.name,
                      details={"workflow": str(workflow.pk), "cron": schedule.cron, "timezone": schedule.timezone,
                               "catch_up": policy, "enabled": schedule.enabled, "inputs": sorted(checked)})
    return schedule


def schedule_update(*, actor: Actor, origin: Origin, schedule: Schedule, **changes: Any) -> Schedule:
    """Change any of name, cron, timezone, inputs, catch_up, enabled. A new cron, zone or
    enabling counts the next run from now; otherwise the next run stays."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise _invalid(unknown[0], f"{unknown[0]} cannot be changed.")
    _writable(actor, schedule.workflow)
    with transaction.atomic():
        locked = Schedule.objects.select_for_update().get(pk=schedule.pk)
        before = {field: getattr(locked, field) for field in FIELDS}
        after = {**before, **changes}
        parsed = _parsed(after["cron"], after["timezone"])
        after["cron"] = parsed.expression
        after["inputs"] = check_inputs(schedule.workflow, after["inputs"])
        after["catch_up"] = _catch_up(after["catch_up"])
        after["enabled"] = bool(after["enabled"])
        after["name"] = (after["name"] or "").strip()[:200]
        changed = {field: {"from": before[field], "to": after[field]} for field in FIELDS
                   if before[field] != after[field]}
        if not changed:
            return locked
        for field in FIELDS:
            setattr(locked, field, after[field])
        now = timezone.now()
        if not locked.enabled:
            locked.next_run_at = None
        elif {"cron", "timezone", "enabled"} & set(changed) or locked.next_run_at is None:
            locked.next_run_at = cron.next_due(parsed, now)
        locked.updated_at = now
        locked.save()
        if "inputs" in changed:
            # Values may be private; the entry names the inputs, not what they hold.
            changed["inputs"] = {"from": sorted(before["inputs"] or {}), "to": sorted(after["inputs"])}
        audit_trigger(actor=actor, origin=origin, team_id=locked.team_id, event_type="schedule.updated",
                      target_type="schedule", target_id=locked.pk, workflow_name=schedule.workflow.name,
                      details={"workflow": str(locked.workflow_id), "changed": changed})
    return locked


def schedule_delete(*, actor: Actor, origin: Origin, schedule: Schedule) -> None:
    require_role(actor.user, schedule.workflow.team, Role.EDITOR, action="manage schedules")
    with transaction.atomic():
        deleted, _ = Schedule.objects.filter(pk=schedule.pk).delete()
        if not deleted:
            return
        audit_trigger(actor=actor, origin=origin, team_id=schedule.team_id, event_type="schedule.deleted",
                      target_type="schedule", target_id=schedule.pk, workflow_name=schedule.workflow.name,
                      details={"workflow": str(schedule.workflow_id), "cron": schedule.cron,
                               "timezone": schedule.timezone})


# --- firing -------------------------------------------------------------------------------


def fire_due_schedules(*, budget: int | None = None, now: dt.datetime | None = None) -> int:
    """Claim and fire due times of every schedule that is due, oldest first, up to `budget`
    claims in all. Answers how many due times were claimed (fired or skipped). `now` is the
    clock (tests pass a fixed one)."""
    budget = settings.TRIGGER_FIRES_PER_TICK if budget is None else budget
    now = now or timezone.now()
    claimed = 0
    due = list(Schedule.objects.filter(enabled=True, next_run_at__lte=now)
               .order_by("next_run_at").values_list("pk", flat=True)[:budget])
    for schedule_id in due:
        while claimed < budget and claim_next(schedule_id, now=now):
            claimed += 1
    return claimed


def claim_next(schedule_id: Any, *, now: dt.datetime | None = None) -> bool:
    """Claim the schedule's next due time if it came, and fire it as its catch-up policy says.
    False when nothing was due or another claimer moved first."""
    schedule = Schedule.objects.select_related("workflow").filter(pk=schedule_id).first()
    now = now or timezone.now()
    if schedule is None or not schedule.enabled or schedule.next_run_at is None or schedule.next_run_at > now:
        return False
    due = schedule.next_run_at
    try:
        parsed = cron.parse(schedule.cron, schedule.timezone)
        plan = cron.plan_tick(parsed, due=due, now=now, policy=cron.CatchUp(schedule.catch_up),
                              grace=dt.timedelta(seconds=settings.TRIGGER_SCHEDULE_GRACE_S))
    except cron.CronError as error:
        # The zone database changed under a stored schedule: stop it, and say why.
        Schedule.objects.filter(pk=schedule_id, next_run_at=due).update(
            enabled=False, next_run_at=None, last_error=f"Disabled: {error}"[:1000])
        return False
    with transaction.atomic():
        # The claim: only the claimer that still sees `due` moves it (see the module docstring).
        won = Schedule.objects.filter(pk=schedule_id, enabled=True, next_run_at=due).update(
            next_run_at=plan.next_run_at, last_due_at=plan.fire or due)
        if not won:
            return False
        if plan.fire is None:
            Schedule.objects.filter(pk=schedule_id).update(
                last_error=f"Missed due times up to {due.isoformat()} were skipped (catch_up: skip).")
            return True
        _fire(schedule, plan.fire)
    return True


def _fire(schedule: Schedule, due: dt.datetime) -> None:
    try:
        with transaction.atomic():
            execution = start_triggered(
                actor=SCHEDULER, origin=Origin.task(), workflow=schedule.workflow, inputs=schedule.inputs,
                trigger=Trigger.SCHEDULE, context={"schedule": schedule, "scheduled_for": due})
    except ApiError as error:
        Schedule.objects.filter(pk=schedule.pk).update(
            last_error=f"{due.isoformat()}: {error.message}"[:1000])
        logger.warning("Schedule %s did not start its workflow for %s: %s", schedule.pk, due, error.message)
        return
    except IntegrityError:
        # The unique (schedule, due time) row exists: this due time already fired.
        logger.error("Schedule %s: due time %s was already fired; the claim should have prevented this",
                     schedule.pk, due)
        return
    Schedule.objects.filter(pk=schedule.pk).update(last_execution=execution, last_error="")
