"""The query's words as the database reads them, and their typo corrections (docs/templates.md, "Search").

Each word's stems, whether it is a known word (or the start of one), the
user's teams and, for a word no vocabulary word is or starts (a likely typo),
its corrections come in one statement (`word_info`), so `matching.matches` can
send a likely typo's corrected search in the same round trip as the search as
typed; `corrections` looks up other words' corrections on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from templates_app.access import EDITOR_ROLES
from templates_app.domain.search_query import EDIT_LETTERS, Lexemes
from templates_app.selectors.statements import Statement, fetch


@dataclass(frozen=True)
class WordInfo:
    lexemes: Lexemes
    # In the vocabulary of names, tags and categories (SearchWord): a whole word, not a half-typed one.
    known: bool
    # Some vocabulary word starts with it: it may be half typed, not mistyped.
    starts_known: bool = True
    # Its typo corrections as `best_corrections` reads them, when they were looked up with it (a word
    # of three letters or more that no vocabulary word is or starts); None when they were not.
    correction_rows: tuple[tuple[Any, ...], ...] | None = None
    # For such a word: some vocabulary word starts with its English stem, so the search as typed may
    # well match names ("invoicing" through "invoic", "transcrips" read as the prefix "transcrip").
    stem_starts_known: bool = False


@dataclass(frozen=True)
class Teams:
    """The teams whose `team` templates a user sees, and those whose `private` ones too."""

    member: list[Any]
    editor: list[Any]


# Every string one typo away from `w.word` — `one_edit_variants` (templates_app.domain.search_query)
# spelled in SQL, so a word's corrections are looked up in the statement that finds it is no
# vocabulary word (`test_the_sql_one_typo_variants_are_the_python_ones` compares the two). Written
# into the statement rather than as a SQL function, whose plan would be made again on every call,
# and as three flat joins rather than a subquery per cut of the word, which the executor would run
# again for each cut: a letter dropped, two neighbours swapped, and a letter added (`kind` 0) or
# changed (`kind` 1) at each cut. Unlike `one_edit_variants`, the word itself can be among them (a
# letter changed for itself): the lookup is only for words that are no vocabulary word.
ONE_TYPO_VARIANTS = (
    "SELECT substr(w.word, 1, cut) || substr(w.word, cut + 2)"
    " FROM generate_series(0, length(w.word) - 1) AS cut"
    " UNION ALL"
    " SELECT substr(w.word, 1, cut) || substr(w.word, cut + 2, 1) || substr(w.word, cut + 1, 1)"
    " || substr(w.word, cut + 3) FROM generate_series(0, length(w.word) - 2) AS cut"
    " UNION ALL"
    " SELECT substr(w.word, 1, cut) || letter || substr(w.word, cut + 1 + kind)"
    " FROM generate_series(0, length(w.word)) AS cut, letters, (VALUES (0), (1)) AS kinds(kind)"
    " WHERE cut + kind <= length(w.word)")

# The vocabulary words one typo away from `w.word`, looked up by equality, each with its trigram
# similarity; for a word with none, the most similar vocabulary word by trigrams. A lateral
# subquery on `w.word`, only when `{wanted}` holds (the words statement's `k.correct`), for the
# words statement and the corrections statement alike.
_CORRECTIONS_OF_WORD = (
    "WITH letters AS MATERIALIZED (SELECT letter FROM unnest(string_to_array('" + EDIT_LETTERS + "' || w.word, NULL))"
    "  AS letter WHERE {wanted}),"
    " near AS MATERIALIZED (SELECT DISTINCT s.word, similarity(s.word, w.word) AS similarity"
    "  FROM (" + ONE_TYPO_VARIANTS + ") AS variants(variant)"
    "  JOIN templates_app_searchword s ON s.word = variants.variant WHERE {wanted})"
    " SELECT near.word, near.similarity, TRUE AS one_typo FROM near"
    " UNION ALL"
    " (SELECT s.word, 0, FALSE FROM templates_app_searchword s"
    "  WHERE {wanted} AND NOT EXISTS (SELECT FROM near) AND s.word %% w.word"
    "  ORDER BY similarity(s.word, w.word) DESC, s.word LIMIT 1)")

# Each word's stems, whether it is (or starts) a vocabulary word, the user's teams, and — for the
# words asked for that no vocabulary word is or starts, stop words aside — whether a vocabulary word
# starts with its stem, and its typo corrections with the corrections' stems: one row per word and
# correction. "Starts a known word" is a range of
# the vocabulary's pattern index (byte order, as `varchar_pattern_ops` compares); chr(1114111) sorts
# after any letter. (OFFSET 0 keeps each word's lookups in one place: flattened, the planner
# repeated them in each expression that reads them.)
_WORDS_SQL = (
    "SELECT w.word, tsvector_to_array(to_tsvector('english', w.word)),"
    " tsvector_to_array(to_tsvector('simple', w.word)), k.known, k.starts_known,"
    " ARRAY(SELECT team_id FROM teams_membership WHERE user_id = %s),"
    " ARRAY(SELECT team_id FROM teams_membership WHERE user_id = %s AND role = ANY(%s::text[])),"
    " k.correct, k.correct AND EXISTS (SELECT FROM unnest(tsvector_to_array(to_tsvector('english', w.word))) AS stem,"
    "  templates_app_searchword s WHERE s.word ~>=~ stem AND s.word ~<~ (stem || chr(1114111))),"
    " c.word, c.similarity, c.one_typo,"
    " tsvector_to_array(to_tsvector('english', c.word)), tsvector_to_array(to_tsvector('simple', c.word))"
    " FROM unnest(%s::text[]) AS w(word)"
    " CROSS JOIN LATERAL (SELECT k.known, k.starts_known,"
    "                            w.word = ANY(%s::text[]) AND NOT k.known AND NOT k.starts_known"
    "                            AND length(to_tsvector('english', w.word)) > 0 AS correct"
    "  FROM (SELECT EXISTS (SELECT FROM templates_app_searchword s WHERE s.word = w.word) AS known,"
    "               EXISTS (SELECT FROM templates_app_searchword s"
    "                       WHERE s.word ~>=~ w.word AND s.word ~<~ (w.word || chr(1114111))) AS starts_known"
    "        OFFSET 0) k OFFSET 0) k"
    " LEFT JOIN LATERAL (" + _CORRECTIONS_OF_WORD.format(wanted="k.correct") + ") AS c ON TRUE"
    " ORDER BY w.word, c.word")


def word_info(words: list[str], user: Any = None, *, correct: Sequence[str] = ()) -> tuple[dict[str, WordInfo], Teams]:
    """Each word's English stem (None for a stop word), plain form and whether it is (or starts) a known
    word, and `user`'s teams; for each of `correct` that no vocabulary word is or starts, its typo
    corrections too (`WordInfo.correction_rows`): one statement, prepared (`statements.fetch`).

    Stems come from the database (its stemmer and stop words), so the main
    query sees constants the planner can estimate; so do the teams, which
    keep membership subqueries out of every stage of that query. The
    corrections come before the first page is searched, so a likely typo's
    corrected search can travel with it (`matching.matches`).
    """
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    rows = fetch([Statement(sql=_WORDS_SQL, params=[user_id, user_id, list(EDITOR_ROLES), words, list(correct)])])[0]
    info: dict[str, WordInfo] = {}
    teams = Teams(member=[], editor=[])
    found: dict[str, list[tuple[Any, ...]]] = {}
    for (word, english, simple, known, starts_known, member, editor, looked_up, stem_starts_known, correction,
         similarity, one_typo, correction_english, correction_simple) in rows:
        if word not in info:
            info[word] = WordInfo(lexemes=lexemes_of(word, english, simple), known=known, starts_known=starts_known,
                                  stem_starts_known=bool(stem_starts_known))
            teams = Teams(member=member, editor=editor)
            if looked_up:
                found[word] = []
        if looked_up and correction is not None:
            found[word].append((word, correction, similarity, one_typo, correction_english, correction_simple))
    for word, corrections_found in found.items():
        info[word] = replace(info[word], correction_rows=tuple(corrections_found))
    return info, teams


def lexemes_of(word: str, english: list[str], simple: list[str]) -> Lexemes:
    # One plain word is one lexeme; should the parser ever cut it, the longest piece stands for it.
    return Lexemes(english=max(english, key=len) if english else None,
                   simple=max(simple, key=len) if simple else word)


# The corrections of words looked up on their own (`corrections`), in the rows `best_corrections` reads.
_CORRECTIONS_SQL = (
    "SELECT w.word, c.word, c.similarity, c.one_typo,"
    " tsvector_to_array(to_tsvector('english', c.word)), tsvector_to_array(to_tsvector('simple', c.word))"
    " FROM unnest(%s::text[]) AS w(word) CROSS JOIN LATERAL (" + _CORRECTIONS_OF_WORD.format(wanted="TRUE") + ") AS c"
    " ORDER BY w.word, c.word")


def corrections(words: list[str], name_shares: dict[str, float]) -> dict[str, tuple[str, Lexemes]]:
    """The vocabulary word each of `words` was most likely meant to be, with its lexemes, for those that have
    one: one round trip.

    Words one typo away (`one_edit_variants`, spelled in SQL, looked up by equality) come
    first, the one in most names winning (`name_shares`: PostgreSQL's
    statistics of the name vector; rarer words count as none), then trigram
    similarity; failing those, the most similar word by trigrams (longer
    words, bigger typos). The corrections' stems come in the same round
    trip, so the corrected search needs no lookup of its own.
    """
    if not words:
        return {}
    return best_corrections(fetch([Statement(sql=_CORRECTIONS_SQL, params=[words])])[0], name_shares)


def best_corrections(rows: list[Any], name_shares: dict[str, float]) -> dict[str, tuple[str, Lexemes]]:
    """Each word's best correction from the rows of `corrections` or `WordInfo.correction_rows`."""
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
