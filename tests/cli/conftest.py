"""The command-line client against a live server: a real daphne process (HTTP and WebSockets) on
the test database and Redis, a real Celery worker for executions (the `engine` fixture), and
`symphony` invoked in process (typer's runner) or as the installed console script."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from symphony_cli.main import app
from symphony_site.actors import Actor, Origin
from teams.services import token_create
from tests.live.server import Daphne

pytestmark = [pytest.mark.usefixtures("close_stray_connections")]


@pytest.fixture(scope="module")
def server(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Daphne]:
    """One daphne per test module; the tests' data is committed (transactional tests), so it sees it."""
    daphne = Daphne()
    daphne.start()
    try:
        yield daphne
    finally:
        daphne.stop()


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


@dataclass
class Cli:
    """`symphony` as one user (`SYMPHONY_URL`/`SYMPHONY_TOKEN`) with its own config folder."""

    url: str
    token: str
    config_home: Path

    def env(self) -> dict[str, str | None]:
        return {"SYMPHONY_URL": self.url, "SYMPHONY_TOKEN": self.token, "XDG_CONFIG_HOME": str(self.config_home),
                "SYMPHONY_TEAM": None, "NO_COLOR": "1"}

    def __call__(self, *arguments: str, stdin: str | None = None) -> Result:
        result = CliRunner().invoke(app, list(arguments), env=self.env(), input=stdin, catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)


def token_for(user: Any) -> str:
    _, key = token_create(actor=Actor.of(user), origin=Origin.command(), name="cli tests")
    return key


@pytest.fixture
def cli_as(server: Daphne, tmp_path: Path) -> Any:
    def make(user: Any) -> Cli:
        home = tmp_path / f"config-{user.username}"
        home.mkdir()
        return Cli(url=server.url, token=token_for(user), config_home=home)

    return make


def console_script() -> str:
    """The installed `symphony` (pyproject's [project.scripts]), beside this interpreter."""
    return str(Path(sys.executable).parent / "symphony")


def run_script(*arguments: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("SYMPHONY_")}
    return subprocess.run([console_script(), *arguments], env={**clean, **env}, input=stdin, capture_output=True,
                          text=True, timeout=60)


from tests.executions.conftest import engine  # noqa: E402, F401  (a running worker and committed data)
