"""Celery worker processes keep their database connection from one task to the next.

Celery's Django fixup closes every connection before and after each task unless
`CELERY_DB_REUSE_MAX` is set, so every step task opened a new PostgreSQL connection (and
PostgreSQL forked a backend for it): about a fifth of a step's time in the worker's profile.
The settings set `CELERY_DB_REUSE_MAX`, which turns those closes off; a kept connection must then
be as safe for the next task as a new one, and `tidy_connections` (before and after every task)
makes it so:

- a connection still inside a transaction (a task that raised mid-pipeline, a soft time limit
  that interrupted a statement, a transaction opened by hand) is closed, which rolls it back on
  the server. After the task, not only before the next one: an idle worker would otherwise hold
  that transaction's locks indefinitely, and the tests' TRUNCATE between transactional tests (or
  any migration) would wait on them;
- an `atomic` block still open cannot be left through Django's API, so its connection object is
  closed and dropped; the next use makes a new one;
- `close_old_connections` (what Django does around every request) drops a connection whose
  autocommit was left changed, or that raised an error and fails a `SELECT 1`, or that is older
  than `CONN_MAX_AGE`; and it re-arms `CONN_HEALTH_CHECKS`, so the task's first query checks
  the connection before using it. A backend ended by `pg_terminate_backend` or a PostgreSQL
  restart while the worker was idle is then replaced, instead of failing the task's first
  statement. The check is one round trip; a new connection is several, plus a fork.

Other threads of a worker (the lease keeper, the progress publisher) keep their own connections
and tidy them themselves; Django connections are per thread and these handlers see only the
task's.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import signals
from django.db import close_old_connections, connections
from psycopg.pq import TransactionStatus

logger = logging.getLogger(__name__)


def tidy_connections() -> None:
    """Make this thread's database connections fit for the next task (module docstring)."""
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            logger.error("a task left an atomic block open on %r; its connection is dropped", connection.alias)
            connection.close()
            del connections[connection.alias]
            continue
        raw = connection.connection
        if raw is not None and raw.info.transaction_status != TransactionStatus.IDLE:
            connection.close()
    close_old_connections()


def around_task(sender: Any = None, **_: Any) -> None:
    """The `task_prerun` and `task_postrun` handler. An eager task runs in its caller's thread,
    maybe inside the caller's transaction: its connections are not the task's to close."""
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    tidy_connections()


# This module is imported by workers only (settings.CELERY_IMPORTS), before the pool forks.
signals.task_prerun.connect(around_task, weak=False)
signals.task_postrun.connect(around_task, weak=False)
