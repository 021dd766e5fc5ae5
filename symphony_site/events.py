"""The one door for side effects that must wait for a commit.

Celery tasks are enqueued and channel-layer events published only through
these helpers, which defer to `transaction.on_commit`, so nobody ever sees
work or state from a transaction that rolled back. A test fails the build if
`.delay(` or `group_send(` appears anywhere else.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Queue a Celery task once the current transaction commits (now, if none is open)."""
    transaction.on_commit(lambda: task.delay(*args, **kwargs))


def publish_now(group: str, event: dict[str, Any], *, handler: str = "team.event") -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, {"type": handler, "event": event})


def publish_on_commit(group: str, event: dict[str, Any], *, handler: str = "team.event") -> None:
    """Send `event` to a channel-layer group once the current transaction commits."""
    transaction.on_commit(lambda: publish_now(group, event, handler=handler))
