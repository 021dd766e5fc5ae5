"""Marketplace search relevance: is the template found when people search for it the way they do?

Over catalogs of real public n8n workflow names and descriptions
(`bench/templates/corpus/`) at 1,000, 10,000 and 100,000 templates, for a
seeded sample of the real entries:

* **two words of its own name** — two different words drawn at random from
  the name's words (stop words and one-letter words left out), in the
  name's order: is the template in the first 10 results?
* **the same with a one-letter typo** in the longer word (a letter dropped,
  added, changed or two swapped, anywhere): in the first 20?
* **its exact name**: the reciprocal rank of the first result with that name
  (0 beyond the first 20), averaged.

Two random words can be words many names share ("google sheets"): no search
can tell which of 300 such names was meant. So the shares are reported for
**distinctive pairs** — pairs held by at most 10 names of that catalog, where
the template *can* be among the first 10 — with the share over every pair
beside them, and what a ranking that orders the names holding each pair at
random would find on every pair (the mean of min(1, 10 / names holding it)).

Every query runs through the current `search_templates` and through the
design before issue 18 (`bench/templates/legacy.py`, its own index over the
same catalog), alternately, in the same run; each search is also timed, as
the API calls it (query, ranking, facets, loading the page).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

AREA = "templates"
SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000,)
SAMPLE = 300
QUICK_SAMPLE = 40
SEED = 11
TOP_WORDS = 10
TOP_TYPO = 20
TOP_NAME = 20
DISTINCTIVE = 10
TEAM_SLUG = "bench-templates-relevance"


@dataclass
class Probe:
    """One sampled real template and the three searches made for it."""

    slug: str
    name_key: str
    name: str
    pair: str
    typo: str
    # How many names of the catalog hold both words of the pair.
    pair_names: int


@dataclass
class Outcome:
    rank_pair: int | None = None
    rank_typo: int | None = None
    rank_name: int | None = None


def _stop_words(words: set[str]) -> set[str]:
    """PostgreSQL's English stop words among `words`."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT w FROM unnest(%s::text[]) AS w WHERE to_tsvector('english', w) = ''::tsvector",
                       [sorted(words)])
        return {row[0] for row in cursor.fetchall()}


def _typo(word: str, generator: random.Random) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    while True:
        kind = generator.choice(["drop", "add", "change", "swap"] if len(word) > 1 else ["add", "change"])
        position = generator.randrange(len(word))
        if kind == "drop":
            typo = word[:position] + word[position + 1:]
        elif kind == "add":
            typo = word[:position] + generator.choice(letters) + word[position:]
        elif kind == "change":
            typo = word[:position] + generator.choice(letters) + word[position + 1:]
        else:
            position = min(position, len(word) - 2)
            typo = word[:position] + word[position + 1] + word[position] + word[position + 2:]
        if typo != word:
            return typo


def make_probes(rows: list[dict[str, Any]], real_slugs: list[str], *, count: int, seed: int,
                stop_words: Callable[[set[str]], set[str]] = _stop_words) -> list[Probe]:
    """The sampled templates and their queries (pure but for `stop_words`)."""
    from templates_app.domain.search_text import word_key

    keys = {row["slug"]: word_key(row["name"]) for row in rows}
    names_with: dict[str, set[str]] = defaultdict(set)
    for slug, key in keys.items():
        for word in key.split():
            names_with[word].add(slug)
    generator = random.Random(seed)
    by_slug = {row["slug"]: row for row in rows}
    candidates = real_slugs[:]
    generator.shuffle(candidates)
    words_of = {slug: list(dict.fromkeys(keys[slug].split())) for slug in candidates}
    stop = stop_words({word for words in words_of.values() for word in words})
    probes: list[Probe] = []
    for slug in candidates:
        words = [word for word in words_of[slug] if word not in stop and len(word) > 1]
        if len(words) < 2:
            continue
        first, second = sorted(generator.sample(range(len(words)), 2))
        pair = [words[first], words[second]]
        longer = 1 if len(pair[1]) >= len(pair[0]) else 0
        typo = pair[:]
        typo[longer] = _typo(pair[longer], generator)
        probes.append(Probe(slug=slug, name_key=keys[slug], name=by_slug[slug]["name"], pair=" ".join(pair),
                            typo=" ".join(typo), pair_names=len(names_with[pair[0]] & names_with[pair[1]])))
        if len(probes) == count:
            break
    return probes


def _rank(results: list[Any], probe: Probe, *, by_name: bool = False) -> int | None:
    from templates_app.domain.search_text import word_key

    for position, template in enumerate(results, 1):
        if template.slug == probe.slug or (by_name and word_key(template.name) == probe.name_key):
            return position
    return None


def _timed(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, (time.perf_counter() - started) * 1000


def _measure(user: Any, probes: list[Probe]) -> dict[str, dict[str, Any]]:
    from bench.templates import legacy
    from templates_app.selectors import search_templates

    designs: dict[str, Callable[..., Any]] = {
        "new": lambda query, limit: search_templates(user, query=query, limit=limit),
        "old": lambda query, limit: legacy.search_templates(user, query=query, limit=limit),
    }
    outcomes = {design: [Outcome() for _ in probes] for design in designs}
    times: dict[str, dict[str, list[float]]] = {design: defaultdict(list) for design in designs}
    for probe in probes[:20]:  # warm-up: plans, caches, statistics
        for search in designs.values():
            search(probe.pair, TOP_WORDS)
    for index, probe in enumerate(probes):
        # Alternate which design goes first, so neither always meets a colder cache.
        order = list(designs) if index % 2 == 0 else list(reversed(designs))
        for kind, query, limit in (("pair", probe.pair, TOP_WORDS), ("typo", probe.typo, TOP_TYPO),
                                   ("name", probe.name, TOP_NAME)):
            for design in order:
                result, elapsed = _timed(lambda d=design, q=query, n=limit: designs[d](q, n))
                times[design][kind].append(elapsed)
                setattr(outcomes[design][index], f"rank_{kind}",
                        _rank(result.templates, probe, by_name=kind == "name"))
    return {design: {"outcomes": outcomes[design], "times": times[design]} for design in designs}


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def _share(outcomes: list[Outcome], probes: list[Probe], kind: str, top: int, *, distinctive: bool) -> float:
    chosen = [outcome for outcome, probe in zip(outcomes, probes, strict=True)
              if not distinctive or probe.pair_names <= DISTINCTIVE]
    found = [outcome for outcome in chosen if (getattr(outcome, f"rank_{kind}") or top + 1) <= top]
    return round(len(found) / len(chosen), 3) if chosen else 0.0


def _mrr(outcomes: list[Outcome]) -> float:
    return round(statistics.fmean(1 / outcome.rank_name if outcome.rank_name else 0.0 for outcome in outcomes), 3)


def _rows(size: int, probes: list[Probe], measured: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    new, old = measured["new"], measured["old"]
    distinctive = sum(probe.pair_names <= DISTINCTIVE for probe in probes)
    # What a ranking that orders the names holding the pair at random would find.
    blind = statistics.fmean(min(1.0, DISTINCTIVE / max(probe.pair_names, 1)) for probe in probes)

    def row(name: str, value: float, baseline: float, target: float | None, unit: str, *,
            at_least: bool = True, **extra: Any) -> dict[str, Any]:
        met = None if target is None else (value >= target if at_least else value <= target)
        ratio = round(value / baseline, 2) if baseline else None
        return {"area": AREA, "name": name, "size": size, "value": value, "unit": unit, "p95": None,
                "baseline_name": "design before issue 18, same run", "baseline": baseline, "ratio": ratio,
                "target": None if target is None else (f">= {target}" if at_least else f"<= {target} ms"),
                "met": met, **extra}

    def share(design: dict[str, Any], kind: str, top: int, *, distinctive_only: bool) -> float:
        return _share(design["outcomes"], probes, kind, top, distinctive=distinctive_only)

    rows = [
        row(f"relevance: 2 words of own name in top 10, distinctive pairs ({distinctive}/{len(probes)})",
            share(new, "pair", TOP_WORDS, distinctive_only=True),
            share(old, "pair", TOP_WORDS, distinctive_only=True), 0.95, "share"),
        row(f"relevance: 2 words of own name in top 10, every pair (blind ranking {blind:.3f})",
            share(new, "pair", TOP_WORDS, distinctive_only=False),
            share(old, "pair", TOP_WORDS, distinctive_only=False), None, "share"),
        row("relevance: same with a one-letter typo in the longer word, top 20, distinctive pairs",
            share(new, "typo", TOP_TYPO, distinctive_only=True),
            share(old, "typo", TOP_TYPO, distinctive_only=True), 0.90, "share"),
        row("relevance: same with a one-letter typo, top 20, every pair",
            share(new, "typo", TOP_TYPO, distinctive_only=False),
            share(old, "typo", TOP_TYPO, distinctive_only=False), None, "share"),
        row("relevance: exact name, mean reciprocal rank", _mrr(new["outcomes"]), _mrr(old["outcomes"]), 0.9,
            "MRR"),
    ]
    for kind, label, target in (("pair", "2 words of a name", 10), ("typo", "the same with a typo", 10),
                                ("name", "an exact name", 10)):
        new_times, old_times = new["times"][kind], old["times"][kind]
        latency = row(f"relevance queries: {label}, latency", round(_p95(new_times), 3),
                      round(_p95(old_times), 3), target, "ms (p95)", at_least=False,
                      p50=round(statistics.median(new_times), 3), max=round(max(new_times), 3))
        latency.update(p95=latency["value"], ratio=round(latency["baseline"] / latency["value"], 2))
        rows.append(latency)
    return rows


def _load_catalog(size: int) -> tuple[Any, list[dict[str, Any]], list[str]]:
    from django.contrib.auth import get_user_model

    from bench.templates import replace_catalog
    from bench.templates.corpus import catalog
    from teams.models import Membership, Team

    team, _ = Team.objects.get_or_create(slug=TEAM_SLUG, defaults={"name": "Bench templates (relevance)"})
    user, _ = get_user_model().objects.get_or_create(username="bench-templates-relevance-user")
    Membership.objects.get_or_create(team=team, user=user, defaults={"role": "viewer"})
    made = catalog(size, seed=SEED, team_id=team.pk)
    started = time.perf_counter()
    replace_catalog(made.rows)
    print(f"  loaded {size:,} templates from the n8n corpus in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    return user, made.rows, made.real_slugs


def run(quick: bool = False, sizes: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
    from django.test.utils import override_settings

    from bench.templates import legacy

    rows: list[dict[str, Any]] = []
    for size in sizes or (QUICK_SIZES if quick else SIZES):
        user, catalog_rows, real_slugs = _load_catalog(size)
        started = time.perf_counter()
        legacy.build()
        print(f"  built the old design's index in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        probes = make_probes(catalog_rows, real_slugs, count=QUICK_SAMPLE if quick else SAMPLE, seed=SEED + size)
        # Production runs with DEBUG off; with it on, Django records every query.
        with override_settings(DEBUG=False):
            measured = _measure(user, probes)
        rows += _rows(size, probes, measured)
        legacy.drop()
    return rows
