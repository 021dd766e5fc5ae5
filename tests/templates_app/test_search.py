"""Search relevance on a fixed corpus: names first, typos tolerated, facets exact, filters and sorts."""

from __future__ import annotations

import pytest

from templates_app.models import Template
from templates_app.selectors import search_templates

CORPUS = [
    # name, category, tags, description, usage, rating, node types, model ids, verified
    ("Triage support tickets", "customer-support", ["support", "triage"], "Label tickets and route them.",
     50, 4.5, ["template", "json_parse", "branch"], ["openai/gpt-4o-mini"], True),
    ("Draft a support reply", "customer-support", ["support", "email"], "Reply to customers kindly.",
     30, 4.0, ["template"], ["openai/gpt-4o"], False),
    ("Summarize a document", "summarization", ["summarization", "documents"], "Short summaries of any text.",
     80, 4.8, ["template"], ["openai/gpt-4o-mini"], True),
    ("Meeting notes to action items", "summarization", ["meetings"], "Summaries of meetings with owners.",
     20, 3.9, ["template", "json_parse"], ["anthropic/claude-3-5-haiku"], False),
    ("Translate text", "translation", ["translation", "language"], "Any language to any other.",
     60, 4.2, ["template"], ["openai/gpt-4o-mini"], True),
    ("Extract invoice data", "data-cleanup", ["finance", "extraction"], "Supplier, totals and lines as JSON.",
     10, 4.1, ["template", "json_parse"], ["openai/gpt-4o"], False),
    ("Expense approval", "approvals", ["approvals", "finance"], "Ask a person before paying an invoice.",
     15, 4.6, ["template", "branch", "http_request"], ["openai/gpt-4o-mini"], True),
    ("Normalize a list of email addresses", "data-cleanup", ["email", "lists"], "Trim and lowercase addresses.",
     5, 3.5, ["map", "filter", "reduce"], [], False),
    ("Daily metrics report", "reporting", ["reporting", "metrics"], "Numbers to a written report.",
     25, 4.3, ["template", "http_request"], ["openai/gpt-4o-mini"], False),
    ("Weekly status report", "reporting", ["reporting", "projects"], "Done, next and risks for stakeholders.",
     12, 3.8, ["template", "http_request"], ["openai/gpt-4o"], False),
]


@pytest.fixture
def corpus(personas) -> dict[str, Template]:
    templates = {}
    for name, category, tags, description, usage, rating, node_types, model_ids, verified in CORPUS:
        templates[name] = Template.objects.create(
            slug=name.lower().replace(" ", "-"), team=personas.team, name=name, description=description,
            category=category, tags=tags, visibility="team", usage_count=usage, rating_average=rating,
            rating_count=1, rating_total=round(rating), node_types=node_types, model_ids=model_ids,
            verified=verified, latest_version="1.0.0")
    return templates


def names(result) -> list[str]:
    return [template.name for template in result.templates]


@pytest.mark.parametrize("name", [row[0] for row in CORPUS])
def test_the_obvious_template_ranks_first_for_its_own_name(personas, corpus, name) -> None:
    result = search_templates(personas.users["viewer"], query=name)
    assert names(result)[0] == name
    assert result.typo_fallback is False


@pytest.mark.parametrize("query,expected", [
    ("Triage suport tickets", "Triage support tickets"),
    ("Sumarize a document", "Summarize a document"),
    ("Translte text", "Translate text"),
    ("Expense aproval", "Expense approval"),
    ("invoce", "Extract invoice data"),
    ("Weekly statis report", "Weekly status report"),
])
def test_a_one_letter_typo_still_finds_it(personas, corpus, query, expected) -> None:
    result = search_templates(personas.users["viewer"], query=query)
    assert names(result)[0] == expected
    assert result.typo_fallback is True
    assert result.corrected_query is not None and result.corrected_query != query.lower()


def test_the_last_word_matches_as_a_prefix_while_typing(personas, corpus) -> None:
    assert names(search_templates(personas.users["viewer"], query="summari")) == [
        "Summarize a document", "Meeting notes to action items"]
    assert names(search_templates(personas.users["viewer"], query="daily metr")) == ["Daily metrics report"]


def test_name_matches_rank_above_description_matches(personas, corpus) -> None:
    assert names(search_templates(personas.users["viewer"], query="invoice")) == [
        "Extract invoice data", "Expense approval"]
    assert names(search_templates(personas.users["viewer"], query="report")) == [
        "Daily metrics report", "Weekly status report"]


def test_facets_count_the_current_query_exactly(personas, corpus) -> None:
    result = search_templates(personas.users["viewer"], query="report")
    assert result.facets == {"category": [{"value": "reporting", "count": 2}],
                             "tag": [{"value": "reporting", "count": 2}, {"value": "metrics", "count": 1},
                                     {"value": "projects", "count": 1}]}
    assert result.facets_exact is True
    everything = search_templates(personas.users["viewer"])
    assert everything.facets["category"] == [
        {"value": "customer-support", "count": 2}, {"value": "data-cleanup", "count": 2},
        {"value": "reporting", "count": 2}, {"value": "summarization", "count": 2},
        {"value": "approvals", "count": 1}, {"value": "translation", "count": 1}]
    assert everything.facets["tag"][:5] == [{"value": "email", "count": 2}, {"value": "finance", "count": 2},
                                            {"value": "reporting", "count": 2}, {"value": "support", "count": 2},
                                            {"value": "approvals", "count": 1}]


@pytest.mark.parametrize("filters,expected", [
    ({"category": "reporting"}, ["Daily metrics report", "Weekly status report"]),
    ({"tag": "finance"}, ["Expense approval", "Extract invoice data"]),
    ({"node_type": "map"}, ["Normalize a list of email addresses"]),
    ({"model_id": "anthropic/claude-3-5-haiku"}, ["Meeting notes to action items"]),
    ({"verified": True, "category": "customer-support"}, ["Triage support tickets"]),
    ({"publisher": "alpha", "tag": "email"}, ["Draft a support reply", "Normalize a list of email addresses"]),
    ({"publisher": "beta"}, []),
    ({"query": "support", "tag": "email"}, ["Draft a support reply"]),
])
def test_filters(personas, corpus, filters, expected) -> None:
    assert sorted(names(search_templates(personas.users["viewer"], **filters))) == expected


def test_sorts(personas, corpus) -> None:
    viewer = personas.users["viewer"]
    assert names(search_templates(viewer, sort="popular", limit=3)) == [
        "Summarize a document", "Translate text", "Triage support tickets"]
    assert names(search_templates(viewer, sort="rating", limit=3)) == [
        "Summarize a document", "Expense approval", "Triage support tickets"]
    assert names(search_templates(viewer, sort="newest", limit=2)) == ["Weekly status report", "Daily metrics report"]
    assert names(search_templates(viewer, query="support", sort="popular")) == [
        "Triage support tickets", "Draft a support reply"]


INVOICES = ["Invoice approval", "Extract invoice lines", "Invoice reminders by email", "Match invoices to orders",
            "Translate invoices", "Invoice OCR to Google Sheets", "Archive paid invoices"]


@pytest.fixture
def invoices(personas, corpus) -> list[str]:
    for index, name in enumerate(INVOICES):
        Template.objects.create(slug=f"invoices-{index}", team=personas.team, name=name, visibility="team",
                                usage_count=index, latest_version="1.0.0")
    return INVOICES


@pytest.mark.parametrize("sort", ["relevance", "popular", "newest"])
def test_a_query_pages_through_every_match_once_with_its_cursor(personas, invoices, sort) -> None:
    viewer = personas.users["viewer"]
    everything = names(search_templates(viewer, query="invoice", sort=sort, limit=50))
    assert sorted(everything) == sorted([*invoices, "Extract invoice data", "Expense approval"])
    pages = []
    cursor = None
    for _ in range(10):
        page = search_templates(viewer, query="invoice", sort=sort, limit=2, cursor=cursor)
        pages.append(names(page))
        cursor = page.next_cursor
        if cursor is None:
            break
    # Five pages of two, in the order of the single page: a cursor that was
    # ignored would repeat the first page and never end.
    assert [len(page) for page in pages] == [2, 2, 2, 2, 1]
    assert [name for page in pages for name in page] == everything
    assert pages[1] != pages[0]


def test_search_sees_only_visible_templates(personas, corpus) -> None:
    assert names(search_templates(personas.users["outsider"], query="Translate text")) == []
    assert names(search_templates(None, query="Translate text")) == []
