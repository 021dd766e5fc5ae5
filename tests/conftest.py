"""Shared fixtures: personas (each role, an outsider, anonymous) and API clients."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import TransactionTestCase
from rest_framework.test import APIClient

from teams.models import Membership, Team
from teams.roles import Role
from tests.processes import WorkerProcess

PASSWORD = "correct-horse-battery"
ROLES = ["owner", "admin", "editor", "operator", "viewer"]


@dataclass
class Personas:
    team: Team
    other_team: Team
    users: dict[str, Any]  # role name → user, plus "outsider" (owner of other_team)

    def client(self, who: str | None) -> APIClient:
        """An API client logged in as `who` (a role, "outsider"), or anonymous for None."""
        client = APIClient()
        if who is not None:
            client.force_authenticate(self.users[who])
        return client


def request_free(details: dict[str, Any]) -> dict[str, Any]:
    """An audit entry's details without the id of the HTTP request that made it (every entry a
    request makes carries one; tests/test_logs.py checks it is that request's)."""
    assert isinstance(details.get("request_id", ""), str)
    return {key: value for key, value in details.items() if key != "request_id"}


def make_user(username: str, **extra: Any) -> Any:
    return get_user_model().objects.create_user(username=username, password=PASSWORD,
                                                email=f"{username}@example.test", **extra)


def create_personas(team_name: str = "Alpha", other_team_name: str = "Beta") -> Personas:
    """A team with one user per role (`<team slug>-<role>`) and an outsider owning another team."""
    team = Team.objects.create(name=team_name, slug=team_name.lower())
    other = Team.objects.create(name=other_team_name, slug=other_team_name.lower())
    users: dict[str, Any] = {}
    for role in ROLES:
        users[role] = make_user(f"{team.slug}-{role}")
        Membership.objects.create(team=team, user=users[role], role=Role(role))
    users["outsider"] = make_user(f"{other.slug}-owner")
    Membership.objects.create(team=other, user=users["outsider"], role=Role.OWNER)
    return Personas(team=team, other_team=other, users=users)


@pytest.fixture
def personas(db: Any) -> Personas:
    return create_personas()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def _ping_workers(timeout: float = 0.5) -> list[str]:
    from symphony_site.celery import app

    with app.connection_for_write(settings.CELERY_BROKER_URL) as broker:
        return [name for reply in app.control.ping(timeout=timeout, connection=broker) for name in reply]


# Every queue the engine uses (execution steps, slow I/O, model calls, and `control`: the
# reaper's and the triggers' periodic ticks).
WORKER_QUEUES = "steps,io,models,control"


def start_worker(*, pool: str = "prefork", concurrency: int = 2, queues: str = WORKER_QUEUES,
                 extra_env: dict[str, str] | None = None, wait: bool = True,
                 log_to: Any = None, loglevel: str = "WARNING") -> WorkerProcess:
    """A real Celery worker process on the test broker and the test database; its log goes
    to `log_to` (an open file) when given."""
    database = settings.DATABASES["default"]
    url = (f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}")
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "symphony_site.test_settings",
           "DATABASE_URL": url, "REDIS_URL": settings.REDIS_URL, "PYTEST_XDIST_WORKER": "",
           **(extra_env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "symphony_site", "worker", f"--pool={pool}",
         f"--concurrency={concurrency}", f"--loglevel={loglevel}", f"--hostname={name}", "--without-gossip",
         "--without-mingle", "-Q", queues],
        env=env, cwd=settings.BASE_DIR, stdout=log_to or subprocess.DEVNULL,
        stderr=log_to or subprocess.PIPE,
    )
    worker = WorkerProcess(name=name, process=process)
    if wait:
        wait_for_worker(worker)
    return worker


def wait_for_worker(worker: WorkerProcess, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while worker.name not in _ping_workers():
        if worker.process.poll() is not None:
            raise RuntimeError(f"Celery worker exited: {worker.process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            worker.stop()
            raise RuntimeError(f"Celery worker did not answer a ping within {timeout:g} seconds")


def _is_deadlock(error: BaseException | None) -> bool:
    while error is not None:
        if "deadlock detected" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def _flush_retrying_deadlocks(original: Any) -> Any:
    """Emptying the database between transactional tests TRUNCATEs every table; a live server's
    or worker's reader still finishing a request can deadlock with it, and PostgreSQL then
    rolls the flush back. Nothing was emptied, so trying again is safe."""

    def teardown(self: Any) -> None:
        for attempt in range(3):
            try:
                original(self)
                return
            except Exception as error:
                if attempt == 2 or not _is_deadlock(error):
                    raise
                time.sleep(0.5)

    return teardown


TransactionTestCase._fixture_teardown = _flush_retrying_deadlocks(TransactionTestCase._fixture_teardown)  # type: ignore[method-assign]


def settle_executions() -> None:
    """Cancel every execution still active and give running nodes a moment to stop, so no worker
    is still writing while the database is emptied for the next test (the session's worker
    consumes any step message a test left behind, and its locks would deadlock the flush)."""
    from django.db import transaction

    from executions.domain import ExecutionState
    from executions.engine.books import Books
    from executions.models import Execution, NodeRun
    from executions.runtime.flow import SKIP_EXECUTION_STOPPED
    from symphony_site.actors import Actor

    for execution_id in Execution.objects.filter(state__in=["pending", "running", "paused", "waiting_for_input"]
                                                 ).values_list("pk", flat=True):
        with transaction.atomic():
            books = Books.open(execution_id, actor=Actor.system("tests"))
            if books is not None and not books.state.is_terminal:
                books.stop_execution(ExecutionState.CANCELLED, reason="test over", skip_reason=SKIP_EXECUTION_STOPPED)
                books.close()
    deadline = time.monotonic() + 10
    while NodeRun.objects.filter(state="running").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def _settle_executions_after_transactional_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(marker and marker.kwargs.get("transaction"))
    if transactional:
        # Asked for here, so that this teardown runs before the database is emptied.
        request.getfixturevalue("transactional_db")
    yield
    if transactional:
        settle_executions()
        from executions.live.progress import settle_progress

        # The progress thread counts what the test (and the line above) changed; a round left
        # for later would run after this test's database is closed to the next test.
        assert settle_progress(10.0), "the progress thread's round did not end"


@pytest.fixture(scope="session")
def celery_worker(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """A real Celery worker (prefork, two processes) on the test broker and database,
    consuming every engine queue."""
    worker = start_worker()
    try:
        yield worker.name
    finally:
        worker.stop()


@pytest.fixture(scope="session")
def close_stray_connections(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """Threads of async consumers keep their own connections; end them before the test DB is dropped."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium per test module and process, shared by its browser tests. Not per
    session: Playwright's sync API keeps an event loop running while it is open, which would stop
    later tests from starting their own (asyncio.run)."""
    from tests.browser import launch_shared

    yield from launch_shared()


class _NoSettings:
    """pytest-django enables and disables the live server's settings around each test; a server
    in its own process reads its settings once."""

    def enable(self) -> None:
        return None

    def disable(self) -> None:
        return None


@dataclass
class AsgiLiveServer:
    url: str
    _live_server_modified_settings: _NoSettings


@pytest.fixture(scope="session")
def live_server(django_db_setup: Any, django_db_blocker: Any) -> Iterator[AsgiLiveServer]:
    """The browser tests' server: a real daphne process (HTTP and WebSockets) on the test database
    and channel layer, one per test process, in place of pytest-django's WSGI thread, which cannot
    serve the WebSockets the live pages open. pytest-django still gives every test that uses it
    a transactional database, so what a test writes is committed and the server sees it."""
    from tests.live.server import Daphne

    server = Daphne()
    server.start()
    try:
        yield AsgiLiveServer(url=server.url, _live_server_modified_settings=_NoSettings())
    finally:
        server.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test item (`item.report_call`), so a fixture's teardown
    can tell whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def browser_session(chromium: Any, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Signed-in pages on the live server; fails the test on any console error. After a failure
    (or a console error), screenshots of the open pages and the console log are kept in
    var/browser-artefacts/<test name>/."""
    from tests.browser import Session

    session = Session(chromium, live_server.url)
    yield session
    report = getattr(request.node, "report_call", None)
    if (report is not None and report.failed) or session.console_errors:
        session.keep_artefacts(request.node.name)
    session.close()
    assert session.console_errors == []
