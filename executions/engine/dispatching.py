"""Step messages leave through the door (`symphony_site.events`), after commit, on their queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from symphony_site.events import send_task_on_commit

if TYPE_CHECKING:
    from executions.engine.books import Dispatch
    from executions.engine.graphs import CompiledVersion


def send_after_commit(execution_id: Any, item: Dispatch) -> None:
    """Send one step message once the current transaction commits (now, if none is open)."""
    from executions.tasks import step

    options: dict[str, Any] = {"queue": item.queue or "steps"}
    if item.countdown:
        options["countdown"] = item.countdown
    args: list[Any] = [str(execution_id), item.run_id]
    if item.more:
        args.append(list(item.more))  # a batch: one message, one claim for all of them
    send_task_on_commit(step, args=args, **options)


def send_now(execution_id: Any, items: list[Dispatch], graph: CompiledVersion) -> None:
    """Runs kept for inline that the task had no time left for: send them after all, cheap ones of
    one queue together up to `EXECUTION_BATCH_MAX` a message."""
    from executions.engine.books import batched

    for item in batched(items, graph):
        send_after_commit(execution_id, item)
