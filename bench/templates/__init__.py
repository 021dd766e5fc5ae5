"""Marketplace search benchmark: relevance over real workflow names, and p50 / p95 latency beside ILIKE.

Run against a migrated benchmark database, never the development one (it
replaces the database's whole marketplace and typo vocabulary):

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:54329/symphony_bench_tpl \\
        python manage.py migrate && python -m bench.templates [--quick] [--relevance 1000,10000] [--size N]

or through `make bench` / `python -m bench.run templates`. First the
relevance benchmark (`bench/templates/relevance.py`: real n8n workflow names
at 1,000, 10,000 and 100,000 templates, the current design beside the one
before issue 18), then latency over 100,000 generated templates (team
`bench-templates`, kept between runs and reloaded only when the catalog in
the database is another). Each latency figure times `selectors.search_templates`
as the API calls it (query, ranking, facets, loading the page's rows); the
baseline is `ILIKE '%term%'` on name and description ordered by name over
the same rows, for the same words, in the same run.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

AREA = "templates"
DEFAULT_SIZE = 100_000
QUICK_SIZE = 2_000
SEED = 7

TYPICAL = ["invoices", "translate", "contracts", "sentiment", "transcripts", "redact", "forecast", "approval",
           "shipping", "escalate"]
VERY_COMMON = ["data", "workflow", "team", "results", "work"]
TYPOS = ["invoces", "tranlate", "contrcts", "sentimnt", "transcrips", "redatc", "forcast", "aproval", "shiping",
         "esclate"]
PREFIXES = ["summ", "clas", "inv", "tran", "cont", "expe", "repo", "secu", "feed", "sla"]
FILTERED = [("invoices", "finance", "json"), ("emails", "customer-support", "llm"), ("report", "reporting", "slack"),
            ("contracts", "legal", "legal"), ("reviews", "marketing", "sentiment")]


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered), p95, ordered[-1]


def _row(name: str, size: int, samples: list[float], baseline_samples: list[float] | None, target: float,
         baseline_name: str = "ILIKE '%term%' ordered by name") -> dict[str, Any]:
    p50, p95, worst = _percentiles(samples)
    row: dict[str, Any] = {"area": AREA, "name": name, "size": size, "unit": "ms (p95)", "value": round(p95, 3),
                           "p50": round(p50, 3), "p95": round(p95, 3), "max": round(worst, 3),
                           "baseline_name": None, "baseline": None, "ratio": None, "target": target,
                           "met": p95 <= target}
    if baseline_samples:
        baseline = _percentiles(baseline_samples)[1]
        row.update(baseline_name=baseline_name, baseline=round(baseline, 3), ratio=round(baseline / p95, 2))
    return row


def _time(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def replace_catalog(rows: list[dict[str, Any]]) -> None:
    """Make `rows` the benchmark database's whole marketplace (relevance and latency catalogs take turns)."""
    from django.db import connection

    from bench.templates.generate import copy_rows
    from templates_app import selectors

    with connection.cursor() as cursor:
        # Every benchmark team's templates (the API bench's too: it loads its own again when it
        # finds none), so what is searched is this catalog alone.
        cursor.execute("DELETE FROM templates_app_template WHERE team_id IN "
                       "(SELECT id FROM teams_team WHERE slug LIKE 'bench-%%')")
        # The typo vocabulary is the catalog's: words of the previous one would be corrections nobody could find.
        cursor.execute("TRUNCATE templates_app_searchword")
        # Dead rows of a previous catalog would slow every scan the benchmark times.
        cursor.execute("VACUUM ANALYZE templates_app_template")
    copy_rows(rows)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE templates_app_template")
        cursor.execute("VACUUM ANALYZE templates_app_searchword")
    # The search reads PostgreSQL's statistics at most once a minute; these are new.
    selectors.forget_statistics()


def _prepare(size: int) -> Any:
    from django.contrib.auth import get_user_model

    from bench.templates.generate import generate_rows
    from teams.models import Membership, Team
    from templates_app.models import Template

    team, _ = Team.objects.get_or_create(slug="bench-templates", defaults={"name": "Bench templates"})
    user, _ = get_user_model().objects.get_or_create(username="bench-templates-user")
    Membership.objects.get_or_create(team=team, user=user, defaults={"role": "viewer"})
    if Template.objects.filter(team=team).count() != size or Template.objects.count() != size:
        started = time.perf_counter()
        replace_catalog(list(generate_rows(size, seed=SEED, team_id=team.pk)))
        print(f"  loaded {size:,} templates in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return user


def _ilike(term: str) -> None:
    from django.db import connection

    pattern = f"%{term}%"
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, name FROM templates_app_template WHERE name ILIKE %s OR description ILIKE %s "
                       "ORDER BY name LIMIT 20", [pattern, pattern])
        cursor.fetchall()


def _naive_rank(term: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM templates_app_template, plainto_tsquery('english', %s) query "
                       "WHERE search_vector @@ query ORDER BY ts_rank(search_vector, query) DESC LIMIT 20", [term])
        cursor.fetchall()


def run(quick: bool = False, size: int | None = None) -> list[dict[str, Any]]:
    """Relevance over the real-names catalogs (bench/templates/relevance.py), then latency over `size` generated."""
    from bench.templates import relevance

    rows = [] if size else relevance.run(quick=quick)
    return rows + run_latency(quick=quick, size=size)


def run_latency(quick: bool = False, size: int | None = None) -> list[dict[str, Any]]:
    from django.test.utils import override_settings

    size = size or (QUICK_SIZE if quick else DEFAULT_SIZE)
    user = _prepare(size)
    # Production runs with DEBUG off; with it on, Django records and formats
    # every query, which would add its own milliseconds to each search.
    with override_settings(DEBUG=False):
        return _measure(user, size, repeats=2 if quick else 10)


def _measure(user: Any, size: int, *, repeats: int) -> list[dict[str, Any]]:
    from bench.templates import legacy
    from templates_app.selectors import search_templates

    def measure(queries: list[Any], search: Callable[[Any], Any], times: int = repeats) -> list[float]:
        for query in queries:  # warm-up: plans, caches
            search(query)
        return [_time(lambda q=query: search(q)) for _ in range(times) for query in queries]

    def measure_both(queries: list[str]) -> tuple[list[float], list[float]]:
        """The current search and the design before issue 18 on the same words, taking turns."""
        for query in queries:
            plain(query)
            legacy.search_templates(user, query=query, limit=20)
        current: list[float] = []
        before: list[float] = []
        for round_number in range(repeats):
            for index, query in enumerate(queries):
                pair = [(current, plain), (before, lambda q: legacy.search_templates(user, query=q, limit=20))]
                for samples, search in pair if (round_number + index) % 2 == 0 else reversed(pair):
                    samples.append(_time(lambda q=query, s=search: s(q)))
        return current, before

    def baseline(queries: list[str]) -> list[float]:
        # Slow by nature; two rounds give its p95 over 20 samples.
        return measure(queries, _ilike, times=2)

    def plain(query: str) -> Any:
        return search_templates(user, query=query, limit=20)

    legacy.build()
    try:
        (typical, typical_before), (common, common_before) = measure_both(TYPICAL), measure_both(VERY_COMMON)
        (typos, typos_before), (prefixes, prefixes_before) = measure_both(TYPOS), measure_both(PREFIXES)
    finally:
        legacy.drop()
    filtered = measure(FILTERED, lambda q: search_templates(user, query=q[0], category=q[1], tag=q[2], limit=20))
    browse = measure(["relevance", "popular", "newest", "rating"], lambda sort: search_templates(user, sort=sort))
    rows = [
        _row("search, typical word (+facets)", size, typical, baseline(TYPICAL), 10),
        _row("search, very common word (+facets)", size, common, baseline(VERY_COMMON), 30),
        _row("search, one-letter typo (+facets)", size, typos, baseline(TYPOS), 10),
        _row("search as you type, prefix (+facets)", size, prefixes, baseline(PREFIXES), 10),
        _row("search + category and tag filters (+facets)", size, filtered,
             baseline([q[0] for q in FILTERED]), 10),
        _row("browse, no query, each sort (+facets)", size, browse, None, 30),
        _row("reference: naive ts_rank over all matches, common word", size,
             measure(VERY_COMMON, _naive_rank, times=2), None, 30),
    ]
    for label, current, before in (("typical word", typical, typical_before), ("very common word", common,
                                   common_before), ("one-letter typo", typos, typos_before),
                                  ("as-you-type prefix", prefixes, prefixes_before)):
        # The same words through the design before issue 18, measured in turns with the rows above.
        rows.append(_row(f"reference: design before issue 18, {label}", size, before, current, 30,
                         baseline_name="the current search, same words, in turns"))
    return rows


def main(argv: list[str] | None = None) -> None:
    import argparse
    import os

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--size", type=int, default=None, help="latency only, over this many generated templates")
    parser.add_argument("--relevance", metavar="SIZES", default=None,
                        help="relevance only, at these comma-separated catalog sizes (e.g. 1000,10000)")
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "symphony_site.settings")
    import django

    django.setup()
    from bench.run import format_table
    from bench.templates import relevance

    if options.relevance:
        sizes = tuple(int(size) for size in options.relevance.split(","))
        print(format_table(relevance.run(quick=options.quick, sizes=sizes)))
    else:
        print(format_table(run(quick=options.quick, size=options.size)))


if __name__ == "__main__":
    main()
