"""Each due time of a schedule fires exactly once: with two tick callers racing on their own
database connections, after a claimer died mid-transaction, and under each catch-up policy."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from audit.models import AuditEntry
from executions.models import Execution, Schedule, TriggeredBy
from executions.triggers.services import schedules, ticking
from workflows import services as workflow_services

from .conftest import ORIGIN, asking, editor, store

pytestmark = pytest.mark.django_db(transaction=True)


def per_second(personas: Any, *, catch_up: str = "all", behind_s: int = 0, now: dt.datetime) -> Schedule:
    workflow = store(personas, asking())
    schedule = schedules.schedule_create(actor=editor(personas), origin=ORIGIN, workflow=workflow,
                                         cron_expression="* * * * * *", catch_up=catch_up)
    Schedule.objects.filter(pk=schedule.pk).update(next_run_at=now - dt.timedelta(seconds=behind_s))
    return Schedule.objects.get(pk=schedule.pk)


def fired(schedule: Schedule) -> list[dt.datetime]:
    return list(TriggeredBy.objects.filter(schedule=schedule).order_by("scheduled_for")
                .values_list("scheduled_for", flat=True))


def test_two_concurrent_tick_callers_fire_each_due_time_once(personas) -> None:
    now = timezone.now().replace(microsecond=0)
    schedule = per_second(personas, behind_s=29, now=now)
    barrier = threading.Barrier(2)
    claimed: list[int] = []

    def caller() -> None:
        try:
            barrier.wait()
            total = 0
            while True:
                done = ticking.tick(now=now)["schedules"]
                if not done:
                    break
                total += done
            claimed.append(total)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=caller) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    expected = [now - dt.timedelta(seconds=29 - index) for index in range(30)]
    assert fired(schedule) == expected
    assert sum(claimed) == 30 and len(claimed) == 2
    assert Execution.objects.filter(workflow=schedule.workflow, trigger="schedule").count() == 30
    assert set(Execution.objects.filter(workflow=schedule.workflow).values_list("state", flat=True)) == {
        "waiting_for_input"}
    fresh = Schedule.objects.get(pk=schedule.pk)
    assert (fresh.next_run_at, fresh.last_due_at, fresh.last_error) == (now + dt.timedelta(seconds=1), now, "")
    assert fresh.last_execution_id == TriggeredBy.objects.get(schedule=schedule, scheduled_for=now).execution_id


def test_a_claimer_killed_mid_transaction_leaves_the_due_time_for_the_next_tick(personas) -> None:
    now = timezone.now().replace(microsecond=0)
    schedule = per_second(personas, behind_s=0, now=now)
    database = settings.DATABASES["default"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "symphony_site.test_settings", "PYTEST_XDIST_WORKER": "",
           "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
           "REDIS_URL": settings.REDIS_URL}
    script = ("import django, datetime; django.setup(); from executions.triggers.services import schedules; "
              f"schedules.claim_next('{schedule.pk}', now=datetime.datetime.fromisoformat('{now.isoformat()}'))")
    with transaction.atomic():
        # Hold the team's audit chain head: the claimer's start appends an entry there, so it
        # blocks inside its transaction, after its claim.
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM audit_auditchainhead WHERE chain = %s FOR UPDATE", [str(personas.team.pk)])
        claimer = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=settings.BASE_DIR,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not _claim_waiting(schedule.pk):
            assert claimer.poll() is None, claimer.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the claimer never reached its claim"
            time.sleep(0.05)
        claimer.kill()
        claimer.wait(10)
    assert Schedule.objects.get(pk=schedule.pk).next_run_at == now
    assert fired(schedule) == []
    assert ticking.tick(now=now)["schedules"] == 1
    assert ticking.tick(now=now)["schedules"] == 0
    assert fired(schedule) == [now]
    assert Execution.objects.filter(workflow=schedule.workflow).count() == 1


def _claim_waiting(schedule_id: Any) -> bool:
    """Whether another session updated the schedule's row and now waits for a lock."""
    with connection.cursor() as cursor:
        # Statistics views keep one snapshot per transaction unless cleared.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
        return bool(cursor.fetchone()[0])


def test_catch_up_all_runs_each_missed_due_time_and_once_runs_one(personas, settings) -> None:
    settings.TRIGGER_SCHEDULE_GRACE_S = 5
    now = timezone.now().replace(microsecond=0)
    every = per_second(personas, catch_up="all", behind_s=20, now=now)
    once = per_second(personas, catch_up="once", behind_s=20, now=now)
    skip = per_second(personas, catch_up="skip", behind_s=20, now=now)
    # Missed by 20 seconds, past the grace: `all` fires the oldest first, one per claim.
    while schedules.claim_next(every.pk, now=now):
        pass
    assert fired(every) == [now - dt.timedelta(seconds=20 - index) for index in range(21)]
    # `once` and `skip` fire the current due time (it is on time) and drop the rest.
    assert schedules.claim_next(once.pk, now=now) and not schedules.claim_next(once.pk, now=now)
    assert schedules.claim_next(skip.pk, now=now) and not schedules.claim_next(skip.pk, now=now)
    assert fired(once) == [now] and fired(skip) == [now]
    assert Schedule.objects.get(pk=skip.pk).next_run_at == now + dt.timedelta(seconds=1)


def test_a_daily_schedule_back_after_days_of_downtime(personas) -> None:
    workflow = store(personas, asking())
    made = {policy: schedules.schedule_create(actor=editor(personas), origin=ORIGIN, workflow=workflow,
                                              cron_expression="0 9 * * *", timezone_name="Europe/Paris",
                                              catch_up=policy) for policy in ("skip", "once")}
    for schedule in made.values():
        Schedule.objects.filter(pk=schedule.pk).update(next_run_at=dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC))
    now = dt.datetime(2026, 1, 4, 12, tzinfo=dt.UTC)
    assert schedules.claim_next(made["skip"].pk, now=now) and schedules.claim_next(made["once"].pk, now=now)
    assert fired(made["skip"]) == [] and fired(made["once"]) == [dt.datetime(2026, 1, 4, 8, tzinfo=dt.UTC)]
    skipped = Schedule.objects.get(pk=made["skip"].pk)
    assert skipped.next_run_at == dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)
    assert skipped.last_error == "Missed due times up to 2026-01-01T08:00:00+00:00 were skipped (catch_up: skip)."


def test_a_due_time_that_cannot_start_is_consumed_and_says_why(personas) -> None:
    now = timezone.now().replace(microsecond=0)
    schedule = per_second(personas, behind_s=0, now=now)
    workflow_services.workflow_archive(actor=editor(personas), origin=ORIGIN, workflow=schedule.workflow)
    assert schedules.claim_next(schedule.pk, now=now)
    fresh = Schedule.objects.get(pk=schedule.pk)
    assert fresh.last_error == f"{now.isoformat()}: This workflow is archived; archived workflows cannot run."
    assert fresh.next_run_at == now + dt.timedelta(seconds=1)
    assert Execution.objects.filter(workflow=schedule.workflow).count() == 0


def test_fires_are_executions_triggered_by_the_schedule_and_audited_as_started(personas) -> None:
    now = timezone.now().replace(microsecond=0)
    schedule = per_second(personas, behind_s=0, now=now)
    assert schedules.claim_next(schedule.pk, now=now)
    [execution] = Execution.objects.filter(workflow=schedule.workflow)
    assert (execution.trigger, execution.started_by_id, execution.started_by_name) == ("schedule", None, "schedule")
    assert TriggeredBy.objects.filter(execution=execution).values_list("schedule_id", "scheduled_for",
                                                                       "chain_depth", "attempt").get() == (
        schedule.pk, now, 0, 1)
    entry = AuditEntry.objects.get(execution_id=execution.pk, event_type="execution.started")
    assert (entry.actor_name, entry.actor_type, entry.details["trigger"]) == ("schedule", "system", "schedule")
