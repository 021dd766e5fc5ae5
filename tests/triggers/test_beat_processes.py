"""Real `celery beat` processes: two beats sending ticks at once, one of them killed and
started again, and a real worker running the ticks. Every due second of a per-second schedule
fires exactly once, with none missed."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from executions.models import Execution, Schedule, TriggeredBy
from executions.triggers.services import schedules

from .conftest import ORIGIN, asking, editor, store


def start_beat(folder: Path, name: str) -> subprocess.Popen[bytes]:
    database = settings.DATABASES["default"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "symphony_site.test_settings", "PYTEST_XDIST_WORKER": "",
           "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
           "REDIS_URL": settings.REDIS_URL, "TRIGGER_TICK_INTERVAL_S": "0.25"}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "symphony_site", "beat", "--loglevel=INFO",
         f"--schedule={folder / name}", "--pidfile="],
        env=env, cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=(folder / f"{name}.log").open("wb"))


def ticking(folder: Path, name: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    """Wait until the beat has sent a tick (starting a process takes seconds on a busy box)."""
    deadline = time.monotonic() + timeout
    while "Sending due task execution-triggers" not in (folder / f"{name}.log").read_text():
        assert process.poll() is None, (folder / f"{name}.log").read_text()[-2000:]
        assert time.monotonic() < deadline, f"beat {name} sent no tick within {timeout:g} s"
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes], kill: bool = False) -> None:
    process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    process.wait(15)


@pytest.mark.django_db(transaction=True)
def test_two_beats_and_a_restarted_one_fire_each_due_second_once(celery_worker: str, personas: Any,
                                                                 tmp_path: Path) -> None:
    workflow = store(personas, asking())
    schedule = schedules.schedule_create(actor=editor(personas), origin=ORIGIN, workflow=workflow,
                                         cron_expression="* * * * * *", catch_up="all")
    first, second = start_beat(tmp_path, "first"), start_beat(tmp_path, "second")
    try:
        ticking(tmp_path, "first", first)
        ticking(tmp_path, "second", second)
        time.sleep(2)
        stop(first, kill=True)
        restarted = start_beat(tmp_path, "restarted")
        ticking(tmp_path, "restarted", restarted)
        time.sleep(2)
    finally:
        for process in (first, second, locals().get("restarted")):
            if process is not None and process.poll() is None:
                stop(process)
    schedules.schedule_update(actor=editor(personas), origin=ORIGIN, schedule=schedule, enabled=False)
    time.sleep(1)  # a tick still running finishes
    due = list(TriggeredBy.objects.filter(schedule=schedule).order_by("scheduled_for")
               .values_list("scheduled_for", flat=True))
    logs = {path.name: path.read_text()[-1500:] for path in tmp_path.glob("*.log")}
    assert len(due) >= 4, logs
    assert due == [due[0] + dt.timedelta(seconds=index) for index in range(len(due))]
    assert Execution.objects.filter(workflow=workflow, trigger="schedule").count() == len(due)
    assert Schedule.objects.get(pk=schedule.pk).last_due_at == due[-1]
