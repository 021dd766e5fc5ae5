"""Celery tasks of the engine: thin adapters that take ids and call the engine.

`step` is acknowledged late and re-queued when its worker process dies, so a
message is never lost with a crashed worker; running it twice is harmless
(claiming is a conditional update). `reap` is the beat's periodic sweep.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from executions.engine import reaper, stepping


@shared_task(name="executions.step", acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             # Node deadlines are enforced by the engine (the lease lapses past them); the hard limit
             # only frees a worker process stuck past the longest node timeout allowed.
             soft_time_limit=int(settings.EXECUTION_MAX_NODE_TIMEOUT_S) + 60,
             time_limit=int(settings.EXECUTION_MAX_NODE_TIMEOUT_S) + 120)
def step(execution_id: str, run_id: int, more: list[int] | None = None) -> None:
    # `more`: the other cheap runs of a batch message (claimed, run and recorded together).
    stepping.step(execution_id, [int(run_id), *(int(other) for other in more or ())])


@shared_task(name="executions.reap", ignore_result=True, soft_time_limit=100, time_limit=120)
def reap() -> dict[str, Any]:
    return reaper.reap()


@shared_task(name="executions.prune_events", ignore_result=True, time_limit=600)
def prune_events() -> int:
    from executions.live.retention import prune_events as prune

    return prune()
