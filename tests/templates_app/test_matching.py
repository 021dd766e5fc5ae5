"""The search's matching stage asked directly: a prefix's share of the statistics, and a page's rows."""

from __future__ import annotations

import itertools

from django.db import connection
from django.test.utils import CaptureQueriesContext

from templates_app.models import Template
from templates_app.selectors.matching import Filters, PageRequest, _Statistics, matches


def statistics(shares: dict[str, float]) -> _Statistics:
    ordered = sorted(shares)
    return _Statistics(shares=shares, ordered=ordered, running=[0.0, *itertools.accumulate(shares[w] for w in ordered)])


def test_a_prefix_counts_the_common_lexemes_it_covers_and_no_other() -> None:
    common = statistics({"alpha": 0.25, "alps": 0.125, "alt": 0.5, "beta": 0.0625, "al": 0.03125})
    assert common.prefix_share("alp") == 0.375
    assert common.prefix_share("al") == 0.90625
    assert common.prefix_share("b") == 0.0625
    assert common.prefix_share("gamma") == 0.0
    assert common.prefix_share("") == 0.96875


def test_a_page_reads_one_row_past_its_limit_and_shows_the_limit(personas) -> None:
    for number in ("one", "two", "three", "four", "five", "six", "seven"):
        Template.objects.create(slug=f"report-{number}", team=personas.team, name=f"Report {number}",
                                visibility="team", latest_version="1.0.0")
    for limit in (1, 2, 3):
        page, typo, _ = matches(personas.users["viewer"], "report", Filters(), PageRequest(sort="relevance", limit=limit))
        assert (len(page.ids), len(page.templates), typo) == (limit + 1, limit, False)
        assert [template.pk for template in page.templates] == page.ids[:limit]
    page, _, _ = matches(personas.users["outsider"], "report", Filters(), PageRequest(sort="relevance", limit=2))
    assert (page.ids, page.templates) == ([], [])



def test_a_filtered_search_never_caps_the_body_bitmap(personas) -> None:
    """gin_fuzzy_search_limit samples the body stage's matches: harmless for an unfiltered page,
    but with a filter AND-ed on it would drop real matches, so a filtered search never sets it."""
    Template.objects.create(slug="daily-report", team=personas.team, name="Daily report", category="reporting",
                            visibility="team", latest_version="1.0.0")
    Template.objects.create(slug="weekly-report", team=personas.team, name="Weekly report", category="finance",
                            visibility="team", latest_version="1.0.0")
    searches = {}
    for label, filters in (("plain", Filters()), ("category", Filters(category="reporting")),
                           ("verified", Filters(verified=False))):
        with CaptureQueriesContext(connection) as captured:
            page, _, _ = matches(personas.users["viewer"], "report", filters, PageRequest(sort="relevance", limit=5))
        # The page statement names the settings it runs under (selectors/statements.py).
        settings = [query["sql"].split("*/")[0] for query in captured.captured_queries
                    if query["sql"].startswith("/* ")]
        assert len(settings) == 1
        searches[label] = (sorted(template.name for template in page.templates),
                           "enable_seqscan = off" in settings[0], "gin_fuzzy_search_limit =" in settings[0])
    assert searches == {"plain": (["Daily report", "Weekly report"], True, True),
                        "category": (["Daily report"], True, False),
                        "verified": (["Daily report", "Weekly report"], True, False)}
