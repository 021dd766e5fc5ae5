"""The one door for side effects that must wait for a commit.

Celery tasks are enqueued and channel-layer events published only through
these helpers, which defer to `transaction.on_commit`, so nobody ever sees
work or state from a transaction that rolled back. A test fails the build if
`.delay`, `.apply_async`, `send_task` or `group_send` appears anywhere else
(tests/test_architecture.py). Events are notifications: once the write has
committed, a channel layer that fails is logged by Django (`robust=True`),
never raised to the caller whose write succeeded.

Events are small typed records (`Event`), serialised one way
(`Event.as_message`), sent to groups named here and nowhere else:
`team.<id>` for everything a team's members may see, `execution.<id>` for
one execution's own stream, `user.<id>` for what concerns one user's open
connections (a membership removed, a token revoked).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction

from symphony_site import metrics

logger = logging.getLogger(__name__)

# The consumer method a group message is delivered to ("team.event" → `team_event`).
TEAM_HANDLER = "team.event"
EXECUTION_HANDLER = "execution.event"
# One transaction's events of one execution, in order ("execution.events" → `execution_events`).
EXECUTION_BATCH_HANDLER = "execution.events"


def team_group(team_id: Any) -> str:
    """The channel-layer group of one team's members."""
    return f"team.{team_id}"


def execution_group(execution_id: Any) -> str:
    """The channel-layer group of one execution's subscribers."""
    return f"execution.{execution_id}"


def user_group(user_id: Any) -> str:
    """The channel-layer group of one user's open connections."""
    return f"user.{user_id}"


# Messages to a user's connections ("membership.changed" → `membership_changed`).
MEMBERSHIP_CHANGED = "membership.changed"
TOKEN_REVOKED = "token.revoked"


def publish_to_user_on_commit(user_id: Any, handler: str, data: Mapping[str, Any]) -> None:
    """Tell a user's open connections something changed (they re-check), after commit."""
    publish_to_group_on_commit(user_group(user_id), data, handler=handler)


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened, as subscribers receive it.

    `type` is dotted (`workflow.created`, `execution.state_changed`); `target`
    names the object (`{"type": "workflow", "id": "…"}`); `data` is small and
    JSON-ready, never a secret.
    """

    type: str
    team_id: str
    target_type: str
    target_id: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_message(self) -> dict[str, Any]:
        return {"type": self.type, "team": self.team_id,
                "target": {"type": self.target_type, "id": self.target_id}, "data": dict(self.data)}


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Queue a Celery task once the current transaction commits (now, if none is open)."""
    transaction.on_commit(lambda: task.delay(*args, **kwargs))


def send_task_on_commit(task: Any, *, args: Sequence[Any] = (), **options: Any) -> None:
    """Like `enqueue_on_commit`, with Celery routing options (queue, countdown, …)."""
    transaction.on_commit(lambda: task.apply_async(args=list(args), **options))


def run_after_commit(work: Any) -> None:
    """Work this process does itself once the transaction commits (nothing, if it rolls back):
    the cheap first steps a start claimed for its own process, run instead of sent as step
    messages (docs/executions.md, "Inline at start"). robust: the write has committed; work that
    fails is logged, never raised to the caller whose write succeeded (what it had claimed waits
    for its leases to lapse, and the reaper queues it again)."""
    def after_commit() -> None:  # a named function: Django's robust hook logs the failing work's
        work()                   # __qualname__, which a functools.partial does not have

    transaction.on_commit(after_commit, robust=True)


def publish_on_commit(event: Event) -> None:
    """Send `event` to its team's group once the current transaction commits."""
    message = event.as_message()
    group = team_group(event.team_id)
    # robust: the write has committed; a channel layer that is down must not turn it into an error.
    transaction.on_commit(lambda: _publish(group, message, TEAM_HANDLER), robust=True)


def publish_to_group_on_commit(group: str, message: Mapping[str, Any], *,
                               handler: str = EXECUTION_HANDLER) -> None:
    """Send an already-shaped message (an execution's stored event) to `group` after commit."""
    payload = dict(message)
    transaction.on_commit(lambda: _publish(group, payload, handler), robust=True)


class _BatchSend:
    """One channel message of events for `group`, sent after commit; later batches of the same
    transaction (and savepoint) for the same group join it rather than send their own."""

    __slots__ = ("group", "handler", "payloads")

    def __init__(self, group: str, handler: str, payloads: list[dict[str, Any]]) -> None:
        self.group, self.handler, self.payloads = group, handler, payloads

    def send(self) -> None:  # registered as a bound method: Django's robust hook logs its __qualname__
        _publisher().send(self.group, {"type": self.handler, "events": self.payloads})


# How far back among the transaction's after-commit work a batch looks for one to join.
_JOIN_WINDOW = 8


def publish_batch_to_group_on_commit(group: str, messages: Sequence[Mapping[str, Any]], *,
                                     handler: str = EXECUTION_BATCH_HANDLER) -> None:
    """Send several already-shaped messages (the events one transaction wrote, in order) to
    `group` after commit, as one channel message `{"type": handler, "events": [...]}`.

    A transaction that writes an execution's events twice (a record and the cheap batch it runs
    and records in the same transaction, `stepping.record_batch`) publishes them as one message:
    the later events join the group's latest pending message when it belongs to the same
    savepoint (so a rolled-back savepoint still drops exactly its own). Every message to an
    execution's group is sent through here, so joining keeps that group's messages in order."""
    payloads = [dict(message) for message in messages]
    if not payloads:
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        savepoints = set(connection.savepoint_ids)
        for pending_savepoints, work, _robust in reversed(connection.run_on_commit[-_JOIN_WINDOW:]):
            pending = getattr(work, "__self__", None)
            if isinstance(pending, _BatchSend) and pending.group == group:
                if pending.handler == handler and pending_savepoints == savepoints:
                    pending.payloads.extend(payloads)
                    return
                break
    transaction.on_commit(_BatchSend(group, handler, payloads).send, robust=True)


def _publish(group: str, message: Mapping[str, Any], handler: str) -> None:
    _publisher().send(group, {"type": handler, "event": dict(message)})


class _Publisher:
    """Sends channel-layer group messages from one event loop thread per process, in order.

    `async_to_sync(group_send)` per message starts a fresh event loop and Redis connection
    each time (≈10 ms); a long-lived loop keeps its connection and costs the caller a queue
    put. Delivery is fire-and-forget: subscribers that miss a message replay from the
    stored events (`after_seq`); pending messages are flushed at interpreter exit.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        # Messages handed over and not sent yet, in order; `scheduled` while the loop has been
        # woken for them and has not found the deque empty since. A burst of messages (one
        # commit's: an execution's events, then its team's) wakes the loop once, not once each
        # (each wake-up is a write to the loop's self-pipe and a turn of the loop).
        self.waiting: deque[tuple[str, dict[str, Any], float]] = deque()
        self.scheduled = False
        self.wakeup: asyncio.Event | None = None
        self.ready = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.pending = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="symphony-publisher", daemon=True)
        self.thread.start()
        self.ready.wait(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.wakeup = asyncio.Event()
        self.ready.set()
        self.loop.run_until_complete(self._drain())

    async def _drain(self) -> None:
        assert self.wakeup is not None
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            while True:
                with self.lock:
                    if not self.waiting:
                        self.scheduled = False
                        break
                    group, message, handed_at = self.waiting.popleft()
                try:
                    layer = get_channel_layer()
                    if layer is not None:
                        await layer.group_send(group, message)
                        metrics.event_published(handed_at)
                except Exception:
                    logger.exception("Publishing to %s failed", group)
                finally:
                    with self.lock:
                        self.pending -= 1
                        if self.pending == 0:
                            self.idle.set()

    def send(self, group: str, message: dict[str, Any]) -> None:
        assert self.wakeup is not None
        with self.lock:
            self.pending += 1
            self.idle.clear()
            self.waiting.append((group, message, time.monotonic()))
            wake, self.scheduled = not self.scheduled, True
        if wake:
            self.loop.call_soon_threadsafe(self.wakeup.set)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every message sent so far left this process."""
        return self.idle.wait(timeout)


_publisher_instance: _Publisher | None = None
_publisher_lock = threading.Lock()


def _publisher() -> _Publisher:
    global _publisher_instance
    with _publisher_lock:
        # A forked child (a prefork worker process) starts its own: threads do not survive fork.
        if _publisher_instance is None or _publisher_instance.pid != os.getpid():
            _publisher_instance = _Publisher()
        return _publisher_instance


def flush_published(timeout: float = 5.0) -> bool:
    """Block until every message published by this process so far was handed to the layer."""
    instance = _publisher_instance
    if instance is None or instance.pid != os.getpid():
        return True
    return instance.flush(timeout)


atexit.register(flush_published, 2.0)
