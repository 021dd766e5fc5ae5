"""Celery tasks of triggers and limits: thin adapters over `executions.triggers.services`.

`tick` is the beat's periodic pass (schedules due, follow-ups due, queues with room);
`follow_up` and `promote` are the same work sent right after an execution ended, so
nothing waits for the next tick. Each is correct when delivered twice: every piece of
work is claimed with a conditional update or a row lock in the transaction that does it.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from executions.triggers.services import follow_ups, queue, ticking


@shared_task(name="executions.triggers.tick", ignore_result=True, soft_time_limit=50, time_limit=60)
def tick() -> dict[str, Any]:
    return ticking.tick()


@shared_task(name="executions.triggers.follow_up", ignore_result=True, soft_time_limit=50, time_limit=60)
def follow_up() -> int:
    return follow_ups.run_due_follow_ups()


@shared_task(name="executions.triggers.promote", ignore_result=True, soft_time_limit=50, time_limit=60)
def promote(team_id: str) -> int:
    return queue.promote(team_id)
