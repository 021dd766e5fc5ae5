"""The fault suite's driver: `python -m tests.faults --scale short|long`.

It starts a private PostgreSQL and Redis (tests/faults/services.py), migrates a fresh
database, starts real workers and a beat, runs the mixed workload through each fault in turn,
then checks every execution (tests/faults/checks.py) and every audit chain, prints its
figures and exits 1 when anything was lost, duplicated or wrong."""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import random
import re
import shutil
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.faults.processes import Processes
from tests.faults.services import ROOT, Postgres, Redis, free_port, migrations_digest


@dataclass(frozen=True)
class Scale:
    kills: int  # SIGKILLs of pool processes in the middle of nodes
    restarts: int  # rounds of each restart scenario (Redis, PostgreSQL, workers, beats)
    crashes: int  # crashes between a commit and the dispatch of its message
    wave: int  # executions started per wave (taken in turn from the mix)
    timeout_s: float  # for one wave to finish
    workers: int  # worker processes (each a prefork pool of two)


# The driver kills one node run at most this often; the workers allow a run to lose its worker
# LOST_LEASE_RETRIES times before it fails (`worker_lost`). The margin covers the one race the
# driver cannot close: between its last check and the SIGKILL, the process may finish the node
# it was killed for and claim another, whose attempt then dies too.
KILLS_PER_RUN = 2
LOST_LEASE_RETRIES = 4

SCALES = {
    "short": Scale(kills=5, restarts=1, crashes=2, wave=4, timeout_s=120, workers=1),
    "long": Scale(kills=120, restarts=3, crashes=20, wave=12, timeout_s=300, workers=2),
}


@dataclass
class Figures:
    scale: str
    executions: int = 0
    nodes: int = 0
    kills: int = 0
    restarts: dict[str, int] = field(default_factory=dict)
    crashes_after_commit: int = 0
    recoveries: int = 0
    longest_recovery_s: float = 0.0
    lost: int = 0
    duplicated: int = 0
    disagreeing: int = 0
    reaper_resent: int = 0  # step messages the reaper sent again (from the workers' logs)
    schedule_fires: int = 0
    schedule_repeats: int = 0
    audit_chains_verified: int = 0
    audit_chains_broken: int = 0
    seconds: float = 0.0
    # Seconds each part took (setup: the servers, migrations and the first workers).
    phases: dict[str, float] = field(default_factory=dict)
    # The longest recovery of each kind of fault, in seconds.
    longest_by_fault: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.lost, self.duplicated, self.disagreeing, self.schedule_repeats, self.audit_chains_broken) == (
            0, 0, 0, 0, 0) and not self.problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults")
    parser.add_argument("--scale", choices=sorted(SCALES), default="short")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--seed", type=int, default=None)
    arguments = parser.parse_args(argv)
    seed = arguments.seed if arguments.seed is not None else random.randrange(1 << 30)
    random.seed(seed)
    folder = ROOT / "var" / "faults"
    folder.mkdir(parents=True, exist_ok=True)
    # One run at a time per checkout: they share the cluster's data folder.
    lock = (folder / "lock").open("w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    run_folder = folder / "run"
    shutil.rmtree(run_folder, ignore_errors=True)
    (run_folder / "tokens").mkdir(parents=True)
    postgres, redis = Postgres(folder, free_port()), Redis(folder, free_port())
    postgres.prepare()
    postgres.start()
    figures = Figures(scale=arguments.scale)
    began = time.monotonic()
    processes: Processes | None = None
    try:
        redis.start()
        template = f"faults_template_{migrations_digest()}"
        migrated = postgres.has_database(template)
        postgres.recreate_database(template if migrated else None)
        env = environment(postgres, redis, run_folder)
        os.environ.clear()
        os.environ.update(env)
        import django

        django.setup()
        quiet_logs(run_folder / "driver.log")
        if not migrated:
            from django.core.management import call_command
            from django.db import connections

            call_command("migrate", verbosity=0)
            connections.close_all()
            postgres.keep_as_template(template)
        figures.phases["migrate"] = round(time.monotonic() - began, 1)
        processes = Processes(folder=run_folder, env=env)
        Suite(SCALES[arguments.scale], figures, processes, postgres, redis, run_folder).run()
    except BaseException:
        # A clean clone's CI deletes the run folder with the clone: what the processes said goes
        # to the output with the error, or a failure there cannot be read afterwards.
        print(log_tails(run_folder), file=sys.stderr)
        raise
    finally:
        if processes is not None:
            processes.stop_all()
        redis.stop()
        postgres.stop()
    figures.seconds = round(time.monotonic() - began, 1)
    print(report(figures, seed))
    if not figures.ok:
        print(log_tails(run_folder), file=sys.stderr)
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(asdict(figures), indent=2))
    return 0 if figures.ok else 1


def log_tails(folder: Path, lines: int = 15) -> str:
    """The last lines of every process's log in `folder` (workers, beats, the driver), newest
    file last, for a failure's output."""
    parts = []
    for log in sorted(folder.glob("*.log"), key=lambda path: path.stat().st_mtime):
        text = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
        parts.append(f"---- {log.name} (last {min(lines, len(text))} of {len(text)} lines)")
        parts.extend(line[:300] for line in text[-lines:])
    return "\n".join(parts)


def quiet_logs(path: Path) -> None:
    """The driver's own log lines (a publish refused while Redis restarts, a progress query while
    PostgreSQL does) go to a file; the terminal gets the figures."""
    import logging

    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for logger in [logging.getLogger(), *(logging.getLogger(name) for name in logging.root.manager.loggerDict)]:
        if getattr(logger, "handlers", None):
            logger.handlers = [handler]
    logging.getLogger().handlers = [handler]


def environment(postgres: Postgres, redis: Redis, run_folder: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if name not in ("PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST", "DATABASE_URL", "REDIS_URL")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "symphony_site.test_settings", "DATABASE_URL": postgres.url,
        "REDIS_URL": redis.url, "PROMETHEUS_MULTIPROC_DIR": str(run_folder / "prometheus"),
        "FAULTS_CRASH_TOKENS": str(run_folder / "tokens"), "FAULTS_CRASH_LOG": str(run_folder / "crashes.log"),
        "PYTHONPATH": str(ROOT), "TRIGGER_TICK_INTERVAL_S": "0.5",
        "EXECUTION_LOST_LEASE_RETRIES": str(LOST_LEASE_RETRIES),
        # The production default (the test settings turn inline starts off for the engine tests
        # that capture first-step messages): the driver's starts run their cheap sources
        # themselves, and a fault must not lose or repeat those either.
        "EXECUTION_START_INLINE_MAX": "1",
    })
    return env


def report(figures: Figures, seed: int) -> str:
    restarts = ", ".join(f"{name} {count}" for name, count in sorted(figures.restarts.items()))
    lines = [
        f"fault suite ({figures.scale}, seed {seed}, {figures.seconds:g} s, load average "
        f"{' '.join(f'{value:.2f}' for value in os.getloadavg())})",
        f"  executions            {figures.executions}",
        f"  nodes                 {figures.nodes}",
        f"  kills (SIGKILL)       {figures.kills}",
        f"  restarts              {restarts}",
        f"  crashes after commit  {figures.crashes_after_commit}",
        f"  recoveries            {figures.recoveries}",
        f"  longest recovery      {figures.longest_recovery_s:.2f} s ("
        + ", ".join(f"{kind} {seconds:.2f} s" for kind, seconds in sorted(figures.longest_by_fault.items())) + ")",
        f"  reaper re-sent        {figures.reaper_resent} step messages",
        f"  schedule fires        {figures.schedule_fires} (repeated: {figures.schedule_repeats})",
        f"  audit chains verified {figures.audit_chains_verified} (broken: {figures.audit_chains_broken})",
        f"  lost                  {figures.lost}",
        f"  duplicated            {figures.duplicated}",
        f"  disagreeing           {figures.disagreeing}",
        "  phases                " + ", ".join(f"{name} {seconds:g} s" for name, seconds in figures.phases.items()),
    ]
    lines += [f"  PROBLEM {problem}" for problem in figures.problems]
    lines.append("  result                " + ("ok" if figures.ok else "FAILED"))
    return "\n".join(lines)


def with_database(action: Callable[[], Any], *, timeout: float = 60) -> Any:
    """Run `action`, reconnecting while PostgreSQL restarts (the driver's own connection is cut
    with everyone else's)."""
    from django.db import DatabaseError, InterfaceError, connection

    deadline = time.monotonic() + timeout
    while True:
        try:
            return action()
        except (DatabaseError, InterfaceError):
            connection.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def expected_outcomes(started: list[tuple[Any, dict[str, Any]]]) -> dict[tuple[Any, str], Any]:
    """The reference executor's run of each (stored workflow, inputs), by (version, inputs)."""
    from executions.engine.bodies import resolve_body
    from executions.engine.graphs import compiled
    from executions.runtime.local import run_workflow

    expected = {}
    for workflow, inputs in started:
        key = (workflow.current_version_id, json.dumps(inputs, sort_keys=True))
        if key not in expected:
            team_id = workflow.team_id
            expected[key] = run_workflow(compiled(workflow.current_version_id).workflow, inputs,
                                         resolve_workflow=lambda name, team_id=team_id: resolve_body(team_id, name))
    return expected


class Suite:
    def __init__(self, scale: Scale, figures: Figures, processes: Processes, postgres: Postgres, redis: Redis,
                 folder: Path) -> None:
        self.scale, self.figures, self.processes = scale, figures, processes
        self.postgres, self.redis, self.folder = postgres, redis, folder
        self.recoveries: list[tuple[str, float]] = []  # (fault, seconds from it to the work moving again)
        self.started = 0
        self.last_mark = time.monotonic()

    # ------------------------------------------------------------------ setup

    def run(self) -> None:
        from tests.conftest import create_personas
        from tests.faults import workload

        self.personas = create_personas()
        self.store(workload.loop_body())
        self.mix = [(self.store(built), inputs) for built, input_list in workload.mix() for inputs in input_list]
        self.schedule = self.start_schedule(self.store(workload.tick()))
        for _ in range(self.scale.workers):
            self.processes.start_worker()
        self.processes.start_beat()
        # The reference executor really sleeps in delays: it runs while the workers start.
        self.expected = expected_outcomes([*self.mix, (self.schedule.workflow, {"x": "beat"})])
        self.processes.wait_for_workers()
        self.timed("setup", lambda: None)
        self.timed("kills", self.kills)
        for _ in range(self.scale.restarts):
            self.timed("redis", self.restart_redis)
            self.timed("postgres", self.restart_postgres)
            self.timed("workers", self.restart_workers)
            self.timed("beats", self.restart_beats)
        self.timed("crashes", self.crash_after_commit)
        self.timed("checks", self.finish)

    def restarted(self, kind: str) -> None:
        self.figures.restarts[kind] = self.figures.restarts.get(kind, 0) + 1

    def timed(self, name: str, part: Callable[[], None]) -> None:
        part()
        now = time.monotonic()
        phases = self.figures.phases
        phases[name] = round(phases.get(name, 0.0) + now - self.last_mark, 1)
        self.last_mark = now

    def store(self, built: dict[str, Any]) -> Any:
        from tests.executions.conftest import store

        return store(self.personas, built)

    def start_schedule(self, workflow: Any) -> Any:
        from executions.triggers.services import schedules
        from symphony_site.actors import Actor, Origin

        return schedules.schedule_create(actor=Actor.of(self.personas.users["editor"]), origin=Origin.command(),
                                         workflow=workflow, cron_expression="*/2 * * * * *", catch_up="all",
                                         inputs={"x": "beat"})

    def wave(self) -> list[Any]:
        from tests.executions.conftest import start

        started = []
        for _ in range(self.scale.wave):
            workflow, inputs = self.mix[self.started % len(self.mix)]
            self.started += 1
            started.append(with_database(lambda: start(self.personas, workflow, inputs)).pk)  # noqa: B023
        return started

    def wait_finished(self, ids: list[Any]) -> None:
        from executions.models import Execution

        deadline = time.monotonic() + self.scale.timeout_s
        while with_database(lambda: Execution.objects.filter(
                pk__in=ids, state__in=["pending", "running", "paused", "waiting_for_input"]).exists()):
            if time.monotonic() > deadline:
                # The checks report what is left as lost; this says which wave it was.
                self.figures.problems.append(f"a wave did not finish within {self.scale.timeout_s:g} s: "
                                             f"{self.described(ids)}")
                return
            time.sleep(0.1)

    def wait_running(self, ids: list[Any], timeout: float = 60) -> None:
        from executions.models import NodeRun

        deadline = time.monotonic() + timeout
        while not with_database(lambda: NodeRun.objects.filter(execution_id__in=ids, state="running").exists()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no node of the wave started running within {timeout:g} s: {self.described(ids)}")
            time.sleep(0.02)

    def described(self, ids: list[Any]) -> str:
        """Where a wave's executions and node runs stand, and which processes are alive."""
        from executions.models import Execution, NodeRun

        executions = Counter(with_database(lambda: list(
            Execution.objects.filter(pk__in=ids).values_list("state", flat=True))))
        runs = Counter(with_database(lambda: list(
            NodeRun.objects.filter(execution_id__in=ids).values_list("state", flat=True))))
        workers = [worker.process.poll() is None for worker in self.processes.workers]
        beats = [beat.poll() is None for beat in self.processes.beats]
        return (f"executions {dict(executions)}, node runs {dict(runs)}, workers alive {workers}, "
                f"pool processes {len(self.processes.pool_pids())}, beats alive {beats}")

    def progress_after(self, fault: str, moment: float) -> None:
        """Record how long the engine took to start a node again after a fault at `moment`."""
        import datetime as dt

        from executions.models import ExecutionEvent

        since = dt.datetime.fromtimestamp(moment, tz=dt.UTC)
        deadline = time.monotonic() + self.scale.timeout_s
        while True:
            first = with_database(lambda: ExecutionEvent.objects.filter(type="node.started", at__gt=since)
                                  .order_by("at").values_list("at", flat=True).first())
            if first is not None:
                self.recoveries.append((fault, first.timestamp() - moment))
                return
            if time.monotonic() > deadline:
                self.figures.problems.append(f"nothing started within {self.scale.timeout_s:g} s of a fault")
                return
            time.sleep(0.05)

    # ------------------------------------------------------------------ faults

    def kills(self) -> None:
        """SIGKILL pool processes in the middle of nodes until the scale's count is reached."""
        from executions.models import NodeRun

        killed: Counter[int] = Counter()
        pending: list[tuple[int, int, float]] = []  # run, attempt killed, when
        while self.figures.kills < self.scale.kills:
            ids = self.wave()
            deadline = time.monotonic() + self.scale.timeout_s
            while self.figures.kills < self.scale.kills and time.monotonic() < deadline:
                pool = self.processes.pool_pids()
                running = [(run_id, attempt, owner) for run_id, attempt, owner in NodeRun.objects.filter(
                    execution_id__in=ids, state="running").values_list("pk", "attempt", "lease_owner")
                    if killed[run_id] < KILLS_PER_RUN]
                targets = [(run_id, attempt, int(owner.split("/")[2])) for run_id, attempt, owner in running
                           if owner.count("/") >= 2 and owner.split("/")[2].isdigit()
                           and int(owner.split("/")[2]) in pool]
                if not targets:
                    if not NodeRun.objects.filter(execution_id__in=ids, state__in=["pending", "queued", "running"]
                                                  ).exists():
                        break  # the wave finished: start another
                    time.sleep(0.02)
                    continue
                run_id, _, pid = random.choice(targets)
                time.sleep(random.uniform(0.0, 0.1))  # somewhere inside the node
                # Checked again just before the kill: the process may have finished that node and
                # claimed another meanwhile, whose attempt dies with it.
                held = dict(NodeRun.objects.filter(state="running", lease_owner__contains=f"/{pid}/")
                            .values_list("pk", "attempt"))
                if run_id not in held or any(killed[held_id] >= KILLS_PER_RUN for held_id in held):
                    continue
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                self.figures.kills += 1
                for held_id, held_attempt in held.items():
                    killed[held_id] += 1
                    pending.append((held_id, held_attempt, time.time()))
                time.sleep(random.uniform(0.1, 0.4))
            self.wait_finished(ids)
        self.processes.wait_for_workers()
        self.kill_recoveries(pending)

    def kill_recoveries(self, pending: list[tuple[int, int, float]]) -> None:
        from tests.faults.checks import next_start_after

        for run_id, attempt, moment in pending:
            started = with_database(lambda: next_start_after(run_id, attempt))  # noqa: B023
            if started is not None:  # None: the attempt had recorded its result before it died
                self.recoveries.append(("kill", started.timestamp() - moment))

    def restart_redis(self) -> None:
        ids = self.wave()
        self.wait_running(ids)
        moment = time.time()
        self.redis.restart()  # every message in the broker is gone with it
        self.restarted("redis")
        self.progress_after("redis restart", moment)
        self.wait_finished(ids)

    def restart_postgres(self) -> None:
        ids = self.wave()
        self.wait_running(ids)
        moment = time.time()
        self.postgres.restart()
        self.restarted("postgres")
        self.progress_after("postgres restart", moment)
        self.wait_finished(ids)

    def restart_workers(self) -> None:
        ids = self.wave()
        self.wait_running(ids)
        moment = time.time()
        count = len(self.processes.workers)
        self.processes.stop_workers(kill=True)
        time.sleep(1)  # nothing runs; the work waits in the broker and the database
        for _ in range(count):
            self.processes.start_worker()
        self.processes.wait_for_workers()
        self.restarted("workers")
        # Measured from when the new workers are up: what came before is process start-up.
        self.progress_after("workers stopped", max(moment, time.time()))
        self.wait_finished(ids)

    def restart_beats(self) -> None:
        ids = self.wave()
        self.wait_running(ids)
        self.processes.kill_beats()
        self.processes.start_beat()
        self.processes.start_beat()  # two at once: the reaper and the schedule must not act twice
        self.restarted("beats")
        self.wait_finished(ids)

    def crash_after_commit(self) -> None:
        for number in range(self.scale.crashes):
            (self.folder / "tokens" / f"crash-{number:04d}").touch()
        deadline = time.monotonic() + self.scale.timeout_s * 2
        while any((self.folder / "tokens").iterdir()) and time.monotonic() < deadline:
            self.wait_finished(self.wave())
        self.processes.wait_for_workers()
        log = self.folder / "crashes.log"
        lines = log.read_text().split("\n") if log.exists() else []
        for line in filter(None, lines):
            moment, _, run_id = line.split(" ")
            self.figures.crashes_after_commit += 1
            self.crash_recovery(int(run_id), float(moment))

    def crash_recovery(self, run_id: int, moment: float) -> None:
        from tests.faults.checks import next_start_after

        started = with_database(lambda: next_start_after(run_id, 0))
        if started is None:
            self.figures.problems.append(f"the message of run {run_id}, never sent, was never sent again")
        else:
            self.recoveries.append(("crash after commit", started.timestamp() - moment))

    # ------------------------------------------------------------------ the end

    def finish(self) -> None:
        from executions.models import Execution, TriggeredBy
        from executions.triggers.services import schedules
        from symphony_site.actors import Actor, Origin
        from tests.faults.checks import check_all

        with_database(lambda: schedules.schedule_update(
            actor=Actor.of(self.personas.users["editor"]), origin=Origin.command(), schedule=self.schedule,
            enabled=False))
        active = list(Execution.objects.filter(state__in=["pending", "running"]).values_list("pk", flat=True))
        self.wait_finished(active)
        self.processes.stop_all()
        findings = check_all(self.expected)
        self.figures.executions, self.figures.nodes = findings.executions, findings.nodes
        self.figures.lost, self.figures.duplicated = findings.lost, findings.duplicated
        self.figures.disagreeing = findings.disagreeing
        self.figures.problems += findings.problems
        due = list(TriggeredBy.objects.filter(schedule=self.schedule).values_list("scheduled_for", flat=True))
        self.figures.schedule_fires = len(due)
        self.figures.schedule_repeats = len(due) - len(set(due))
        ticks = Execution.objects.filter(trigger="schedule").count()
        if ticks != len(set(due)):
            self.figures.problems.append(f"{ticks} scheduled executions for {len(set(due))} due times")
        self.figures.recoveries = len(self.recoveries)
        self.figures.longest_recovery_s = round(max((seconds for _, seconds in self.recoveries), default=0.0), 2)
        for fault, seconds in self.recoveries:
            longest = self.figures.longest_by_fault.get(fault, 0.0)
            self.figures.longest_by_fault[fault] = round(max(longest, seconds), 2)
        self.verify_audit()
        resent = re.compile(r"Reaper re-sent (\d+) step messages")
        for log in self.folder.glob("worker-*.log"):
            self.figures.reaper_resent += sum(int(found) for found in resent.findall(log.read_text(errors="replace")))

    def verify_audit(self) -> None:
        from audit import selectors

        for chain in selectors.chains():
            result = selectors.verify(chain)
            if result.valid:
                self.figures.audit_chains_verified += 1
            else:
                self.figures.audit_chains_broken += 1
                self.figures.problems.append(f"audit chain {chain.key} broken: {result.first_break}")


if __name__ == "__main__":
    sys.exit(main())
