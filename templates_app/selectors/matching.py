"""Finding and ranking the candidates for a search box's text (docs/templates.md, "Search").

The steps the package docstring numbers 1 to 5: the query's words and the
user's teams in one round trip (`words.py`); the candidate stages, their
ranking, the requested page of them in the requested order with its rows and
the facets in one statement; and typo correction, whose lookup travels with
that statement when a word looks mistyped. `matches` is the entry point.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from teams.models import Team
from templates_app.access import EDITOR_ROLES
from templates_app.domain.search_query import (
    MIN_PREFIX_LENGTH,
    Lexemes,
    SearchQuery,
    build_query,
    query_chunks,
    words_to_look_up,
)
from templates_app.domain.search_text import Chunk
from templates_app.models import Template
from templates_app.selectors.statements import Statement, fetch
from templates_app.selectors.words import (
    Teams,
    WordInfo,
    best_corrections,
    corrections,
    word_info,
)

# Candidates per stage (the package docstring, 2).
NAME_LIMIT = 50
# Walking the names shortest first costs a read of NAME_WALK_LIMIT / share
# index entries; one page of the shortest names is what that walk is for.
NAME_WALK_LIMIT = 20
# ...but a common word can be common in long names only ("sentiment": none of
# the 15,000 shortest of 100,000 generated names holds it, while 4.5 % of all
# names do), and the walk then read 15,000 entries to find its 20. It stops
# after the shortest NAME_WALK_SPAN names (NAME_WALK_LIMIT / COMMON_NAME_SHARE,
# where 20 would be found if the word were spread evenly); the body stage still
# finds the longer names holding it (docs/templates.md, "Sixth session").
NAME_WALK_SPAN = 2000
BODY_LIMIT = 250
PREFIX_LIMIT = 20
# A filtered search checks the filters on the prefix stage's range of names one by one ("report"
# in reporting tagged slack: 3,252 names start with it, 16 pass); it reads at most this many of
# them, and a probe says whether the range holds more (docs/templates.md, "Eighth session").
PREFIX_SPAN = 500
GIN_FUZZY_LIMIT = 5000


@dataclass
class Filters:
    category: str = ""
    tag: str = ""
    publisher: str = ""
    node_type: str = ""
    model_id: str = ""
    verified: bool | None = None


def visibility_sql(user: Any) -> tuple[str, list[Any]]:
    """The SQL condition on `t` for what `user` may see (docs/templates.md, "Visibility")."""
    if not getattr(user, "is_authenticated", False):
        return "FALSE", []
    # Subqueries rather than a prior lookup: one round trip fewer on every search.
    sql = ("(t.visibility = 'public'"
           " OR (t.visibility = 'team' AND t.team_id IN (SELECT team_id FROM teams_membership WHERE user_id = %s))"
           " OR (t.visibility = 'private' AND t.team_id IN (SELECT team_id FROM teams_membership"
           " WHERE user_id = %s AND role = ANY(%s))))")
    return sql, [user.pk, user.pk, list(EDITOR_ROLES)]


def filter_sql(filters: Filters) -> tuple[str, list[Any]]:
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


def _search_visibility_sql(user: Any, teams: Teams) -> tuple[str, list[Any]]:
    """`visibility_sql` with the user's teams already read (`words.word_info`)."""
    if not getattr(user, "is_authenticated", False):
        return "FALSE", []
    sql = ("(t.visibility = 'public' OR (t.visibility = 'team' AND t.team_id = ANY(%s::uuid[]))"
           " OR (t.visibility = 'private' AND t.team_id = ANY(%s::uuid[])))")
    return sql, [teams.member, teams.editor]


def _search_query(chunks: list[Chunk], user: Any = None, *,
                  known: dict[str, WordInfo] | None = None) -> tuple[SearchQuery, dict[str, WordInfo], Teams]:
    """The tsqueries of `chunks`, each word's information and `user`'s teams; the words are looked up unless
    `known` already holds every one (the teams are then not read), with the typo corrections of the parts
    that could be typos."""
    words = words_to_look_up(chunks)
    if known is not None and all(word in known for word in words):
        info, teams = {word: known[word] for word in words}, Teams(member=[], editor=[])
    else:
        info, teams = word_info(words, user, correct=[part for chunk in chunks for part in chunk.parts
                                                      if len(part) >= MIN_PREFIX_LENGTH])
    last = chunks[-1].parts[-1]
    # A known whole word needs no prefix: its stem already matches its forms,
    # and an exact lexeme is far cheaper to look up than a prefix.
    prefix_last = len(last) >= MIN_PREFIX_LENGTH and not info[last].known
    query = build_query(chunks, {word: item.lexemes for word, item in info.items()}, prefix_last=prefix_last)
    return query, info, teams


# Above this share of all templates a query's words are "very common": scanning
# the table until enough rows match beats building the index's bitmap of them all.
COMMON_SHARE = 0.2
# ...and above this one for a half-typed word (a prefix): the index must first
# join the rows of every word the prefix starts ("sla": "slack", "slas", …)
# before it returns any, so the scan pays off sooner (docs/templates.md,
# "Sixth session").
COMMON_PREFIX_SHARE = 0.1
# Above this share of names, walking the covering index shortest name first
# until NAME_WALK_LIMIT match beats reading every matching row from the table.
COMMON_NAME_SHARE = 0.01
_LEXEME = re.compile(r"'((?:[^']|'')+)'(:\*)?")


@dataclass(frozen=True)
class _Statistics:
    """PostgreSQL's most common lexemes of a vector column and the share of templates holding each."""

    shares: dict[str, float]
    # The same lexemes in order, and the running total of their shares, to sum a prefix's range at once.
    ordered: list[str]
    running: list[float]
    # About how many templates there are (pg_class.reltuples; -1 before the table's first analysis).
    rows: float = -1.0

    def prefix_share(self, prefix: str) -> float:
        start = bisect.bisect_left(self.ordered, prefix)
        end = bisect.bisect_left(self.ordered, prefix + "\U0010ffff", start)
        return self.running[end] - self.running[start]


_stats_cache: dict[str, tuple[float, _Statistics]] = {}


def _statistics(column: str = "search_vector") -> _Statistics:
    """PostgreSQL's own statistics of the vector `column`, re-read at most once a minute per process."""
    now = time.monotonic()
    cached = _stats_cache.get(column)
    if cached is None or now - cached[0] > 60:
        with connection.cursor() as cursor:
            cursor.execute("SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples "
                           "FROM pg_class c LEFT JOIN pg_stats s ON s.tablename = c.relname AND s.attname = %s "
                           "WHERE c.relname = 'templates_app_template'", [column])
            row = cursor.fetchone()
        shares = dict(zip(row[0], row[1], strict=False)) if row and row[0] else {}
        ordered = sorted(shares)
        cached = (now, _Statistics(shares=shares, ordered=ordered,
                                   running=[0.0, *itertools.accumulate(shares[word] for word in ordered)],
                                   rows=float(row[2]) if row else -1.0))
        _stats_cache[column] = cached
    return cached[1]


def _lexeme_shares(column: str = "search_vector") -> dict[str, float]:
    """Share of templates holding each of the most common lexemes of `column`."""
    return _statistics(column).shares


def forget_statistics() -> None:
    """Read PostgreSQL's statistics afresh on the next search (after a bulk load, say)."""
    _stats_cache.clear()


def _part_shares(tsquery: str, column: str) -> list[float]:
    """About what share of templates match each AND-ed part of `tsquery` on `column`, by PostgreSQL's
    statistics of it (empty without statistics).

    A part's share is the sum of its alternatives'. Lexemes outside the
    statistics' most common ones count as none; a prefix counts the common
    lexemes it covers.
    """
    statistics = _statistics(column)
    if not statistics.shares:
        return []
    found = []
    for part in _top_level_parts(tsquery):
        share = 0.0
        for lexeme, prefix in _LEXEME.findall(part):
            lexeme = lexeme.replace("''", "'")
            share += statistics.prefix_share(lexeme) if prefix else statistics.shares.get(lexeme, 0.0)
        found.append(share)
    return found


def _top_level_parts(tsquery: str) -> list[str]:
    """The AND-ed parts of a tsquery built by `build_query` (alternatives stay together)."""
    parts, depth, start = [], 0, 0
    for index, character in enumerate(tsquery):
        depth += {"(": 1, ")": -1}.get(character, 0)
        if character == "&" and depth == 0:
            parts.append(tsquery[start:index])
            start = index + 1
    parts.append(tsquery[start:])
    return [part.strip() for part in parts if part.strip()]


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True)
class PageRequest:
    """Which page of the candidates: the sort (a `SORT_KEYS` name), its length, and the cursor's
    position (the last row's sort value and id), if any."""

    sort: str
    limit: int
    after: tuple[float, uuid.UUID] | None = None


@dataclass
class Page:
    # The page's ids in order and their sort values, one more than asked for when there is a next page.
    ids: list[uuid.UUID]
    keys: list[float]
    facets: dict[str, list[dict[str, Any]]]
    # Every stage found fewer rows than its limit: the facets count all the matches.
    complete: bool
    # How many candidates, and whether any name holds the words (the typo check).
    total: int = 0
    name_match: bool = False
    # The page's rows (at most the page's length) as the statement returned them: each template's
    # columns, then its team's (`page_positions` names them).
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    @functools.cached_property
    def templates(self) -> list[Template]:
        """The page's templates, their teams attached, built from its rows when first asked for (the API
        shapes the rows without them, `templates_app.api.rows`)."""
        return [_columns().build(values) for values in self.rows]


# Sort name → the candidate column it orders by (always descending, then id).
SORT_KEYS = {"relevance": "rank", "popular": "usage_count", "newest": "created_at", "rating": "rating_average"}
FACET_LIMIT = 30

# A candidate as the ranking sees it (the package docstring, 3): its rank, whether
# its name holds the words, and what sorting and facets need.
_RANKED = """(coalesce(ts_rank(t.search_vector, q.body, 32), 0)
         + CASE WHEN t.name_key = q.phrase THEN 3.0
                WHEN t.name_key LIKE q.phrase_words THEN 1.5 + 0.5 * q.phrase_length / greatest(length(t.name_key), 1)
                WHEN t.name_key LIKE q.phrase_start THEN 0.5 + 0.5 * q.phrase_length / greatest(length(t.name_key), 1)
                ELSE 0 END
         + CASE WHEN t.name_vector @@ q.name_all
                     THEN 1.0 + 0.5 * least(1.0, q.name_all_words / greatest(t.name_length, 1))
                WHEN t.name_vector @@ q.name THEN 0.8 + 0.5 * least(1.0, q.name_words / greatest(t.name_length, 1))
                ELSE 0 END
         + CASE WHEN t.name_vector @@ q.typed THEN 0.3 ELSE 0 END
         + CASE WHEN t.verified THEN 0.05 ELSE 0 END + ln(1 + t.usage_count) * 0.01)::float8 AS rank,
        coalesce(t.name_vector @@ q.name, FALSE) AS name_match,
        t.usage_count::float8 AS usage_count, date_part('epoch', t.created_at) AS created_at,
        t.rating_average::float8 AS rating_average, t.category::text AS category, t.tags::text[] AS tags"""
# What an id-only stage carries in those columns.
_UNRANKED = ("NULL::float8 AS rank, NULL::boolean AS name_match, NULL::float8 AS usage_count, "
             "NULL::float8 AS created_at, NULL::float8 AS rating_average, NULL::text AS category, NULL::text[] AS tags")
# Candidates, ranked, sorted, paged and counted in one statement. The body
# stage ranks the rows it reads as it reads them; the name stages read only
# ids — for a word in many names from the covering index alone — and the
# prefix stage too; the rows only they found are then read together and
# ranked the same way. The statement runs on a generic plan, made without the
# query (`statements.py`), so each stage's path is written into its text
# (`_page_statement`); the ranking reads the query from `q`, where an empty
# part is NULL and matches nothing. The answer is the
# page's rows, each beside the summary (how many candidates and stage rows,
# whether a name matched, the facets as arrays), or the summary alone — never
# the hundreds of candidates themselves, which would cost Python more than
# the query. One SELECT rather than a UNION of summary, rows and facets: each
# branch of a UNION repeats the forty-odd columns of a page row, and planning
# them cost more than running the rest (docs/templates.md, "Sixth session").
_PAGE_SQL = """
    WITH q AS (SELECT nullif(%s, '')::tsquery AS body, nullif(%s, '')::tsquery AS name_all,
                      nullif(%s, '')::tsquery AS name, nullif(%s, '')::tsquery AS typed,
                      %s::text AS phrase, %s::text AS phrase_words, %s::text AS phrase_start,
                      %s::float8 AS phrase_length, %s::float8 AS name_all_words, %s::float8 AS name_words),
    staged AS MATERIALIZED ({stages}),
    candidates AS MATERIALIZED (
        SELECT s.id, s.rank, s.name_match, s.usage_count, s.created_at, s.rating_average, s.category, s.tags
        FROM staged s WHERE s.rank IS NOT NULL
        UNION ALL
        SELECT t.id, {ranked}
        FROM templates_app_template t, q
        WHERE t.id = ANY(ARRAY(SELECT id FROM staged WHERE rank IS NULL
                               EXCEPT SELECT id FROM staged WHERE rank IS NOT NULL))),
    category_facet AS MATERIALIZED (
        SELECT c.category AS value, count(*) AS count FROM candidates c WHERE c.category <> ''
        GROUP BY c.category ORDER BY count(*) DESC, c.category COLLATE "C" LIMIT {facets}),
    tag_facet AS MATERIALIZED (
        SELECT tag AS value, count(*) AS count FROM candidates c, unnest(c.tags) AS tag
        GROUP BY tag ORDER BY count(*) DESC, tag COLLATE "C" LIMIT {facets})
    SELECT s.count, s.name_match, s.found, s.category_values, s.category_counts, s.tag_values, s.tag_counts,
           p.id, p.key, {row}
    FROM (SELECT (SELECT count(*) FROM candidates) AS count,
                 (SELECT coalesce(bool_or(name_match), FALSE) FROM candidates) AS name_match,
                 ARRAY(SELECT count(s.stage) FROM generate_series(1, {stage_count}) AS n
                       LEFT JOIN staged s ON s.stage = n GROUP BY n ORDER BY n) AS found,
                 ARRAY(SELECT value FROM category_facet) AS category_values,
                 ARRAY(SELECT count FROM category_facet) AS category_counts,
                 ARRAY(SELECT value FROM tag_facet) AS tag_values,
                 ARRAY(SELECT count FROM tag_facet) AS tag_counts) s
    LEFT JOIN ((SELECT c.id, c.{key} AS key FROM candidates c
                WHERE {after} ORDER BY c.{key} DESC, c.id LIMIT {rows}) p
               JOIN templates_app_template t ON t.id = p.id JOIN teams_team team ON team.id = t.team_id) ON TRUE"""


# Written for search and never shown: not worth reading back for a page.
SEARCH_ONLY_COLUMNS = ("search_vector", "name_vector", "search_extra_name", "search_extra_tags",
                       "search_extra_description", "search_checksum")


class _PageColumns:
    """The columns of a page's templates and their teams, read in the candidates statement."""

    def __init__(self) -> None:
        self.template = [model_field for model_field in Template._meta.concrete_fields
                         if model_field.name not in SEARCH_ONLY_COLUMNS]
        self.team = list(Team._meta.concrete_fields)
        self.template_names = [model_field.attname for model_field in self.template]
        self.team_names = [model_field.attname for model_field in self.team]
        self.select = ", ".join([*(f"t.{model_field.column}" for model_field in self.template),
                                 *(f"team.{model_field.column}" for model_field in self.team)])
        self.team_field = Template._meta.get_field("team")
        self.positions = {name: index for index, name in
                          enumerate([*self.template_names, *(f"team.{name}" for name in self.team_names)])}

    def build(self, values: tuple[Any, ...]) -> Template:
        """The Template (its team attached, as select_related does) from one row's values."""
        split = len(self.template)
        template = Template.from_db(connection.alias, self.template_names, _converted(self.template, values[:split]))
        team = Team.from_db(connection.alias, self.team_names, _converted(self.team, values[split:]))
        self.team_field.set_cached_value(template, team)
        return template


def _converted(model_fields: list[Any], values: tuple[Any, ...]) -> list[Any]:
    """Values as the ORM would hand them to the model: through each field's own converter, if it has one."""
    return [model_field.from_db_value(value, None, connection) if hasattr(model_field, "from_db_value") else value
            for model_field, value in zip(model_fields, values, strict=True)]


_page_columns: _PageColumns | None = None


def page_positions() -> dict[str, int]:
    """Where each column is in a page's rows (`Page.rows`): a template's by attribute name (`team_id`,
    `created_at`), its team's as `team.` and the attribute name."""
    return _columns().positions


def _columns() -> _PageColumns:
    global _page_columns
    if _page_columns is None:
        _page_columns = _PageColumns()
    return _page_columns


def _page(where: str, params: list[Any], query: SearchQuery, request: PageRequest, *, filtered: bool) -> Page:
    """One page of the candidates of every stage (the package docstring), ranked, with facets: one round trip."""
    statement = _page_statement(where, params, query, request, filtered=filtered)
    return _read_page(fetch([statement])[0], statement.limits, request, _columns())


def _page_statement(where: str, params: list[Any], query: SearchQuery, request: PageRequest, *,
                    filtered: bool) -> Statement:
    """The statement of `_page`."""
    stages: list[str] = []
    stage_params: list[Any] = []
    limits: list[int] = []

    def stage(condition: str, values: list[str], order: str, limit: int, *, ranked: bool = False,
              table: str = "templates_app_template t", table_values: tuple[str, ...] = (),
              exhaustive: bool = True) -> None:
        columns, tables = (_RANKED, f"{table}, q") if ranked else (_UNRANKED, table)
        stages.append(f"(SELECT {len(stages) + 1} AS stage, t.id, {columns} FROM {tables}"
                      f" WHERE {condition} AND {where} {order} LIMIT {limit})")
        stage_params.extend([*table_values, *values, *params])
        # A stage that reads only part of the table may leave matches out whatever it found.
        limits.append(limit if exhaustive else 0)

    # Walking names shortest first pays when many names match. The product of
    # the words' shares (as if independent) says so safely: words seen
    # together more often make more matches, not fewer.
    # A catalog of no more names than the walk reads gains nothing from it, and the walk, read as
    # a part of the table, would mark every answer's facets a sample (a demo catalog's "invoice").
    name_shares = _part_shares(query.name_all or query.name, "name_vector")
    walk_names = (not filtered and bool(name_shares) and math.prod(name_shares) >= COMMON_NAME_SHARE
                  and _statistics("name_vector").rows > NAME_WALK_SPAN)
    # Names first, the shortest first: a name the query covers is the likeliest
    # answer; with stop words required first ("between workflows"), then not.
    for name_query in (query.name_all, query.name):
        if name_query and walk_names:
            # The shortest names, from the covering index alone (what the match and visibility read).
            stage("t.name_vector @@ %s::tsquery", [name_query], "ORDER BY t.name_length, t.id", NAME_WALK_LIMIT,
                  table=("(SELECT id, name_vector, visibility, team_id, name_length FROM templates_app_template"
                         f" ORDER BY name_length, id LIMIT {NAME_WALK_SPAN}) t"), exhaustive=False)
        elif name_query:
            # Every matching name from the name index's bitmap, then the shortest: ordered by an
            # expression no index lists, so the plan never walks all names shortest first instead.
            stage("t.name_vector @@ %s::tsquery", [name_query], "ORDER BY t.name_length + 0, t.id", NAME_LIMIT)
    # The statement runs on a plan made without the words (`statements.py`), so
    # the path each stage takes is written into it, never left to an estimate
    # of the words' share: a scan of the table for very common words (the
    # function form of @@ is one no index can serve), the index's bitmap
    # otherwise (the settings below).
    body_shares = _part_shares(query.body, "search_vector")
    common_shares = [COMMON_PREFIX_SHARE if ":*" in part else COMMON_SHARE for part in _top_level_parts(query.body)]
    scan_body = not filtered and bool(body_shares) and all(
        share >= common for share, common in zip(body_shares, common_shares, strict=True))
    if query.body:
        stage("ts_match_vq(t.search_vector, %s::tsquery)" if scan_body else "t.search_vector @@ %s::tsquery",
              [query.body], "", BODY_LIMIT + 1, ranked=True)
    if query.phrase:
        # LIKE's prefix becomes an index range only for a pattern known when planning; the range spelled
        # out serves any (the pattern index compares bytes; chr(1114111) sorts after any letter).
        # The range is read alone from the covering index (OFFSET 0 keeps the filters out of that
        # scan): planned without the values, the filters' own indexes looked as selective and were
        # AND-ed in (a tag's 44,093 entries read to keep none of the range's); the filters are then
        # checked on the index's entries, without reading the table.
        # With filters, the range is read up to PREFIX_SPAN names: unfiltered, the first PREFIX_LIMIT
        # names of the range pass (visibility aside), but few may pass the filters.
        span = f" LIMIT {PREFIX_SPAN}" if filtered else " OFFSET 0"
        name_range = (query.phrase, query.phrase + "\U0010ffff")
        stage("t.name_key LIKE %s", [_like_prefix(query.phrase)], "", PREFIX_LIMIT,
              table=("(SELECT id, name_key, visibility, team_id, category, tags, node_types, model_ids, verified"
                     f" FROM templates_app_template WHERE name_key ~>=~ %s AND name_key ~<~ %s{span}) t"),
              table_values=name_range)
        if filtered:
            # The probe: one row when the range holds names past those read, so the stage may have left
            # matches out (its limit is 1: one row found reaches it, and the facets are a sample).
            stages.append(f"(SELECT {len(stages) + 1} AS stage, NULL::uuid AS id, {_UNRANKED} FROM (SELECT FROM"
                          " templates_app_template WHERE name_key ~>=~ %s AND name_key ~<~ %s"
                          f" OFFSET {PREFIX_SPAN} LIMIT 1) AS beyond)")
            stage_params.extend(name_range)
            limits.append(1)
    key = SORT_KEYS[request.sort]
    after, after_params = "TRUE", []
    if request.after is not None:
        after = f"(c.{key} < %s OR (c.{key} = %s AND c.id > %s::uuid))"
        after_params = [request.after[0], request.after[0], request.after[1]]
    columns = _columns()
    sql = _PAGE_SQL.format(stages=" UNION ALL ".join(stages), stage_count=len(stages), ranked=_RANKED, key=key,
                           after=after, rows=request.limit + 1, facets=FACET_LIMIT, row=columns.select,
)
    query_params = [query.body, query.name_all, query.name, query.typed, query.phrase,
                    _like_prefix(query.phrase + " "), _like_prefix(query.phrase), float(len(query.phrase)),
                    float(query.name_all_words), float(query.name_words)]
    all_params = [*query_params, *stage_params, *after_params]
    # A plan made without the words (every session plans prepared statements
    # generically, settings.py) cannot know how many rows they match; the text
    # above and the settings below send each stage down the path our own
    # estimate (`_part_shares`) says is short. The settings are part of the
    # statement's text (`statements.fetch`), so each combination has its own plan.
    settings: list[str] = []
    if not scan_body:
        # For a rarer word (or a filtered search) the index's bitmap is the fast
        # path, not a scan of the table until enough rows match. (No other
        # index can serve the body stage.) Without filters
        # gin_fuzzy_search_limit caps the bitmap a broad prefix would build
        # (the body candidates are a sample then anyway); with filters it
        # would drop real matches from the AND.
        settings += ["enable_seqscan = off"]
        settings += [] if filtered else [f"gin_fuzzy_search_limit = {GIN_FUZZY_LIMIT}"]
    return Statement(sql=sql, params=all_params, settings=settings, limits=limits)


def _read_page(fetched: list[Any], limits: list[int], request: PageRequest, columns: _PageColumns) -> Page:
    page = Page(ids=[], keys=[], facets={}, complete=True)
    rows: list[tuple[float, uuid.UUID, tuple[Any, ...]]] = []
    # Every row carries the summary; without a page row it comes alone, its row columns NULL.
    (count, name_match, found, category_values, category_counts, tag_values, tag_counts, *_) = fetched[0]
    page.total, page.name_match = count, name_match
    # A stage that reached its limit may have left matches out.
    page.complete = all(number < limit for number, limit in zip(found, limits, strict=True))
    page.facets = {"category": [{"value": value, "count": number}
                                for value, number in zip(category_values, category_counts, strict=True)],
                   "tag": [{"value": value, "count": number}
                           for value, number in zip(tag_values, tag_counts, strict=True)]}
    for row in fetched:
        row_id, row_key, *template = row[7:]
        if row_id is not None:
            rows.append((row_key, row_id, tuple(template)))
    # The database returns each part in its order; the facets' ties by value as Python compares text.
    for facet in page.facets.values():
        facet.sort(key=lambda item: (-item["count"], item["value"]))
    rows.sort(key=lambda row: (-row[0], row[1].int))
    page.keys = [row[0] for row in rows]
    page.ids = [row[1] for row in rows]
    page.rows = [row[2] for row in rows[:request.limit]]
    return page


def _corrected(chunks: list[Chunk], info: dict[str, WordInfo],
               fixes: dict[str, tuple[str, Lexemes]]) -> tuple[str, SearchQuery]:
    """The text with each fixed word replaced by its correction, and its query (no lookup: the corrections
    are vocabulary words, whose lexemes came with them; the other words were looked up with the query)."""
    fixed_text = " ".join(fixes[part][0] if part in fixes else part for chunk in chunks for part in chunk.parts)
    known = {**info, **{word: WordInfo(lexemes=lexemes, known=True) for word, lexemes in fixes.values()}}
    fixed_query, _, _ = _search_query(query_chunks(fixed_text), known=known)
    return fixed_text, fixed_query


def matches(user: Any, text: str, filters: Filters, request: PageRequest) -> tuple[Page, bool, str | None]:
    """A page of the candidates for `text`, corrected for typos when that finds more (the package docstring, 4)."""
    chunks = query_chunks(text)
    query, info, teams = _search_query(chunks, user)
    visibility, visibility_params = _search_visibility_sql(user, teams)
    filter_condition, filter_params = filter_sql(filters)
    where = f"{visibility} AND {filter_condition}"
    params = [*visibility_params, *filter_params]
    filtered = filter_condition != "TRUE"
    empty = Page(ids=[], keys=[], facets={"category": [], "tag": []}, complete=True)
    # A word of three letters or more that no vocabulary word is or starts
    # with (not "summ", a half-typed "summary") will likely be corrected below.
    # Its corrections came with its stems (`words.word_info`), so the corrected
    # search is sent with the search as typed, in the same round trip, and used
    # if the correction turns out needed (docs/templates.md, "Eighth session") —
    # unless a vocabulary word starts with its stem: the search as typed then
    # likely matches names, and a corrected search would be sent for nothing.
    # Not a word among the descriptions' most common ones ("workflow", "team"):
    # it matches, and a word that matches is not corrected (below); searching
    # again for its correction would cost the very common searches a second
    # candidates statement each (docs/templates.md, "Seventh session").
    common_words = _lexeme_shares("search_vector")
    suspects = [part for chunk in chunks for part in chunk.parts
                if len(part) >= MIN_PREFIX_LENGTH and not info[part].known and not info[part].starts_known
                and info[part].lexemes.english and info[part].lexemes.english not in common_words]
    looked_up: dict[str, tuple[str, Lexemes]] | None = None
    guessed: tuple[dict[str, tuple[str, Lexemes]], str, Page] | None = None
    if suspects and all(info[word].correction_rows is not None for word in suspects):
        looked_up = best_corrections([row for word in dict.fromkeys(suspects) for row in info[word].correction_rows or ()],
                                     _lexeme_shares("name_vector"))
    if query.empty:
        found = empty
    elif looked_up and not any(info[word].stem_starts_known for word in suspects):
        # The search as typed and, beside it, the search with every suspect corrected: one round trip.
        statement = _page_statement(where, params, query, request, filtered=filtered)
        guess = {word: looked_up[word] for word in suspects if word in looked_up}
        guessed_text, guessed_query = _corrected(chunks, info, guess)
        guessed_statement = _page_statement(where, params, guessed_query, request, filtered=filtered)
        rows, guessed_rows = fetch([statement, guessed_statement])
        found = _read_page(rows, statement.limits, request, _columns())
        guessed = guess, guessed_text, _read_page(guessed_rows, guessed_statement.limits, request, _columns())
    else:
        found = _page(where, params, query, request, filtered=filtered)
    if found.name_match:
        return found, False, None
    # Nothing matched the words as typed, or no name did: correct the words no
    # name or tag holds — and, if something matched, that are not common in
    # descriptions either ("data" is a word, not a typo of "date") — against
    # the vocabulary of names and tags, and search again.
    common = _lexeme_shares("search_vector") if found.total else {}
    unknown = [part for chunk in chunks for part in chunk.parts
               if not info[part].known and len(part) >= MIN_PREFIX_LENGTH and info[part].lexemes.english
               and info[part].lexemes.english not in common]
    if looked_up is not None and set(unknown) <= set(suspects):
        # Each word's correction is its own (`words.best_corrections`): those of the suspects stand.
        fixes = {word: looked_up[word] for word in unknown if word in looked_up}
    else:
        fixes = corrections(unknown, _lexeme_shares("name_vector"))
    if not fixes:
        return found, False, None
    if guessed is not None and guessed[0] == fixes:
        fixed_text, fixed = guessed[1], guessed[2]
    else:
        fixed_text, fixed_query = _corrected(chunks, info, fixes)
        fixed = _page(where, params, fixed_query, request, filtered=filtered)
    if fixed.total and (not found.total or fixed.name_match):
        return fixed, True, fixed_text
    return found, False, None
