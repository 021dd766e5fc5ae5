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


def served_by(database_pool: str | None) -> dict[str, str]:
    database = settings.DATABASES["default"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "symphony_site.test_settings", "DEBUG": "1",
           "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
                           f"{database['NAME']}?application_name={APPLICATION_NAME}",
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


def backends() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [APPLICATION_NAME])
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
