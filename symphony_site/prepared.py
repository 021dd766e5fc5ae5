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

import weakref
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections

# Django opens its connections with prepared statements off (`prepare_threshold` None), which
# also refuses an explicit `prepare=True`. Past this many runs psycopg would prepare a statement
# on its own; only these cursors bind on the server, and they ask explicitly, so it never does.
EXPLICIT_ONLY = 2**31 - 1

# `execute`'s cursor, one per open connection (a connection belongs to one thread). Building a
# psycopg cursor copies the connection's adapters: about as costly as a short statement's
# Python, and `execute` runs several per start and per step.
_reused: weakref.WeakKeyDictionary[psycopg.Connection, psycopg.Cursor] = weakref.WeakKeyDictionary()


def _connection() -> psycopg.Connection:
    """Django's default connection, opened if needed, with explicit preparing allowed.

    As Django's own cursors do, a connection whose server went away (a restart, a terminated
    backend) is replaced here before its first use in a task, when health checks are on.
    `connections[…]` once, not `django.db.connection`: each attribute of that proxy looks the
    connection up again in a context-local store."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    wrapper.close_if_health_check_failed()
    wrapper.ensure_connection()
    raw: psycopg.Connection = wrapper.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = EXPLICIT_ONLY
        # PostgreSQL plans a prepared statement for its values (a custom plan) until five runs
        # show the generic plan's estimate no worse; for most of these statements the estimate
        # never is (a `jsonb_to_recordset` or an array parameter of unknown size), so they were
        # planned again on every run: 0.15 to 0.7 ms of the server's time per statement,
        # about 3 ms per two-node execution (pg_stat_statements, seventh session). Their plans
        # do not depend on the values (every lookup is by key), so the generic plan is taken
        # at once. Only statements prepared on the server are concerned: Django's own are
        # bound on the client and planned once each. Set for the session; if the transaction
        # it is sent in rolls back, the setting goes with it and these statements are planned
        # per run again, as before (slower, never wrong).
        raw.execute("SET plan_cache_mode = force_generic_plan")
    return raw


def cursor(cursor_class: type[psycopg.Cursor] = psycopg.Cursor) -> psycopg.Cursor:
    """A server-binding cursor on Django's connection (opened if needed), inside whatever
    transaction the caller is in; run statements on it with `prepare=True` (the API's read
    statements pass a class that always does, `symphony_site.api.statements`)."""
    return cursor_class(_connection())


def execute(sql: str, parameters: Any) -> list[tuple[Any, ...]]:
    """Run one statement prepared (see `cursor`), inside the caller's transaction, and return its
    rows (none for a statement that returns nothing).

    For the engine's own fixed statements off the step (a start's, an ending's): their text is
    the same every time, so preparing them once per connection saves the server a parse and a
    plan each time. Errors are Django's, as from its own cursors (`wrap_database_errors` also
    marks the connection for the health check after a failure). Not inside a pipeline: the rows
    are read here, and the cursor is used again by the next call."""
    raw = _connection()
    reused = _reused.get(raw)
    if reused is None or reused.closed:
        reused = _reused[raw] = psycopg.Cursor(raw)
    with connections[DEFAULT_DB_ALIAS].wrap_database_errors:
        reused.execute(sql, parameters, prepare=True)
        return reused.fetchall() if reused.description else []
