"""Read endpoints answered by one prepared statement whose rows PostgreSQL shapes as JSON.

The workflows and executions lists and details were ORM querysets: the ORM compiled their
statements on every request (≈ 4,000 of the workflows list's 12,190 Python calls), Django's
timestamptz loader is Python (≈ 160 values a page), and each row was then shaped value by
value (docs/operations.md, "Seventh session"). Here a statement is composed once per process
from the models' own tables and columns (as `teams.authentication` composes the token's), one
text per combination of the filters a request uses, and executed on a server-binding cursor
that prepares it on the connection (`symphony_site.prepared`): PostgreSQL parses and plans it
once per connection. Each row comes back as its JSON object, exactly as the serializer shapes
it. A detail is one `json.loads` of its row, rendered by DRF as before; a list page's rows are
written by PostgreSQL as JSONRenderer writes them (`json_object`) and joined into the response's
body without being parsed (`page_response`). Parameters are always bound, never formatted into
the text.

tests/api/test_list_rows.py compares every shape with its serializer, byte for byte.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Model
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.settings import api_settings

from symphony_site import prepared
from symphony_site.api.errors import NotFound
from symphony_site.api.pagination import cursor_scope, decode_cursor, encode_cursor, parse_limit
from symphony_site.api.responses import JSONBodyResponse, json_text

# DRF's DATETIME_FORMAT (settings.REST_FRAMEWORK) as PostgreSQL's to_char writes it; `stamp`
# refuses to compose a statement if the setting ever says something else.
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
TO_CHAR_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


class Table:
    """A model's table under an alias in a composed statement: `table.sql` for FROM and JOIN,
    `table("field")` for a column, both quoted from the model's own metadata."""

    def __init__(self, model: type[Model], alias: str) -> None:
        self.model, self.alias = model, alias
        self.sql = f"{connection.ops.quote_name(model._meta.db_table)} AS {alias}"

    def __call__(self, field: str) -> str:
        column = self.model._meta.get_field(field).column  # type: ignore[union-attr]
        return f"{self.alias}.{connection.ops.quote_name(column)}"


def stamp(column: str) -> str:
    """A timestamptz as DRF's DateTimeField renders it: in the request's time zone (the
    `zone` parameter, `parameters()` fills it), with DATETIME_FORMAT; NULL stays NULL."""
    if api_settings.DATETIME_FORMAT != DATETIME_FORMAT:
        raise ImproperlyConfigured(f"The API's statements format times as {DATETIME_FORMAT!r}.")
    return f"to_char({column} AT TIME ZONE %(zone)s, '{TO_CHAR_FORMAT}')"


def json_object(fields: Sequence[tuple[str, str]]) -> str:
    """SQL for the JSON object of `fields` ((key, SQL expression), in that order) written as DRF's
    JSONRenderer writes one: no spaces, the keys in this order, strings escaped alike (but for
    U+2028 and U+2029, which `page_response` escapes). `row_to_json` of a one-row subquery whose
    columns are the keys: `json_build_object` writes `"key" : value, …` with spaces. A value that
    is itself a `json_object` nests as it is; NULL is `null`. No `jsonb` value: PostgreSQL writes
    those with spaces too (a caller renders them in Python, as `executions.api.rows` does)."""
    columns = ", ".join(f"{value} AS {connection.ops.quote_name(key)}" for key, value in fields)
    return f"row_to_json((SELECT shaped FROM (SELECT {columns}) AS shaped))"


def parameters(**values: Any) -> dict[str, Any]:
    """`values` and the current time zone's name (what `stamp` reads)."""
    return {"zone": timezone.get_current_timezone_name(), **values}


def rows(sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """All rows of a composed statement, prepared on the connection. It runs through Django's
    cursor wrapper, so it is logged and counted like any ORM statement (the query ceilings,
    `CaptureQueriesContext`) and its errors are Django's."""
    cursor = prepared.reading()
    cursor.execute(sql, params)
    return cursor.fetchall()  # type: ignore[no-any-return]


def order_by(ordering: Sequence[str], columns: Mapping[str, str]) -> str:
    """ORDER BY for a keyset ordering (field names, "-" for descending)."""
    return ", ".join(f"{columns[field.lstrip('-')]} {'DESC' if field.startswith('-') else 'ASC'}"
                     for field in ordering)


def after(ordering: Sequence[str], columns: Mapping[str, str]) -> str:
    """Rows strictly after the cursor's values (parameters after_0, after_1, …) in `ordering`:
    the same condition as `pagination.keyset_filter`, (a > x) OR (a = x AND b > y) …"""
    clauses = []
    for index, field in enumerate(ordering):
        operator = "<" if field.startswith("-") else ">"
        parts = [f"{columns[prior.lstrip('-')]} = %(after_{position})s"
                 for position, prior in enumerate(ordering[:index])]
        parts.append(f"{columns[field.lstrip('-')]} {operator} %(after_{index})s")
        clauses.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(clauses) + ")"


Compose = Callable[[frozenset[str]], str]


def page(request: Request, compose: Compose, *, filters: Mapping[str, Any], model: type[Model],
         ordering: Sequence[str], default_limit: int = 50) -> tuple[list[tuple[Any, ...]], str | None]:
    """One page of a list's rows, from the request's `limit` and `cursor`, as `paginate_queryset`
    gives it, and the next page's cursor.

    `compose(names)` is the statement (cached per process) for the filters present — `names` holds
    the keys of `filters` whose value is not None, and "after" when a cursor is given — with
    `%(name)s` parameters, LIMIT %(limit)s, and rows whose last columns are the ordering's values
    (named `order_0`, `order_1`, …). With a `team` filter, the statement is `teams.access.in_team`'s: a team the
    user is not a member of (or none) is 404, "Team not found.", as `teams.access.access_team`
    answers. A cursor is `model`'s in `ordering`, as for `paginate_queryset`: one works in either."""
    scope = cursor_scope(model, ordering)
    limit = parse_limit(request.query_params.get("limit"), default_limit)
    values = {name: value for name, value in filters.items() if value is not None}
    names = set(values)
    cursor = request.query_params.get("cursor")
    if cursor:
        names.add("after")
        for index, value in enumerate(decode_cursor(cursor, len(ordering), scope)):
            values[f"after_{index}"] = value
    found = rows(compose(frozenset(names)), parameters(limit=limit + 1, **values))
    if "team" in names:  # the statement is `teams.access.in_team`'s
        if not found:
            raise NotFound("Team not found.")
        if found[0][0] is None:
            found = []
    next_cursor = None
    if len(found) > limit:
        found = found[:limit]
        next_cursor = encode_cursor(list(found[-1][-len(ordering):]), scope)
    return found, next_cursor


def ordering_columns(ordering: Sequence[str], columns: Mapping[str, str]) -> str:
    """The select list's ordering values, for the cursor and `teams.access.in_team`: `order_0`, …"""
    return ", ".join(f"{columns[field.lstrip('-')]} AS order_{index}" for index, field in enumerate(ordering))


def page_response(texts: Sequence[str], next_cursor: str | None) -> JSONBodyResponse:
    """The list shape, `{"results": [...], "next": cursor|null}`, from its rows' JSON texts (each
    written as JSONRenderer writes it: `json_object`), as JSONRenderer writes it, unparsed."""
    # A cursor is URL-safe base64 and ":" (pagination.CURSOR_PATTERN): nothing to escape in it.
    tail = "null" if next_cursor is None else f'"{next_cursor}"'
    return JSONBodyResponse(json_text(f'{{"results":[{",".join(texts)}],"next":{tail}}}'))


def composed(function: Compose) -> Compose:
    """A statement composer, cached per process (one text per set of filters)."""
    return functools.cache(function)
