"""A private PostgreSQL cluster and Redis server for the fault suite, on free ports under
`var/faults/`, which the suite stops and starts while work runs. They are not the test
session's own servers: restarting those would break the other tests of the session."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# PostgreSQL refuses to run as root; scripts/lib.sh runs it as this system user then.
PG_SYSTEM_USER = os.environ.get("SYMPHONY_PG_USER", "symphony")
DATABASE = "symphony_faults"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pg_bindir() -> Path:
    found = shutil.which("pg_config")
    if found:
        bindir = Path(subprocess.run([found, "--bindir"], capture_output=True, text=True, check=True).stdout.strip())
        if (bindir / "initdb").exists():
            return bindir
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) were not found")


def as_pg_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", PG_SYSTEM_USER, "--", *command] if os.getuid() == 0 else command


@dataclass
class Postgres:
    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "postgres"

    @property
    def log(self) -> Path:
        return self.folder / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _ctl(self, *arguments: str) -> None:
        subprocess.run(as_pg_user([str(pg_bindir() / "pg_ctl"), "-D", str(self.data), *arguments]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def prepare(self) -> None:
        """Create the cluster once (kept between runs: initdb is the slow part)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            subprocess.run(["bash", "-c", f'source "{ROOT}/scripts/lib.sh"; PG_DATA="{self.data}"; prepare_pg_user'],
                           check=True)
            self.log.touch()
            shutil.chown(self.log, PG_SYSTEM_USER)
        if not (self.data / "PG_VERSION").exists():
            subprocess.run(as_pg_user([str(pg_bindir() / "initdb"), "-D", str(self.data), "-A", "trust", "-U",
                                       "postgres", "-E", "UTF8"]), check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
                   "-c max_connections=200 -c fsync=off")
        self._ctl("-l", str(self.log), "-w", "-t", "60", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "-t", "60", "stop")

    def restart(self) -> None:
        """What an operator's restart does: every connection is cut, the server comes back."""
        self.stop("fast")
        self.start()

    def running(self) -> bool:
        return subprocess.run([str(pg_bindir() / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                              check=False).returncode == 0

    def psql(self, sql: str, database: str = "postgres") -> str:
        return subprocess.run([str(pg_bindir() / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                               "-d", database, "-qtAc", sql], check=True, capture_output=True, text=True).stdout.strip()

    def recreate_database(self, template: str | None = None) -> None:
        self.psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        self.psql(f"CREATE DATABASE {DATABASE}" + (f" TEMPLATE {template}" if template else ""))

    def has_database(self, name: str) -> bool:
        return self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"

    def keep_as_template(self, name: str) -> None:
        """Copy the migrated database as `name` (a later run with the same migrations starts
        from the copy instead of migrating again)."""
        for old in self.psql("SELECT datname FROM pg_database WHERE datname LIKE 'faults_template_%'").split():
            self.psql(f"DROP DATABASE IF EXISTS {old} WITH (FORCE)")
        self.psql(f"CREATE DATABASE {name} TEMPLATE {DATABASE}")


def migrations_digest() -> str:
    """A digest of every migration file: the template database is good while it is unchanged."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class Redis:
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        (self.folder / "redis").mkdir(parents=True, exist_ok=True)
        # No persistence, like scripts/lib.sh: a restart loses every message in the broker.
        subprocess.run(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir",
                        str(self.folder / "redis"), "--save", "", "--appendonly", "no", "--daemonize", "yes",
                        "--pidfile", str(self.folder / "redis.pid"), "--logfile", str(self.folder / "redis.log")],
                       check=True)
        deadline = time.monotonic() + 10
        while not self.running():
            if time.monotonic() > deadline:
                raise RuntimeError("Redis did not start (var/faults/redis.log)")
            time.sleep(0.05)

    def stop(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def running(self) -> bool:
        return subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True,
                              check=False).returncode == 0
