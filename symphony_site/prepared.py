"""Statements parsed and planned once per database connection.

Django's cursors bind parameters on the client: the values are written into the SQL text, so
PostgreSQL parses and plans every statement again. A cursor from `cursor()` binds on the
server, and a statement executed on it with `prepare=True` is prepared on the connection the
first time (psycopg keeps the prepared statements per connection, keyed by the SQL text and the
parameters' types) and only executed after that. The engine's step statements
(executions/engine) and the API's read statements (symphony_site/api/statements.py) use it.
"""

from __future__ import annotations

import psycopg
from django.db import connection

# Django opens its connections with prepared statements off (`prepare_threshold` None), which
# also refuses an explicit `prepare=True`. Past this many runs psycopg would prepare a statement
# on its own; only these cursors bind on the server, and they ask explicitly, so it never does.
EXPLICIT_ONLY = 2**31 - 1


def cursor(cursor_class: type[psycopg.Cursor] = psycopg.Cursor) -> psycopg.Cursor:
    """A server-binding cursor on Django's connection (opened if needed), inside whatever
    transaction the caller is in; run statements on it with `prepare=True`.

    As Django's own cursors do, a connection whose server went away (a restart, a terminated
    backend) is replaced here before its first use in a task, when health checks are on."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = EXPLICIT_ONLY
    return cursor_class(raw)
