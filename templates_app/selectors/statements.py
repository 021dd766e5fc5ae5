"""A search's statements, prepared once per connection and run on generic plans (docs/templates.md,
"Seventh session").

Planning the candidates statement was about 40 % of the backend's time per search. Here each
statement is bound on the server and prepared on the connection the first time its text is seen
(psycopg keeps them per connection, keyed by the text and the parameters' types), and runs under
`plan_cache_mode = force_generic_plan`, so PostgreSQL plans it once, without the parameters' values,
and reuses that plan. That is only right because the statements are written plan-stable: each path
the planner used to choose by a word's share (a scan or the index's bitmap, the names shortest
first or all matching ones) is spelled out in the statement's text by `matching._page_statement`,
so a different path is a different statement with a plan of its own, never a plan chosen for
another word's share.

The session settings a statement runs under are set and reset around it in one psycopg pipeline:
one round trip for the settings, the statements and the resets. A plan is kept per statement text
whatever the settings of a later run, so the settings are written into the text (a comment): other
settings, another statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db import connection

# Django opens its connections with prepared statements off (`prepare_threshold` None), which also
# refuses an explicit `prepare=True`; past this many runs psycopg would prepare a statement on its
# own. Only these cursors (and the engine's, executions/engine/prepared.py) ask, and they ask
# explicitly, so it never does.
EXPLICIT_ONLY = 2**31 - 1
# Plan once without the values and keep that plan, from the first run (the default, `auto`, plans
# the first five runs with their values and may keep planning every run after them).
GENERIC = "plan_cache_mode = force_generic_plan"


@dataclass(frozen=True)
class Statement:
    sql: str
    params: list[Any]
    # Session settings it runs under, set before it and reset after it in the same round trip.
    settings: list[str] = field(default_factory=list)
    # The page statement's stages: the count at which each may have left matches out (`matching._read_page`).
    limits: list[int] = field(default_factory=list)


class _PreparingCursor(psycopg.Cursor[Any]):
    """A server-binding cursor whose statements are prepared: what Django's cursor wrapper calls
    `execute` on, so the statements still pass Django's execute wrappers and query log."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = True,
                binary: bool | None = None) -> Any:
        result = super().execute(query, params, prepare=prepare, binary=binary)
        if self._query is None:
            # Django's query log reads the text from here, which psycopg leaves empty when it runs a
            # statement it has prepared: the text with its placeholders, then.
            self._query = _Logged(query=query.encode())  # type: ignore[assignment]
        return result


@dataclass(frozen=True)
class _Logged:
    query: bytes


def fetch(statements: list[Statement]) -> list[list[Any]]:
    """The rows of each statement, each prepared and run on its generic plan under its settings, all in
    one round trip."""
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = EXPLICIT_ONLY
    wrapped = [connection._prepare_cursor(_PreparingCursor(raw)) for _ in statements]
    # Settings and their reset are plain text, neither prepared nor logged: they are not the search's
    # statements.
    plain = psycopg.Cursor(raw)
    try:
        with connection.wrap_database_errors, raw.pipeline():
            for cursor, statement in zip(wrapped, statements, strict=True):
                settings = list(dict.fromkeys(statement.settings))
                for setting in settings:
                    plain.execute(f"SET {setting}", prepare=False)
                # A plan is kept per text, whatever the settings of a later run: the settings it was
                # made under are part of the text, so other settings make another statement.
                cursor.execute(f"/* {', '.join(settings)} */ {statement.sql}" if settings else statement.sql,
                               statement.params)
                for setting in settings:
                    plain.execute(f"RESET {_name(setting)}", prepare=False)
        # A failure leaves no setting behind: outside a transaction the pipeline's statements are one
        # implicit transaction, which the failure undoes with its SETs; inside one, its rollback does.
        return [cursor.fetchall() for cursor in wrapped]
    finally:
        for cursor in wrapped:
            cursor.close()
        plain.close()


def _name(setting: str) -> str:
    return setting.split("=")[0].strip()
