"""A search's statements, prepared once per connection and run on generic plans (docs/templates.md,
"Seventh session").

Planning the candidates statement was about 40 % of the backend's time per search. Here each
statement is bound on the server and prepared on the connection the first time its text is seen
(psycopg keeps them per connection, keyed by the text and the parameters' types,
`symphony_site.prepared`); every session plans prepared statements generically
(`plan_cache_mode = force_generic_plan`, settings.py), so PostgreSQL plans each once, without the
parameters' values, and reuses that plan. That is only right because the statements are written
plan-stable: each path
the planner used to choose by a word's share (a scan or the index's bitmap, the names shortest
first or all matching ones) is spelled out in the statement's text by `matching._page_statement`,
so a different path is a different statement with a plan of its own, never a plan chosen for
another word's share.

The settings a statement runs under are set with it in one psycopg pipeline, one round trip, for
the pipeline's implicit transaction only (inside a caller's transaction, reset after it). A plan is
kept per statement text whatever the settings of a later run, so the settings are written into the
text (a comment): other settings, another statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db import connection

from symphony_site import prepared


@dataclass(frozen=True)
class Statement:
    sql: str
    params: list[Any]
    # Session settings it runs under, set before it and reset after it in the same round trip.
    settings: list[str] = field(default_factory=list)
    # The page statement's stages: the count at which each may have left matches out (`matching._read_page`).
    limits: list[int] = field(default_factory=list)


# Settings are set for the implicit transaction the pipeline's statements share outside a transaction
# (PostgreSQL undoes them at its end, no reset needed); inside one, for the rest of it, so they are
# put back to their defaults after the statements.
_SET = "SELECT set_config(s.name, s.value, TRUE) FROM unnest(%s::text[], %s::text[]) AS s(name, value)"
_RESET = "SELECT set_config(name, reset_val, TRUE) FROM pg_settings WHERE name = ANY(%s::text[])"


def fetch(statements: list[Statement]) -> list[list[Any]]:
    """The rows of each statement, each prepared and run on its generic plan under its settings, all in
    one round trip. The statements without settings run first; those with settings must share them."""
    raw = prepared.connection()
    if len(statements) == 1 and not statements[0].settings:
        # One statement without settings (the words statement): a pipeline would add its entry, a
        # sync and its exit to the same single round trip.
        with prepared.wrapped(prepared.PreparingCursor(raw)) as cursor:
            cursor.execute(statements[0].sql, statements[0].params)
            return [cursor.fetchall()]
    order = sorted(range(len(statements)), key=lambda index: bool(statements[index].settings))
    settings = [list(dict.fromkeys(statement.settings)) for statement in statements if statement.settings]
    if any(other != settings[0] for other in settings):
        raise ValueError("statements fetched together must run under the same settings")
    names = [setting.split("=")[0].strip() for setting in settings[0]] if settings else []
    values = [setting.split("=", 1)[1].strip() for setting in settings[0]] if settings else []
    cursors = [prepared.wrapped(prepared.PreparingCursor(raw)) for _ in statements]
    # Settings are not the search's statements: neither logged nor counted.
    plain = psycopg.Cursor(raw)
    try:
        with connection.wrap_database_errors, raw.pipeline():
            settings_sent = False
            for index in order:
                statement = statements[index]
                if statement.settings and not settings_sent:
                    plain.execute(_SET, [names, values], prepare=True)
                    settings_sent = True
                # A plan is kept per text, whatever the settings of a later run: the settings it was
                # made under are part of the text, so other settings make another statement.
                cursors[index].execute(f"/* {', '.join(statement.settings)} */ {statement.sql}"
                                       if statement.settings else statement.sql, statement.params)
            if names and connection.in_atomic_block:
                plain.execute(_RESET, [names], prepare=True)
        # A failure leaves no setting behind: outside a transaction the pipeline's statements are one
        # implicit transaction, which the failure ends; inside one, its rollback undoes them.
        return [cursor.fetchall() for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()
        plain.close()
