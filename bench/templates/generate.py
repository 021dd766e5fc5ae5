"""A seeded generator of realistic marketplace templates, loaded with COPY.

Names combine an action, an object and sometimes a context ("Summarize
support tickets for finance"); descriptions reuse a vocabulary in which a
few words ("data", "workflow", "team") are very common and most are
typical (about 1 % of rows), so the benchmark can time both. Tags follow a
Zipf-like distribution, usage counts a long tail. Reusable by tests at small
sizes: `generate_rows(300, seed=1)` is pure; `load(count)` writes.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from templates_app.domain.search_text import template_search_columns

ACTIONS = ["Summarize", "Classify", "Translate", "Extract", "Triage", "Route", "Draft", "Review", "Normalize",
           "Deduplicate", "Enrich", "Score", "Tag", "Answer", "Report on", "Approve", "Escalate", "Monitor",
           "Detect", "Convert", "Validate", "Merge", "Forecast", "Generate", "Redact", "Transcribe", "Cluster",
           "Rank", "Match", "Publish"]
OBJECTS = ["support tickets", "invoices", "contracts", "emails", "chat transcripts", "product reviews",
           "meeting notes", "sales leads", "job applications", "news articles", "research papers",
           "bug reports", "expense claims", "purchase orders", "survey answers", "social posts",
           "customer feedback", "release notes", "legal documents", "medical records", "shipping notices",
           "call recordings", "knowledge base articles", "pull requests", "security alerts", "web pages",
           "CSV exports", "spreadsheets", "access requests", "marketing copy"]
CONTEXTS = ["", "", "", "for finance", "for legal", "for sales", "for HR", "in Spanish", "in German",
            "with citations", "with human approval", "to Slack", "to a webhook", "by priority", "by sentiment",
            "for executives", "overnight", "in bulk", "with confidence scores", "as JSON"]
CATEGORIES = ["customer-support", "summarization", "classification", "translation", "retrieval-qa",
              "data-cleanup", "approvals", "reporting", "marketing", "engineering", "finance", "legal"]
TAGS = ["llm", "support", "email", "json", "finance", "reporting", "translation", "classification",
        "summarization", "approvals", "slack", "webhook", "extraction", "sales", "hr", "legal", "security",
        "rag", "search", "moderation", "sentiment", "csv", "marketing", "engineering", "analytics", "ops",
        "compliance", "healthcare", "ecommerce", "education", "research", "news", "social", "crm", "billing",
        "invoices", "contracts", "meetings", "productivity", "quality"]
COMMON = ["data", "workflow", "team", "automatically", "results"]
PHRASES = ["Reads {obj} and {verb} them", "Turns {obj} into structured data", "Keeps your team informed",
           "Saves hours of manual work every week", "Uses a model to {verb} {obj}",
           "Flags what needs a person", "Works with any provider", "Posts results where your team works",
           "Handles {obj} in many languages", "Cleans messy data before it reaches your tools",
           "A workflow your team can adapt", "Sends a digest automatically", "Scores {obj} for priority"]
NODE_TYPES = ["template", "json_parse", "json_format", "select", "map", "filter", "reduce", "merge_objects",
              "http_request", "delay", "log", "branch", "merge", "loop", "parallel", "join"]
MODEL_IDS = ["openai/gpt-4o-mini", "openai/gpt-4o", "anthropic/claude-3-5-haiku", "local/echo",
             "openai/text-embedding-3-small"]
EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _zipf_choice(generator: random.Random, items: list[str]) -> str:
    # Index drawn from a 1/rank-like distribution: a few items are everywhere.
    rank = int(len(items) ** generator.random()) - 1
    return items[min(rank, len(items) - 1)]


def generate_rows(count: int, *, seed: int = 7, team_id: Any = None) -> Iterator[dict[str, Any]]:
    generator = random.Random(seed)
    for index in range(count):
        action, obj = generator.choice(ACTIONS), generator.choice(OBJECTS)
        context = generator.choice(CONTEXTS)
        name = " ".join(part for part in [action, obj, context] if part)
        verb = action.lower()
        sentences = [generator.choice(PHRASES).format(obj=generator.choice(OBJECTS), verb=verb) for _ in range(3)]
        if generator.random() < 0.5:
            sentences.append(f"Moves {generator.choice(COMMON)} through the {generator.choice(COMMON)}")
        tags = sorted({_zipf_choice(generator, TAGS) for _ in range(generator.randint(1, 5))})
        nodes = sorted(set(generator.sample(NODE_TYPES[:11], generator.randint(1, 4))) |
                       ({generator.choice(NODE_TYPES[11:])} if generator.random() < 0.3 else set()))
        models = sorted(set(generator.sample(MODEL_IDS, generator.randint(0, 2))))
        usage = int(generator.paretovariate(1.2)) - 1
        ratings = generator.randint(0, 40) if generator.random() < 0.6 else 0
        average = round(generator.uniform(2.5, 5.0), 2) if ratings else 0.0
        yield {
            "id": uuid.UUID(int=generator.getrandbits(128), version=4), "slug": f"bench-{seed}-{index}",
            "team_id": team_id, "name": name, "description": ". ".join(sentences) + ".",
            "category": generator.choice(CATEGORIES), "tags": tags,
            "visibility": "public" if generator.random() < 0.9 else "team",
            "verified": generator.random() < 0.05, "usage_count": min(usage, 1_000_000),
            "rating_count": ratings, "rating_total": round(average * ratings), "rating_average": average,
            "node_types": nodes, "model_ids": models,
            "created_at": EPOCH + dt.timedelta(seconds=generator.randint(0, 60 * 60 * 24 * 600)),
        }


# The search word columns are computed here as Template.save() computes them:
# the search-vector trigger refuses rows without them.
SEARCH_WORD_COLUMNS = ["name_key", "search_extra_name", "search_extra_tags", "search_extra_description",
                       "search_checksum"]
COLUMNS = ["id", "slug", "team_id", "name", "description", "category", "tags", "visibility", "verified",
           "featured", "deprecated", "rating_average", "rating_count", "rating_total", "usage_count",
           "latest_version", "node_types", "model_ids", "created_at", "updated_at", *SEARCH_WORD_COLUMNS]


def _array(values: list[str]) -> str:
    return "{" + ",".join('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values) + "}"


def _copy_line(row: dict[str, Any]) -> str:
    def text(value: Any) -> str:
        return str(value).replace("\\", "\\\\")

    # COPY's text format has no tabs or newlines inside a field; the search
    # words are split from the text as stored, or the trigger refuses the row.
    name, description = (" ".join(str(row[key]).split()) for key in ("name", "description"))
    fields = [str(row["id"]), row["slug"], str(row["team_id"]), text(name), text(description),
              row["category"], _array(row["tags"]), row["visibility"], "t" if row["verified"] else "f", "f", "f",
              str(row["rating_average"]), str(row["rating_count"]), str(row["rating_total"]),
              str(row["usage_count"]), "1.0.0", _array(row["node_types"]), _array(row["model_ids"]),
              row["created_at"].isoformat(), row["created_at"].isoformat()]
    words = template_search_columns(name=name, description=description, category=row["category"], tags=row["tags"])
    fields += [text(words[column]) for column in SEARCH_WORD_COLUMNS]
    return "\t".join(fields) + "\n"


def load(count: int, *, team: Any, seed: int = 7, batch: int = 20_000) -> int:
    """COPY `count` generated templates for `team` (the search-vector trigger fills the vector)."""
    return copy_rows(generate_rows(count, seed=seed, team_id=team.pk), batch=batch)


def copy_rows(rows: Iterable[dict[str, Any]], *, batch: int = 20_000) -> int:
    """COPY rows shaped like `generate_rows`' into the template table, `batch` at a time; ANALYZE after."""
    from django.db import connection

    written = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for lines in _batches((_copy_line(row) for row in rows), batch):
            with raw.copy(f"COPY templates_app_template ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                copy.write("".join(lines))
            written += len(lines)
        cursor.execute("ANALYZE templates_app_template")
    return written


def _batches(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
