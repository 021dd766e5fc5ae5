"""A real daphne process serving the ASGI app on the test database and channel layer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Daphne:
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log_path: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        database = settings.DATABASES["default"]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "symphony_site.test_settings", "DEBUG": "1",
               "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
               "REDIS_URL": settings.REDIS_URL, "PYTEST_XDIST_WORKER": "", **self.extra_env}
        with self._log() as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "symphony_site.asgi:application"],
                env=env, cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("daphne did not listen in time") from None
                time.sleep(0.1)

    def _log(self) -> Any:
        """daphne's own log, in a file: a pipe nobody reads would block the server once full (a
        long session of refused pages logs a warning each)."""
        folder = os.path.join(settings.BASE_DIR, "var", "browser-artefacts")
        os.makedirs(folder, exist_ok=True)
        self.log_path = os.path.join(folder, f"daphne-{self.port}.log")
        return open(self.log_path, "ab")  # the child keeps its own copy of the descriptor

    def log_tail(self, size: int = 2000) -> str:
        with open(self.log_path, "rb") as log:
            return log.read().decode(errors="replace")[-size:]

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def rss_kib(self) -> int:
        assert self.process is not None
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")


@pytest.fixture
def daphne(transactional_db: Any) -> Iterator[Daphne]:
    server = Daphne()
    server.start()
    try:
        yield server
    finally:
        server.stop()
