"""The site's web server in a process of its own, on a free local port, for the benchmarks that
measure through real sockets (`bench/api`, `bench/events`, `bench/triggers`).

Two kinds: `daphne` (one process, how the web ran before), or `uvicorn` with several worker
processes as Procfile and compose run it (`symphony_site.web`; connections spread over the
processes).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Literal

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A local port nothing listens on now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process of this machine (`/proc/<pid>/stat`); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


class Server:
    """The server process; started on construction, returns once it serves, `stop()` ends it.

    `env`: the process's environment (default this one's). `log`: a file name under `var/` for
    the server's output (default: discarded). `ready_path`: a path that answers 200 once the
    site is loaded, polled until it does; without one the server is ready once its port accepts
    (and, for uvicorn, a moment later: every worker process imports the site before it accepts).
    """

    def __init__(self, kind: Literal["daphne", "uvicorn"] = "daphne", workers: int = 1, *,
                 env: Mapping[str, str] | None = None, log: str | None = None, ready_path: str | None = None,
                 timeout_s: float = 90.0) -> None:
        self.kind, self.workers = kind, workers
        self.port = free_port()
        environment = dict(os.environ if env is None else env)
        environment.setdefault("DJANGO_SETTINGS_MODULE", "symphony_site.settings")
        if kind == "daphne":
            command = ["daphne", "-b", "127.0.0.1", "-p", str(self.port), "symphony_site.asgi:application"]
        else:
            command = ["symphony_site.web"]  # as deployed, on this port
            environment.update(HOST="127.0.0.1", PORT=str(self.port), WEB_CONCURRENCY=str(workers))
        self.log_path = ROOT / "var" / log if log else None
        self.log: IO[bytes] | None = open(self.log_path, "wb") if self.log_path else None  # noqa: SIM115
        output = self.log if self.log is not None else subprocess.DEVNULL
        self.process = subprocess.Popen([sys.executable, "-m", *command], cwd=ROOT, env=environment,
                                        stdout=output, stderr=output)
        try:
            self._wait_until_serving(ready_path, time.monotonic() + timeout_s)
        except BaseException:
            self.stop()
            raise

    def _wait_until_serving(self, ready_path: str | None, deadline: float) -> None:
        while not (self._answers(ready_path) if ready_path else self._accepts()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                where = f" ({self.log_path.relative_to(ROOT)})" if self.log_path else ""
                raise RuntimeError(f"{self.kind} did not start{where}")
            time.sleep(0.1)
        if not ready_path and self.kind == "uvicorn":
            time.sleep(3.0)

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def _answers(self, path: str) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
                return int(response.status) == 200
        except (OSError, urllib.error.URLError):
            return False

    def _pids(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            children = []
        return [self.process.pid, *(int(pid) for pid in children)]

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's processes (the supervisor and its workers)."""
        return sum(process_cpu_seconds(pid) for pid in self._pids())

    def rss_kib(self) -> int:
        """Resident memory of the server's processes (the supervisor and its workers)."""
        total = 0
        for pid in self._pids():
            try:
                with open(f"/proc/{pid}/status") as status:
                    total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
            except OSError:
                continue
        return total

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.log is not None:
            self.log.close()
