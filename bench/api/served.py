"""The API's cost per request through the ASGI application, as the web server runs it.

    bash scripts/bench.sh served-api [--requests=N] [--only=NAME] [--sql] [--cpu]

`profile.py` goes through Django's test client, which skips what only a served request
pays: the ASGI handler (a thread of its own per request, the hops between the event loop
and that thread), `request_started`/`request_finished` and the handlers Django connects to
them, and the web's database pool (`DATABASE_POOL=1`, as `symphony_site/web.py` sets it:
a connection borrowed, checked and returned per request). This calls
`symphony_site.asgi.application` directly with an HTTP scope — no socket, no uvicorn —
and counts per request, deterministically (the counts do not depend on the machine's load):

* PostgreSQL round trips: every command psycopg waits on (statements, the pool's check
  of a borrowed connection, `SET`s, `BEGIN`/`COMMIT`/`ROLLBACK`), each listed with `--sql`;
* Redis round trips (a pipeline or a script is one);
* hops from the event loop to a thread (`sync_to_async` calls) and threads started.

The milliseconds (mean wall time per request, bare view first) move with the load average
printed beside them. `--cpu` adds the CPU time per request, which waiting for a core does not
inflate: this process's (every thread: the event loop and the view's) and its PostgreSQL
backends' (read from `/proc/<pid>/stat` of every backend on the bench's database, so PostgreSQL
must run on this machine).
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from typing import Any


class Counters:
    """PostgreSQL round trips (with their SQL), sync_to_async hops and threads started."""

    def __init__(self) -> None:
        self.postgres: list[str] = []
        self.hops = 0
        self.threads = 0

    def install(self) -> None:
        import psycopg
        from asgiref.sync import SyncToAsync

        counters = self
        original_wait = psycopg.Connection.wait
        original_execute = psycopg.Cursor.execute
        original_call = SyncToAsync.__call__
        original_start = threading.Thread.start
        self._current_sql: str | None = None

        def wait(connection: Any, *args: Any, **kwargs: Any) -> Any:
            gen = args[0] if args else kwargs.get("gen")
            sql = counters._current_sql
            counters.postgres.append(repr(sql) if sql is not None else f"({getattr(gen, '__name__', gen)})")
            counters._current_sql = None
            return original_wait(connection, *args, **kwargs)

        def execute(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            counters._current_sql = query if isinstance(query, str) else repr(query)
            return original_execute(cursor, query, *args, **kwargs)

        async def call(adapter: Any, *args: Any, **kwargs: Any) -> Any:
            counters.hops += 1
            return await original_call(adapter, *args, **kwargs)

        def start(thread: threading.Thread) -> None:
            counters.threads += 1
            original_start(thread)

        psycopg.Connection.wait = wait  # type: ignore[method-assign]
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
        SyncToAsync.__call__ = call  # type: ignore[method-assign]
        threading.Thread.start = start  # type: ignore[method-assign]

    def reset(self) -> None:
        self.postgres, self.hops, self.threads = [], 0, 0


async def request(application: Any, path: str, key: str) -> tuple[int, bytes]:
    raw_path, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(),
        "query_string": query.encode(), "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Token {key}".encode()),
                    (b"accept", b"application/json")],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
    }
    sent = False
    finished = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    status, body = 0, b""

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, body
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body += message.get("body", b"")

    await application(scope, receive, send)
    finished.set()
    return status, body


async def measure(paths: dict[str, str], key: str, *, requests: int, cpu: bool = False) -> list[dict[str, Any]]:
    from bench.api.load import postgres_cpu_seconds
    from bench.api.profile import RedisRoundTrips
    from symphony_site.asgi import application

    counters = Counters()
    counters.install()
    rows = []
    for name, path in paths.items():
        for _ in range(10):  # warm: the pool's connections, caches, imports
            status, body = await request(application, path, key)
            assert status == 200, (path, status, body[:200])
        counters.reset()
        with RedisRoundTrips() as redis:
            await request(application, path, key)
        row = {"name": name, "postgres": list(counters.postgres), "redis": redis.count,
               "hops": counters.hops, "threads": counters.threads, "bytes": len(body)}
        backend = postgres_cpu_seconds() if cpu else 0.0
        started, process = time.perf_counter(), time.process_time()
        for _ in range(requests):
            await request(application, path, key)
        row["ms"] = (time.perf_counter() - started) * 1000 / requests
        row["cpu"] = (time.process_time() - process) * 1000 / requests
        if cpu:
            row["backend"] = (postgres_cpu_seconds() - backend) * 1000 / requests
        rows.append(row)
    return rows


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.api.settings"
    os.environ.setdefault("THROTTLE_USER", "10000000/minute")
    os.environ.setdefault("DATABASE_POOL", "1")  # as symphony_site/web.py runs the server
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    import django

    django.setup()
    from bench.api.load import _load_average, _setup

    requests = int(next((arg.split("=", 1)[1] for arg in sys.argv if arg.startswith("--requests=")), "200"))
    key, paths = _setup()
    from django.db import connections

    connections.close_all()  # _setup's connection is not the served requests'
    only = [arg.split("=", 1)[1] for arg in sys.argv if arg.startswith("--only=")]
    if only:
        paths = {name: path for name, path in paths.items()
                 if name == "bare Django JSON view" or any(part in name for part in only)}
    print(f"The API through its ASGI application, {requests} requests per endpoint; "
          f"load average {_load_average()}")
    cpu = "--cpu" in sys.argv
    rows = asyncio.run(measure(paths, key, requests=requests, cpu=cpu))
    print(f"{'endpoint':24} {'ms/request':>10} {'postgres':>8} {'redis':>6} {'hops':>5} {'threads':>7} {'bytes':>7}"
          + (f" {'cpu ms':>7} {'pg cpu ms':>9}" if cpu else ""))
    for row in rows:
        print(f"{row['name']:24} {row['ms']:10.2f} {len(row['postgres']):8d} {row['redis']:6d} {row['hops']:5d} "
              f"{row['threads']:7d} {row['bytes']:7d}"
              + (f" {row['cpu']:7.2f} {row['backend']:9.2f}" if cpu else ""))
    print(f"load average {_load_average()}")
    if "--sql" in sys.argv:
        width = int(os.environ.get("SQL_WIDTH", "120"))
        for row in rows:
            print(f"\n{row['name']}:")
            for sql in row["postgres"]:
                print(f"  {sql[:width]}")


if __name__ == "__main__":
    main()
