"""Audit benchmarks: appends (single and batched), filtered query p95, CSV export, verification.

Run against a migrated benchmark database (never the development one: it
loads a million entries into a team called `bench-audit-1000000`):

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:54329/symphony_bench \\
        python manage.py migrate && python -m bench.audit [--quick] [--size N]

or through `make bench` / `python -m bench.run audit`. The generated chain is
kept between runs and topped up to the requested size. `--size 10000000` runs
the query, export and verification figures at ten million entries.
"""

from __future__ import annotations

import json
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

AREA = "audit"
DEFAULT_SIZE = 1_000_000
QUICK_SIZE = 20_000


def _row(name: str, size: int, unit: str, value: float, *, samples: list[float] | None = None,
         baseline_name: str | None = None, baseline: float | None = None, higher_is_better: bool = True,
         target: float | None = None) -> dict[str, Any]:
    ratio = None
    if baseline:
        ratio = value / baseline if higher_is_better else baseline / value
    met = None
    if target is not None:
        met = value >= target if higher_is_better else value <= target
    row: dict[str, Any] = {
        "area": AREA, "name": name, "size": size, "unit": unit, "value": round(value, 3),
        "p50": None, "p95": None, "max": None, "baseline_name": baseline_name,
        "baseline": round(baseline, 3) if baseline is not None else None,
        "ratio": round(ratio, 3) if ratio is not None else None, "target": target, "met": met,
    }
    if samples:
        ordered = sorted(samples)
        row["p50"] = round(statistics.median(ordered), 3)
        row["p95"] = round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 3)
        row["max"] = round(ordered[-1], 3)
    return row


def _timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _team(slug: str) -> Any:
    from teams.models import Team

    team, _ = Team.objects.get_or_create(slug=slug, defaults={"name": slug.replace("-", " ").title()})
    return team


_PLAIN_TABLE = "bench_audit_plain"


def _ensure_plain_table() -> None:
    """The baseline: the same columns and indexes as the audit table, no chain, no trigger."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {_PLAIN_TABLE} (LIKE audit_auditentry INCLUDING DEFAULTS "
                       "INCLUDING CONSTRAINTS INCLUDING INDEXES)")
        cursor.execute(f"TRUNCATE {_PLAIN_TABLE}")


_PLAIN_INSERT = (
    f"INSERT INTO {_PLAIN_TABLE} (id, team_id, sequence, occurred_at, actor_id, actor_name, actor_type, "
    "event_type, target_type, target_id, target_name, execution_id, reason, details, ip_address, user_agent, "
    "prev_hash, hash) VALUES (gen_random_uuid(), %s, %s, clock_timestamp(), NULL, 'system', 'system', "
    "'workflow.created', 'workflow', %s, %s, NULL, '', %s, NULL, '', %s, %s)"
)


def bench_appends(count: int, batches: int, batch_size: int) -> list[dict[str, Any]]:
    import orjson
    from django.db import connection, transaction

    from audit.services import record_event, record_events_batch
    from symphony_site.actors import Actor, Origin

    # The system actor named "system", as the plain-table baseline's rows say.
    bench_actor = Actor.system("system")

    team = _team("bench-audit-appends")
    _ensure_plain_table()
    zero = "0" * 64

    def chained(index: int) -> None:
        with transaction.atomic():
            record_event(team=team, actor=bench_actor, origin=Origin.task(), event_type="workflow.created",
                         target_type="workflow", target_id=str(index), target_name=f"workflow {index}", details={"n": index})

    def plain(index: int) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_PLAIN_INSERT, [team.pk, index + 1, str(index), f"workflow {index}",
                                           orjson.dumps({"n": index}).decode(), zero, zero])

    for index in range(20):  # warm-up: connections, plans
        chained(index)
        plain(1_000_000 + index)
    chained_times = [_timed(lambda i=index: chained(i)) for index in range(count)]
    plain_times = [_timed(lambda i=index: plain(2_000_000 + i)) for index in range(count)]
    chained_rate = count / sum(chained_times)
    plain_rate = count / sum(plain_times)

    def chained_batch(batch: int) -> None:
        record_events_batch(team=team, actor=bench_actor, origin=Origin.task(), events=[
            {"event_type": "workflow.created", "target_type": "workflow", "target_id": str(index),
             "details": {"n": index}} for index in range(batch * batch_size, (batch + 1) * batch_size)])

    def plain_batch(batch: int) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(_PLAIN_INSERT, [
                [team.pk, 3_000_000 + index, str(index), f"workflow {index}", orjson.dumps({"n": index}).decode(),
                 zero, zero] for index in range(batch * batch_size, (batch + 1) * batch_size)])

    batch_times = [_timed(lambda b=batch: chained_batch(b)) for batch in range(batches)]
    plain_batch_times = [_timed(lambda b=batch: plain_batch(b)) for batch in range(batches)]
    batched_rate = batches * batch_size / sum(batch_times)
    plain_batched_rate = batches * batch_size / sum(plain_batch_times)
    return [
        _row("append, one per transaction", count, "appends/s", chained_rate,
             samples=[seconds * 1000 for seconds in chained_times], baseline_name="plain insert, one per transaction",
             baseline=plain_rate, target=2000),
        _row("append latency (p50/p95/max in ms)", count, "ms", statistics.median(chained_times) * 1000,
             samples=[seconds * 1000 for seconds in chained_times], baseline_name="plain insert",
             baseline=statistics.median(plain_times) * 1000, higher_is_better=False),
        _row(f"append batched ({batch_size} per transaction)", batches * batch_size, "appends/s", batched_rate,
             samples=[seconds * 1000 for seconds in batch_times], baseline_name=f"plain executemany of {batch_size}",
             baseline=plain_batched_rate),
    ]


def _ensure_chain(size: int) -> Any:
    from django.db import connection

    from audit.models import AuditEntry
    from bench.audit.generate import load_chain

    # One team per size, so a quick run never scans the big chain.
    team = _team(f"bench-audit-{size}")
    have = AuditEntry.objects.filter(team=team).count()
    if have < size:
        print(f"  generating {size - have:,} audit entries (kept for later runs)…", flush=True)
        started = time.perf_counter()
        load_chain(team, size - have, seed=have)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE audit_auditentry")
        print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)
    return team, max(have, size)


def bench_query(team: Any, size: int, repetitions: int) -> list[dict[str, Any]]:
    import datetime as dt
    import random

    from audit import selectors
    from audit.event_types import EVENT_TYPES
    from audit.filters import AuditFilters
    from symphony_site.api.pagination import paginate_queryset

    chain = selectors.Chain(team)
    bounds = selectors.entries(chain).order_by("occurred_at").values_list("occurred_at", flat=True)
    first, last = bounds.first(), bounds.last()
    generator = random.Random(42)
    types = sorted(name for name in EVENT_TYPES if name != "audit.pruned")

    def one(event_type: str) -> float:
        offset = generator.random() * max((last - first).total_seconds() - 30 * 86400, 1)
        since = first + dt.timedelta(seconds=offset)
        filters = AuditFilters(event_type=event_type, since=since, until=since + dt.timedelta(days=30))
        return _timed(lambda: paginate_queryset(filters.apply(selectors.entries(chain)),
                                                ("-occurred_at", "-sequence"), limit=100, cursor=None)) * 1000

    def server_milliseconds(event_type: str) -> float:
        """The same query's execution time inside PostgreSQL (EXPLAIN ANALYZE), without the client."""
        from django.db import connection

        offset = generator.random() * max((last - first).total_seconds() - 30 * 86400, 1)
        since = first + dt.timedelta(seconds=offset)
        filters = AuditFilters(event_type=event_type, since=since, until=since + dt.timedelta(days=30))
        query = filters.apply(selectors.entries(chain)).order_by("-occurred_at", "-sequence")[:101]
        sql, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return float(plan[0]["Execution Time"])

    rows = []
    server = [server_milliseconds(generator.choice(types)) for _ in range(repetitions)]
    ordered_server = sorted(server)
    rows.append(_row("query newest 100, exact type: PostgreSQL execution only (p95)", size, "ms",
                     ordered_server[min(len(ordered_server) - 1, int(len(ordered_server) * 0.95))],
                     samples=server, higher_is_better=False, target=10))
    for label, pick in [("exact type", lambda: generator.choice(types)),
                        ("type prefix workflow.*", lambda: "workflow.*"),
                        ("no type", lambda: "")]:
        for _ in range(10):
            one(pick())
        samples = [one(pick()) for _ in range(repetitions)]
        ordered = sorted(samples)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        row = _row(f"query newest 100, team + 30-day window + {label} (p95)", size, "ms", p95, samples=samples,
                   higher_is_better=False, target=10)
        rows.append(row)
    return rows


def bench_export(team: Any, size: int) -> list[dict[str, Any]]:
    from django.db import connection

    from audit import export, selectors

    chain = selectors.Chain(team)

    def run_export(limit: int | None = None) -> int:
        queryset = selectors.entries(chain)
        if limit is not None:
            queryset = queryset.filter(sequence__lte=limit)
        written = 0
        for block in export.csv_stream(queryset):
            written += len(block)
        return written

    started = time.perf_counter()
    run_export()
    export_seconds = time.perf_counter() - started

    def copy_baseline() -> None:
        with connection.cursor() as cursor, cursor.cursor.copy(
            "COPY (SELECT id, team_id, sequence, occurred_at, actor_id, actor_name, actor_type, event_type, "
            "target_type, target_id, target_name, execution_id, reason, details, host(ip_address), user_agent, "
            "prev_hash, hash FROM audit_auditentry WHERE team_id = %s ORDER BY occurred_at, sequence) "
            "TO STDOUT WITH (FORMAT csv)", [team.pk]) as copy:
            for _block in copy:
                pass

    copy_seconds = _timed(copy_baseline)

    def peak_megabytes(limit: int | None) -> float:
        tracemalloc.start()
        run_export(limit)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak / 1e6

    small = max(size // 10, 1)
    return [
        _row("CSV export", size, "rows/s", size / export_seconds, baseline_name="COPY ... TO STDOUT CSV",
             baseline=size / copy_seconds, target=300_000),
        _row("CSV export peak Python memory", size, "MB", peak_megabytes(None),
             baseline_name=f"peak exporting {small:,} rows", baseline=peak_megabytes(small), higher_is_better=False),
    ]


# The verifier's previous row source, kept as the baseline: the same values through a
# server-side cursor (typed columns, jsonb parsed by orjson), 20,000 rows per fetch.
_CURSOR_SQL = """
    SELECT prev_hash, team_id::text, sequence,
           to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           actor_id, actor_name, actor_type, event_type, target_type, target_id, target_name,
           execution_id::text, reason, details, host(ip_address), user_agent, hash
    FROM audit_auditentry WHERE team_id = %s ORDER BY sequence
"""


def _cursor_rows(team: Any) -> Any:
    import orjson
    from django.db import connection
    from psycopg.types.json import set_json_loads

    with connection.chunked_cursor() as cursor:
        set_json_loads(orjson.loads, context=cursor.cursor)
        cursor.execute(_CURSOR_SQL, [team.pk])
        while batch := cursor.fetchmany(20_000):
            yield from batch


def bench_verify(team: Any, size: int) -> list[dict[str, Any]]:
    from django.db import transaction

    from audit import domain, selectors

    chain = selectors.Chain(team)

    def drain(rows: Any) -> int:
        count = 0
        with transaction.atomic():
            for _row_values in rows:
                count += 1
        return count

    # The baseline first: it also warms the cache for every measurement after it.
    cursor_seconds = _timed(lambda: drain(_cursor_rows(team)))
    stream_seconds = _timed(lambda: drain(selectors.verification_rows(chain)))
    started = time.perf_counter()
    result = selectors.verify(chain)
    verify_seconds = time.perf_counter() - started
    if not result.valid:
        raise AssertionError(f"benchmark chain does not verify: {result.as_dict()}")
    checked = result.checked

    def previous_path() -> None:
        with transaction.atomic():
            assert domain.verify_chain(_cursor_rows(team)).valid

    previous_seconds = _timed(previous_path)
    return [
        _row("chain verification, end to end (selectors.verify)", checked, "rows/s", checked / verify_seconds,
             baseline_name="fetching the same rows with a server-side cursor, no hashing",
             baseline=checked / cursor_seconds, target=500_000),
        _row("  previous path: cursor fetch + verify_chain", checked, "rows/s", checked / previous_seconds,
             baseline_name="fetching with a server-side cursor", baseline=checked / cursor_seconds),
        _row("  the COPY row stream alone, no hashing", checked, "rows/s", checked / stream_seconds,
             baseline_name="fetching with a server-side cursor", baseline=checked / cursor_seconds),
    ]


def bench_verify_in_memory(count: int) -> list[dict[str, Any]]:
    """The pure verifier alone over rows already in memory: the per-row cost of hashing and linking."""
    from audit import domain
    from bench.audit.generate import entries

    rows = [(row[16], str(row[1]), row[2], domain.format_time(row[3]), *row[4:13], orjson_loads(row[13]), *row[14:16],
             row[17]) for row in entries("6f1c3a52-0d4b-4c55-9a4e-5d2f7f0c9b11", count, seed=1)]
    samples = []
    for _ in range(3):
        seconds = _timed(lambda: domain.verify_chain(rows))
        samples.append(count / seconds)
    if not domain.verify_chain(rows).valid:
        raise AssertionError("in-memory benchmark chain does not verify")
    return [_row("verify_chain over in-memory rows (pure domain, best of 3)", count, "rows/s", max(samples),
                 target=500_000)]


def orjson_loads(text: str) -> Any:
    import orjson

    return orjson.loads(text)


def run(quick: bool = False, size: int | None = None) -> list[dict[str, Any]]:
    size = size or (QUICK_SIZE if quick else int(os.environ.get("AUDIT_BENCH_SIZE", DEFAULT_SIZE)))
    rows = bench_appends(count=50 if quick else 2000, batches=2 if quick else 20, batch_size=20 if quick else 100)
    team, size = _ensure_chain(size)
    rows += bench_query(team, size, repetitions=20 if quick else 200)
    rows += bench_export(team, size)
    rows += bench_verify(team, size)
    rows += bench_verify_in_memory(20_000 if quick else 300_000)
    return rows


def main() -> None:
    import argparse

    import django

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--size", type=int, default=None, help=f"entries in the query/export/verify chain (default {DEFAULT_SIZE:,})")
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "symphony_site.settings")
    django.setup()
    from bench.run import format_table

    print(format_table(run(quick=options.quick, size=options.size)))
