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
one execution's own stream.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

# The consumer method a group message is delivered to ("team.event" → `team_event`).
TEAM_HANDLER = "team.event"
EXECUTION_HANDLER = "execution.event"


def team_group(team_id: Any) -> str:
    """The channel-layer group of one team's members."""
    return f"team.{team_id}"


def execution_group(execution_id: Any) -> str:
    """The channel-layer group of one execution's subscribers."""
    return f"execution.{execution_id}"


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


def _publish(group: str, message: Mapping[str, Any], handler: str) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    send = async_to_sync(layer.group_send)
    payload = {"type": handler, "event": dict(message)}
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        send(group, payload)
        return
    # A synchronous caller on a thread that runs an event loop (code driving a browser, say)
    # cannot wait on the loop it is blocking; send from a short-lived thread instead.
    sender = threading.Thread(target=send, args=(group, payload), name="symphony-publish")
    sender.start()
    sender.join()
