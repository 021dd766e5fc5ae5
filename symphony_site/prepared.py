"""Hot statements parsed and planned once per database connection (the engine's step, a start,
the audit chain's append, the API's read statements in symphony_site/api/statements.py).

Django's cursors bind parameters on the client: the values are written into the SQL text, so
PostgreSQL parses and plans every statement again. For the claim's and the record's CTE
statements that planning was a large part of the server's work per node step (a chain's hop,
a two-node execution's steps). A cursor from `cursor()` binds on the server, and a statement
executed on it with `prepare=True` is prepared on the connection the first time (psycopg keeps
the prepared statements per connection, keyed by the SQL text and the parameters' types) and
only executed after that.
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from psycopg import _queries, pq

# Django opens its connections with prepared statements off (`prepare_threshold` None), which
# also refuses an explicit `prepare=True`. Past this many runs psycopg would prepare a statement
# on its own; only these cursors bind on the server, and they ask explicitly, so it never does.
EXPLICIT_ONLY = 2**31 - 1
_TIMESTAMPTZ_OID = 1184
_TIMESTAMPTZ = psycopg.adapters.get_loader(_TIMESTAMPTZ_OID, pq.Format.TEXT)

# `execute`'s cursor, one per open connection (a connection belongs to one thread). Building a
# psycopg cursor copies the connection's adapters: about as costly as a short statement's
# Python, and `execute` runs several per start and per step.
_reused: weakref.WeakKeyDictionary[psycopg.Connection, psycopg.Cursor] = weakref.WeakKeyDictionary()
# `reading`'s cursor, one per open connection, for the same reason.
_reading: weakref.WeakKeyDictionary[psycopg.Connection, PreparingCursor] = weakref.WeakKeyDictionary()


def connection() -> psycopg.Connection:
    """Django's default connection, opened if needed, with explicit preparing allowed.

    As Django's own cursors do, a connection whose server went away (a restart, a terminated
    backend) is replaced here before its first use in a task, when health checks are on.
    `connections[…]` once, not `django.db.connection`: each attribute of that proxy looks the
    connection up again in a context-local store.

    Statements prepared here run on generic plans: every connection starts with
    `plan_cache_mode = force_generic_plan` (settings.py says why)."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    wrapper.close_if_health_check_failed()
    wrapper.ensure_connection()
    raw: psycopg.Connection = wrapper.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = EXPLICIT_ONLY
    return raw


# psycopg turns a statement's `%(name)s` placeholders into `$n` by splitting its text (Python, a few
# calls per placeholder), and caches the result per text — but not for a text over 4,096 bytes
# (`_queries.MAX_CACHED_STATEMENT_LENGTH`, its guard against an ORM's ever-different long INSERTs),
# which it splits again on every run: the template search's page statement, ≈ 600 Python calls a
# search. The statements run here are composed once per process, a bounded set of texts, so each is
# converted once, whatever its length; the cache is this module's, bounded too.
_converted = functools.lru_cache(maxsize=256)(_queries._query2pg_nocache)


class _ConvertedOnce(_queries.PostgresQuery):
    """psycopg's query conversion with every text's placeholders converted once (`_converted`)."""

    def convert(self, query: Any, vars: Any) -> None:
        if vars is None or not isinstance(query, str):
            super().convert(query, vars)
            return
        encoding = self._tx.encoding
        self.query, self._want_formats, self._order, self._parts = _converted(query.encode(encoding), encoding)
        self.dump(vars)


class PreparingCursor(psycopg.Cursor[Any]):
    """A server-binding cursor that prepares every statement it runs (Django's cursor wrapper calls
    `execute(sql, params)`, without psycopg's `prepare`), and reads timestamptz values with
    psycopg's compiled loader instead of the Python one Django registers on its connections (five
    Python calls a value; the values are the same, aware, in the connection's time zone). A
    statement's placeholders are converted once per text (`_ConvertedOnce`)."""

    _query_cls = _ConvertedOnce

    def __init__(self, connection: psycopg.Connection[Any], **kwargs: Any) -> None:
        super().__init__(connection, **kwargs)
        if _TIMESTAMPTZ is not None:
            self.adapters.register_loader(_TIMESTAMPTZ_OID, _TIMESTAMPTZ)

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                binary: bool | None = None) -> Any:
        return super().execute(query, params, prepare=True, binary=binary)


class _LoggingWrapper(CursorDebugWrapper):
    """Django's debug wrapper logs `cursor._query`, which psycopg leaves unset for a prepared
    statement: this one logs the statement with its values written in (only when queries are
    logged: DEBUG, `CaptureQueriesContext`)."""

    def execute(self, sql: str, params: Any = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params)):
            return CursorWrapper.execute(self, sql, params)


def wrapped(raw: psycopg.Cursor[Any]) -> CursorWrapper:
    """`raw` (a `PreparingCursor`) behind Django's cursor wrapper: its statements pass Django's
    execute wrappers, its errors are Django's, and it is logged and counted like any ORM statement
    when queries are logged (the query ceilings, `CaptureQueriesContext`)."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    return _LoggingWrapper(raw, wrapper) if wrapper.queries_logged else wrapper.make_cursor(raw)


def reading() -> CursorWrapper:
    """The connection's `PreparingCursor` behind Django's cursor wrapper (`wrapped`): the same
    psycopg cursor for every read on the connection. Building one copies the connection's adapters
    and registers the timestamptz loader, which the token's lookup and the API's read statements
    paid on every request. The caller does not close it (no `with`) and reads its rows before the
    next statement runs on it; psycopg resets it at each `execute`, after an error too."""
    raw = connection()
    reused = _reading.get(raw)
    if reused is None or reused.closed:
        reused = _reading[raw] = PreparingCursor(raw)
    return wrapped(reused)


def cursor(cursor_class: type[psycopg.Cursor] = psycopg.Cursor) -> psycopg.Cursor:
    """A server-binding cursor on Django's connection (opened if needed), inside whatever
    transaction the caller is in; run statements on it with `prepare=True` (the API's read
    statements pass a class that always does, `symphony_site.api.statements`)."""
    return cursor_class(connection())


def execute(sql: str, parameters: Any) -> list[tuple[Any, ...]]:
    """Run one statement prepared (see `cursor`), inside the caller's transaction, and return its
    rows (none for a statement that returns nothing).

    For the engine's own fixed statements off the step (a start's, an ending's): their text is
    the same every time, so preparing them once per connection saves the server a parse and a
    plan each time. Errors are Django's, as from its own cursors (`wrap_database_errors` also
    marks the connection for the health check after a failure). Not inside a pipeline: the rows
    are read here, and the cursor is used again by the next call."""
    raw = connection()
    reused = _reused.get(raw)
    if reused is None or reused.closed:
        reused = _reused[raw] = psycopg.Cursor(raw)
    with connections[DEFAULT_DB_ALIAS].wrap_database_errors:
        reused.execute(sql, parameters, prepare=True)
        return reused.fetchall() if reused.description else []
