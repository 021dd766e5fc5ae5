"""Live-event benchmarks: commit → WebSocket client latency through a real daphne, beside a raw
Redis publish → subscribe round trip; what one execution can emit; web process memory per socket.

    python -m bench.run events [--quick]      (or `make bench`)

* latency: an event is written (one transaction, the engine's writer, published after commit
  through the door) while 1 and then 200 WebSocket clients subscribed to the execution, over
  real sockets, wait; each client's receive time minus the commit time, p50 / p99 over every
  (event, client) pair. The clients run in processes of their own (`clients.py`; two for 200
  clients). Baseline: PUBLISH → a SUBSCRIBE client on the same Redis, same run.
* emission: events per second one execution's writer sustains, one event per transaction and
  100 per transaction (the ceiling before any throttling), and what a node calling
  `reporter.progress` / `reporter.log` in a tight loop gets stored per second through the
  lease keeper's throttled flushes.
* memory: daphne's resident memory with 200 idle subscribed sockets, against none.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any, Literal

from bench.server import ROOT, Server

AREA = "events"
# The 200 clients' processes (`bench.events.clients`): two, one per core of the machine the
# targets were set on, so neither the clients nor the writer are the figure's floor.
CLIENT_PROCESSES = int(os.environ.get("BENCH_EVENTS_CLIENT_PROCESSES", "2"))


def _row(name: str, size: Any, unit: str, value: float, *, samples: list[float] | None = None,
         baseline_name: str | None = None, baseline: float | None = None, higher_is_better: bool = False,
         target: float | None = None) -> dict[str, Any]:
    ratio = None
    if baseline and value:
        ratio = value / baseline if higher_is_better else baseline / value
    met = None if target is None else (value >= target if higher_is_better else value <= target)
    row: dict[str, Any] = {"area": AREA, "name": name, "size": size, "unit": unit, "value": round(value, 3),
                           "p50": None, "p95": None, "max": None, "baseline_name": baseline_name,
                           "baseline": round(baseline, 3) if baseline is not None else None,
                           "ratio": round(ratio, 3) if ratio is not None else None, "target": target, "met": met}
    if samples:
        ordered = sorted(samples)
        row["p50"] = round(statistics.median(ordered), 3)
        row["p95"] = round(_percentile(ordered, 0.95), 3)
        row["max"] = round(ordered[-1], 3)
    return row


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


# -- fixtures ------------------------------------------------------------------------------


def _setup() -> tuple[Any, str]:
    """A team, a viewer with an API token, and a running execution to write events to."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from executions.models import Execution
    from symphony_site.actors import Actor, Origin
    from teams.models import Membership, Team
    from teams.roles import Role
    from teams.services import token_create
    from workflows import samples as s
    from workflows.services import workflow_create

    team, _ = Team.objects.get_or_create(slug="bench-events", defaults={"name": "Bench events"})
    user, _ = get_user_model().objects.get_or_create(username="bench-events-owner")
    Membership.objects.get_or_create(team=team, user=user, defaults={"role": Role.OWNER})
    _, key = token_create(actor=Actor.of(user), origin=Origin.command(), name=f"bench-{uuid.uuid4().hex[:8]}")
    workflow = workflow_create(actor=Actor.of(user), origin=Origin.command(), team=team, document=s.workflow(
        f"Bench events {uuid.uuid4().hex[:6]}", [s.node_input("a"), s.node_output("b")],
        [s.data_edge("e1", "a", "value", "b", "value")]))
    now = timezone.now()
    execution = Execution.objects.create(team=team, workflow=workflow, workflow_version=workflow.current_version,
                                         state="running", created_at=now, updated_at=now, started_at=now,
                                         max_parallel=4, node_count=2)
    return execution, key


def _write(execution_id: Any, count: int = 1) -> float:
    """One transaction writing `count` events with the engine's writer; the time it committed."""
    from django.db import transaction

    from executions.engine.events import EventBuffer
    from executions.models import Execution

    with transaction.atomic():
        execution = Execution.objects.select_for_update(no_key=True).only("id", "team_id", "event_seq").get(
            pk=execution_id)
        buffer = EventBuffer(execution.pk, execution.team_id, execution.event_seq)
        for _ in range(count):
            buffer.add("log", "a", {"level": "info", "message": "bench"})
        Execution.objects.filter(pk=execution.pk).update(event_seq=buffer.write())
    return time.monotonic()


class _Clients:
    """WebSocket clients spread over `processes` processes of their own (`bench.events.clients`),
    so their reading and timestamping does not share the benchmark's interpreter."""

    def __init__(self, url: str, processes: int = 1) -> None:
        self.url = url
        self.processes_wanted = processes
        self.processes: list[subprocess.Popen[str]] = []
        self.received: dict[int, list[float]] = {}

    def open(self, count: int) -> None:
        shares = [count // self.processes_wanted + (1 if index < count % self.processes_wanted else 0)
                  for index in range(self.processes_wanted)]
        for share in (share for share in shares if share):
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "bench.events.clients", self.url, str(share)], cwd=ROOT,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        for process in self.processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line or "ready" not in json.loads(line):
                raise RuntimeError(f"a client process did not connect: {line!r}")

    def wait_for(self, seqs: list[int], timeout: float = 60) -> None:
        """Every client has every seq (each process answers once its own clients do)."""
        request = json.dumps({"collect": seqs, "timeout": timeout}) + "\n"
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(request)
            process.stdin.flush()
        for process in self.processes:
            assert process.stdout is not None
            answer = json.loads(process.stdout.readline() or "{}")
            if "received" not in answer:
                raise RuntimeError(answer.get("error", "a client process ended"))
            for seq, times in answer["received"].items():
                self.received.setdefault(int(seq), []).extend(times)

    def close(self) -> None:
        for process in self.processes:
            assert process.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write(json.dumps({"close": True}) + "\n")
                process.stdin.flush()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


# -- measurements ----------------------------------------------------------------------------


def _redis_round_trips(count: int) -> list[float]:
    import redis.asyncio as aioredis
    from django.conf import settings

    async def measure() -> list[float]:
        client = aioredis.from_url(settings.REDIS_URL)
        pubsub = client.pubsub()
        channel = f"bench-events-{uuid.uuid4().hex}"
        await pubsub.subscribe(channel)
        await pubsub.get_message(timeout=1)
        samples = []
        for index in range(count):
            sent = time.monotonic()
            await client.publish(channel, str(index))
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
                if message is not None:
                    break
            samples.append((time.monotonic() - sent) * 1000)
            await asyncio.sleep(0.005)
        await pubsub.unsubscribe(channel)
        await client.aclose()
        return samples

    return asyncio.run(measure())


def _latency(execution: Any, clients: _Clients, *, events: int, spacing_s: float) -> list[float]:
    from executions.models import Execution

    first = Execution.objects.values_list("event_seq", flat=True).get(pk=execution.pk) + 1
    committed: dict[int, float] = {}
    for offset in range(events):
        committed[first + offset] = _write(execution.pk)
        time.sleep(spacing_s)
    seqs = list(committed)
    clients.wait_for(seqs)
    return [(received - committed[seq]) * 1000 for seq in seqs for received in clients.received.pop(seq)]


def _emission(execution: Any, *, seconds: float) -> list[dict[str, Any]]:
    from django.conf import settings

    rows = []
    for per_transaction in (1, 100):
        written, started = 0, time.monotonic()
        while time.monotonic() - started < seconds:
            _write(execution.pk, per_transaction)
            written += per_transaction
        rate = written / (time.monotonic() - started)
        rows.append(_row(f"event writes, one execution, {per_transaction} per transaction", per_transaction,
                         "events/s", rate, higher_is_better=True))
    rows.append(_chatty_node(execution, seconds=seconds, per_second=settings.EXECUTION_PROGRESS_PER_SECOND))
    return rows


def _chatty_node(execution: Any, *, seconds: float, per_second: float) -> dict[str, Any]:
    """A node calling progress() and log() as fast as it can, through the real lease keeper."""
    from django.utils import timezone

    from executions.engine.leases import EngineReporter, RunningNode, keeper
    from executions.models import ExecutionEvent, NodeRun

    run_, _ = NodeRun.objects.update_or_create(
        execution=execution, node_id="a", defaults={"node_kind": "input", "node_type": "input", "state": "running",
                                                    "attempt": 1, "lease_owner": "bench/owner", "log_lines": 0,
                                                    "lease_expires_at": timezone.now() + timezone.timedelta(hours=1)})
    before = ExecutionEvent.objects.filter(execution=execution, node_id="a", type="node.progress").count()
    running = RunningNode(run_id=run_.pk, execution_id=execution.pk, node_id="a", owner="bench/owner", deadline=None)
    reporter = EngineReporter(running)
    lease_keeper = keeper()
    lease_keeper.register(running)
    calls, started = 0, time.monotonic()
    while time.monotonic() - started < seconds:
        reporter.progress((calls % 1000) / 1000, "working")
        reporter.log("info", "chatter")
        calls += 2
    elapsed = time.monotonic() - started
    running.final_reports()
    lease_keeper.unregister(running)
    stored = ExecutionEvent.objects.filter(execution=execution, node_id="a", type="node.progress").count() - before
    # The target is the cap: at most EXECUTION_PROGRESS_PER_SECOND stored, however many calls.
    return _row("chatty node: progress events stored per second (cap)", f"{calls / elapsed:,.0f} calls/s",
                "events/s", stored / elapsed, baseline_name="reporter calls/s", baseline=calls / elapsed,
                target=per_second)


def _load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _fan_out(server: Server, execution: Any, key: str, *, quick: bool, redis_p50: float,
             redis_p99: float) -> list[dict[str, Any]]:
    label = "daphne, 1 process" if server.kind == "daphne" else f"uvicorn, {server.workers} processes"
    rows: list[dict[str, Any]] = []
    url = f"ws://127.0.0.1:{server.port}/ws/executions/{execution.pk}/?token={key}"
    for receivers, events, spacing in ((1, 60 if quick else 300, 0.01), (200, 10 if quick else 60, 0.1)):
        clients = _Clients(url, processes=CLIENT_PROCESSES if receivers > 1 else 1)
        idle_before = server.rss_kib()
        clients.open(receivers)
        time.sleep(1.0)
        idle_after = server.rss_kib()
        _latency(execution, clients, events=5, spacing_s=spacing)  # warm-up
        samples = sorted(_latency(execution, clients, events=events, spacing_s=spacing))
        clients.close()
        load = _load_average()
        print(f"{label}, {receivers} client(s): {len(samples)} deliveries, p50 {statistics.median(samples):.1f} ms,"
              f" p99 {_percentile(samples, 0.99):.1f} ms (load average {load})", flush=True)
        size = f"{receivers} client(s), {events} events, {label}"
        for row in (_row(f"commit → client p50, {receivers} client(s), {label}", size, "ms",
                         statistics.median(samples), samples=samples, baseline_name="Redis round trip p50",
                         baseline=redis_p50, target=15),
                    _row(f"commit → client p99, {receivers} client(s), {label}", size, "ms",
                         _percentile(samples, 0.99), samples=samples, baseline_name="Redis round trip p99",
                         baseline=redis_p99, target=50)):
            row["load_average"] = load
            rows.append(row)
        if receivers == 200:
            rows.append(_row(f"web resident memory with 200 idle sockets, {label}", "200 sockets", "KiB",
                             idle_after, baseline_name="with no socket", baseline=idle_before))
            rows.append(_row(f"web memory per idle socket, {label}", "200 sockets", "KiB",
                             (idle_after - idle_before) / 200))
        time.sleep(1.0)
    return rows


def run(quick: bool = False) -> list[dict[str, Any]]:
    import websockets  # noqa: F401  (fail early when the dev dependency is missing)

    execution, key = _setup()
    print(f"execution {execution.pk}; raw Redis round trips (load average {_load_average()})", flush=True)
    redis_samples = sorted(_redis_round_trips(100 if quick else 500))
    redis_p50, redis_p99 = statistics.median(redis_samples), _percentile(redis_samples, 0.99)
    rows: list[dict[str, Any]] = [
        _row("raw Redis publish → subscribe round trip p50", 1, "ms", redis_p50, samples=redis_samples),
        _row("raw Redis publish → subscribe round trip p99", 1, "ms", redis_p99, samples=redis_samples),
    ]
    # One daphne process (how the web ran before), then the production server, same run.
    workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
    kinds: tuple[tuple[Literal["daphne", "uvicorn"], int], ...] = (("daphne", 1), ("uvicorn", workers))
    for kind, count in kinds:
        server = Server(kind, count, log=f"bench-events-{kind}.log")
        try:
            rows += _fan_out(server, execution, key, quick=quick, redis_p50=redis_p50, redis_p99=redis_p99)
        finally:
            server.stop()
    rows += _emission(execution, seconds=1.0 if quick else 3.0)
    return rows
