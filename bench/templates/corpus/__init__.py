"""Marketplace catalogs made of real public workflow names and descriptions (see README.md here).

`catalog(size, seed=…)` is pure and seeded. Up to the corpus' size it is a
sample of the real entries; beyond, every real entry plus generated ones:
names from a word-bigram model of the real names, as long as real names are
(so "Automate Gmail/Outlook triage with GPT-4o and Slack alerts" style names,
the real words at their real frequencies, none equal to a real name), descriptions mixed
from real descriptions' sentences, categories copied from a real entry. The
benchmark searches for real entries only; generated ones are the crowd they
must be found in.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

CORPUS_FILE = Path(__file__).resolve().with_name("n8n_templates.jsonl")
DESCRIPTION_CHARS = 240
EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Entry:
    id: int
    name: str
    description: str
    categories: tuple[str, ...]


@cache
def load_corpus() -> tuple[Entry, ...]:
    entries = []
    with CORPUS_FILE.open(encoding="utf-8") as lines:
        for line in lines:
            data = json.loads(line)
            entries.append(Entry(id=data["id"], name=data["name"], description=data["description"],
                                 categories=tuple(data["categories"])))
    return tuple(entries)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


class _NameModel:
    """A word-bigram model of the real names (words as written, punctuation attached)."""

    def __init__(self, names: list[str]) -> None:
        self.following: dict[str | None, list[str | None]] = defaultdict(list)
        for name in names:
            words: list[str | None] = [None, *name.split(), None]
            for before, after in itertools.pairwise(words):
                self.following[before].append(after)

    def name(self, generator: random.Random, length: int) -> str:
        """A walk of about `length` words (the real names' lengths are drawn by the caller).

        Walks that end sooner are dropped; a longer one ends at the first word
        from `length` on that some real name ends with, or is cut at `length`
        if none comes within two more words.
        """
        while True:
            words: list[str] = []
            word = generator.choice(self.following[None])
            while word is not None:
                words.append(word)
                if len(words) >= length and None in self.following[word]:
                    return " ".join(words)
                if len(words) == length + 2:
                    return " ".join(words[:length])
                word = generator.choice(self.following[word])


def _shortened(text: str) -> str:
    if len(text) <= DESCRIPTION_CHARS:
        return text
    return text[:DESCRIPTION_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:-") + "…"


def _row(generator: random.Random, *, slug: str, team_id: Any, name: str, description: str,
         categories: tuple[str, ...]) -> dict[str, Any]:
    tags = sorted({_slug(category) for category in categories if _slug(category)})
    usage = int(generator.paretovariate(1.2)) - 1
    ratings = generator.randint(0, 40) if generator.random() < 0.6 else 0
    average = round(generator.uniform(2.5, 5.0), 2) if ratings else 0.0
    return {
        "id": uuid.UUID(int=generator.getrandbits(128), version=4), "slug": slug, "team_id": team_id,
        "name": name, "description": description, "category": tags[0] if tags else "", "tags": tags,
        "visibility": "public", "verified": generator.random() < 0.05, "usage_count": min(usage, 1_000_000),
        "rating_count": ratings, "rating_total": round(average * ratings), "rating_average": average,
        "node_types": [], "model_ids": [],
        "created_at": EPOCH + dt.timedelta(seconds=generator.randint(0, 60 * 60 * 24 * 600)),
    }


@dataclass(frozen=True)
class Catalog:
    rows: list[dict[str, Any]]
    # The slugs of the real entries in the catalog: what the benchmark searches for.
    real_slugs: list[str]


def catalog(size: int, *, seed: int = 11, team_id: Any = None) -> Catalog:
    """`size` templates (rows shaped like bench.templates.generate.generate_rows'), seeded."""
    generator = random.Random(seed)
    entries = list(load_corpus())
    real = generator.sample(entries, size) if size <= len(entries) else entries
    rows = [_row(generator, slug=f"n8n-{entry.id}", team_id=team_id, name=entry.name,
                 description=entry.description, categories=entry.categories) for entry in real]
    rows += list(_generated(generator, size - len(real), entries, team_id=team_id))
    return Catalog(rows=rows, real_slugs=[row["slug"] for row in rows[:len(real)]])


def _generated(generator: random.Random, count: int, entries: list[Entry], *, team_id: Any) -> Iterator[dict[str, Any]]:
    model = _NameModel([entry.name for entry in entries])
    sentences = [sentence for entry in entries for sentence in _SENTENCE_END.split(entry.description) if sentence]
    taken = {entry.name.lower() for entry in entries}
    made = 0
    lengths = [len(entry.name.split()) for entry in entries]
    while made < count:
        name = model.name(generator, generator.choice(lengths))
        if name.lower() in taken:
            continue
        taken.add(name.lower())
        description = _shortened(" ".join(generator.choice(sentences) for _ in range(generator.randint(2, 3))))
        yield _row(generator, slug=f"n8n-generated-{made:06d}", team_id=team_id, name=name,
                   description=description, categories=generator.choice(entries).categories)
        made += 1
