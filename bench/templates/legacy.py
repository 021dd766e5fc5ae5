"""The marketplace search as it was before issue 18, kept callable so `make bench` can measure it
beside the current design in the same run, on the same catalog.

A faithful copy of `templates_app/selectors.py`'s query path at commit
27b0357 (query words, tsquery, candidates, ranking, typo correction) over
its own index: `build()` copies the catalog into `bench_legacy_template`
with the search vector the old trigger made (PostgreSQL's default parser,
so "TikTok/Youtube" is one token) and the old indexes, and the old
vocabulary into `bench_legacy_searchword`. Only the table names differ from
the original code; visibility, filters, facets, cursors and loading the
page's rows are the current module's (they did not change).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from django.db import connection

from symphony_site.api.errors import ValidationFailed
from symphony_site.api.pagination import decode_cursor, encode_cursor
from templates_app.selectors import SearchResult, _facets, _load, _sortable
from templates_app.selectors.matching import Filters as _Filters
from templates_app.selectors.matching import filter_sql as _filter_sql
from templates_app.selectors.matching import visibility_sql as _visibility_sql

CANDIDATE_LIMIT = 250
GIN_FUZZY_LIMIT = 5000
NAME_MATCH_LIMIT = 20
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

BUILD = """
DROP TABLE IF EXISTS bench_legacy_template;
CREATE TABLE bench_legacy_template AS
SELECT id, slug, team_id, name, description, category, tags, visibility, verified, featured, deprecated,
       rating_average, rating_count, rating_total, usage_count, latest_version, node_types, model_ids,
       created_by_id, created_at, updated_at,
       -- Migration 0003's trigger.
       setweight(to_tsvector('english', coalesce(name, '')), 'A')
       || setweight(to_tsvector('simple', coalesce(name, '') || ' ' || array_to_string(tags, ' ')), 'A')
       || setweight(to_tsvector('english', array_to_string(tags, ' ') || ' '
                                || replace(coalesce(category, ''), '-', ' ')), 'B')
       || setweight(to_tsvector('english', coalesce(description, '')), 'C')
       || setweight(to_tsvector('english', array_to_string(node_types, ' ') || ' '
                                || array_to_string(model_ids, ' ')), 'D') AS search_vector
FROM templates_app_template;
ALTER TABLE bench_legacy_template ADD PRIMARY KEY (id);
-- Migrations 0001 and 0003's indexes.
CREATE INDEX bench_legacy_search_gin ON bench_legacy_template USING gin (search_vector);
CREATE INDEX bench_legacy_name_trgm ON bench_legacy_template USING gin (name gin_trgm_ops);
CREATE INDEX bench_legacy_tags_gin ON bench_legacy_template USING gin (tags);
CREATE INDEX bench_legacy_node_types_gin ON bench_legacy_template USING gin (node_types);
CREATE INDEX bench_legacy_model_ids_gin ON bench_legacy_template USING gin (model_ids);
CREATE INDEX bench_legacy_category ON bench_legacy_template (category);
CREATE INDEX bench_legacy_name_prefix ON bench_legacy_template (lower(name) text_pattern_ops);
CREATE INDEX bench_legacy_popular ON bench_legacy_template (usage_count DESC, id);
CREATE INDEX bench_legacy_newest ON bench_legacy_template (created_at DESC, id);
CREATE INDEX bench_legacy_rating ON bench_legacy_template (rating_average DESC, id);
DROP TABLE IF EXISTS bench_legacy_searchword;
CREATE TABLE bench_legacy_searchword (word varchar(60) PRIMARY KEY);
INSERT INTO bench_legacy_searchword (word)
SELECT DISTINCT word FROM bench_legacy_template t, unnest(tsvector_to_array(to_tsvector('simple',
    t.name || ' ' || array_to_string(t.tags, ' ') || ' ' || replace(t.category, '-', ' ')))) AS word
WHERE length(word) BETWEEN 3 AND 60;
CREATE INDEX bench_legacy_searchword_trgm ON bench_legacy_searchword USING gin (word gin_trgm_ops);
"""


def build() -> None:
    """Copy the current catalog into the old design's tables and indexes (minutes at 100,000 templates)."""
    with connection.cursor() as cursor:
        cursor.execute(BUILD)
        cursor.execute("VACUUM ANALYZE bench_legacy_template")
        cursor.execute("VACUUM ANALYZE bench_legacy_searchword")
    _stats_cache.clear()


def drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_legacy_template; DROP TABLE IF EXISTS bench_legacy_searchword")


def query_words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text or "")][:10]


def _tsquery(words: list[str]) -> str:
    """The tsquery (as text) for the words: each stemmed, the last also as a prefix.

    Built by the database (its stemmer and stop words), once per search, so the
    main queries see a constant the planner can estimate. The unstemmed prefix
    ("summari:*" for a half-typed "summari…") is added only when it differs from
    the stemmed one, so common words do not scan the index twice.
    """
    *complete, last = words
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_tsquery('english', %s)::text, to_tsquery('english', %s)::text, to_tsquery('simple', %s)::text,"
            " EXISTS (SELECT 1 FROM bench_legacy_searchword WHERE word = %s)",
            [" & ".join(complete) or "", f"{last}:*", f"{last}:*", last])
        head, stemmed, plain, known = cursor.fetchone()
    if known or len(last) < 3:
        # A whole word of some name or tag: its stem already matches its forms,
        # and an exact lexeme is far cheaper to look up than a prefix.
        stemmed, plain = stemmed.replace(":*", ""), ""
    last_part = stemmed if plain in {stemmed, ""} else (f"( {stemmed} | {plain} )" if stemmed else plain)
    parts = [part for part in (head, last_part) if part]
    return " & ".join(f"( {part} )" for part in parts)


# Sort name → the candidate row's column it orders by (always descending, then id).
_CANDIDATE_SORT_KEYS = {"relevance": "rank", "popular": "usage_count", "newest": "created_at",
                        "rating": "rating_average"}
# Above this share of all templates a query's words are "very common": scanning
# the table until enough rows match beats building the index's bitmap of them all.
COMMON_SHARE = 0.2
_LEXEME = re.compile(r"'((?:[^']|'')+)'(:\*)?")
_stats_cache: dict[str, Any] = {}


def _lexeme_shares() -> dict[str, float]:
    """Share of templates holding each of the most common lexemes (PostgreSQL's own
    statistics of the search vector), re-read at most once a minute per process."""
    now = time.monotonic()
    if now - _stats_cache.get("at", -1e9) > 60:
        with connection.cursor() as cursor:
            cursor.execute("SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                           "WHERE tablename = 'bench_legacy_template' AND attname = 'search_vector'")
            row = cursor.fetchone()
        shares = dict(zip(row[0], row[1], strict=False)) if row and row[0] else {}
        _stats_cache.update(shares=shares, at=now)
    return _stats_cache["shares"]


def _is_common(tsquery: str) -> bool:
    """Whether every AND-ed part of the query matches at least COMMON_SHARE of templates.

    Lexemes outside the statistics' most common ones are rare by definition;
    a prefix counts the common lexemes it covers.
    """
    shares = _lexeme_shares()
    if not shares:
        return False
    for part in tsquery.split(" & "):
        share = 0.0
        for lexeme, prefix in _LEXEME.findall(part):
            lexeme = lexeme.replace("''", "'")
            if prefix:
                share += sum(value for word, value in shares.items() if word.startswith(lexeme))
            else:
                share += shares.get(lexeme, 0.0)
        if share < COMMON_SHARE:
            return False
    return True


def _candidates(where: str, params: list[Any], tsquery: str, phrase: str, *, filtered: bool
                ) -> list[dict[str, Any]]:
    """At most CANDIDATE_LIMIT matching rows (+ names starting with the phrase), ranked.

    With filters the index bitmaps are AND-ed and exact; without, a common
    word takes the stop-early scan and a broad prefix's bitmap is capped.
    """
    like_prefix = phrase.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    sql = f"""
        WITH matched AS (
            (SELECT t.id FROM bench_legacy_template t
             WHERE t.search_vector @@ %s::tsquery AND {where} LIMIT {CANDIDATE_LIMIT + 1})
            UNION
            (SELECT t.id FROM bench_legacy_template t
             WHERE lower(t.name) LIKE %s AND {where} LIMIT {NAME_MATCH_LIMIT})
        )
        SELECT t.id, (ts_rank(t.search_vector, %s::tsquery, 32)
                      + CASE WHEN lower(t.name) = %s THEN 2.0
                             WHEN lower(t.name) LIKE %s THEN 0.5 + 0.5 * %s / length(t.name) ELSE 0 END
                      + CASE WHEN t.verified THEN 0.05 ELSE 0 END + ln(1 + t.usage_count) * 0.01)::float8 AS rank,
               t.usage_count, extract(epoch FROM t.created_at)::float8 AS created_at, t.rating_average,
               t.category, array_to_string(t.tags, E'\\x1f') AS tags
        FROM bench_legacy_template t JOIN matched m ON m.id = t.id
    """
    # A name that starts with the words scores more the more of the name they cover.
    all_params = [tsquery, *params, like_prefix, *params, tsquery, phrase, like_prefix, float(len(phrase))]
    if filtered or not _is_common(tsquery):
        # The planner underestimates how long a scan takes to find enough rows
        # for a rarer word (or a filtered search); the indexes' bitmaps are the
        # fast path. Without filters gin_fuzzy_search_limit caps the bitmap a
        # broad prefix would build (the candidates are a sample then anyway);
        # with filters it would drop real matches from the AND, so it is not set.
        # Session settings are set and reset in the same round trip as the query.
        fuzzy = "" if filtered else f"SET gin_fuzzy_search_limit = {GIN_FUZZY_LIMIT}; "
        sql = (f"SET enable_seqscan = off; SET enable_indexscan = off; {fuzzy}{sql}; "
               "RESET enable_seqscan; RESET enable_indexscan; RESET gin_fuzzy_search_limit")
    with connection.cursor() as cursor:
        try:
            cursor.execute(sql, all_params)
            while cursor.description is None and cursor.nextset():
                pass
            columns = [column.name for column in cursor.description]
            # Tags come joined and times as epoch seconds: parsing 250 arrays and
            # timestamps in Python cost more than the query.
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        except Exception:
            if connection.in_atomic_block:
                raise
            cursor.execute("RESET enable_seqscan; RESET enable_indexscan; RESET gin_fuzzy_search_limit")
            raise
    for row in rows:
        row["tags"] = row["tags"].split("\x1f") if row["tags"] else []
    return rows


def _corrected(words: list[str]) -> list[str] | None:
    """The words with each unknown one replaced by the closest vocabulary word; None if nothing changes."""
    corrected: list[str] = []
    with connection.cursor() as cursor:
        for word in words:
            if len(word) < 3:
                corrected.append(word)
                continue
            cursor.execute("SELECT word FROM bench_legacy_searchword WHERE word %% %s "
                           "ORDER BY word = %s DESC, similarity(word, %s) DESC, word LIMIT 1", [word, word, word])
            row = cursor.fetchone()
            corrected.append(row[0] if row else word)
    return corrected if corrected != words else None


def _search_with_query(user: Any, words: list[str], raw_query: str, filters: _Filters, sort: str,
                       limit: int, cursor: str | None) -> SearchResult:
    visibility, visibility_params = _visibility_sql(user)
    filter_sql, filter_params = _filter_sql(filters)
    where = f"{visibility} AND {filter_sql}"
    params = [*visibility_params, *filter_params]
    tsquery = _tsquery(words)
    filtered = filter_sql != "TRUE"
    rows = _candidates(where, params, tsquery, " ".join(words), filtered=filtered) if tsquery else []
    typo = False
    corrected: str | None = None
    if not rows:
        # Nothing matched the words as typed: correct the unknown ones against
        # the vocabulary of names and tags, and search again.
        fixed = _corrected(words)
        if fixed is not None:
            typo, corrected = True, " ".join(fixed)
            tsquery = _tsquery(fixed)
            rows = _candidates(where, params, tsquery, " ".join(fixed), filtered=filtered) if tsquery else []
    exact = len(rows) <= CANDIDATE_LIMIT
    facets = _facets(rows)
    key_names = [_CANDIDATE_SORT_KEYS[sort]]
    key = key_names[0]
    rows.sort(key=lambda row: (-_sortable(row[key]), row["id"]))
    if cursor:
        values = decode_cursor(cursor, 2, f"templates:query:{sort}")
        try:
            after = (-_sortable(values[0]), uuid.UUID(str(values[1])))
        except (TypeError, ValueError):
            raise ValidationFailed("The cursor is not valid; use the `next` value from a previous page.",
                                   details=[{"field": "cursor", "message": "invalid cursor", "code": "invalid"}])
        rows = [row for row in rows if (-_sortable(row[key]), row["id"]) > after]
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        value = last[key_names[0]]
        next_cursor = encode_cursor([value.isoformat() if hasattr(value, "isoformat") else value, str(last["id"])],
                                    f"templates:query:{sort}")
    return SearchResult(loaded=_load([row["id"] for row in page]), next_cursor=next_cursor, facets=facets,
                        facets_exact=exact, typo_fallback=typo, corrected_query=corrected)


def search_templates(user: Any, *, query: str, limit: int = 20, cursor: str | None = None) -> SearchResult:
    """The old `search_templates` for a query (relevance order, no filters)."""
    words = query_words(query)
    return _search_with_query(user, words, query, _Filters(), "relevance", limit, cursor)
