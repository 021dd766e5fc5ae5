"""Step messages leave through the door (`symphony_site.events`), after commit, on their queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from symphony_site.events import send_task_on_commit

if TYPE_CHECKING:
    from executions.engine.books import Dispatch


def send_after_commit(execution_id: Any, item: Dispatch) -> None:
    """Send one step message once the current transaction commits (now, if none is open)."""
    from executions.tasks import step

    options: dict[str, Any] = {"queue": item.queue or "steps"}
    if item.countdown:
        options["countdown"] = item.countdown
    send_task_on_commit(step, args=[str(execution_id), item.run_id], **options)


def send_now(execution_id: Any, item: Dispatch) -> None:
    """A run kept for inline that the task had no time left for: send it after all."""
    from executions.models import NodeRun

    queue = item.queue or NodeRun.objects.values_list("queue", flat=True).get(pk=item.run_id)
    send_after_commit(execution_id, type(item)(run_id=item.run_id, node_id=item.node_id, queue=queue))
