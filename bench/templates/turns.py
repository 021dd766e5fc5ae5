"""This checkout's search beside another revision's, in turns, on the latency benchmark's words.

    python -m bench.templates.turns [--revision main] [--rounds 10] [--groups typical,typo]

The other revision's `templates_app/selectors/` is copied out of git into a
temporary package and imported beside the current one (same process, same
connection, same catalog — the latency benchmark's, loaded if the database
holds another), and the two take turns on each query, so the machine's load
falls on both alike. Prints p50 / p95 in ms per group with the load average,
and what depends far less on the load: statements per search, and the CPU
time per search of this process and of its PostgreSQL backend (the
backend's from /proc/PID/schedstat, so the database must run on this host).
Only the selectors differ: models, migrations and the domain code are this
checkout's, so a revision whose selectors need other code cannot be compared.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PACKAGE = "templates_app/selectors"


def _other_selectors(revision: str, folder: Path) -> Any:
    root = Path(__file__).resolve().parents[2]
    name = "selectors_at_" + "".join(c if c.isalnum() else "_" for c in revision)
    target = folder / name
    target.mkdir()
    files = subprocess.run(["git", "ls-tree", "--name-only", f"{revision}:{PACKAGE}"], cwd=root, check=True,
                           capture_output=True, text=True).stdout.split()
    for file in files:
        text = subprocess.run(["git", "show", f"{revision}:{PACKAGE}/{file}"], cwd=root, check=True,
                              capture_output=True, text=True).stdout
        (target / file).write_text(text.replace("templates_app.selectors", name))
    sys.path.insert(0, str(folder))
    return importlib.import_module(name)


def _backend_cpu_ns(pid: int) -> int:
    """The CPU time the process `pid` has run, in nanoseconds (0 when it is not on this host)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--revision", default="main")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--groups", default="typical,common,typo,prefix,filtered")
    parser.add_argument("--size", type=int, default=100_000)
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "symphony_site.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import override_settings

    from bench.templates import FILTERED, PREFIXES, TYPICAL, TYPOS, VERY_COMMON, _prepare
    from templates_app import selectors

    groups: dict[str, list[dict[str, Any]]] = {
        "typical": [{"query": query} for query in TYPICAL], "common": [{"query": query} for query in VERY_COMMON],
        "typo": [{"query": query} for query in TYPOS], "prefix": [{"query": query} for query in PREFIXES],
        "filtered": [{"query": query, "category": category, "tag": tag} for query, category, tag in FILTERED]}
    user = _prepare(options.size)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    statements = [0]

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements[0] += 1
        return execute(sql, params, many, context)

    with tempfile.TemporaryDirectory() as folder, override_settings(DEBUG=False), connection.execute_wrapper(count):
        other = _other_selectors(options.revision, Path(folder))
        for group in options.groups.split(","):
            cases = groups[group]
            searches = [("this checkout", selectors.search_templates), (options.revision, other.search_templates)]
            for arguments in cases:  # warm-up: plans, caches, statistics
                for _, search in searches:
                    search(user, limit=20, **arguments)
            samples: dict[str, list[float]] = {label: [] for label, _ in searches}
            # Per revision: statements, this process's CPU and the backend's, in ms, summed over its searches.
            costs: dict[str, list[float]] = {label: [0, 0.0, 0.0] for label, _ in searches}
            for round_number in range(options.rounds):
                for index, arguments in enumerate(cases):
                    order = searches if (round_number + index) % 2 == 0 else searches[::-1]
                    for label, search in order:
                        statements[0], client, server = 0, time.process_time(), _backend_cpu_ns(backend)
                        started = time.perf_counter()
                        search(user, limit=20, **arguments)
                        samples[label].append((time.perf_counter() - started) * 1000)
                        costs[label][0] += statements[0]
                        costs[label][1] += (time.process_time() - client) * 1000
                        costs[label][2] += (_backend_cpu_ns(backend) - server) / 1e6
            figures = " | ".join(
                f"{label} p50 {_percentiles(values)[0]:6.2f} p95 {_percentiles(values)[1]:6.2f}"
                f" (statements {costs[label][0] / len(values):.1f}, CPU client {costs[label][1] / len(values):.2f}"
                f" + server {costs[label][2] / len(values):.2f} ms)" for label, values in samples.items())
            print(f"{group:9} {figures} | load {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
