"""The query's words as the database reads them, and their typo corrections (docs/templates.md, "Search").

Each word's stems, whether it is a known word (or the start of one), and the
user's teams come in one round trip (`word_info`); the likeliest vocabulary
word for a typo comes from `corrections`, whose statement `matching.matches`
sends in the same round trip as the search's first page when a word looks
like a typo (`correction_statement`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from templates_app.access import EDITOR_ROLES
from templates_app.domain.search_query import Lexemes, one_edit_variants


@dataclass(frozen=True)
class WordInfo:
    lexemes: Lexemes
    # In the vocabulary of names, tags and categories (SearchWord): a whole word, not a half-typed one.
    known: bool
    # Some vocabulary word starts with it: it may be half typed, not mistyped.
    starts_known: bool = True


@dataclass(frozen=True)
class Teams:
    """The teams whose `team` templates a user sees, and those whose `private` ones too."""

    member: list[Any]
    editor: list[Any]


def word_info(words: list[str], user: Any = None) -> tuple[dict[str, WordInfo], Teams]:
    """Each word's English stem (None for a stop word), plain form and whether it is (or starts) a known
    word, and `user`'s teams: one round trip.

    Stems come from the database (its stemmer and stop words), so the main
    query sees constants the planner can estimate; so do the teams, which
    keep membership subqueries out of every stage of that query.
    """
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    with connection.cursor() as cursor:
        # "Starts a known word" is a range of the vocabulary's pattern index
        # (byte order, as `varchar_pattern_ops` compares); chr(1114111) sorts after any letter.
        cursor.execute(
            "SELECT w.word, tsvector_to_array(to_tsvector('english', w.word)),"
            " tsvector_to_array(to_tsvector('simple', w.word)),"
            " EXISTS (SELECT 1 FROM templates_app_searchword s WHERE s.word = w.word),"
            " EXISTS (SELECT 1 FROM templates_app_searchword s"
            "         WHERE s.word ~>=~ w.word AND s.word ~<~ (w.word || chr(1114111))),"
            " ARRAY(SELECT team_id FROM teams_membership WHERE user_id = %s),"
            " ARRAY(SELECT team_id FROM teams_membership WHERE user_id = %s AND role = ANY(%s))"
            " FROM unnest(%s::text[]) AS w(word)", [user_id, user_id, list(EDITOR_ROLES), words])
        rows = cursor.fetchall()
    info: dict[str, WordInfo] = {}
    teams = Teams(member=[], editor=[])
    for word, english, simple, known, starts_known, member, editor in rows:
        info[word] = WordInfo(lexemes=lexemes_of(word, english, simple), known=known, starts_known=starts_known)
        teams = Teams(member=member, editor=editor)
    return info, teams


def lexemes_of(word: str, english: list[str], simple: list[str]) -> Lexemes:
    # One plain word is one lexeme; should the parser ever cut it, the longest piece stands for it.
    return Lexemes(english=max(english, key=len) if english else None,
                   simple=max(simple, key=len) if simple else word)


# Each word's variants travel as one space-separated string (words hold no
# spaces): hundreds of array elements would cost more to quote than to look
# up. The trigram search, the slower one, runs only for words with no
# neighbour one typo away.
_CORRECTIONS_SQL = (
    "WITH near AS MATERIALIZED (SELECT v.original, s.word, similarity(s.word, v.original) AS similarity"
    " FROM unnest(%s::text[], %s::text[]) AS v(original, variants),"
    " unnest(string_to_array(v.variants, ' ')) AS variant"
    " JOIN templates_app_searchword s ON s.word = variant)"
    " SELECT f.original, f.word, f.similarity, f.one_typo,"
    " tsvector_to_array(to_tsvector('english', f.word)), tsvector_to_array(to_tsvector('simple', f.word))"
    " FROM (SELECT original, word, similarity, TRUE FROM near"
    " UNION ALL"
    " SELECT w.word, (SELECT s.word FROM templates_app_searchword s WHERE s.word %% w.word"
    " ORDER BY similarity(s.word, w.word) DESC, s.word LIMIT 1), 0, FALSE"
    " FROM unnest(%s::text[]) AS w(word) WHERE w.word NOT IN (SELECT original FROM near))"
    " AS f(original, word, similarity, one_typo)")


def correction_statement(words: list[str]) -> tuple[str, list[Any]]:
    """The statement `corrections` runs for `words`, to send with another (its rows go to `best_corrections`)."""
    return _CORRECTIONS_SQL, [words, [" ".join(sorted(one_edit_variants(word))) for word in words], words]


def corrections(words: list[str], name_shares: dict[str, float]) -> dict[str, tuple[str, Lexemes]]:
    """The vocabulary word each of `words` was most likely meant to be, with its lexemes, for those that have
    one: one round trip.

    Words one typo away (`one_edit_variants`, looked up by equality) come
    first, the one in most names winning (`name_shares`: PostgreSQL's
    statistics of the name vector; rarer words count as none), then trigram
    similarity; failing those, the most similar word by trigrams (longer
    words, bigger typos). The corrections' stems come in the same round
    trip, so the corrected search needs no lookup of its own.
    """
    if not words:
        return {}
    sql, params = correction_statement(words)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return best_corrections(rows, name_shares)


def best_corrections(rows: list[Any], name_shares: dict[str, float]) -> dict[str, tuple[str, Lexemes]]:
    """Each word's best correction from the rows of `correction_statement` (see `corrections`)."""
    best: dict[str, tuple[bool, float, float, str]] = {}
    lexemes: dict[str, Lexemes] = {}
    for original, correction, similarity, one_typo, english, simple in rows:
        if not correction or correction == original:
            continue
        lexemes[correction] = lexemes_of(correction, english, simple)
        score = (one_typo, name_shares.get(correction, 0.0), similarity, correction)
        # Highest wins; for equal scores the alphabetically first word, so the choice is stable.
        if original not in best or score[:3] > best[original][:3] or (
                score[:3] == best[original][:3] and correction < best[original][3]):
            best[original] = score
    return {original: (score[3], lexemes[score[3]]) for original, score in best.items()}
