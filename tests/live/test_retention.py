"""Events of executions finished past the retention period are pruned; everything else stays."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from executions import tasks
from executions.models import Execution, ExecutionEvent, NodeRun

from .conftest import emit, make_execution

pytestmark = pytest.mark.django_db


def test_old_finished_executions_lose_their_events_and_keep_their_state(personas, settings) -> None:
    settings.EXECUTION_EVENTS_RETENTION_DAYS = 30
    settings.EXECUTION_EVENTS_PRUNE_BATCH = 3  # several batches
    now = timezone.now()
    old = make_execution(personas, state="completed", finished_at=now - dt.timedelta(days=31))
    recent = make_execution(personas, state="failed", finished_at=now - dt.timedelta(days=29))
    running = make_execution(personas, state="running")
    for execution in (old, recent, running):
        emit(execution.pk, [("node.queued", "name", {})] * 4)
        emit(execution.pk, [("node.started", "name", {})] * 3)
    # An active execution's old events stay however old they are.
    Execution.objects.filter(pk=running.pk).update(started_at=now - dt.timedelta(days=90))

    assert tasks.prune_events() == 7

    remaining = dict.fromkeys((old.pk, recent.pk, running.pk), 0)
    for execution_id in ExecutionEvent.objects.values_list("execution_id", flat=True):
        remaining[execution_id] += 1
    assert remaining == {old.pk: 0, recent.pk: 7, running.pk: 7}
    kept = Execution.objects.get(pk=old.pk)
    assert (kept.state, kept.event_seq, kept.finished_at) == ("completed", 7, old.finished_at)
    assert NodeRun.objects.filter(execution=old).count() == 3
    assert tasks.prune_events() == 0


def test_the_beat_schedule_runs_the_pruning(settings) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["execution-events-retention"]
    assert entry["task"] == "executions.prune_events"
    assert entry["schedule"] == settings.EXECUTION_EVENTS_PRUNE_INTERVAL_S
