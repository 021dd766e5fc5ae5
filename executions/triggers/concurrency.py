"""Concurrency limits, held in the database: who may start now, who waits, who is refused.

Every start of an execution (`execution_start`, a re-run, the `start` command, and the
queue's own promotions) asks `admission_for` inside its transaction. When neither the
workflow (its current version's `settings.concurrency`) nor its team (`TeamLimit`) has a
limit, nothing is locked or counted. Otherwise the team's admission lock — a
transaction-level advisory lock, one per team — is taken first, then what runs and what
waits is counted, and the pure rule (`domain.admission`) decides. The lock is held to
commit, so the next start of the team counts this one; that is what makes a limit hold
with any number of web and worker processes.

Lock order, which keeps this free of deadlocks: the admission lock is taken before any
execution row a start locks, except that a re-run or a `start` command already holds its
own execution's row — a row the queue's promotion never locks (promotion locks only
queued executions, and a queued execution refuses `start`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils import timezone
from rest_framework import status

from executions.domain import ExecutionState
from executions.engine.graphs import compiled
from executions.models import QueuedStart, TeamLimit
from executions.triggers.domain.admission import Admission, Load, Verdict, admit
from symphony_site.api.errors import ApiError
from workflows.domain import ConcurrencyLimit, OnLimit

if TYPE_CHECKING:
    from executions.engine.books import Books

ACTIVE_STATES = ("running", "paused", "waiting_for_input")
ADMITTED = Admission(verdict=Verdict.START)


class ConcurrencyLimitReached(ApiError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "concurrency_limit_reached"
    default_detail = "A concurrency limit was reached."


def workflow_limit(workflow: Any) -> ConcurrencyLimit | None:
    """The limit in force for a workflow: its current version's `settings.concurrency`."""
    if workflow.current_version_id is None:
        return None
    return compiled(workflow.current_version_id).workflow.settings.concurrency


def team_limit(team_id: Any) -> ConcurrencyLimit | None:
    return _limit(TeamLimit.objects.filter(team_id=team_id).values_list("limit", "on_limit").first())


def _limit(row: tuple[int, str] | None) -> ConcurrencyLimit | None:
    return None if row is None else ConcurrencyLimit(limit=row[0], on_limit=OnLimit(row[1]))


def lock_team(team_id: Any) -> None:
    """The team's admission lock, held until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                       [f"symphony.admission:{team_id}"])


def loads(team_id: Any, workflow_id: Any) -> tuple[Load, Load]:
    """(workflow, team): executions running (or paused, or waiting for input) and queued."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM executions_execution WHERE workflow_id = %(w)s "
            "AND state = ANY(%(active)s)), (SELECT count(*) FROM executions_queuedstart WHERE workflow_id = %(w)s), "
            "(SELECT count(*) FROM executions_execution WHERE team_id = %(t)s AND state = ANY(%(active)s)), "
            "(SELECT count(*) FROM executions_queuedstart WHERE team_id = %(t)s)",
            {"w": workflow_id, "t": team_id, "active": list(ACTIVE_STATES)})
        workflow_running, workflow_queued, team_running, team_queued = cursor.fetchone()
    return Load(workflow_running, workflow_queued), Load(team_running, team_queued)


# `admission_for` reads the team's limit itself unless told it.
UNREAD: Any = object()


def admission_for(*, workflow: Any, known_team_limit: Any = UNREAD) -> Admission:
    """May an execution of `workflow` start now? Call inside the starting transaction.

    Raises 429 `concurrency_limit_reached` when a full limit says `fail` (the caller's
    transaction rolls back: nothing is created then); answers QUEUE or CANCEL for the others,
    START when there is room. `known_team_limit`: the team's `TeamLimit` row (limit, on_limit) or
    None, when the caller already read it in this transaction (`execution_start` reads it
    with its insert, `engine.creating`).
    """
    limit_of_workflow = workflow_limit(workflow)
    limit_of_team = team_limit(workflow.team_id) if known_team_limit is UNREAD else _limit(known_team_limit)
    if limit_of_workflow is None and limit_of_team is None:
        return ADMITTED
    lock_team(workflow.team_id)
    workflow_load, team_load = loads(workflow.team_id, workflow.pk)
    admission = admit(workflow_limit=limit_of_workflow, workflow_load=workflow_load,
                      team_limit=limit_of_team, team_load=team_load)
    if admission.verdict is Verdict.REFUSE:
        raise ConcurrencyLimitReached(
            f"Not started: {admission.message} (on_limit: fail).",
            details={"scope": admission.scope, "limit": admission.limit, "running": admission.running})
    return admission


def settle_admission(books: Books, admission: Admission, *, begin: Any) -> None:
    """Act on an admission for a just-created (pending) execution: `begin()` it, queue it,
    or cancel it, in the caller's transaction."""
    if admission.verdict is Verdict.START:
        begin()
    elif admission.verdict is Verdict.QUEUE:
        hold(books, admission)
    else:
        books.stop_execution(
            ExecutionState.CANCELLED, reason=f"Cancelled: {admission.message} (on_limit: cancel).",
            skip_reason="cancelled", audit_type="execution.cancelled",
            details={"concurrency": {"scope": admission.scope, "limit": admission.limit,
                                     "running": admission.running}})


def hold(books: Books, admission: Admission) -> None:
    """Queue a pending execution for a slot (its place is its admission order)."""
    execution = books.execution
    QueuedStart.objects.create(execution_id=execution.pk, team_id=execution.team_id,
                               workflow_id=execution.workflow_id, held_by=admission.scope,
                               queued_at=timezone.now())
    books.set(state_reason=f"Queued: {admission.message}."[:1000])
    books.audit(
        actor=books.actor, origin=books.origin, event_type="execution.queued",
        reason=f"{admission.message}", workflow_name=books.workflow_name(),
        details={"scope": admission.scope, "limit": admission.limit, "running": admission.running,
                 "trigger": execution.trigger})


def is_queued(execution_id: Any) -> bool:
    return QueuedStart.objects.filter(execution_id=execution_id).exists()
