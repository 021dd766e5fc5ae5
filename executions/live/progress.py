"""The team stream's `execution.progress`: node counts of executions that moved, at most once a
second per execution and process.

Every transaction that changes node states marks its execution after commit; a
thread per process (started on first use, again after a fork) reads the marked
executions' counts in one grouped query, outside any transaction, and publishes
one team event each through the door. The first change after a quiet spell goes
out at once and the last one always goes out (a mark that arrives during a pause
is published at the end of it), so a list never stays behind the database by
more than the interval. Nothing here is on the engine's hot path but a set insert.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from symphony_site.events import Event, publish_on_commit

logger = logging.getLogger(__name__)

EXECUTION_PROGRESS = "execution.progress"
COUNTED_STATES = ("pending", "queued", "running", "completed", "failed", "skipped")


def mark_on_commit(execution_id: Any, team_id: Any) -> None:
    """After the current transaction commits, count this execution's nodes again soon."""
    execution, team = str(execution_id), str(team_id)
    transaction.on_commit(lambda: _tracker().mark(execution, team))


def progress_events(execution_ids: list[str]) -> list[Event]:
    """The team events telling where each execution is now (state, seq, node counts)."""
    if not execution_ids:
        return []
    counts = ", ".join(f"count(r.id) FILTER (WHERE r.state = '{state}')" for state in COUNTED_STATES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, e.team_id, e.workflow_id, e.state, e.event_seq, e.version, {counts} "
            "FROM executions_execution AS e LEFT JOIN executions_noderun AS r ON r.execution_id = e.id "
            "WHERE e.id = ANY(%s::uuid[]) GROUP BY e.id", [execution_ids])
        rows = cursor.fetchall()
    events = []
    for execution_id, team_id, workflow_id, state, event_seq, version, *numbers in rows:
        by_state = dict(zip(COUNTED_STATES, (int(number) for number in numbers), strict=True))
        total = sum(by_state.values())
        settled = by_state["completed"] + by_state["failed"] + by_state["skipped"]
        progress = {"total": total, **by_state,
                    "percentage": round(100.0 * settled / total, 1) if total else 0.0}
        events.append(Event(type=EXECUTION_PROGRESS, team_id=str(team_id), target_type="execution",
                            target_id=str(execution_id),
                            data={"workflow": str(workflow_id), "state": state, "event_seq": int(event_seq),
                                  "version": int(version), "progress": progress}))
    return events


class _Tracker:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.marked: dict[str, str] = {}
        self.wake = threading.Event()
        # Set while nothing is marked and no round is under way; `hurry` ends a pause early.
        self.idle = threading.Event()
        self.idle.set()
        self.hurry = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="symphony-team-progress", daemon=True)
        self.thread.start()

    def mark(self, execution_id: str, team_id: str) -> None:
        with self.lock:
            self.marked[execution_id] = team_id
            self.idle.clear()
        self.wake.set()

    def settle(self, timeout: float) -> bool:
        """Publish what is marked now, without waiting out the pause, and wait for the round."""
        if self.idle.is_set():
            return True
        self.hurry.set()
        return self.idle.wait(timeout)

    def _loop(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            with self.lock:
                batch, self.marked = list(self.marked), {}
            try:
                for event in progress_events(batch):
                    publish_on_commit(event)  # no transaction is open: it leaves at once
            except Exception:  # the thread must outlive a database hiccup
                logger.exception("Publishing execution progress failed")
            finally:
                # A connection left open would outlive the process's work (and block dropping a
                # test database); one connect per interval is cheap.
                _close_connection()
            with self.lock:
                if not self.marked:
                    self.idle.set()
            self.hurry.wait(settings.EXECUTION_TEAM_PROGRESS_INTERVAL_S)
            self.hurry.clear()


def _close_connection() -> None:
    """Close this thread's connection. Checking a connection connects first, which fails while the
    database is unreachable; that must not end the thread either."""
    try:
        close_old_connections()
    except Exception:
        logger.warning("Could not check the progress thread's database connection", exc_info=True)
    connection.close()


_tracker_instance: _Tracker | None = None
_tracker_lock = threading.Lock()


def settle_progress(timeout: float = 5.0) -> bool:
    """Publish the counts of every execution marked so far in this process now, and block until
    the thread's round is over (its database connection closed); False when `timeout` passed first.

    For whoever must know the thread is done with the database: a test's end, before its
    database is emptied and closed to the next test (pytest-django refuses any access then, from
    every thread, so a round left for later would fail in whichever test came next).
    """
    instance = _tracker_instance
    if instance is None or instance.pid != os.getpid():
        return True
    return instance.settle(timeout)


def _tracker() -> _Tracker:
    global _tracker_instance
    with _tracker_lock:
        if _tracker_instance is None or _tracker_instance.pid != os.getpid():
            _tracker_instance = _Tracker()
        return _tracker_instance
