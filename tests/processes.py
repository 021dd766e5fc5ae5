"""Real worker processes started by tests. Plain Python: the fault driver (`python -m
tests.faults`) imports it outside pytest, as `tests/conftest.py` does inside."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass


@dataclass
class WorkerProcess:
    """A real `celery worker` started by a test fixture or the fault driver."""

    name: str
    process: subprocess.Popen[bytes]

    def child_pids(self) -> list[int]:
        """The prefork pool's worker processes (where tasks run)."""
        path = f"/proc/{self.process.pid}/task/{self.process.pid}/children"
        try:
            with open(path) as children:
                return [int(pid) for pid in children.read().split()]
        except OSError:
            return []

    def stop(self, grace_s: float = 10) -> None:
        """A warm shutdown, killed after `grace_s` seconds."""
        self.process.terminate()
        try:
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL the worker and its pool at once (a machine losing them)."""
        children = self.child_pids()
        self.process.send_signal(signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(15)
