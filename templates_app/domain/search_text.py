"""The words people see in a template's name, tags and description.

PostgreSQL's text-search parser reads ``TikTok/Youtube`` as one file path,
``dev.to`` as one host and ``A/B`` as one path, so a search for "Shorts
Reels" could not find "AI Automated TikTok/Youtube Shorts/Reels Generator".
This module splits text the way a reader does, in plain Python so the index
and the query are split by the same function:

* a **chunk** is a run of text between spaces (``TikTok/Youtube``);
* its **parts** are its runs of letters and digits (``tiktok``, ``youtube``);
* its **whole** is the parts joined (``tiktokyoutube``, ``devto``, ``ab``,
  ``gpt4omini``), kept for chunks of two to four parts so that someone who
  types the compound without its separator still finds it;
* its **humps** are the pieces of camel-case parts (``TikTok`` → ``tik``,
  ``tok``; ``PostgreSQL`` → ``postgre``, ``sql``). Digits never split a part:
  ``n8n`` and ``4o`` are names.

The index keeps PostgreSQL's own reading of the text and adds the *extra
words* of every compound chunk (one with several parts or humps); the query
is built from the chunks (docs/templates.md, "Search"). Nothing here touches
a database.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# A whole of more parts is almost always a URL or a path nobody types joined up.
MAX_WHOLE_PARTS = 4
# Longer words are noise (hashes, tokens pasted into descriptions); PostgreSQL
# also refuses lexemes over 2 KB, and the vocabulary column holds 60 characters.
MAX_WORD_LENGTH = 60
# The stored name key's column width (names are at most 200 characters; a key is never longer).
NAME_KEY_LENGTH = 400


@dataclass(frozen=True, slots=True)
class Chunk:
    """One space-separated piece of text, as its searchable words (all lower case)."""

    parts: tuple[str, ...]
    humps: tuple[str, ...] = ()

    @property
    def whole(self) -> str | None:
        """The parts joined, for a compound of two to four parts; otherwise None."""
        if 2 <= len(self.parts) <= MAX_WHOLE_PARTS:
            joined = "".join(self.parts)
            return joined if len(joined) <= MAX_WORD_LENGTH else None
        return None

    @property
    def compound(self) -> bool:
        """Whether PostgreSQL's parser may not see these words on its own."""
        return len(self.parts) > 1 or bool(self.humps)

    def words(self) -> list[str]:
        """Every word this chunk is found by: parts, then the whole, then humps; no repeats."""
        whole = self.whole
        return list(dict.fromkeys([*self.parts, *([whole] if whole else []), *self.humps]))


def _is_word_character(character: str) -> bool:
    # Letters and decimal digits only: PostgreSQL's parser drops "²" and other
    # digit-like symbols, so a word made with them could never match.
    return character.isalpha() or character.isdecimal()


def _runs(piece: str) -> Iterator[str]:
    start = None
    for index, character in enumerate(piece):
        if _is_word_character(character):
            if start is None:
                start = index
        elif start is not None:
            yield piece[start:index]
            start = None
    if start is not None:
        yield piece[start:]


def camel_humps(run: str) -> list[str]:
    """The pieces of a camel-case run, or just the run when it has no humps.

    A hump starts at a capital after a lower-case letter (``Tik|Tok``), and at
    the last capital of a capital run followed by a lower-case letter
    (``HTML|Parser``). Digits do not split (``GPT4``, ``n8n``).
    """
    pieces: list[str] = []
    start = 0
    for index in range(1, len(run)):
        before, here = run[index - 1], run[index]
        after = run[index + 1] if index + 1 < len(run) else ""
        if (before.islower() and here.isupper()) or (before.isupper() and here.isupper() and after.islower()):
            pieces.append(run[start:index])
            start = index
    pieces.append(run[start:])
    return pieces


def chunks(text: str) -> list[Chunk]:
    """The chunks of ``text`` that hold at least one word, in order."""
    found: list[Chunk] = []
    for piece in unicodedata.normalize("NFC", text or "").split():
        runs = [run for run in _runs(piece) if len(run) <= MAX_WORD_LENGTH]
        if not runs:
            continue
        humps: list[str] = []
        for run in runs:
            pieces = camel_humps(run)
            if len(pieces) > 1:
                humps.extend(piece.lower() for piece in pieces)
        parts = tuple(run.lower() for run in runs)
        found.append(Chunk(parts=parts, humps=tuple(hump for hump in dict.fromkeys(humps) if hump not in parts)))
    return found


def extra_words(text: str) -> str:
    """The words of ``text``'s compound chunks, space-separated: what the index adds to PostgreSQL's own reading."""
    return " ".join(word for chunk in chunks(text) if chunk.compound for word in chunk.words())


def all_words(text: str) -> list[str]:
    """Every word ``text`` can be found by (parts, wholes and humps of every chunk), in order, no repeats."""
    return list(dict.fromkeys(word for chunk in chunks(text) for word in chunk.words()))


def word_key(text: str) -> str:
    """The parts of ``text`` joined by single spaces: names compared as a reader compares them.

    "Send Typeform results to Google Sheet, Slack and email" and the query
    "send typeform results to google sheet slack and email" share one key.
    """
    return " ".join(part for chunk in chunks(text) for part in chunk.parts)


def template_search_columns(*, name: str, description: str, category: str, tags: Iterable[str]) -> dict[str, str]:
    """The word columns of a template with this text (``Template.save``, bulk loads and the backfill migration)."""
    tags = list(tags)
    return {
        "name_key": word_key(name)[:NAME_KEY_LENGTH],
        "search_extra_name": extra_words(name),
        "search_extra_tags": extra_words(" ".join([*tags, category])),
        "search_extra_description": extra_words(description),
        "search_checksum": source_checksum(name, description, category, tags),
    }


def source_checksum(name: str, description: str, category: str, tags: Iterable[str]) -> str:
    """The MD5 of the fields the extra words come from, joined by the unit separator.

    The database recomputes it on every write of those fields and refuses a
    row whose extra words were computed from other text (migration 0004):
    a write path that forgot to split words fails loudly instead of leaving
    the index silently stale.
    """
    source = "\x1f".join([name, description, category, "\x1f".join(tags)])
    return hashlib.md5(source.encode("utf-8"), usedforsecurity=False).hexdigest()
