"""Reads of triggers and limits, team-scoped by the caller's access helper: a workflow's
schedules, hooks, deliveries and rules, and the concurrency queue with each place in it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from executions.models import RunAfter, Schedule, TeamLimit, Webhook, WebhookDelivery
from executions.triggers import concurrency
from workflows.domain import ConcurrencyLimit

DELIVERY_ORDERING = ("-received_at", "-id")


def schedules_of(workflow: Any) -> QuerySet[Schedule]:
    return Schedule.objects.filter(workflow=workflow).order_by("created_at", "id")


def webhooks_of(workflow: Any) -> QuerySet[Webhook]:
    return Webhook.objects.filter(workflow=workflow).order_by("created_at", "id")


def deliveries_of(webhook: Webhook) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(webhook=webhook)


def rules_of(workflow: Any) -> QuerySet[RunAfter]:
    """Rules that start this workflow, and rules this workflow's end sets off."""
    return (RunAfter.objects.filter(Q(downstream=workflow) | Q(upstream=workflow))
            .select_related("upstream", "downstream").order_by("created_at", "id"))


@dataclass(frozen=True, slots=True)
class QueuedEntry:
    execution_id: Any
    workflow_id: Any
    workflow_name: str
    trigger: str
    queued_at: Any
    held_by: str
    # 1-based: the place among this workflow's queued executions, and among the team's.
    position: int
    team_position: int


def queue_of(*, team_id: Any, workflow_id: Any = None, limit: int = 200) -> list[QueuedEntry]:
    """The team's queue (or one workflow's part of it) in the order executions will start."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM (SELECT q.execution_id, q.workflow_id, w.name, e.trigger, q.queued_at, q.held_by, "
            "row_number() OVER (PARTITION BY q.workflow_id ORDER BY q.id), row_number() OVER (ORDER BY q.id) "
            "FROM executions_queuedstart AS q JOIN executions_execution AS e ON e.id = q.execution_id "
            "JOIN workflows_workflow AS w ON w.id = q.workflow_id WHERE q.team_id = %s) AS ranked "
            "WHERE %s::uuid IS NULL OR ranked.workflow_id = %s::uuid ORDER BY 8 LIMIT %s",
            [team_id, workflow_id, workflow_id, limit])
        return [QueuedEntry(*row) for row in cursor.fetchall()]


def queue_position(execution_id: Any) -> tuple[int, int] | None:
    """(place in its workflow's queue, place in its team's) of a queued execution, else None."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM executions_queuedstart AS o WHERE o.workflow_id = q.workflow_id "
            "AND o.id <= q.id), (SELECT count(*) FROM executions_queuedstart AS o WHERE o.team_id = q.team_id "
            "AND o.id <= q.id) FROM executions_queuedstart AS q WHERE q.execution_id = %s", [execution_id])
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True, slots=True)
class Occupancy:
    limit: ConcurrencyLimit | None
    running: int
    queued: int


def workflow_occupancy(workflow: Any) -> Occupancy:
    workflow_load, _ = concurrency.loads(workflow.team_id, workflow.pk)
    return Occupancy(concurrency.workflow_limit(workflow), workflow_load.running, workflow_load.queued)


def team_occupancy(team_id: Any) -> Occupancy:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM executions_execution WHERE team_id = %(t)s AND state = ANY(%(a)s)), "
            "(SELECT count(*) FROM executions_queuedstart WHERE team_id = %(t)s)",
            {"t": team_id, "a": list(concurrency.ACTIVE_STATES)})
        running, queued = cursor.fetchone()
    return Occupancy(concurrency.team_limit(team_id), running, queued)


def team_limit_row(team_id: Any) -> TeamLimit | None:
    return TeamLimit.objects.filter(team_id=team_id).first()
