"""Marketplace search: full text with typo tolerance, filters, facets, cursors.

Search (docs/templates.md, "Search"):

1. The query is split into the words people see by the same function as the
   index (`templates_app.domain.search_text`) and written as tsqueries
   (`templates_app.domain.search_query`); the database gives each word's
   stem in one round trip.
2. Candidates, in one statement, chosen by relevance: **names first** —
   templates whose name holds every word (stop words too, then without
   them), shortest names first, up to ``NAME_LIMIT`` each, from a small
   name-only vector (GIN, or for words in many names a covering index in
   name-length order that stops early) — then up to ``BODY_LIMIT`` matches
   of the weighted vector of name, tags and description (a GIN bitmap
   stopped early; for very common words a scan that stops as soon as it has
   enough), and names that start with the query.
3. Ranking (``ts_rank`` with weights A name, B tags, C description, D node
   types and models, normalized, plus boosts for the exact name, a name
   starting with the query, a name holding every word — more the more of
   the name the query covers — verification and use) runs on the
   candidates only.
4. Typos: when nothing matches, or no name matches and a word is unknown,
   unknown words are replaced by the likeliest word of the vocabulary of
   names and tags (one typo away and in the most names, else the closest by
   trigram similarity), and the search runs again.
5. Facets (category, tag) are counted over the candidates: exact whenever
   no stage reached its limit, and ``facets_exact`` says so.

Steps 1 to 5 are in `matching.py`, whose one statement also sorts and pages
the candidates (keyset on the sort value and id), reads the page's rows with
their teams and counts the facets, so only the page and the counts reach
Python; this module reads the cursor and writes the next one. Without a query the
list is a keyset-paginated index scan in the requested order, and facets are
counted over the first ``FACET_SAMPLE`` rows of it.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from symphony_site.api.errors import NotFound, ValidationFailed
from symphony_site.api.pagination import decode_cursor, encode_cursor
from templates_app.domain.search_query import query_chunks
from templates_app.domain.versions import (
    NoMatchingVersion,
    Version,
    VersionConstraint,
    VersionError,
    resolve_version,
)
from templates_app.models import Instantiation, Template, TemplateVersion
from templates_app.selectors.matching import (
    FACET_LIMIT,
    SEARCH_ONLY_COLUMNS,
    Filters,
    Page,
    PageRequest,
    filter_sql,
    forget_statistics,
    matches,
    visibility_sql,
)

FACET_SAMPLE = 1000
SORTS = ("relevance", "popular", "newest", "rating")
__all__ = ["FACET_LIMIT", "FACET_SAMPLE", "SEARCH_ONLY_COLUMNS", "SORTS", "SearchResult", "forget_statistics", "query_words",
           "search_templates"]


@dataclass
class SearchResult:
    next_cursor: str | None
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    facets_exact: bool = True
    typo_fallback: bool = False
    corrected_query: str | None = None
    # The page: its templates as read by the ORM, or its rows as the search statement returned them
    # (`matching.Page`, whose templates are built from them only when asked for).
    loaded: list[Template] | None = None
    page: Page | None = None

    @property
    def templates(self) -> list[Template]:
        if self.loaded is None:
            self.loaded = self.page.templates if self.page is not None else []
        return self.loaded


def query_words(text: str) -> list[str]:
    """The query's words as search reads them (the parts of its chunks)."""
    return [part for chunk in query_chunks(text) for part in chunk.parts]


def _facets(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    categories = Counter(row["category"] for row in rows if row["category"])
    tags = Counter(tag for row in rows for tag in row["tags"] or [])

    def top(counter: Counter[str]) -> list[dict[str, Any]]:
        ordered = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        return [{"value": value, "count": count} for value, count in ordered[:FACET_LIMIT]]

    return {"category": top(categories), "tag": top(tags)}


def _search_with_query(user: Any, raw_query: str, filters: Filters, sort: str,
                       limit: int, cursor: str | None) -> SearchResult:
    after = None
    if cursor:
        values = decode_cursor(cursor, 2, f"templates:query:{sort}")
        try:
            after = (_sortable(values[0]), uuid.UUID(str(values[1])))
        except (TypeError, ValueError):
            raise ValidationFailed("The cursor is not valid; use the `next` value from a previous page.",
                                   details=[{"field": "cursor", "message": "invalid cursor", "code": "invalid"}])
    page, typo, corrected = matches(user, raw_query, filters, PageRequest(sort=sort, limit=limit, after=after))
    next_cursor = None
    if len(page.ids) > limit:
        value = page.keys[limit - 1]
        next_cursor = encode_cursor([int(value) if sort == "popular" else value, str(page.ids[limit - 1])],
                                    f"templates:query:{sort}")
    return SearchResult(page=page, next_cursor=next_cursor, facets=page.facets,
                        facets_exact=page.complete, typo_fallback=typo, corrected_query=corrected)


def _sortable(value: Any) -> float:
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    if isinstance(value, str):
        from datetime import datetime

        return datetime.fromisoformat(value).timestamp()
    return float(value)


def _load(ids: list[Any]) -> list[Template]:
    rows = Template.objects.filter(pk__in=ids).select_related("team").defer(*SEARCH_ONLY_COLUMNS)
    by_id = {t.pk: t for t in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


def _search_without_query(user: Any, filters: Filters, sort: str, limit: int, cursor: str | None) -> SearchResult:
    visibility, visibility_params = visibility_sql(user)
    filter_condition, filter_params = filter_sql(filters)
    where = f"{visibility} AND {filter_condition}"
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
    return SearchResult(loaded=_load([row[0] for row in rows]), next_cursor=next_cursor,
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
    filters = Filters(category=category, tag=tag.lower(), publisher=publisher, node_type=node_type,
                       model_id=model_id, verified=verified)
    if query_words(query):
        return _search_with_query(user, query, filters, sort, limit, cursor)
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
