"""A search box's text as PostgreSQL text-search queries (docs/templates.md, "Search").

The query is split by the same function as the index (`search_text.chunks`),
then written as three tsqueries, given each word's lexemes (its English stem
— none for a stop word — and its plain lower-case form, which the caller
asks the database for):

* ``body`` — for the weighted vector of name, tags, description: every word
  stemmed, stop words dropped;
* ``name`` — for the name's own vector: every word stemmed or as typed;
* ``name_all`` — the same with stop words required too, so "between
  workflows" finds "Clone n8n Workflows between Instances" first; empty when
  the query has no stop word (it would equal ``name``) or only stop words;
* ``typed`` — for the name's vector too: every word exactly as typed, stop
  words included ("reporting" and not every "report"); empty when it would
  equal one of the above.

A compound chunk asks for its whole or all its parts (``'tiktokyoutube' |
'tiktok' & 'youtub'``). The last word is also a prefix, for results while
typing, unless the caller knows it is a whole word already. Pure: no
database, no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from templates_app.domain.search_text import Chunk, chunks

MAX_QUERY_PARTS = 10
# Shorter last words are not searched as prefixes: "a:*" would match most of the catalog.
MIN_PREFIX_LENGTH = 3


@dataclass(frozen=True, slots=True)
class Lexemes:
    """What PostgreSQL makes of one word: its English stem (None for a stop word) and its plain form."""

    english: str | None
    simple: str


@dataclass(frozen=True, slots=True)
class SearchQuery:
    body: str
    name: str
    name_all: str
    typed: str
    # The query's words as a name key (search_text.word_key), for "the name is / starts with this".
    phrase: str
    # How many words each name query asks for: a name they cover entirely ranks first.
    name_words: int
    name_all_words: int

    @property
    def empty(self) -> bool:
        return not (self.body or self.name or self.phrase)


def query_chunks(text: str) -> list[Chunk]:
    """The chunks of a query, cut after MAX_QUERY_PARTS parts (a pasted paragraph is not a query)."""
    kept: list[Chunk] = []
    budget = MAX_QUERY_PARTS
    for chunk in chunks(text):
        if budget <= 0:
            break
        parts = chunk.parts[:budget]
        kept.append(chunk if len(parts) == len(chunk.parts) else Chunk(parts=parts))
        budget -= len(parts)
    return kept


def words_to_look_up(query: list[Chunk]) -> list[str]:
    """Every word whose lexemes `build_query` needs: the parts and wholes, without repeats."""
    words: list[str] = []
    for chunk in query:
        words += [*chunk.parts, *([chunk.whole] if chunk.whole else [])]
    return list(dict.fromkeys(words))


def _quoted(lexeme: str, *, prefix: bool = False) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'" + (":*" if prefix else "")


def _any(terms: list[str]) -> str:
    terms = list(dict.fromkeys(term for term in terms if term))
    if len(terms) > 1:
        return "( " + " | ".join(terms) + " )"
    return terms[0] if terms else ""


def _every(terms: list[str]) -> str:
    terms = list(dict.fromkeys(term for term in terms if term))
    if len(terms) > 1:
        return "( " + " & ".join(terms) + " )"
    return terms[0] if terms else ""


def _word_term(lexemes: Lexemes, *, prefix: bool, forms: str, keep_stop_words: bool) -> str:
    """One word as a tsquery term; `forms` is "stem", "typed" or "either"."""
    if prefix:
        # A half-typed word: its stem ("summar" of "summari") or the letters as typed.
        stems = [lexemes.english] if forms != "typed" else []
        return _any([_quoted(form, prefix=True) for form in [*stems, lexemes.simple] if form])
    if lexemes.english is None:
        return _quoted(lexemes.simple) if keep_stop_words else ""
    if forms == "stem":
        return _quoted(lexemes.english)
    if forms == "typed":
        return _quoted(lexemes.simple)
    return _any([_quoted(lexemes.english), _quoted(lexemes.simple)])


def _query(query: list[Chunk], lexemes: Mapping[str, Lexemes], *, prefix_last: bool, forms: str,
           keep_stop_words: bool) -> tuple[str, int]:
    terms: list[str] = []
    counted = 0
    for index, chunk in enumerate(query):
        last_chunk = index == len(query) - 1
        parts: list[str] = []
        for position, part in enumerate(chunk.parts):
            prefix = prefix_last and last_chunk and position == len(chunk.parts) - 1
            term = _word_term(lexemes[part], prefix=prefix, forms=forms, keep_stop_words=keep_stop_words)
            parts.append(term)
            counted += bool(term)
        whole = ""
        if chunk.whole:
            whole = _word_term(lexemes[chunk.whole], prefix=False, forms=forms, keep_stop_words=False)
        terms.append(_any([whole, _every(parts)]) if whole else _every(parts))
    return " & ".join(term for term in terms if term), counted


def build_query(query: list[Chunk], lexemes: Mapping[str, Lexemes], *, prefix_last: bool) -> SearchQuery:
    """The tsqueries of `query` (see the module docstring); `lexemes` must hold every `words_to_look_up` word."""
    phrase = " ".join(part for chunk in query for part in chunk.parts)
    body, _ = _query(query, lexemes, prefix_last=prefix_last, forms="stem", keep_stop_words=False)
    name, name_words = _query(query, lexemes, prefix_last=prefix_last, forms="either", keep_stop_words=False)
    name_all, name_all_words = _query(query, lexemes, prefix_last=prefix_last, forms="either",
                                      keep_stop_words=True)
    typed, _ = _query(query, lexemes, prefix_last=prefix_last, forms="typed", keep_stop_words=True)
    if not name:
        # Only stop words ("a", "to do") match too much of every name to be a name query.
        name_all = typed = ""
    if name_all == name:
        # Without any stop word the strict query is the same as the plain one.
        name_all, name_all_words = "", 0
    if typed in {name, name_all}:
        typed = ""
    return SearchQuery(body=body, name=name, name_all=name_all, typed=typed, phrase=phrase, name_words=name_words,
                       name_all_words=name_all_words)


# The letters a typo may put in a word (besides its own); the words statement uses them too (`selectors/words.py`).
EDIT_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


def one_edit_variants(word: str) -> set[str]:
    """Every string one typo away from `word`: a letter dropped, added, changed, or two neighbours swapped.

    Looked up in the vocabulary by equality, these find the word meant for
    the common typos (Norvig's spelling corrector), where trigram similarity
    misses short words ("ntoion" shares one trigram with "notion").
    """
    letters = sorted(set(EDIT_LETTERS) | set(word))
    splits = [(word[:index], word[index:]) for index in range(len(word) + 1)]
    variants = {left + right[1:] for left, right in splits if right}
    variants |= {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
    variants |= {left + letter + right[1:] for left, right in splits if right for letter in letters}
    variants |= {left + letter + right for left, right in splits for letter in letters}
    variants.discard(word)
    return {variant for variant in variants if variant}
