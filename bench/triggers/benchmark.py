"""Triggers: webhook accept latency and throughput beside `/healthz`, and scheduling lag.

* **Webhook accept**: a daphne process (HTTP, as in production) and a Celery worker; one
  client calls a hook's URL (`POST /hooks/{token}/`, unsigned, a two-node workflow) and
  `/healthz` alternately for latency p50/p95, then several clients call each for a fixed
  time for calls per second. `/healthz` (database, Redis and worker checks) is the
  baseline measured in the same run on the same server.
* **Scheduling lag**: per-second schedules (`* * * * * *`) run by a real beat and worker
  for a minute; the lag of each fire is its execution's `started_at` minus the due time.
  The baseline is a raw Celery task sent with an ETA at each due second (what the broker
  and worker add on their own), measured in the same run.

    python -m bench.triggers [--quick]
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

from bench.engine.benchmark import ROOT, WorkerGroup, row, running, worker_env
from bench.server import Server

AREA = "triggers"
WORKFLOW = {"name": "Bench trigger", "nodes": [
    {"id": "in", "kind": "input", "name": "in", "data_type": "any", "required": False},
    {"id": "out", "kind": "output", "name": "out", "data_type": "any"}],
    "edges": [{"id": "e0", "kind": "data", "source": "in", "source_port": "value", "target": "out",
               "target_port": "value"}]}


def _rows(name: str, size: Any, unit: str, samples: list[float], baseline_name: str, baseline: list[float],
          **extra: Any) -> dict[str, Any]:
    value = statistics.median(samples) if samples else None
    result = row(name, size, unit, value, samples=samples, baseline_name=baseline_name,
                 baseline=statistics.median(baseline) if baseline else None, higher_is_better=False, **extra)
    result["area"] = AREA
    return result


class ProbeWorkers(WorkerGroup):
    """The engine benchmark's worker, with the probe task of the lag baseline loaded too."""

    def start(self) -> float:
        self.name = f"bench-{uuid.uuid4().hex[:6]}@localhost"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "symphony_site", "worker", "-Q", "steps,io,models,control",
             "--pool=prefork", f"--concurrency={self.concurrency}",
             "--include=bench.engine.tasks,bench.triggers.tasks", "--loglevel=WARNING", f"--hostname={self.name}",
             "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark worker did not start")
        return time.monotonic()


def _call(connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None) -> tuple[int, float]:
    started = time.perf_counter()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    connection.request(method, path, body=body, headers=headers)
    answer = connection.getresponse()
    answer.read()
    return answer.status, (time.perf_counter() - started) * 1000


def _throughput(port: int, method: str, path: str, body: bytes | None, *, clients: int, seconds: float,
                expected: int) -> float:
    counts = [0] * clients
    stop_at = time.monotonic() + seconds

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at:
            status, _ = _call(connection, method, path, body)
            if status == expected:
                counts[index] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def _bench_team() -> tuple[Any, Any]:
    from django.contrib.auth import get_user_model

    from symphony_site.actors import Actor
    from teams.models import Membership, Team

    team, _ = Team.objects.get_or_create(slug="bench-triggers", defaults={"name": "Bench triggers"})
    user, _ = get_user_model().objects.get_or_create(username="bench-triggers-editor")
    Membership.objects.get_or_create(team=team, user=user, defaults={"role": "owner"})
    return team, Actor.of(user)


def webhook_accept(quick: bool) -> list[dict[str, Any]]:
    from executions.models import Webhook
    from executions.triggers.services.webhooks import webhook_create
    from symphony_site.actors import Origin
    from workflows.services import workflow_create

    team, actor = _bench_team()
    workflow = workflow_create(actor=actor, origin=Origin.command(), team=team,
                               document={**WORKFLOW, "name": f"Bench webhook {uuid.uuid4().hex[:6]}"})
    issued = webhook_create(actor=actor, origin=Origin.command(), workflow=workflow)
    # The benchmark measures acceptance, not the per-hook rate limit.
    Webhook.objects.filter(pk=issued.webhook.pk).update(rate_limit_per_minute=10**9)
    hook_path, body = f"/hooks/{issued.token}/", json.dumps({"in": 1}).encode()
    calls, seconds, clients = (40, 3.0, 4) if quick else (300, 10.0, 4)
    env = worker_env()
    with running(WorkerGroup(env), with_beat=False):
        server = Server("daphne", env={**env, "ALLOWED_HOSTS": "127.0.0.1,localhost"})
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            for _ in range(10):  # warm-up
                _call(connection, "POST", hook_path, body)
                _call(connection, "GET", "/healthz", None)
            hook_ms, health_ms = [], []
            for _ in range(calls):
                status, took = _call(connection, "POST", hook_path, body)
                assert status == 202, status
                hook_ms.append(took)
                status, took = _call(connection, "GET", "/healthz", None)
                assert status == 200, status
                health_ms.append(took)
            connection.close()
            hook_rate = _throughput(server.port, "POST", hook_path, body, clients=clients, seconds=seconds,
                                    expected=202)
            health_rate = _throughput(server.port, "GET", "/healthz", None, clients=clients, seconds=seconds,
                                      expected=200)
        finally:
            server.stop()
    accept = _rows("webhook accept latency (one client, p50)", f"{calls} calls, 10 warm-up", "ms", hook_ms,
                   "/healthz latency (p50)", health_ms)
    accept["baseline_p95"] = round(sorted(health_ms)[int(len(health_ms) * 0.95)], 3)
    rate = row("webhook accepted calls per second", f"{clients} clients x {seconds:g} s", "calls/s", hook_rate,
               baseline_name="/healthz calls per second", baseline=health_rate)
    rate["area"] = AREA
    return [accept, rate]


def scheduling_lag(quick: bool) -> list[dict[str, Any]]:
    from django.db import connection

    from executions.models import Schedule
    from executions.triggers.services.schedules import schedule_create
    from symphony_site.actors import Origin
    from workflows.services import workflow_create

    team, actor = _bench_team()
    seconds, count = (15, 2) if quick else (60, 3)
    workflow = workflow_create(actor=actor, origin=Origin.command(), team=team,
                               document={**WORKFLOW, "name": f"Bench schedule {uuid.uuid4().hex[:6]}"})
    env = worker_env()
    probe_key = f"bench:trigger-probe:{uuid.uuid4().hex[:8]}"
    with running(ProbeWorkers(env, concurrency=2), with_beat=True):
        made = [schedule_create(actor=actor, origin=Origin.command(), workflow=workflow,
                                cron_expression="* * * * * *", catch_up="skip") for _ in range(count)]
        _send_probes(probe_key, seconds)
        time.sleep(seconds)
        for schedule in made:
            Schedule.objects.filter(pk=schedule.pk).update(enabled=False, next_run_at=None)
        time.sleep(3)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT extract(epoch FROM e.started_at - t.scheduled_for) * 1000 FROM executions_triggeredby AS t "
            "JOIN executions_execution AS e ON e.id = t.execution_id WHERE t.schedule_id = ANY(%s) "
            "AND e.started_at IS NOT NULL", [[schedule.pk for schedule in made]])
        lags = [float(value) for (value,) in cursor.fetchall()]
    probes = _probe_lags(probe_key)
    # Beat and worker take a few seconds to start: their first due times are late by that much.
    lags_steady = lags[count * 5:] if len(lags) > count * 10 else lags
    result = _rows("scheduling lag, due time to execution started (p50)",
                   f"{count} per-second schedules x {seconds} s ({len(lags_steady)} fires)", "ms", lags_steady,
                   "raw Celery task with an ETA at the due second (p50)", probes)
    return [result]


def _send_probes(key: str, seconds: int) -> None:
    from bench.triggers.tasks import probe

    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=8)
    for offset in range(seconds - 8):
        due = start + dt.timedelta(seconds=offset)
        probe.apply_async(args=[key, due.timestamp()], eta=due)


def _probe_lags(key: str) -> list[float]:
    from bench.engine.tasks import client

    return [float(value) for value in client().lrange(key, 0, -1)]


def run(quick: bool = False) -> list[dict[str, Any]]:
    os.environ.setdefault("BENCH", "1")
    return [*webhook_accept(quick), *scheduling_lag(quick)]

