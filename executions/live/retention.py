"""Pruning the events of executions that finished long ago (a beat task).

Events are the live view and the replay buffer; once an execution finished more
than EXECUTION_EVENTS_RETENTION_DAYS ago nobody replays it, and its final state,
node runs, history and audit entries say everything that stays. Deleted in
batches of EXECUTION_EVENTS_PRUNE_BATCH, each its own short transaction, oldest
event id first (ids grow with time, so the scan starts where the old events are
and needs no index beyond the primary key), up to a time budget per run.
"""

from __future__ import annotations

import datetime as dt
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

TERMINAL = ("completed", "failed", "cancelled")


def prune_events(*, now: dt.datetime | None = None, budget_s: float = 60.0) -> int:
    """Delete events of executions finished before the retention cutoff; answer how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.EXECUTION_EVENTS_RETENTION_DAYS)
    batch = max(1, settings.EXECUTION_EVENTS_PRUNE_BATCH)
    deleted = 0
    ends = time.monotonic() + budget_s
    while time.monotonic() < ends:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM executions_executionevent WHERE id IN ("
                " SELECT ev.id FROM executions_executionevent AS ev"
                " JOIN executions_execution AS e ON e.id = ev.execution_id"
                " WHERE e.state = ANY(%s) AND e.finished_at < %s"
                " ORDER BY ev.id LIMIT %s)", [list(TERMINAL), cutoff, batch])
            count = cursor.rowcount
        deleted += count
        if count < batch:
            break
    return deleted
