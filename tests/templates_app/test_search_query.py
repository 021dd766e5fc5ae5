"""A search box's text as tsqueries (templates_app.domain.search_query): pure, no database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from templates_app.domain.search_query import (
    MAX_QUERY_PARTS,
    Lexemes,
    SearchQuery,
    build_query,
    one_edit_variants,
    query_chunks,
    words_to_look_up,
)
from templates_app.domain.search_text import Chunk
from tests.templates_app.conftest import PROPERTY_SETTINGS

# What PostgreSQL's English configuration makes of the words these tests use.
STEMS = {"between": None, "workflows": "workflow", "clone": "clone", "shorts": "short", "reels": "reel",
         "tiktok": "tiktok", "youtube": "youtub", "tiktokyoutube": "tiktokyoutub", "summari": "summari",
         "dev": "dev", "to": None, "devto": "devto", "a": None, "the": None, "email": "email"}


def lexemes(words: list[str]) -> dict[str, Lexemes]:
    return {word: Lexemes(english=STEMS[word], simple=word) for word in words}


def built(text: str, *, prefix_last: bool = False) -> SearchQuery:
    chunks = query_chunks(text)
    return build_query(chunks, lexemes(words_to_look_up(chunks)), prefix_last=prefix_last)


def test_a_stop_word_is_required_in_names_and_dropped_elsewhere() -> None:
    assert built("between Workflows") == SearchQuery(
        body="'workflow'", name="( 'workflow' | 'workflows' )",
        name_all="'between' & ( 'workflow' | 'workflows' )", typed="'between' & 'workflows'",
        phrase="between workflows", name_words=1, name_all_words=2)


def test_without_stop_words_the_strict_name_query_is_left_out() -> None:
    query = built("clone workflows")
    assert (query.body, query.name, query.name_all, query.typed) == (
        "'clone' & 'workflow'", "'clone' & ( 'workflow' | 'workflows' )", "", "'clone' & 'workflows'")
    # Words whose stem is the word as typed make the typed query the same as the name query.
    assert built("clone email").typed == ""


def test_a_compound_asks_for_its_whole_or_all_its_parts() -> None:
    query = built("TikTok/Youtube shorts")
    assert query.body == "( 'tiktokyoutub' | ( 'tiktok' & 'youtub' ) ) & 'short'"
    assert query.name == ("( ( 'tiktokyoutub' | 'tiktokyoutube' ) | ( 'tiktok' & ( 'youtub' | 'youtube' ) ) )"
                          " & ( 'short' | 'shorts' )")
    assert query.phrase == "tiktok youtube shorts"
    # A compound whose part is a stop word needs only its other parts, or its whole.
    assert built("dev.to").body == "( 'devto' | 'dev' )"


def test_the_last_word_is_a_prefix_too_while_typing() -> None:
    query = built("between summari", prefix_last=True)
    assert query.body == "'summari':*"
    assert query.name_all == "'between' & 'summari':*"
    assert built("clone shorts", prefix_last=True).body == "'clone' & ( 'short':* | 'shorts':* )"


def test_only_stop_words_make_no_name_query() -> None:
    assert built("the a") == SearchQuery(body="", name="", name_all="", typed="", phrase="the a", name_words=0,
                                         name_all_words=0)


def test_a_pasted_paragraph_is_cut_after_ten_parts() -> None:
    chunks = query_chunks("one two three four five six seven eight nine ten/eleven twelve")
    assert [part for chunk in chunks for part in chunk.parts] == [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    assert chunks[-1] == Chunk(parts=("ten",))
    assert sum(len(chunk.parts) for chunk in chunks) == MAX_QUERY_PARTS


def test_quotes_and_backslashes_in_a_lexeme_stay_inside_it() -> None:
    chunks = [Chunk(parts=("it",))]
    query = build_query(chunks, {"it": Lexemes(english="i't\\", simple="i't\\")}, prefix_last=False)
    assert query.body == "'i''t\\\\'"


def test_one_edit_variants_of_a_short_word() -> None:
    variants = one_edit_variants("ab")
    assert {"a", "b", "ba", "abc", "xab", "axb", "xb", "ax"} <= variants
    assert "ab" not in variants and "" not in variants
    # 2 drops + 1 swap + 70 changes (36 letters at each place, less "ab" itself)
    # + 106 additions (36 at each of 3 places, less "aab" and "abb" made twice).
    assert len(variants) == 179


def _damerau(first: str, second: str) -> int:
    """Optimal string alignment distance, the textbook dynamic programme."""
    rows = [[0] * (len(second) + 1) for _ in range(len(first) + 1)]
    for i in range(len(first) + 1):
        rows[i][0] = i
    for j in range(len(second) + 1):
        rows[0][j] = j
    for i in range(1, len(first) + 1):
        for j in range(1, len(second) + 1):
            cost = first[i - 1] != second[j - 1]
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and first[i - 1] == second[j - 2] and first[i - 2] == second[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[-1][-1]


@PROPERTY_SETTINGS
@given(st.text(alphabet="abcdez9é", min_size=1, max_size=7), st.text(alphabet="abcdez9é", min_size=1, max_size=8))
def test_one_edit_variants_are_exactly_the_words_one_typo_away(word, other) -> None:
    variants = one_edit_variants(word)
    assert all(_damerau(word, variant) == 1 for variant in variants)
    if other != word and _damerau(word, other) == 1 and set(other) <= set("abcdez9") | set(word):
        assert other in variants
