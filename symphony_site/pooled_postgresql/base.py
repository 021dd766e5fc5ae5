"""PostgreSQL for the web's pooled connections: a borrowed connection is checked without a round trip.

With `CONN_HEALTH_CHECKS`, Django gives psycopg's pool its `check_connection`, an empty statement
sent to PostgreSQL each time a connection is borrowed: one more round trip on every API request
(docs/operations.md, "Sixth session"). A connection PostgreSQL has ended (a restart, an
administrator's `pg_terminate_backend`, an idle timeout) is one PostgreSQL has written its last
message to and closed, so its socket is readable. This backend looks at the socket instead
(a `poll` with no wait) and runs the real check only when something is there to read; a
connection that fails it goes back to the pool, which discards it, and another is borrowed.
What neither check can see ahead of time (a host gone without closing its sockets) fails the
statement as it did before.

settings.py uses this engine only with `DATABASE_POOL` (the web server's processes).
"""

from __future__ import annotations

import select
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool


def has_pending_input(connection: psycopg.Connection[Any]) -> bool:
    """Whether PostgreSQL has written to this idle connection (or closed it) since its last answer."""
    poller = select.poll()
    poller.register(connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        pool = self.pool
        if pool is None:
            return connection
        # At most once per connection the pool may hold, then one more: a restarted server ended
        # them all, and the pool opens new ones in their place.
        for _ in range(pool.max_size + 1):
            if not has_pending_input(connection):
                return connection
            try:
                ConnectionPool.check_connection(connection)
                return connection
            except psycopg.Error:
                pool.putconn(connection)  # broken: the pool discards it and opens another
                connection = super().get_new_connection(conn_params)
        return connection
