"""Real worker and beat processes of the fault suite, and the one way it kills them: by the
process id of a pool process of a worker it started itself."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.faults.services import ROOT
from tests.processes import WorkerProcess

WORKER_QUEUES = "steps,io,models,control"


@dataclass
class Processes:
    """Every worker and beat process of one fault run, with the environment they share."""

    folder: Path
    env: dict[str, str]
    workers: list[WorkerProcess] = field(default_factory=list)
    beats: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self, concurrency: int = 2) -> WorkerProcess:
        name = f"faults-{uuid.uuid4().hex[:8]}@localhost"
        log = (self.folder / f"worker-{name.split('@')[0]}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.faults.crashing", "worker", "--pool=prefork",
             f"--concurrency={concurrency}", "--loglevel=WARNING", f"--hostname={name}", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-Q", WORKER_QUEUES],
            env=self.env, cwd=ROOT, stdout=log, stderr=log)
        worker = WorkerProcess(name=name, process=process)
        self.workers.append(worker)
        return worker

    def wait_for_workers(self, timeout: float = 60) -> None:
        """Until every live worker's pool has its processes (then it takes messages)."""
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            while len(worker.child_pids()) < 1:
                if worker.process.poll() is not None:
                    raise RuntimeError(f"worker {worker.name} exited ({worker.process.returncode}); see its log")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"worker {worker.name} started no pool within {timeout:g} s")
                time.sleep(0.05)

    def stop_workers(self, *, kill: bool) -> None:
        for worker in self.workers:
            if kill:
                worker.kill()
            else:
                worker.stop(grace_s=20)
        self.workers = []

    def pool_pids(self) -> set[int]:
        return {pid for worker in self.workers for pid in worker.child_pids()}

    def start_beat(self) -> subprocess.Popen[bytes]:
        name = f"beat-{uuid.uuid4().hex[:8]}"
        log = (self.folder / f"{name}.log").open("ab")
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "symphony_site", "beat", "--loglevel=INFO",
             f"--schedule={self.folder / name}", "--pidfile="],
            env=self.env, cwd=ROOT, stdout=log, stderr=log)
        self.beats.append(beat)
        return beat

    def kill_beats(self) -> None:
        for beat in self.beats:
            beat.send_signal(signal.SIGKILL)
            beat.wait(15)
        self.beats = []

    def stop_all(self) -> None:
        """A warm shutdown of everything, all asked at once, then waited for."""
        processes = [worker.process for worker in self.workers] + self.beats
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.workers, self.beats = [], []
