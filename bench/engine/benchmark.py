"""Engine benchmarks, each beside raw Celery on the same broker and the same worker processes.

    python -m bench.run engine [--quick]      (or `make bench`)

Starts its own worker (prefork, 2 processes, every engine queue plus the raw baselines'
tasks) and a beat (the reaper), against the benchmark database and Redis of `make bench`:

* node steps/s on a 1,000-node wide workflow of no-op operators vs raw no-op tasks/s;
* per-node hand-off on a 500-node chain (p50/p95) vs a raw self-chaining task, with cheap
  steps run inline (the default) and without;
* two-node executions/s, start to completed (started from four processes of their own);
* control command to effect (pause, resume → next node running, cancel → running node stopped);
* SIGKILL of the worker process running a node → the node running again;
* a 10,000-node workflow to completion (wall time, steps/s, peak memory per process), then the
  same with every worker killed mid-run and started again (work resuming after they are back).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from itertools import pairwise
from pathlib import Path
from typing import Any

AREA = "engine"
ROOT = Path(__file__).resolve().parents[2]
# Faster recovery than production defaults, so the fault figures take seconds, not minutes.
ENGINE_ENV = {"EXECUTION_LEASE_S": "5", "EXECUTION_REDISPATCH_AFTER_S": "5", "EXECUTION_STOP_POLL_S": "0.1",
              "EXECUTION_REAPER_INTERVAL_S": "0.5"}


def row(name: str, size: Any, unit: str, value: float | None, *, samples: list[float] | None = None,
        baseline_name: str | None = None, baseline: float | None = None, higher_is_better: bool = True,
        target: float | None = None, target_on: str = "value") -> dict[str, Any]:
    ordered = sorted(samples or [])
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] if ordered else None
    ratio = None
    if baseline and value:
        ratio = value / baseline if higher_is_better else baseline / value
    checked = p95 if target_on == "p95" else value
    met = None
    if target is not None and checked is not None:
        met = checked >= target if higher_is_better else checked <= target
    return {"area": AREA, "name": name, "size": size, "unit": unit,
            "value": None if value is None else round(value, 3),
            "p50": round(statistics.median(ordered), 3) if ordered else None,
            "p95": None if p95 is None else round(p95, 3), "max": round(ordered[-1], 3) if ordered else None,
            "baseline_name": baseline_name, "baseline": None if baseline is None else round(baseline, 3),
            "ratio": None if ratio is None else round(ratio, 3), "target": target, "met": met}


# --------------------------------------------------------------------------- processes


class WorkerGroup:
    """One `celery worker` (prefork) consuming the engine's queues, with the baseline tasks loaded."""

    def __init__(self, env: dict[str, str], concurrency: int = 2) -> None:
        self.env = env
        self.concurrency = concurrency
        self.process: subprocess.Popen[bytes] | None = None
        self.name = ""

    def start(self) -> float:
        """Start and wait until it answers a ping; answers the time it became ready."""
        self.name = f"bench-{uuid.uuid4().hex[:6]}@localhost"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "symphony_site", "worker", "-Q", "steps,io,models,control",
             "--pool=prefork", f"--concurrency={self.concurrency}", "--include=bench.engine.tasks",
             "--loglevel=WARNING", f"--hostname={self.name}", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark worker did not start")
        return time.monotonic()

    def answers(self) -> bool:
        from django.conf import settings

        from symphony_site.celery import app

        with app.connection_for_write(settings.CELERY_BROKER_URL) as connection:
            replies = app.control.ping(destination=[self.name], timeout=0.3, connection=connection)
        return any(self.name in reply for reply in replies)

    def children(self) -> list[int]:
        assert self.process is not None
        try:
            with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as file:
                return [int(pid) for pid in file.read().split()]
        except OSError:
            return []

    def peak_memory_mb(self) -> dict[str, float]:
        assert self.process is not None
        found = {"worker main": _peak_mb(self.process.pid)}
        for number, pid in enumerate(self.children(), 1):
            found[f"worker process {number}"] = _peak_mb(pid)
        return found

    def kill_all(self) -> None:
        assert self.process is not None
        for pid in [*self.children(), self.process.pid]:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill_all()


def _peak_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@contextmanager
def running(workers: WorkerGroup, with_beat: bool = True) -> Iterator[WorkerGroup]:
    beat = None
    try:
        workers.start()
        if with_beat:
            schedule = ROOT / "var" / f"bench-beat-{uuid.uuid4().hex[:6]}"
            beat = subprocess.Popen([sys.executable, "-m", "celery", "-A", "symphony_site", "beat",
                                     "--loglevel=WARNING", "--schedule", str(schedule)],
                                    cwd=ROOT, env=workers.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        yield workers
    finally:
        workers.stop()
        if beat is not None:
            beat.terminate()
            beat.wait(timeout=15)
            for leftover in (ROOT / "var").glob("bench-beat-*"):
                leftover.unlink(missing_ok=True)


def worker_env(**extra: str) -> dict[str, str]:
    from django.conf import settings

    database = settings.DATABASES["default"]
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.engine.settings", "DATABASE_URL": url,
            "REDIS_URL": settings.REDIS_URL, **ENGINE_ENV, **extra}


# --------------------------------------------------------------------------- fixtures


class Bench:
    """The team, user and stored workflows the runs use."""

    def __init__(self) -> None:
        from django.contrib.auth import get_user_model

        from symphony_site.actors import Actor, Origin
        from teams.models import Membership, Team

        self.team, _ = Team.objects.get_or_create(slug="bench-engine", defaults={"name": "Bench engine"})
        user, _ = get_user_model().objects.get_or_create(username="bench-engine-operator")
        Membership.objects.get_or_create(team=self.team, user=user, defaults={"role": "owner"})
        self.actor = Actor.of(user)
        self.origin = Origin.command()
        self.workflows: dict[str, Any] = {}

    def workflow(self, document: dict[str, Any]) -> Any:
        from workflows.services import workflow_create

        key = document["name"]
        if key not in self.workflows:
            self.workflows[key] = workflow_create(actor=self.actor, origin=self.origin, team=self.team,
                                                  document={**document, "name": f"{key} {uuid.uuid4().hex[:6]}"})
        return self.workflows[key]

    def start(self, workflow: Any, inputs: dict[str, Any] | None = None) -> Any:
        from executions.services import execution_start

        return execution_start(actor=self.actor, origin=self.origin, workflow=workflow, inputs=inputs or {"in": 1})

    def command(self, execution: Any, name: str, **arguments: Any) -> Any:
        from executions.services import execution_command

        return execution_command(actor=self.actor, origin=self.origin, execution=execution, command=name,
                                 **arguments)


def wait(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.005) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def finished(execution_id: Any, timeout: float = 600) -> Any:
    from executions.models import Execution

    def done() -> Any:
        found = Execution.objects.only("state", "started_at", "finished_at", "created_at").get(pk=execution_id)
        return found if found.state in ("completed", "failed", "cancelled") else None

    result = wait(done, timeout, f"execution {execution_id}", interval=0.02)
    if result.state != "completed":
        raise RuntimeError(f"execution {execution_id} ended {result.state}")
    return result


def redis_client() -> Any:
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.REDIS_URL)


# --------------------------------------------------------------------------- figures


def throughput(bench: Bench, width: int) -> tuple[float, float]:
    """Engine node steps/s on a wide workflow, and raw no-op tasks/s, same workers."""
    from bench.engine import generate
    from bench.engine.tasks import noop
    from executions.models import NodeRun
    from symphony_site.events import send_task_on_commit

    workflow = bench.workflow(generate.wide(width))
    finished(bench.start(workflow).pk)  # warm-up: compiles the version in the worker processes
    started = time.perf_counter()
    execution = bench.start(workflow)
    finished(execution.pk)
    engine_seconds = time.perf_counter() - started
    steps = NodeRun.objects.filter(execution=execution).count()

    client = redis_client()
    key = f"bench:noop:{uuid.uuid4().hex}"
    started = time.perf_counter()
    for _ in range(width):
        send_task_on_commit(noop, args=[key], queue="steps")
    wait(lambda: int(client.get(key) or 0) >= width, 300, "the raw no-op tasks", interval=0.002)
    raw_seconds = time.perf_counter() - started
    client.delete(key)
    return steps / engine_seconds, width / raw_seconds


def hand_off(bench: Bench, length: int) -> list[float]:
    """Milliseconds between the starts of consecutive nodes of a chain."""
    from bench.engine import generate
    from executions.models import NodeRun

    workflow = bench.workflow(generate.chain(length))
    execution = bench.start(workflow)
    finished(execution.pk)
    started = {node_id: at for node_id, at in NodeRun.objects.filter(execution=execution)
               .values_list("node_id", "started_at")}
    ordered = [started["in"]] + [started[f"n{i}"] for i in range(length)]
    return [(after - before).total_seconds() * 1000 for before, after in pairwise(ordered)]


def raw_hand_off(length: int) -> list[float]:
    from bench.engine.tasks import hop
    from symphony_site.events import send_task_on_commit

    client = redis_client()
    key = f"bench:hop:{uuid.uuid4().hex}"
    send_task_on_commit(hop, args=[key, length - 1], queue="steps")
    wait(lambda: client.llen(key) >= length, 300, "the raw self-chain", interval=0.005)
    times = [float(value) for value in client.lrange(key, 0, -1)]
    client.delete(key)
    return [(after - before) * 1000 for before, after in pairwise(times)]


def executions_per_second(bench: Bench, count: int, starters: int = 4) -> float:
    """Two-node executions started from `starters` processes of their own (`starter.py`), from the
    first start to the last completion."""
    import json

    from bench.engine import cpu, generate
    from executions.models import Execution

    workflow = bench.workflow(generate.two_nodes())
    finished(bench.start(workflow).pk)  # warm-up: compiles the version in the worker processes
    # The starters' log lines (with inline starts, a `node.attempt` line per node they run) go to
    # a file, as the workers' go to /dev/null: not through this process's stderr, whose reader
    # (a terminal, a pipe) would slow them down.
    log = open(ROOT / "var" / "bench-starters.log", "a")  # noqa: SIM115 (closed below)
    processes = [subprocess.Popen([sys.executable, "-m", "bench.engine.starter", str(workflow.pk),
                                   str(count // starters)], cwd=ROOT, env=worker_env(), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=log, text=True) for _ in range(starters)]
    ids: list[Any] = []
    accounting = os.environ.get("BENCH_ENGINE_CPU") == "1"  # CPU per process group (bench/engine/cpu.py)
    try:
        for process in processes:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError("a starter process did not get ready")
        before = cpu.Snapshot.take() if accounting else None
        started = time.perf_counter()
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        for process in processes:
            assert process.stdout is not None
            ids.extend(json.loads(process.stdout.readline() or "[]"))
        starts_s = time.perf_counter() - started
        if len(ids) != count // starters * starters:
            raise RuntimeError(f"the starters started {len(ids)} executions")
        wait(lambda: not Execution.objects.filter(pk__in=ids).exclude(state="completed").exists(), 300,
             "the two-node executions", interval=0.01)
        seconds = time.perf_counter() - started
        if before is not None:
            print(cpu.report(cpu.Snapshot.take().since(before), len(ids), seconds), file=sys.stderr, flush=True)
            print(f"  the starters were done after {starts_s:.2f} s; {cpu.latencies(ids)}", file=sys.stderr, flush=True)
            if os.environ.get("BENCH_ENGINE_TIMELINE") == "1":
                print(cpu.timeline(ids), file=sys.stderr, flush=True)
    finally:
        for process in processes:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout=60)
        log.close()
    return len(ids) / seconds


def command_effects(bench: Bench, repetitions: int) -> dict[str, list[float]]:
    """Pause (committed), resume → the next node running, cancel → the running node stopped."""
    from executions.models import NodeRun

    def delays(count: int, milliseconds: int) -> dict[str, Any]:
        nodes = [{"id": "in", "kind": "input", "data_type": "any"}] + [
            {"id": f"d{i}", "kind": "operator", "operator": "delay", "config": {"milliseconds": milliseconds}}
            for i in range(count)]
        edges = [{"id": "e0", "kind": "data", "source": "in", "source_port": "value", "target": "d0",
                  "target_port": "value"}] + [
            {"id": f"e{i}", "kind": "data", "source": f"d{i - 1}", "source_port": "value", "target": f"d{i}",
             "target_port": "value"} for i in range(1, count)]
        return {"name": f"Delays {count}x{milliseconds}", "nodes": nodes, "edges": edges}

    samples: dict[str, list[float]] = {"pause": [], "resume": [], "cancel": []}
    workflow = bench.workflow(delays(2, 200))
    for _ in range(repetitions):
        execution = bench.start(workflow)
        wait(lambda execution=execution: NodeRun.objects.filter(execution=execution, node_id="d0", state="running").exists(), 30, "d0")
        started = time.perf_counter()
        bench.command(execution, "pause")
        samples["pause"].append((time.perf_counter() - started) * 1000)
        wait(lambda execution=execution: NodeRun.objects.filter(execution=execution, node_id="d0", state="completed").exists(), 30,
             "d0 to finish")
        started = time.perf_counter()
        bench.command(execution, "resume")
        wait(lambda execution=execution: NodeRun.objects.filter(execution=execution, node_id="d1", state="running").exists(), 30,
             "d1 to start")
        samples["resume"].append((time.perf_counter() - started) * 1000)
        finished(execution.pk)
    long_workflow = bench.workflow(delays(1, 30_000))
    for _ in range(repetitions):
        execution = bench.start(long_workflow)
        wait(lambda execution=execution: NodeRun.objects.filter(execution=execution, node_id="d0", state="running").exists(), 30, "d0")
        started = time.perf_counter()
        bench.command(execution, "cancel", reason="benchmark")
        wait(lambda execution=execution: NodeRun.objects.filter(execution=execution, node_id="d0", state="skipped").exists(), 30,
             "the node to stop", interval=0.002)
        samples["cancel"].append((time.perf_counter() - started) * 1000)
    return samples


def kill_recovery(bench: Bench, workers: WorkerGroup, repetitions: int) -> list[float]:
    """Milliseconds from SIGKILL of the process running a node to that node running again."""
    from executions.models import NodeRun

    workflow = bench.workflow({"name": "Killed", "nodes": [
        {"id": "in", "kind": "input", "data_type": "any"},
        {"id": "slow", "kind": "operator", "operator": "delay", "config": {"milliseconds": 1500}}],
        "edges": [{"id": "e0", "kind": "data", "source": "in", "source_port": "value", "target": "slow",
                   "target_port": "value"}]})
    samples = []
    for _ in range(repetitions):
        execution = bench.start(workflow)
        first = wait(lambda execution=execution: NodeRun.objects.filter(execution=execution, node_id="slow", state="running",
                                                    attempt=1).first(), 30, "the node to run")
        pid = int(first.lease_owner.split("/")[2])
        killed = time.perf_counter()
        os.kill(pid, signal.SIGKILL)
        wait(lambda execution=execution: NodeRun.objects.filter(execution=execution, node_id="slow", state="running",
                                            attempt=2).exists(), 60, "the node to run again", interval=0.002)
        samples.append((time.perf_counter() - killed) * 1000)
        finished(execution.pk)
        wait(lambda: len(workers.children()) >= workers.concurrency, 30, "the pool to refill")
    return samples


def large_run(bench: Bench, levels: int, width: int) -> tuple[float, int]:
    from bench.engine import generate
    from executions.models import NodeRun

    workflow = bench.workflow(generate.layered(levels, width))
    started = time.perf_counter()
    execution = bench.start(workflow)
    finished(execution.pk, timeout=1800)
    return time.perf_counter() - started, NodeRun.objects.filter(execution=execution).count()


def large_run_with_restart(bench: Bench, workers: WorkerGroup, levels: int, width: int) -> dict[str, float]:
    """Kill every worker process a third of the way through; start them again after a pause.
    Answers how long until a node started after they were back, and the whole run's wall time."""
    from bench.engine import generate
    from executions.models import ExecutionEvent, NodeRun

    workflow = bench.workflow(generate.layered(levels, width))
    total = levels * width + 1
    started = time.perf_counter()
    execution = bench.start(workflow)
    wait(lambda execution=execution: NodeRun.objects.filter(execution=execution, state="completed").count() >= total // 3, 1800,
         "a third of the nodes", interval=0.1)
    workers.kill_all()
    time.sleep(2.0)
    workers.start()
    back_at_wall = time.time()
    last_seq = ExecutionEvent.objects.filter(execution=execution).order_by("-seq").values_list("seq", flat=True)[0]

    def resumed() -> Any:
        return ExecutionEvent.objects.filter(execution=execution, type="node.started", seq__gt=last_seq).first()

    first = wait(resumed, 120, "work to resume", interval=0.002)
    # A worker may take work before it answers the ping that says it is back: that counts as 0.
    resume_seconds = max(0.0, first.at.timestamp() - back_at_wall)
    finished(execution.pk, timeout=1800)
    return {"resume_s": resume_seconds, "wall_s": time.perf_counter() - started}


# --------------------------------------------------------------------------- the run


def run(quick: bool = False) -> list[dict[str, Any]]:
    from django.conf import settings

    for name, value in ENGINE_ENV.items():  # this process starts executions and reads the same clocks
        setattr(settings, name, float(value))
    settings.DEBUG = False  # as deployed, like the workers (bench/engine/settings.py): no query recording
    width, chain_length, two_node_count, repetitions = (100, 50, 40, 3) if quick else (1000, 500, 400, 20)
    # 99 levels of 101 no-ops and the input: the platform's 10,000-node limit exactly.
    levels, level_width = (10, 50) if quick else (99, 101)
    bench = Bench()
    rows: list[dict[str, Any]] = []

    # BENCH_ENGINE_ONLY="wide workflow;chain;…" measures only the phases named (their names below).
    only = {name.strip() for name in os.environ.get("BENCH_ENGINE_ONLY", "").split(";") if name.strip()}

    def phase(name: str, measure: Callable[[], list[dict[str, Any]]]) -> None:
        """One figure's rows; a phase that fails says so in the table instead of losing the rest."""
        if only and name not in only:
            return
        try:
            rows.extend(measure())
        except Exception as error:
            traceback.print_exc()
            rows.append(row(f"{name} (failed: {type(error).__name__}: {error})"[:150], None, "", None))

    raw_rate: list[float] = []
    wall: list[float] = []

    def wide() -> list[dict[str, Any]]:
        engine, raw = throughput(bench, width)
        raw_rate.append(raw)
        return [row("node steps/s, wide workflow of no-ops", width + 1, "steps/s", engine,
                    baseline_name="raw Celery no-op tasks/s", baseline=raw, target=round(raw * 0.5, 1))]

    def chain() -> list[dict[str, Any]]:
        raw = raw_hand_off(chain_length)
        inline = hand_off(bench, chain_length)
        return [row("chain hand-off per node, cheap steps inline", chain_length, "ms", statistics.median(inline),
                    samples=inline, baseline_name="raw self-chaining task, p50", baseline=statistics.median(raw),
                    higher_is_better=False, target=30.0, target_on="p95"),
                row("raw self-chaining task per hop", chain_length, "ms", statistics.median(raw), samples=raw,
                    higher_is_better=False)]

    def small_executions() -> list[dict[str, Any]]:
        return [row("two-node executions/s, start to completed", two_node_count, "executions/s",
                    executions_per_second(bench, two_node_count), target=100.0)]

    def commands() -> list[dict[str, Any]]:
        effects = command_effects(bench, repetitions)
        return [row("command to effect: pause committed", repetitions, "ms", statistics.median(effects["pause"]),
                    samples=effects["pause"], higher_is_better=False, target=100.0, target_on="p95"),
                row("command to effect: resume → next node running", repetitions, "ms",
                    statistics.median(effects["resume"]), samples=effects["resume"], higher_is_better=False,
                    target=100.0, target_on="p95"),
                row("command to effect: cancel → running node stopped", repetitions, "ms",
                    statistics.median(effects["cancel"]), samples=effects["cancel"], higher_is_better=False)]

    def recovery(workers: WorkerGroup) -> list[dict[str, Any]]:
        samples = kill_recovery(bench, workers, max(3, repetitions // 4))
        return [row("SIGKILLed worker → node running again", len(samples), "ms", statistics.median(samples),
                    samples=samples, higher_is_better=False)]

    def large(workers: WorkerGroup) -> list[dict[str, Any]]:
        seconds, steps = large_run(bench, levels, level_width)
        wall.append(seconds)
        found = [row(f"{steps:,}-node workflow to completion", steps, "s", seconds, higher_is_better=False),
                 row(f"{steps:,}-node workflow steps/s", steps, "steps/s", steps / seconds,
                     baseline_name="raw Celery no-op tasks/s", baseline=raw_rate[0] if raw_rate else None)]
        for process, megabytes in workers.peak_memory_mb().items():
            found.append(row(f"peak memory, {process}", steps, "MB", megabytes, higher_is_better=False))
        return found

    def large_killed(workers: WorkerGroup) -> list[dict[str, Any]]:
        restarted = large_run_with_restart(bench, workers, levels, level_width)
        steps = levels * level_width + 1
        return [row("every worker killed mid-run: work resumed after they were back", steps, "s",
                    restarted["resume_s"], higher_is_better=False, target=1.0),
                row(f"{steps:,}-node workflow with the kill, to completion", steps, "s", restarted["wall_s"],
                    higher_is_better=False, baseline_name="without the kill", baseline=wall[0] if wall else None)]

    def without_inline() -> list[dict[str, Any]]:
        settings.EXECUTION_INLINE_MAX = 0
        try:
            no_inline = hand_off(bench, chain_length)
            raw_again = raw_hand_off(chain_length)
            engine_rate, raw = throughput(bench, width)
        finally:
            settings.EXECUTION_INLINE_MAX = 1
        return [row("chain hand-off per node, every step through the broker", chain_length, "ms",
                    statistics.median(no_inline), samples=no_inline,
                    baseline_name="raw self-chaining task, p50", baseline=statistics.median(raw_again),
                    higher_is_better=False, target=round(2.5 * statistics.median(raw_again), 2)),
                row("node steps/s, wide workflow, every step through the broker", width + 1, "steps/s",
                    engine_rate, baseline_name="raw Celery no-op tasks/s (same run)", baseline=raw)]

    def unbatched() -> list[dict[str, Any]]:
        engine_rate, raw = throughput(bench, width)
        return [row("node steps/s, wide workflow, one run per claim and record (EXECUTION_BATCH_MAX=1)",
                    width + 1, "steps/s", engine_rate, baseline_name="raw Celery no-op tasks/s (same run)",
                    baseline=raw, target=round(raw * 0.5, 1))]

    def wanted(*names: str) -> bool:
        return not only or bool(only & set(names))

    main_phases = ("wide workflow", "chain", "two-node executions", "commands", "SIGKILL recovery",
                   "10,000-node workflow", "10,000-node workflow, workers killed")
    if wanted(*main_phases):
        with running(WorkerGroup(worker_env())) as workers:
            phase("wide workflow", wide)
            phase("chain", chain)
            phase("two-node executions", small_executions)
            phase("commands", commands)
            phase("SIGKILL recovery", lambda: recovery(workers))
            phase("10,000-node workflow", lambda: large(workers))
            phase("10,000-node workflow, workers killed", lambda: large_killed(workers))

    if wanted("without inline steps"):
        with running(WorkerGroup(worker_env(EXECUTION_INLINE_MAX="0")), with_beat=False):
            phase("without inline steps", without_inline)
    if wanted("without batches"):
        with running(WorkerGroup(worker_env(EXECUTION_BATCH_MAX="1")), with_beat=False):
            phase("without batches", unbatched)
    return rows
