"""The concurrency queue: queued executions start in order when a slot frees.

`promote(team)` runs after an execution of the team ended (a task sent by
`executions.triggers.endings`) and on every tick as a safety net. Under the team's
admission lock it walks the team's queue in admission order and begins each execution
whose workflow and team have room. A workflow at its limit holds back only its own
executions, so the others of the team go on; the team at its limit stops the walk.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import connection, transaction

from executions.domain import ExecutionState
from executions.engine.books import Books
from executions.models import NodeRun, QueuedStart
from executions.services.starting import begin
from executions.triggers import concurrency
from symphony_site.actors import Actor, Origin
from workflows.models import Workflow

QUEUE = Actor.system("concurrency-queue")
# Executions begun per transaction: the admission lock is not held long.
BATCH = 20


def promote(team_id: Any) -> int:
    """Begin queued executions of the team that have room now; answers how many began."""
    started = 0
    while True:
        begun, more = _promote_batch(team_id)
        started += begun
        if not begun or not more:
            return started


def _promote_batch(team_id: Any) -> tuple[int, bool]:
    with transaction.atomic():
        concurrency.lock_team(team_id)
        entries = list(QueuedStart.objects.filter(team_id=team_id).order_by("id")
                       .values_list("id", "execution_id", "workflow_id")[:500])
        if not entries:
            return 0, False
        workflows = {workflow.pk: workflow for workflow in
                     Workflow.objects.filter(pk__in={workflow_id for _, _, workflow_id in entries})}
        limits = {workflow_id: concurrency.workflow_limit(workflow) for workflow_id, workflow in workflows.items()}
        team_limit = concurrency.team_limit(team_id)
        running, team_running = _running(team_id, list(workflows))
        begun = 0
        for entry_id, execution_id, workflow_id in entries:
            if begun >= BATCH:
                return begun, True
            if team_limit is not None and team_running >= team_limit.limit:
                break
            limit = limits.get(workflow_id)
            if limit is not None and running[workflow_id] >= limit.limit:
                continue
            QueuedStart.objects.filter(pk=entry_id).delete()
            books = Books.open(execution_id, actor=QUEUE, origin=Origin.task())
            if books is None or books.state is not ExecutionState.PENDING:
                continue  # cancelled while it waited
            reused = list(NodeRun.objects.filter(execution_id=execution_id, state="completed",
                                                 reused_from__isnull=False).values_list("node_id", "output"))
            begin(books, reason="a concurrency slot freed", details={"queued": True}, reused=reused or None)
            books.close()
            begun += 1
            running[workflow_id] += 1
            team_running += 1
        return begun, False


def _running(team_id: Any, workflow_ids: list[Any]) -> tuple[dict[Any, int], int]:
    counts: dict[Any, int] = defaultdict(int)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT workflow_id, count(*) FROM executions_execution WHERE workflow_id = ANY(%s) "
            "AND state = ANY(%s) GROUP BY workflow_id", [workflow_ids, list(concurrency.ACTIVE_STATES)])
        for workflow_id, count in cursor.fetchall():
            counts[workflow_id] = count
        cursor.execute("SELECT count(*) FROM executions_execution WHERE team_id = %s AND state = ANY(%s)",
                       [team_id, list(concurrency.ACTIVE_STATES)])
        team_running = cursor.fetchone()[0]
    return counts, team_running


def teams_with_queues() -> list[Any]:
    return list(QueuedStart.objects.order_by().values_list("team_id", flat=True).distinct()[:1000])
