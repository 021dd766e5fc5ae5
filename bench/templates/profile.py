"""Where a search's time goes, stage by stage, over the latency benchmark's catalog.

    python -m bench.templates.profile [--size 100000] [--rounds 20] [--explain]

For each kind of search the latency benchmark times (typical word, typo,
prefix, filtered, very common word), `search_templates` runs `--rounds`
times with every statement timed as the client sees it (binding, round
trip, fetching), and prints the p50 of: the whole search, each statement,
and the Python around them (the whole minus the statements). With
`--explain`, each statement of one search of each kind is run again under
`EXPLAIN (ANALYZE, BUFFERS)`, with the session settings it ran under, and
the server's planning and execution times are printed beside it, with the
plan in `--plans DIR` if given. The catalog is the latency benchmark's
(loaded by it, or here, when the database holds another).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CASES: list[tuple[str, dict[str, Any]]] = [
    ("typical", {"query": "invoices"}),
    ("typical-2", {"query": "translate"}),
    ("typo", {"query": "invoces"}),
    ("typo-2", {"query": "tranlate"}),
    ("prefix", {"query": "summ"}),
    ("prefix-2", {"query": "inv"}),
    ("filtered", {"query": "invoices", "category": "finance", "tag": "json"}),
    ("common", {"query": "data"}),
]
# The settings a statement names in its leading comment (selectors/statements.py).
_SETTINGS = re.compile(r"^(?:/\* (.*?) \*/ )?(.*)$", re.DOTALL)


class _Recorder:
    """A Django execute wrapper: every statement's SQL, parameters and time as the client sees it."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any, float]] = []

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((sql, params, (time.perf_counter() - started) * 1000))


def _label(sql: str) -> str:
    text = " ".join(_SETTINGS.match(sql).group(2).split())  # type: ignore[union-attr]
    if "WITH q AS" in text:
        return "candidates+page+facets"
    # The words statement also looks up a likely typo's corrections (selectors/words.py).
    if text.startswith("SELECT w.word, tsvector_to_array"):
        return "words+teams+corrections"
    if "near AS" in text:
        return "typo corrections"
    if "pg_stats" in text:
        return "statistics"
    if text.startswith('SELECT "templates_app_template"'):
        return "page rows (ORM)"
    return text[:40]


def _explain(sql: str, params: Any) -> str:
    """The plan the statement ran on: for a search statement, its generic plan (prepared under its
    settings, then `EXPLAIN EXECUTE` with the same values), in a transaction rolled back after it."""
    import psycopg
    from django.db import connection, transaction
    from psycopg._queries import PostgresQuery
    from psycopg.adapt import Transformer

    settings, _ = _SETTINGS.match(sql).groups()  # type: ignore[union-attr]
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in settings.split(", ") if settings else []:
            cursor.execute(f"SET LOCAL {setting}")
        if not settings:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        else:
            raw = connection.connection
            name = "bench_profile_statement"
            converted = PostgresQuery(Transformer(raw))
            converted.convert(sql, params)
            text = converted.query.decode()  # the $n form psycopg sends
            cursor.execute(f"DEALLOCATE ALL; PREPARE {name} AS {text}")
            literals = psycopg.ClientCursor(raw).mogrify(
                f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE {name}({', '.join(['%s'] * len(params))})", params)
            cursor.execute(literals)
        plan = "\n".join(line for line, in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def _milliseconds(plan: str, what: str) -> float:
    found = re.search(rf"^{what} Time: ([0-9.]+) ms", plan, re.MULTILINE)
    return float(found.group(1)) if found else float("nan")


def _p50(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--plans", type=Path, default=None, help="write each statement's plan (JSON) here")
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "symphony_site.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import override_settings

    from bench.templates import _prepare
    from templates_app.selectors import search_templates

    user = _prepare(options.size)
    wanted = set(filter(None, options.cases.split(",")))
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; {options.rounds} rounds; "
          f"server_side_binding={connection.settings_dict['OPTIONS'].get('server_side_binding', False)}")
    with override_settings(DEBUG=False):
        for name, arguments in CASES:
            if wanted and name not in wanted:
                continue
            for _ in range(3):
                search_templates(user, limit=20, **arguments)
            totals: list[float] = []
            per_statement: dict[tuple[int, str], list[float]] = {}
            pythons: list[float] = []
            last: list[tuple[str, Any, float]] = []
            for _ in range(options.rounds):
                recorder = _Recorder()
                with connection.execute_wrapper(recorder):
                    started = time.perf_counter()
                    search_templates(user, limit=20, **arguments)
                    total = (time.perf_counter() - started) * 1000
                totals.append(total)
                pythons.append(total - sum(spent for _, _, spent in recorder.statements))
                for index, (sql, _, spent) in enumerate(recorder.statements):
                    per_statement.setdefault((index, _label(sql)), []).append(spent)
                last = recorder.statements
            ordered = sorted(totals)
            p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
            print(f"\n{name} {arguments}: total p50 {_p50(totals):.2f} ms, p95 {p95:.2f} ms; "
                  f"Python outside statements p50 {_p50(pythons):.2f} ms "
                  f"(load {os.getloadavg()[0]:.2f})")
            for (index, label), spent in per_statement.items():
                print(f"  {index + 1}. {label:<24} client p50 {_p50(spent):6.2f} ms")
            if options.explain:
                for index, (sql, params, _) in enumerate(last):
                    plan = _explain(sql, params)
                    buffers = re.search(r"Buffers: (.*)", plan)
                    print(f"  {index + 1}. {_label(sql):<24} server planning {_milliseconds(plan, 'Planning'):6.2f} ms, "
                          f"execution {_milliseconds(plan, 'Execution'):6.2f} ms; {buffers.group(1) if buffers else ''}")
                    if options.plans:
                        options.plans.mkdir(parents=True, exist_ok=True)
                        (options.plans / f"{name}-{index + 1}.txt").write_text(plan)
                        (options.plans / f"{name}-{index + 1}.sql").write_text(f"{sql}\n-- {params!r}\n")


if __name__ == "__main__":
    main()
