"""The relevance benchmark's catalogs and probes are what its docs say (no timing is asserted; no database)."""

from __future__ import annotations

from bench.templates.corpus import catalog, load_corpus
from bench.templates.relevance import make_probes
from templates_app.domain.search_query import one_edit_variants
from templates_app.domain.search_text import word_key

STOP_WORDS = {"a", "an", "and", "the", "to", "with", "for", "of", "in", "on", "from", "by", "via", "your", "using"}


def test_the_corpus_holds_real_entries_with_names() -> None:
    entries = load_corpus()
    assert len(entries) == 7842
    assert len({entry.id for entry in entries}) == len(entries)
    assert all(entry.name.strip() for entry in entries)
    assert entries[0].name == "Send Typeform results to Google Sheet, Slack and email"


def test_a_small_catalog_is_a_seeded_sample_of_real_entries() -> None:
    first, again = catalog(300, seed=5), catalog(300, seed=5)
    assert [row["name"] for row in first.rows] == [row["name"] for row in again.rows]
    real_names = {entry.name for entry in load_corpus()}
    assert all(row["name"] in real_names for row in first.rows)
    assert first.real_slugs == [row["slug"] for row in first.rows]
    assert [row["name"] for row in catalog(300, seed=6).rows] != [row["name"] for row in first.rows]


def test_a_large_catalog_adds_generated_names_that_copy_no_real_one() -> None:
    made = catalog(9000, seed=5)
    assert len(made.rows) == 9000 and len(made.real_slugs) == 7842
    generated = made.rows[7842:]
    real_names = {entry.name.lower() for entry in load_corpus()}
    assert not any(row["name"].lower() in real_names for row in generated)
    assert len({row["name"].lower() for row in generated}) == len(generated)
    assert len({row["id"] for row in made.rows}) == 9000


def test_probes_ask_for_two_words_of_the_name_and_a_typo_of_the_longer() -> None:
    made = catalog(2000, seed=5)
    probes = make_probes(made.rows, made.real_slugs, count=50, seed=3, stop_words=lambda words: words & STOP_WORDS)
    assert len(probes) == 50
    keys = {row["slug"]: word_key(row["name"]) for row in made.rows}
    for probe in probes:
        words = keys[probe.slug].split()
        first, second = probe.pair.split()
        assert first in words and second in words and first != second
        assert words.index(first) < words.index(second)
        assert not {first, second} & STOP_WORDS
        typo_first, typo_second = probe.typo.split()
        longer = 1 if len(second) >= len(first) else 0
        assert (typo_first, typo_second)[1 - longer] == (first, second)[1 - longer]
        assert (typo_first, typo_second)[longer] in one_edit_variants((first, second)[longer])
        holders = [slug for slug, key in keys.items() if {first, second} <= set(key.split())]
        assert probe.pair_names == len(holders) and probe.slug in holders
