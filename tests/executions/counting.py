"""Counting what the engine asks of PostgreSQL and Redis: statements, round trips, commands.

Counts, not times, so they hold on a loaded machine: the engine tests assert ceilings on them
and `bench/engine` reports them. Every statement any psycopg cursor of this thread sends is
counted, the engine's raw pipelined ones included (Django's `execute_wrapper` sees only its
own cursors). A round trip is one statement outside a pipeline, one pipeline, or a
transaction's BEGIN or COMMIT.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg


@dataclass
class Counts:
    statements: int = 0
    round_trips: int = 0
    transactions: int = 0
    pipelines: set[int] = field(default_factory=set)
    # The pipelines seen, kept alive while counting: a freed pipeline's id can be reused by the
    # next one, which would then not be counted as a round trip of its own.
    seen_pipelines: list[Any] = field(default_factory=list)
    sql: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"statements": self.statements, "round_trips": self.round_trips,
                "transactions": self.transactions}


@contextmanager
def counting() -> Iterator[Counts]:
    """Count this thread's statements, round trips and transactions while the block runs."""
    counts = Counts()
    thread = threading.get_ident()
    execute = psycopg.Cursor.execute
    executemany = psycopg.Cursor.executemany
    commit = psycopg.Connection.commit

    def seen(cursor: Any, query: Any) -> None:
        if threading.get_ident() != thread:
            return
        counts.statements += 1
        counts.sql.append(str(query)[:200])
        pipeline = cursor.connection._pipeline
        if pipeline is None:
            counts.round_trips += 1
            if not cursor.connection.autocommit and cursor.connection.info.transaction_status == 0:
                counts.round_trips += 1  # psycopg sends BEGIN first, on its own
                counts.transactions += 1
        else:
            if id(pipeline) not in counts.pipelines:
                counts.round_trips += 1
                counts.seen_pipelines.append(pipeline)
            counts.pipelines.add(id(pipeline))
            if not cursor.connection.autocommit and cursor.connection.info.transaction_status == 0:
                counts.transactions += 1  # BEGIN rides in the pipeline

    def counted_execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        seen(self, query)
        return execute(self, query, *args, **kwargs)

    def counted_executemany(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        seen(self, query)
        return executemany(self, query, *args, **kwargs)

    def counted_commit(self: Any) -> Any:
        if threading.get_ident() == thread:
            counts.round_trips += 1
        return commit(self)

    psycopg.Cursor.execute = counted_execute  # type: ignore[method-assign]
    psycopg.Cursor.executemany = counted_executemany  # type: ignore[method-assign]
    psycopg.Connection.commit = counted_commit  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
        psycopg.Cursor.executemany = executemany  # type: ignore[method-assign]
        psycopg.Connection.commit = commit  # type: ignore[method-assign]
