"""Splitting text into the words people see (templates_app.domain.search_text): pure, no database."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from templates_app.domain.search_text import (
    MAX_WORD_LENGTH,
    Chunk,
    all_words,
    camel_humps,
    chunks,
    extra_words,
    source_checksum,
    template_search_columns,
    word_key,
)
from tests.templates_app.conftest import PROPERTY_SETTINGS


@pytest.mark.parametrize("text,expected", [
    ("TikTok/Youtube", [Chunk(parts=("tiktok", "youtube"), humps=("tik", "tok"))]),
    ("Shorts/Reels", [Chunk(parts=("shorts", "reels"))]),
    ("A/B", [Chunk(parts=("a", "b"))]),
    ("Gmail/Outlook", [Chunk(parts=("gmail", "outlook"))]),
    ("dev.to", [Chunk(parts=("dev", "to"))]),
    ("snake_case", [Chunk(parts=("snake", "case"))]),
    ("CamelCase", [Chunk(parts=("camelcase",), humps=("camel", "case"))]),
    ("HTMLParser", [Chunk(parts=("htmlparser",), humps=("html", "parser"))]),
    ("https://dev.to/n8n", [Chunk(parts=("https", "dev", "to", "n8n"))]),
    ("GPT-4o-mini", [Chunk(parts=("gpt", "4o", "mini"))]),
    ("n8n", [Chunk(parts=("n8n",))]),
    ("(Reels),", [Chunk(parts=("reels",))]),
    ("— / …", []),
])
def test_chunks_of_the_cases_the_issue_names(text, expected) -> None:
    assert chunks(text) == expected


@pytest.mark.parametrize("text,words", [
    ("AI Automated TikTok/Youtube Shorts/Reels Generator",
     ["ai", "automated", "tiktok", "youtube", "tiktokyoutube", "tik", "tok", "shorts", "reels", "shortsreels",
      "generator"]),
    ("Run A/B tests", ["run", "a", "b", "ab", "tests"]),
    ("Gmail/Outlook triage", ["gmail", "outlook", "gmailoutlook", "triage"]),
    ("Post to dev.to", ["post", "to", "dev", "devto"]),
    ("rename snake_case keys", ["rename", "snake", "case", "snakecase", "keys"]),
    ("CamelCase keys", ["camelcase", "camel", "case", "keys"]),
    ("Fetch https://example.com/feed.xml daily", ["fetch", "https", "example", "com", "feed", "xml", "daily"]),
    ("GPT-4o-mini summaries", ["gpt", "4o", "mini", "gpt4omini", "summaries"]),
    ("Café Zürich", ["café", "zürich"]),
])
def test_all_words_keep_the_parts_and_the_whole(text, words) -> None:
    assert all_words(text) == words


def test_extra_words_are_only_those_of_compound_chunks() -> None:
    assert extra_words("AI Automated TikTok/Youtube Shorts/Reels Generator") == (
        "tiktok youtube tiktokyoutube tik tok shorts reels shortsreels")
    assert extra_words("Summarize support tickets") == ""
    # A URL of more than four parts keeps its parts, not a joined whole nobody types.
    assert extra_words("see https://example.com/feed.xml") == "https example com feed xml"


def test_word_key_reads_a_name_as_a_reader_does() -> None:
    assert word_key("Send Typeform results to Google Sheet, Slack and email") == (
        "send typeform results to google sheet slack and email")
    assert word_key("AI Automated TikTok/Youtube Shorts/Reels Generator") == (
        "ai automated tiktok youtube shorts reels generator")
    assert word_key("  ") == ""


def test_camel_humps() -> None:
    assert camel_humps("TikTok") == ["Tik", "Tok"]
    assert camel_humps("PostgreSQL") == ["Postgre", "SQL"]
    assert camel_humps("iPhone") == ["i", "Phone"]
    assert camel_humps("GPT4") == ["GPT4"]
    assert camel_humps("n8n") == ["n8n"]
    assert camel_humps("URL") == ["URL"]


def test_the_checksum_changes_with_every_field_and_matches_its_documented_form() -> None:
    base = source_checksum("Name", "Description", "category", ["a", "b"])
    assert base == hashlib.md5(b"Name\x1fDescription\x1fcategory\x1fa\x1fb").hexdigest()
    changed = [source_checksum("Name!", "Description", "category", ["a", "b"]),
               source_checksum("Name", "Description!", "category", ["a", "b"]),
               source_checksum("Name", "Description", "category!", ["a", "b"]),
               source_checksum("Name", "Description", "category", ["a", "b", "c"]),
               source_checksum("Name", "Description", "category", ["ab"])]
    assert base not in changed and len(set(changed)) == len(changed)


def test_template_search_columns() -> None:
    assert template_search_columns(name="Post to dev.to", description="Uses the A/B split",
                                   category="customer-support", tags=["snake_case", "llm"]) == {
        "name_key": "post to dev to",
        "search_extra_name": "dev to devto",
        "search_extra_tags": "snake case snakecase customer support customersupport",
        "search_extra_description": "a b ab",
        "search_checksum": source_checksum("Post to dev.to", "Uses the A/B split", "customer-support",
                                           ["snake_case", "llm"]),
    }


# Text as people write names: letters of several scripts, digits, separators and spaces.
# Greek capital and small sigma: lower-casing depends on the letter's place in a word.
TEXT = st.text(alphabet=st.sampled_from([*"aAbBzZéÉß9 0/._-:@+&'()²—\t", "\u03a3", "\u03c3", "\u0301"]), max_size=40)


def _reference_parts(text: str) -> list[str]:
    """The parts by another route: every maximal run of letters and decimal digits, lower-cased."""
    parts: list[str] = []
    for piece in unicodedata.normalize("NFC", text).split():
        marked = "".join(character if character.isalpha() or character.isdecimal() else " " for character in piece)
        parts += [run.lower() for run in marked.split() if len(run) <= MAX_WORD_LENGTH]
    return parts


@PROPERTY_SETTINGS
@given(TEXT)
def test_parts_are_exactly_the_runs_of_letters_and_digits(text) -> None:
    assert (word_key(text).split(" ") if word_key(text) else []) == _reference_parts(text)
    assert [part for chunk in chunks(text) for part in chunk.parts] == _reference_parts(text)


@PROPERTY_SETTINGS
@given(TEXT)
def test_every_word_is_plain_lower_case_letters_and_digits(text) -> None:
    for word in all_words(text):
        assert word and len(word) <= MAX_WORD_LENGTH
        assert all(character.isalpha() or character.isdecimal() for character in word)
        assert word == word.lower()
    assert set(extra_words(text).split()) <= set(all_words(text))


@PROPERTY_SETTINGS
@given(st.text(alphabet=st.sampled_from(list("aAbBzZéÉ9")), min_size=1, max_size=20))
def test_camel_humps_cut_a_run_without_losing_a_character(run) -> None:
    pieces = camel_humps(run)
    assert "".join(pieces) == run
    assert all(pieces)


@PROPERTY_SETTINGS
@given(TEXT, st.data())
def test_a_query_of_some_parts_of_a_text_asks_only_for_words_the_text_is_found_by(text, data) -> None:
    """However the reader re-types parts they saw ("Shorts Reels" for "Shorts/Reels"), each is indexed."""
    parts = [part for chunk in chunks(text) for part in chunk.parts]
    picked = data.draw(st.lists(st.sampled_from(parts), max_size=4) if parts else st.just([]))
    separator = data.draw(st.sampled_from([" ", "/", ".", "_", "-"]))
    query = separator.join(picked)
    indexed = set(all_words(text))
    assert {part for chunk in chunks(query) for part in chunk.parts} <= indexed


def test_only_characters_postgres_reads_as_words_make_parts() -> None:
    # "²" is a digit to Python but not to PostgreSQL's parser; it separates words here too.
    assert word_key("x² h₂o") == "x h o"
    assert re.fullmatch(r"[a-z ]+", word_key("x² h₂o"))
