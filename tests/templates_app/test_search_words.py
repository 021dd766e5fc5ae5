"""Search by the words people see, candidates chosen by relevance, and the index kept honest (issue 18)."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from templates_app import selectors
from templates_app.models import Template
from templates_app.selectors import search_templates
from tests.templates_app.conftest import PROPERTY_SETTINGS

_slugs = itertools.count()


def make(team, name: str, *, description: str = "", tags: list[str] | None = None, category: str = "",
         usage: int = 0) -> Template:
    return Template.objects.create(slug=f"search-words-{next(_slugs)}", team=team, name=name,
                                   description=description, category=category, tags=tags or [],
                                   visibility="team", usage_count=usage, latest_version="1.0.0")


def names(result) -> list[str]:
    return [template.name for template in result.templates]


SHORTS = "AI Automated TikTok/Youtube Shorts/Reels Generator"


@pytest.fixture
def compound_names(personas) -> None:
    for name in [SHORTS, "Run A/B tests on email subject lines", "Triage a Gmail/Outlook inbox",
                 "Cross-post articles to dev.to", "Rename snake_case keys in JSON", "Sync HubSpot to PostgreSQL",
                 # Neighbours that share some of the words, so "found" also means "found first".
                 "Generate YouTube thumbnails", "Email newsletter tests", "Summarize an Outlook calendar"]:
        make(personas.team, name)
    make(personas.team, "Watch a feed", description="Reads https://status.example.com/feed.xml every hour.")
    make(personas.team, "Label support tickets", tags=["ai/ml", "support"])


@pytest.mark.parametrize("query,expected", [
    ("Shorts Reels", SHORTS),
    ("reels", SHORTS),
    ("TikTok YouTube", SHORTS),
    ("TikTok/Youtube", SHORTS),
    ("Shorts/Reels generator", SHORTS),
    ("tiktokyoutube", SHORTS),
    ("A/B tests", "Run A/B tests on email subject lines"),
    ("ab tests", "Run A/B tests on email subject lines"),
    ("Gmail Outlook", "Triage a Gmail/Outlook inbox"),
    ("gmail", "Triage a Gmail/Outlook inbox"),
    ("dev.to", "Cross-post articles to dev.to"),
    ("devto", "Cross-post articles to dev.to"),
    ("snake case", "Rename snake_case keys in JSON"),
    ("snake_case", "Rename snake_case keys in JSON"),
    ("snakecase keys", "Rename snake_case keys in JSON"),
    ("postgre sql", "Sync HubSpot to PostgreSQL"),
    ("hub spot", "Sync HubSpot to PostgreSQL"),
    ("hubspot", "Sync HubSpot to PostgreSQL"),
    ("status example feed", "Watch a feed"),  # the parts of a URL in a description
    ("ml", "Label support tickets"),  # the parts of a tag
])
def test_joined_words_are_found_by_their_parts_and_their_whole(personas, compound_names, query, expected) -> None:
    result = search_templates(personas.users["viewer"], query=query)
    assert names(result)[0] == expected
    assert result.typo_fallback is False


def test_a_part_nobody_wrote_finds_nothing(personas, compound_names) -> None:
    assert names(search_templates(personas.users["viewer"], query="Shorts Instagram")) == []


def test_the_exact_name_outranks_names_sharing_its_words(personas, compound_names) -> None:
    assert names(search_templates(personas.users["viewer"], query="youtube")) == [
        "Generate YouTube thumbnails", SHORTS]
    assert names(search_templates(personas.users["viewer"], query=SHORTS)) == [SHORTS]


CLONE = "Clone n8n Workflows between Instances using n8n API"


@pytest.fixture
def crowd(personas) -> list[Template]:
    """300 weaker matches written before the best one, so any 251 of them in table order leave it out."""
    weaker = [make(personas.team, f"Workflow digest {index}",
                   description="Workflows that copy data between sheets, instances and reels shorts.",
                   usage=1000 + index) for index in range(300)]
    make(personas.team, CLONE, description="Moves workflows from one n8n instance to another.")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE templates_app_template")
    selectors.forget_statistics()
    return weaker


@pytest.mark.parametrize("query", [
    CLONE,
    "between Workflows",  # "between" is a stop word: the name stage keeps it
    "clone workflows",
    "workflows instances",
    "n8n api",
])
def test_the_best_match_ranks_first_among_more_than_251_weaker_matches(personas, crowd, query) -> None:
    result = search_templates(personas.users["viewer"], query=query, limit=5)
    assert names(result)[0] == CLONE
    assert result.facets_exact is (query == CLONE or query == "clone workflows" or query == "n8n api")


def test_with_more_matches_than_candidates_the_facets_say_they_are_a_sample(personas, crowd) -> None:
    result = search_templates(personas.users["viewer"], query="workflow")
    assert result.facets_exact is False
    # The name stage takes the shortest names first: every one holds the word.
    assert all("Workflow" in name for name in names(result))


def test_a_catalog_no_larger_than_the_name_walk_counts_its_facets_exactly(personas) -> None:
    # A demo-sized catalog: "invoice" is in a third of the names, common enough that a large
    # catalog walks its shortest names (a part of the table: the facets would be a sample).
    made = [make(personas.team, f"Invoice step {index}", category="finance", tags=["billing"]) for index in range(10)]
    made += [make(personas.team, f"Report step {index}", category="reporting") for index in range(20)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE templates_app_template")
    selectors.forget_statistics()
    from templates_app.selectors import matching

    statistics = matching._statistics("name_vector")
    assert statistics.shares["invoic"] >= matching.COMMON_NAME_SHARE
    assert 0 < statistics.rows <= matching.NAME_WALK_SPAN
    result = search_templates(personas.users["viewer"], query="invoice")
    assert result.facets_exact is True
    assert sorted(names(result)) == sorted(template.name for template in made[:10])
    assert result.facets == {"category": [{"value": "finance", "count": 10}],
                             "tag": [{"value": "billing", "count": 10}]}


@pytest.fixture
def invoices(personas) -> list[str]:
    made = ["Invoice approval", "Extract invoice lines", "Invoice reminders by email", "Match invoices to orders",
            "Translate invoices", "Invoice OCR to Google Sheets", "Archive paid invoices"]
    for index, name in enumerate(made):
        make(personas.team, name, usage=index)
    make(personas.team, "Summarize contracts")
    return made


def test_search_reads_two_statements_and_a_typo_three(personas, invoices, django_assert_num_queries) -> None:
    viewer = personas.users["viewer"]
    search_templates(viewer, query="invoces")  # reads the statistics the planner shortcuts use (cached a minute)
    # The words' stems and the user's teams; the candidates, ranked, with the page's rows and their teams.
    with django_assert_num_queries(2):
        result = search_templates(viewer, query="invoice")
        assert len(result.templates) == 7
        assert {template.team.slug for template in result.templates} == {personas.team.slug}
    # A word no vocabulary word is or starts: its corrections, with their stems, come with the words'
    # stems; then the candidates of the words as typed and of the corrected words, two statements in one
    # round trip (one pipeline, selectors/statements.py).
    with django_assert_num_queries(3) as captured:
        result = search_templates(viewer, query="invoces")
    assert (result.typo_fallback, result.corrected_query) == (True, "invoices")
    assert len(result.templates) == 7
    assert sum("WITH q AS" in query["sql"] for query in captured.captured_queries) == 2
    assert all("one_typo_variants" not in query["sql"] for query in captured.captured_queries[1:])


def test_a_half_typed_word_is_not_looked_up_as_a_typo(personas, invoices, django_assert_num_queries) -> None:
    from templates_app.selectors import words

    viewer = personas.users["viewer"]
    search_templates(viewer, query="invoi")
    # "invoi" starts "invoice": no corrections are looked up, and none are needed.
    info, _ = words.word_info(["invoi"], viewer, correct=["invoi"])
    assert (info["invoi"].starts_known, info["invoi"].correction_rows) == (True, None)
    with django_assert_num_queries(2):
        result = search_templates(viewer, query="invoi")
    assert (result.typo_fallback, len(result.templates)) == (False, 7)


def test_a_mistyped_word_brings_its_corrections_and_a_known_or_unasked_word_none(personas, invoices) -> None:
    from templates_app.selectors import words

    info, _ = words.word_info(["invoces", "invoice", "the", "summarize", "contrcts"], personas.users["viewer"],
                              correct=["invoces", "invoice", "the", "summarize"])
    # One typo away from "invoices" (a letter dropped); "contrcts" was not asked for; "the" is a stop word.
    assert [row[:2] + row[3:] for row in info["invoces"].correction_rows or ()] == [
        ("invoces", "invoices", True, ["invoic"], ["invoices"])]
    assert [info[word].correction_rows for word in ["invoice", "the", "summarize", "contrcts"]] == [
        None, None, None, None]
    # The same as `corrections` finds on its own.
    assert words.best_corrections(list(info["invoces"].correction_rows or ()), {}) == words.corrections(
        ["invoces"], {})


def test_a_word_whose_stem_starts_a_known_word_is_searched_as_typed_alone(personas, invoices,
                                                                         django_assert_num_queries) -> None:
    from templates_app.selectors import words

    viewer = personas.users["viewer"]
    search_templates(viewer, query="invoicing")  # reads the statistics (cached a minute)
    # "invoicing" is no vocabulary word and starts none, but its stem "invoic" starts "invoice": its
    # corrections are looked up, yet the search as typed matches names, so no corrected search is sent
    # beside it. "invoces" (stem "invoc") starts nothing.
    info, _ = words.word_info(["invoicing", "invoces"], viewer, correct=["invoicing", "invoces"])
    assert (info["invoicing"].correction_rows is not None, info["invoicing"].stem_starts_known,
            info["invoces"].stem_starts_known) == (True, True, False)
    with django_assert_num_queries(2) as captured:
        result = search_templates(viewer, query="invoicing")
    assert sum("WITH q AS" in query["sql"] for query in captured.captured_queries) == 1
    assert (result.typo_fallback, sorted(names(result))) == (False, sorted(invoices))


@settings(parent=PROPERTY_SETTINGS, suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(word=st.text(alphabet="abcxyz09é-Q", min_size=1, max_size=7))
def test_the_sql_one_typo_variants_are_the_python_ones(db, word) -> None:
    """The words statement's variants are `one_edit_variants` in SQL: the same strings, none missing, none more."""
    from templates_app.domain.search_query import EDIT_LETTERS, one_edit_variants
    from templates_app.selectors.words import ONE_TYPO_VARIANTS

    with connection.cursor() as cursor:
        cursor.execute(f"WITH letters AS (SELECT unnest(string_to_array('{EDIT_LETTERS}' || %s, NULL)) AS letter)"
                       f" SELECT v.variant FROM (SELECT %s::text AS word) AS w,"
                       f" LATERAL ({ONE_TYPO_VARIANTS}) AS v(variant)", [word, word])
        variants = {row[0] for row in cursor.fetchall()}
    # The word itself is no vocabulary word to find (words.ONE_TYPO_VARIANTS); a one-letter word dropped is
    # the empty string, which `one_edit_variants` leaves out and no vocabulary word is.
    assert variants - {word, ""} == one_edit_variants(word)


@pytest.mark.parametrize("query", ["ntoion posts", "pyhton sample", "notio posts", "pythonn sample", "posts ntoion",
                                   "smaple notion", "qqqzz", "python qqqzz"])
def test_corrections_read_with_the_first_page_are_those_read_after_it(personas, monkeypatch, query) -> None:
    from templates_app.selectors import matching, words

    for name in ["Sync blog posts from Notion to Webflow", "Generate sample data with Python",
                 "Post notices to Slack", "Collect pythons facts"]:
        make(personas.team, name)
    viewer = personas.users["viewer"]
    together = search_templates(viewer, query=query)

    def nothing_looks_mistyped(*args, **kwargs):
        info, teams = words.word_info(*args, **kwargs)
        return {word: words.WordInfo(lexemes=item.lexemes, known=item.known) for word, item in info.items()}, teams

    # Every word taken for a half-typed one: the corrections are looked up after the first page, as before.
    monkeypatch.setattr(matching, "word_info", nothing_looks_mistyped)
    after = search_templates(viewer, query=query)
    assert (names(together), together.typo_fallback, together.corrected_query) == (
        names(after), after.typo_fallback, after.corrected_query)


def test_the_page_read_with_the_candidates_is_what_the_orm_reads(personas, invoices) -> None:
    from templates_app.selectors import SEARCH_ONLY_COLUMNS

    found = search_templates(personas.users["viewer"], query="invoice").templates
    by_orm = {template.pk: template for template in
              Template.objects.filter(pk__in=[t.pk for t in found]).select_related("team")}
    assert len(found) == len(by_orm) == 7
    for template in found:
        expected = by_orm[template.pk]
        assert template.get_deferred_fields() == set(SEARCH_ONLY_COLUMNS)
        for model_field in Template._meta.concrete_fields:
            if model_field.attname not in SEARCH_ONLY_COLUMNS:
                assert getattr(template, model_field.attname) == getattr(expected, model_field.attname)
        for model_field in template.team._meta.concrete_fields:
            assert getattr(template.team, model_field.attname) == getattr(expected.team, model_field.attname)
        assert not template._state.adding and template._state.db == expected._state.db


@pytest.mark.parametrize("query,corrected,expected", [
    ("ntoion posts", "notion posts", "Sync blog posts from Notion to Webflow"),  # swapped letters
    ("pyhton sample", "python sample", "Generate sample data with Python"),
    ("collectoin sheets", "collection sheets", "Smart invoice collection with Google Sheets"),
    ("notio posts", "notion posts", "Sync blog posts from Notion to Webflow"),  # a letter dropped
    ("pythonn sample", "python sample", "Generate sample data with Python"),  # a letter added
])
def test_a_typo_one_edit_away_is_corrected_to_the_word_meant(personas, query, corrected, expected) -> None:
    for name in ["Sync blog posts from Notion to Webflow", "Generate sample data with Python",
                 "Smart invoice collection with Google Sheets", "Post notices to Slack", "Collect pythons facts"]:
        make(personas.team, name)
    result = search_templates(personas.users["viewer"], query=query)
    assert (result.typo_fallback, result.corrected_query) == (True, corrected)
    assert names(result)[0] == expected


def test_a_known_word_is_never_corrected(personas) -> None:
    make(personas.team, "Sound alerts")
    make(personas.team, "Count rows")
    result = search_templates(personas.users["viewer"], query="sound rows")
    assert (names(result), result.typo_fallback, result.corrected_query) == ([], False, None)


def test_a_write_that_skips_splitting_words_is_refused(personas) -> None:
    template = make(personas.team, "Shorts/Reels digest")
    with pytest.raises(IntegrityError, match="search words were not computed"), transaction.atomic():
        Template.objects.filter(pk=template.pk).update(name="Reels/Stories digest")
    with pytest.raises(IntegrityError, match="search words were not computed"), transaction.atomic():
        Template.objects.bulk_create([Template(slug="bulk", team=personas.team, name="Bulk Shorts/Reels")])
    template.refresh_from_db()
    assert template.name == "Shorts/Reels digest"
    assert not Template.objects.filter(slug="bulk").exists()


def test_renaming_through_save_moves_the_words(personas) -> None:
    template = make(personas.team, "Shorts/Reels digest")
    template.name = "Stories/Posts digest"
    template.save(update_fields=["name"])
    viewer = personas.users["viewer"]
    assert names(search_templates(viewer, query="stories posts")) == ["Stories/Posts digest"]
    assert names(search_templates(viewer, query="shorts reels")) == []


def test_the_migration_backfills_rows_written_before_it(personas) -> None:
    from importlib import import_module

    migration = import_module("templates_app.migrations.0004_search_words")
    template = make(personas.team, "AI TikTok/Youtube digest", description="Posts to dev.to", tags=["a/b"])
    with connection.cursor() as cursor:
        # A row as migration 0003 left it: no words split, the old vectors. (The
        # foreign-key checks pending in the test's transaction must run before ALTER TABLE.)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE templates_app_template DISABLE TRIGGER templates_app_template_search_vector")
        cursor.execute("UPDATE templates_app_template SET name_key = '', search_extra_name = '', "
                       "search_extra_tags = '', search_extra_description = '', search_checksum = '', "
                       "name_vector = NULL, search_vector = to_tsvector('english', name) WHERE id = %s",
                       [template.pk])
        cursor.execute("ALTER TABLE templates_app_template ENABLE TRIGGER templates_app_template_search_vector")
    viewer = personas.users["viewer"]
    assert names(search_templates(viewer, query="youtube devto")) == []
    migration.backfill_search_words(None, SimpleNamespace(connection=connection))
    template.refresh_from_db()
    assert (template.name_key, template.search_extra_name, template.search_extra_tags,
            template.search_extra_description) == ("ai tiktok youtube digest", "tiktok youtube tiktokyoutube tik tok",
                                                   "a b ab", "dev to devto")
    assert names(search_templates(viewer, query="youtube devto")) == ["AI TikTok/Youtube digest"]
    assert names(search_templates(viewer, query="ab")) == ["AI TikTok/Youtube digest"]


# No vowels: no English stop word can come out, so every word is searched for.
WORD = st.text(alphabet="bcdfghjklmnpqrstvwxz", min_size=3, max_size=8)


# Each example makes its own template and deletes it: the personas fixture can be shared.
@settings(parent=PROPERTY_SETTINGS, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(words=st.lists(WORD, min_size=2, max_size=4, unique=True),
       separators=st.lists(st.sampled_from(["/", ".", "_", "-", "+", ":"]), min_size=3, max_size=3),
       camel=st.booleans(), data=st.data())
def test_a_compound_name_is_found_by_any_two_of_its_parts(personas, words, separators, camel, data) -> None:
    """However words are joined in a name, typing some of them with spaces finds it (and nothing else)."""
    joined = words[0]
    for word, separator in zip(words[1:], separators, strict=False):
        joined += (word.capitalize() if camel and separator == "+" else separator + word)
    template = make(personas.team, f"zz {joined}")
    try:
        picked = data.draw(st.lists(st.sampled_from(words), min_size=1, max_size=2, unique=True))
        result = search_templates(personas.users["viewer"], query=" ".join(picked))
        assert names(result) == [template.name]
    finally:
        template.delete()


def test_other_teams_compound_names_stay_invisible(personas, compound_names) -> None:
    assert names(search_templates(personas.users["outsider"], query="Shorts Reels")) == []
    assert names(search_templates(None, query="Shorts Reels")) == []


def test_a_prefix_counts_the_share_of_every_common_lexeme_it_starts() -> None:
    from templates_app.selectors.matching import _Statistics

    shares = {"a": 0.1, "ab": 0.2, "abc": 0.3, "b": 0.25, "zürich": 0.05}
    ordered = sorted(shares)
    statistics = _Statistics(shares=shares, ordered=ordered,
                             running=[0.0, *itertools.accumulate(shares[word] for word in ordered)])
    assert statistics.prefix_share("ab") == pytest.approx(0.5)
    assert statistics.prefix_share("a") == pytest.approx(0.6)
    assert statistics.prefix_share("abcd") == 0.0
    assert statistics.prefix_share("z") == pytest.approx(0.05)
    assert statistics.prefix_share("c") == 0.0


@pytest.mark.parametrize("span,exact", [(3, False), (6, True)])
def test_a_filtered_prefix_reads_a_bounded_range_and_says_when_names_were_left(personas, monkeypatch, span,
                                                                               exact) -> None:
    from templates_app.selectors import matching

    safety = [f"Zebra crossing {number}" for number in ["one", "two", "three", "four", "five"]]
    for name in safety:
        make(personas.team, name, category="safety")
    make(personas.team, "Zebra feeding", category="zoo")
    # The range of names starting "zebr" holds 6; a span of 3 reads half of it, a span of 6 all of it.
    monkeypatch.setattr(matching, "PREFIX_SPAN", span)
    result = search_templates(personas.users["viewer"], query="zebr", category="safety")
    # The body stage finds what the prefix stage did not read: the same templates either way.
    assert sorted(names(result)) == sorted(safety)
    assert result.facets_exact is exact
    assert result.facets["category"] == [{"value": "safety", "count": 5}]
