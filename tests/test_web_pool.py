"""The web server as deployed (`python -m symphony_site.web`) borrows database connections from a
pool: Django's ASGI handler runs each request on a thread of its own, and without the pool every
served request opened a PostgreSQL session of its own (settings.py, DATABASE_POOL)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from symphony_site.actors import Actor, Origin
from teams.services import token_create

from .live.server import free_port

APPLICATION_NAME = "symphony-pool-test"


def served_by(database_pool: str | None, application_name: str = APPLICATION_NAME) -> dict[str, str]:
    database = settings.DATABASES["default"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "symphony_site.test_settings", "DEBUG": "1",
           "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
                           f"{database['NAME']}?application_name={application_name}",
           "REDIS_URL": settings.REDIS_URL, "PYTEST_XDIST_WORKER": "", "WEB_CONCURRENCY": "1",
           "HOST": "127.0.0.1", "PORT": str(free_port())}
    env.pop("DATABASE_POOL", None)
    if database_pool is not None:
        env["DATABASE_POOL"] = database_pool
    return env


@pytest.fixture
def web(transactional_db: Any) -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str]) -> str:
        process = subprocess.Popen([sys.executable, "-m", "symphony_site.web"], env=env, cwd=settings.BASE_DIR,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(process)
        url = f"http://127.0.0.1:{env['PORT']}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/api/v1/", timeout=1)
                return url
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "the web server did not start"
                time.sleep(0.2)

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


def backends(application_name: str = APPLICATION_NAME) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [application_name])
        return {row[0] for row in cursor.fetchall()}


def me_twenty_times(url: str, key: str) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Token {key}"}) as client:
        for _ in range(20):
            answer = client.get("/api/v1/me/")
            assert answer.status_code == 200 and answer.json()["username"] == "pooled"


def test_served_requests_reuse_the_pools_connections(web) -> None:
    user = get_user_model().objects.create_user(username="pooled", password="pooled-pass-0123")
    _, key = token_create(actor=Actor.of(user), origin=Origin.command(), name="pool")
    url = web(served_by(None))  # web.py turns the pool on by itself
    me_twenty_times(url, key)
    first = backends()
    me_twenty_times(url, key)
    # The same sessions served the second twenty: none opened, none closed.
    assert backends() == first
    assert 1 <= len(first) <= 10  # at most the pool's max_size (DATABASE_POOL_MAX), not one per request


def test_without_the_pool_requests_open_sessions_of_their_own(web) -> None:
    """The reason for the pool, kept measurable: DATABASE_POOL=0 is the old behaviour."""
    user = get_user_model().objects.create_user(username="pooled", password="pooled-pass-0123")
    _, key = token_create(actor=Actor.of(user), origin=Origin.command(), name="pool")
    url = web(served_by("0"))
    seen: set[int] = set()
    with httpx.Client(base_url=url, headers={"Authorization": f"Token {key}"}) as client:
        for _ in range(10):
            assert client.get("/api/v1/me/").status_code == 200
            seen |= backends()
    assert len(seen) >= 5


def test_sessions_postgresql_ended_are_replaced_before_a_request_uses_them(web) -> None:
    """The pool's connections are checked by looking at their sockets (symphony_site/pooled_postgresql):
    after PostgreSQL ends every session (as a restart does), the next requests still all answer."""
    # A name of its own: tests running beside this one must not see these sessions end.
    name = "symphony-pool-ended-test"
    user = get_user_model().objects.create_user(username="pooled", password="pooled-pass-0123")
    _, key = token_create(actor=Actor.of(user), origin=Origin.command(), name="pool")
    url = web(served_by(None, name))
    me_twenty_times(url, key)
    ended = backends(name)
    assert ended
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", [name])
    deadline = time.monotonic() + 10
    while backends(name) & ended:
        assert time.monotonic() < deadline, "PostgreSQL did not end the sessions"
        time.sleep(0.05)
    me_twenty_times(url, key)  # every answer a 200: no request was given an ended session
    assert backends(name) and backends(name).isdisjoint(ended)


@pytest.fixture
def pooled_wrapper(transactional_db: Any) -> Iterator[Any]:
    from symphony_site.pooled_postgresql.base import DatabaseWrapper

    settings_dict = {**connection.settings_dict, "ENGINE": "symphony_site.pooled_postgresql",
                     "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False,
                     "OPTIONS": {**connection.settings_dict["OPTIONS"],
                                 "pool": {"min_size": 1, "max_size": 1, "timeout": 10}}}
    # The default alias: django.contrib.postgres looks its type ids up through `connections[alias]`.
    # The test's own `connection` has no pool, so the pool this wrapper makes is its alone.
    wrapper = DatabaseWrapper(settings_dict, alias="default")
    yield wrapper
    wrapper.close()
    wrapper.close_pool()


def backend_pid(wrapper: Any) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid: int = cursor.fetchone()[0]
    wrapper.close()  # back to the pool
    return pid


def test_a_healthy_borrowed_connection_costs_no_check_and_an_ended_one_is_replaced(pooled_wrapper, monkeypatch) -> None:
    from psycopg_pool import ConnectionPool

    checks: list[object] = []
    real_check = ConnectionPool.check_connection
    monkeypatch.setattr(ConnectionPool, "check_connection",
                        staticmethod(lambda conn: (checks.append(conn), real_check(conn))[1]))
    first = backend_pid(pooled_wrapper)
    assert backend_pid(pooled_wrapper) == first and checks == []  # the same session, no round trip to check it
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [first])
    deadline = time.monotonic() + 10
    while first in _pids():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    replaced = backend_pid(pooled_wrapper)  # no error: the ended session was noticed and replaced
    assert replaced != first and len(checks) == 1


def _pids() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity")
        return {row[0] for row in cursor.fetchall()}
