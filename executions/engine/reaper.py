"""The reaper: the periodic sweep that makes lost work visible again (a beat task, ~every second).

* node runs whose lease expired (their worker died or hung) are re-queued, the attempt
  counted, or failed once their lost-lease budget is spent;
* queued runs whose step message was sent long ago and never claimed (lost in a
  broker restart) are sent again;
* retries whose backoff ended, and queued runs nothing has dispatched, are dispatched;
* active executions past their deadline fail.

Safe with two beats running: every change is a conditional update under the
execution's row lock, so a second reaper finds nothing left to do; a resend
is claimed by one conditional update too. Each pass is bounded.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from executions.domain import ExecutionState
from executions.engine.books import Books, Dispatch
from executions.engine.dispatching import send_after_commit
from executions.engine.outcomes import lose_lease
from executions.runtime.flow import SKIP_EXECUTION_STOPPED
from symphony_site import metrics
from symphony_site.actors import Actor

logger = logging.getLogger(__name__)

REAPER = Actor.system("reaper")
BATCH = 500


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def reap() -> dict[str, int]:
    counts = {
        "expired_leases": expire_leases(),
        "resent": resend_lost_messages(),
        "dispatched": dispatch_waiting(),
        "timed_out": enforce_deadlines(),
    }
    metrics.reaper_recovered(counts)
    return counts


def expire_leases() -> int:
    found = _rows("SELECT execution_id, id, node_id FROM executions_noderun WHERE state = 'running' "
                  "AND lease_expires_at < now() ORDER BY lease_expires_at LIMIT %s", [BATCH])
    by_execution: dict[Any, list[tuple[int, str]]] = defaultdict(list)
    for execution_id, run_id, node_id in found:
        by_execution[execution_id].append((run_id, node_id))
    changed = 0
    for execution_id, runs in by_execution.items():
        with transaction.atomic():
            books = Books.open(execution_id, actor=REAPER)
            if books is None:
                continue
            for run_id, node_id in runs:
                # Re-checked under the lock: the worker may have recorded or renewed meanwhile.
                still = books._update_runs("SELECT 1 FROM executions_noderun WHERE id = %s AND "
                                           "state = 'running' AND lease_expires_at < now()", [run_id])
                if still and lose_lease(books, run_id=run_id, node_id=node_id, reason="its lease expired"):
                    changed += 1
            books.close()
    return changed


def resend_lost_messages() -> int:
    """Queued runs of running executions whose message was sent long ago and never claimed."""
    rows = _rows(
        "UPDATE executions_noderun AS r SET dispatched_at = now() FROM executions_execution AS e "
        "WHERE r.id IN (SELECT r2.id FROM executions_noderun AS r2 WHERE r2.state = 'queued' "
        "AND r2.dispatched_at < now() - make_interval(secs => %s) ORDER BY r2.dispatched_at LIMIT %s "
        "FOR UPDATE SKIP LOCKED) AND e.id = r.execution_id AND e.state = 'running' "
        "AND r.state = 'queued' RETURNING r.execution_id, r.id, r.node_id, r.queue",
        [settings.EXECUTION_REDISPATCH_AFTER_S, BATCH])
    for execution_id, run_id, node_id, queue in rows:
        send_after_commit(execution_id, Dispatch(run_id=run_id, node_id=node_id, queue=queue))
    if rows:
        logger.warning("Reaper re-sent %d step messages that were never claimed", len(rows))
    return len(rows)


def dispatch_waiting() -> int:
    """Running executions with queued runs due and not dispatched (retries whose backoff ended)."""
    executions = [row[0] for row in _rows(
        "SELECT DISTINCT r.execution_id FROM executions_noderun AS r JOIN executions_execution AS e "
        "ON e.id = r.execution_id WHERE r.state = 'queued' AND r.dispatched_at IS NULL "
        "AND (r.due_at IS NULL OR r.due_at <= now()) AND e.state = 'running' LIMIT %s", [BATCH])]
    sent = 0
    for execution_id in executions:
        with transaction.atomic():
            books = Books.open(execution_id, actor=REAPER)
            if books is None:
                continue
            books.dispatch()
            sent += len(books.dispatches)
            books.close()
    return sent


def enforce_deadlines() -> int:
    executions = [row[0] for row in _rows(
        "SELECT id FROM executions_execution WHERE state IN ('running', 'paused', 'waiting_for_input') "
        "AND deadline_at < now() ORDER BY deadline_at LIMIT %s", [BATCH])]
    failed = 0
    for execution_id in executions:
        with transaction.atomic():
            books = Books.open(execution_id, actor=REAPER)
            if books is None or not books.state.is_active:
                continue
            if books.execution.deadline_at is None or not _past(books.execution.deadline_at):
                continue
            timeout = books.execution.timeout_s
            books.stop_execution(
                ExecutionState.FAILED, reason=f"the execution's timeout of {timeout:g} s passed",
                skip_reason=SKIP_EXECUTION_STOPPED,
                error={"code": "execution_timeout", "message": f"The execution ran longer than its "
                       f"timeout of {timeout:g} s.", "timeout_s": timeout})
            books.close()
            failed += 1
    return failed


def _past(moment: Any) -> bool:
    return bool(_rows("SELECT %s < now()", [moment])[0][0])
