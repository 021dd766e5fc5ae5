"""The API's cost per request in-process: statements, Redis round trips, and where the time goes.

    bash scripts/bench.sh profile-api        (python -m bench.api.profile with the bench's services)

Each endpoint of the load bench (and the bare view) is requested through Django's test client —
the full middleware stack of `bench.api.settings`, no server, no network — first to count its
SQL statements and Redis round trips (deterministic: they do not depend on the machine's load),
then N times under cProfile for the time split. Times are means per request and move with the
load average, printed beside them; the counts (statements, round trips, Python function calls
per request) do not.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import time
from typing import Any

# Parts of a request, each the cumulative time of the function that does it.
PARTS = {
    "authentication": ("rest_framework/views.py", "perform_authentication"),
    "permissions": ("rest_framework/views.py", "check_permissions"),
    "throttle": ("rest_framework/views.py", "check_throttles"),
    "negotiation": ("rest_framework/views.py", "perform_content_negotiation"),
    "view (with serializer)": ("rest_framework/views.py", "dispatch"),
    "serializer .data": ("rest_framework/serializers.py", "data"),
    "rendering": ("rest_framework/response.py", "rendered_content"),
    "whole request": ("symphony_site/request_context.py", "__call__"),
    "metrics": ("symphony_site/metrics.py", "http_answered"),
    "request log line": ("structlog/_native.py", "meth"),
}


class RedisRoundTrips:
    """Counts commands sent to Redis (a pipeline is one round trip)."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> RedisRoundTrips:
        from redis.connection import AbstractConnection

        self._original = AbstractConnection.send_packed_command
        counter = self

        def counted(connection: Any, command: Any, check_health: bool = True) -> Any:
            counter.count += 1
            return counter._original(connection, command, check_health)

        AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        from redis.connection import AbstractConnection

        AbstractConnection.send_packed_command = self._original  # type: ignore[method-assign]


def _part_times(stats: pstats.Stats, requests: int) -> dict[str, float]:
    found: dict[str, float] = {}
    for (filename, _, function), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        for part, (file_suffix, name) in PARTS.items():
            if function == name and filename.endswith(file_suffix):
                found[part] = found.get(part, 0.0) + cumulative * 1000 / requests
    return found


def profile(paths: dict[str, str], key: str, *, requests: int) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT="application/json")
    rows = []
    for name, path in paths.items():
        for _ in range(5):  # warm: connections, caches, imports
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code, response.content[:200])
        with CaptureQueriesContext(connection) as queries, RedisRoundTrips() as redis:
            client.get(path)
        # Read now: the property reads the connection's log, which later requests change.
        statements = [query["sql"][:int(os.environ.get("SQL_WIDTH", "160"))] for query in queries.captured_queries]
        started = time.perf_counter()
        for _ in range(requests):
            client.get(path)
        plain_ms = (time.perf_counter() - started) * 1000 / requests
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            client.get(path)
        profiler.disable()
        stats = pstats.Stats(profiler)
        calls = stats.total_calls // requests  # type: ignore[attr-defined]
        rows.append({"name": name, "ms": plain_ms, "calls": calls, "statements": len(statements),
                     "redis": redis.count, "bytes": len(response.content),
                     "parts": _part_times(stats, requests), "stats": stats,
                     "sql": statements})
    return rows


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.api.settings"
    os.environ.setdefault("THROTTLE_USER", "10000000/minute")
    import django

    django.setup()
    from bench.api.load import _load_average, _setup

    requests = int(next((arg.split("=", 1)[1] for arg in sys.argv if arg.startswith("--requests=")), "200"))
    key, paths = _setup()
    only = [arg.split("=", 1)[1] for arg in sys.argv if arg.startswith("--only=")]
    if only:
        paths = {name: path for name, path in paths.items() if any(part in name for part in only)}
    print(f"In-process API profile, {requests} requests per endpoint; load average {_load_average()}")
    rows = profile(paths, key, requests=requests)
    print(f"{'endpoint':24} {'ms/request':>10} {'py calls':>9} {'statements':>10} {'redis':>6} {'bytes':>7}"
          "   time split under cProfile (ms)")
    for row in rows:
        split = ", ".join(f"{part} {value:.2f}" for part, value in row["parts"].items())
        print(f"{row['name']:24} {row['ms']:10.2f} {row['calls']:9d} {row['statements']:10d} {row['redis']:6d} {row['bytes']:7d}   "
              f"{split}")
    print(f"load average {_load_average()}")
    if "--sql" in sys.argv:
        for row in rows:
            print(f"\n{row['name']}:")
            for sql in row["sql"]:
                print(f"  {sql}")
    top = next((arg for arg in sys.argv if arg.startswith("--top")), None)
    if top:  # --top: by own time; --top=calls: by calls, what the deterministic count is made of
        order = top.partition("=")[2] or "tottime"
        for row in rows:
            print(f"\n== {row['name']}")
            row["stats"].sort_stats(order).print_stats(40)


if __name__ == "__main__":
    main()
