"""Marketplace search: full text with typo tolerance, filters, facets, cursors.

Search (docs/templates.md, "Search"):

1. Candidates: rows the user may see, matching the filters and the query's
   full-text query (every word stemmed, the last one also as a prefix so
   results appear while typing), at most ``CANDIDATE_LIMIT`` of them — a GIN
   bitmap scan stopped early, or, for words PostgreSQL's statistics say are
   in a fifth of the catalog or more, a plain scan that stops as soon as it
   has enough. A very common word costs no more than a rare one. Templates
   whose name starts with the query are always added, so the obvious one
   is never cut off.
2. Ranking (``ts_rank`` with weights A name, B tags, C description, D node
   types and models, normalized, plus boosts for name matches, verification
   and use) runs on the candidates only.
3. Typos: when nothing matches, unknown words are replaced by the closest
   word (trigram similarity) of the vocabulary of names and tags, and the
   search runs again.
4. Facets (category, tag) are counted over the candidates: exact whenever
   the query matches fewer than ``CANDIDATE_LIMIT`` templates, and
   ``facets_exact`` says so.

Without a query the list is a keyset-paginated index scan in the requested
order, and facets are counted over the first ``FACET_SAMPLE`` rows of it.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from symphony_site.api.errors import NotFound, ValidationFailed
from symphony_site.api.pagination import decode_cursor, encode_cursor
from templates_app.access import EDITOR_ROLES
from templates_app.domain.versions import (
    NoMatchingVersion,
    Version,
    VersionConstraint,
    VersionError,
    resolve_version,
)
from templates_app.models import Instantiation, Template, TemplateVersion

CANDIDATE_LIMIT = 250
GIN_FUZZY_LIMIT = 5000
NAME_MATCH_LIMIT = 20
FACET_LIMIT = 30
FACET_SAMPLE = 1000
SORTS = ("relevance", "popular", "newest", "rating")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass
class SearchResult:
    templates: list[Template]
    next_cursor: str | None
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    facets_exact: bool = True
    typo_fallback: bool = False
    corrected_query: str | None = None


@dataclass
class _Filters:
    category: str = ""
    tag: str = ""
    publisher: str = ""
    node_type: str = ""
    model_id: str = ""
    verified: bool | None = None


def _visibility_sql(user: Any) -> tuple[str, list[Any]]:
    """The SQL condition on `t` for what `user` may see (docs/templates.md, "Visibility")."""
    if not getattr(user, "is_authenticated", False):
        return "FALSE", []
    # Subqueries rather than a prior lookup: one round trip fewer on every search.
    sql = ("(t.visibility = 'public'"
           " OR (t.visibility = 'team' AND t.team_id IN (SELECT team_id FROM teams_membership WHERE user_id = %s))"
           " OR (t.visibility = 'private' AND t.team_id IN (SELECT team_id FROM teams_membership"
           " WHERE user_id = %s AND role = ANY(%s))))")
    return sql, [user.pk, user.pk, list(EDITOR_ROLES)]


def _filter_sql(filters: _Filters) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if filters.category:
        clauses.append("t.category = %s")
        params.append(filters.category)
    if filters.tag:
        clauses.append("t.tags @> ARRAY[%s]::varchar[]")
        params.append(filters.tag)
    if filters.publisher:
        clauses.append("t.team_id = (SELECT id FROM teams_team WHERE slug = %s)")
        params.append(filters.publisher)
    if filters.node_type:
        clauses.append("t.node_types @> ARRAY[%s]::varchar[]")
        params.append(filters.node_type)
    if filters.model_id:
        clauses.append("t.model_ids @> ARRAY[%s]::varchar[]")
        params.append(filters.model_id)
    if filters.verified is not None:
        clauses.append("t.verified = %s")
        params.append(filters.verified)
    return " AND ".join(clauses) or "TRUE", params


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
            " EXISTS (SELECT 1 FROM templates_app_searchword WHERE word = %s)",
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
                           "WHERE tablename = 'templates_app_template' AND attname = 'search_vector'")
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
            (SELECT t.id FROM templates_app_template t
             WHERE t.search_vector @@ %s::tsquery AND {where} LIMIT {CANDIDATE_LIMIT + 1})
            UNION
            (SELECT t.id FROM templates_app_template t
             WHERE lower(t.name) LIKE %s AND {where} LIMIT {NAME_MATCH_LIMIT})
        )
        SELECT t.id, (ts_rank(t.search_vector, %s::tsquery, 32)
                      + CASE WHEN lower(t.name) = %s THEN 2.0
                             WHEN lower(t.name) LIKE %s THEN 0.5 + 0.5 * %s / length(t.name) ELSE 0 END
                      + CASE WHEN t.verified THEN 0.05 ELSE 0 END + ln(1 + t.usage_count) * 0.01)::float8 AS rank,
               t.usage_count, extract(epoch FROM t.created_at)::float8 AS created_at, t.rating_average,
               t.category, array_to_string(t.tags, E'\\x1f') AS tags
        FROM templates_app_template t JOIN matched m ON m.id = t.id
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
            cursor.execute("SELECT word FROM templates_app_searchword WHERE word %% %s "
                           "ORDER BY word = %s DESC, similarity(word, %s) DESC, word LIMIT 1", [word, word, word])
            row = cursor.fetchone()
            corrected.append(row[0] if row else word)
    return corrected if corrected != words else None


def _facets(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    categories = Counter(row["category"] for row in rows if row["category"])
    tags = Counter(tag for row in rows for tag in row["tags"] or [])

    def top(counter: Counter[str]) -> list[dict[str, Any]]:
        ordered = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        return [{"value": value, "count": count} for value, count in ordered[:FACET_LIMIT]]

    return {"category": top(categories), "tag": top(tags)}


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
    return SearchResult(templates=_load([row["id"] for row in page]), next_cursor=next_cursor, facets=facets,
                        facets_exact=exact, typo_fallback=typo, corrected_query=corrected)


def _sortable(value: Any) -> float:
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    if isinstance(value, str):
        from datetime import datetime

        return datetime.fromisoformat(value).timestamp()
    return float(value)


def _load(ids: list[Any]) -> list[Template]:
    rows = Template.objects.filter(pk__in=ids).select_related("team").defer("search_vector")
    by_id = {t.pk: t for t in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


def _search_without_query(user: Any, filters: _Filters, sort: str, limit: int, cursor: str | None) -> SearchResult:
    visibility, visibility_params = _visibility_sql(user)
    filter_sql, filter_params = _filter_sql(filters)
    where = f"{visibility} AND {filter_sql}"
    params: list[Any] = [*visibility_params, *filter_params]
    column = {"relevance": "t.usage_count", "popular": "t.usage_count", "newest": "t.created_at",
              "rating": "t.rating_average"}[sort]
    keyset = ""
    keyset_params: list[Any] = []
    if cursor:
        value, last_id = decode_cursor(cursor, 2, f"templates:browse:{sort}")
        if sort == "newest":
            from datetime import datetime

            value = datetime.fromisoformat(value)
        keyset = f" AND ({column} < %s OR ({column} = %s AND t.id > %s::uuid))"
        keyset_params = [value, value, last_id]
    sql = (f"SELECT t.id, {column} AS key FROM templates_app_template t WHERE {where}{keyset} "
           f"ORDER BY {column} DESC, t.id LIMIT %s")
    # Facets over the first FACET_SAMPLE templates in this order: exact for
    # smaller sets, and a bounded index scan however large the catalog is.
    facet_sql = (f"SELECT t.category, t.tags FROM templates_app_template t WHERE {where} "
                 f"ORDER BY {column} DESC, t.id LIMIT {FACET_SAMPLE + 1}")
    with connection.cursor() as db:
        db.execute(sql, [*params, *keyset_params, limit + 1])
        rows = db.fetchall()
        db.execute(facet_sql, params)
        sample = [{"category": category, "tags": tags} for category, tags in db.fetchall()]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        value, last_id = rows[-1][1], rows[-1][0]
        next_cursor = encode_cursor([value.isoformat() if hasattr(value, "isoformat") else value, str(last_id)],
                                    f"templates:browse:{sort}")
    return SearchResult(templates=_load([row[0] for row in rows]), next_cursor=next_cursor,
                        facets=_facets(sample[:FACET_SAMPLE]), facets_exact=len(sample) <= FACET_SAMPLE)


def search_templates(
    user: Any,
    *,
    query: str = "",
    category: str = "",
    tag: str = "",
    publisher: str = "",
    node_type: str = "",
    model_id: str = "",
    verified: bool | None = None,
    sort: str = "relevance",
    limit: int = 20,
    cursor: str | None = None,
) -> SearchResult:
    """The templates `user` may see matching the query and filters, one page, with facets."""
    if sort not in SORTS:
        raise ValidationFailed(f"sort must be one of {', '.join(SORTS)}.",
                               details=[{"field": "sort", "code": "invalid", "message": "unknown sort"}])
    filters = _Filters(category=category, tag=tag.lower(), publisher=publisher, node_type=node_type,
                       model_id=model_id, verified=verified)
    words = query_words(query)
    if words:
        return _search_with_query(user, words, query, filters, sort, limit, cursor)
    return _search_without_query(user, filters, sort, limit, cursor)


# ---------------------------------------------------------------- versions


def resolve_template_version(template: Template, constraint: Any) -> TemplateVersion:
    """The version a constraint ("latest", "^1.2", "1.2.3", …) picks: 400 naming `version` when it
    cannot be read, 404 when no version fits (like an unknown id)."""
    available = list(template.versions.values_list("version", flat=True))
    try:
        chosen = resolve_version(constraint, available)
    except NoMatchingVersion as error:
        raise NotFound(f"version: {error}",
                       details=[{"field": "version", "code": "not_found", "message": str(error)}]) from None
    except VersionError as error:
        raise ValidationFailed(f"version: {error}", details=[{"field": "version", "code": "invalid",
                                                              "message": str(error)}]) from None
    return template.versions.get(version=str(chosen))


def newer_compatible_version(instantiation: Instantiation) -> TemplateVersion | None:
    """The highest version of the origin's template compatible (same major, `^`) and newer, if any."""
    current = Version.parse(instantiation.template_version.version)
    template = instantiation.template_version.template
    available = [Version.parse(v) for v in template.versions.values_list("version", flat=True)]
    best = VersionConstraint.parse(f"^{current}").best(available)
    if best is None or best <= current:
        return None
    return template.versions.get(version=str(best))
