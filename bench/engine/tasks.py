"""Raw Celery tasks: the baselines the engine is measured beside, on the same broker and workers.

Loaded into the benchmark's worker processes with `--include bench.engine.tasks`. Like the
engine's step task they are acknowledged late; each marks its run in Redis (the baseline's
only side effect) so the benchmark can tell when they are done.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from celery import shared_task
from django.conf import settings

from symphony_site.events import send_task_on_commit

_client: Any = None


def client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


@shared_task(name="bench.noop", acks_late=True, ignore_result=True)
def noop(key: str) -> None:
    client().incr(key)


@shared_task(name="bench.hop", acks_late=True, ignore_result=True)
def hop(key: str, remaining: int) -> None:
    """A self-chaining task: records when it ran, then sends the next hop."""
    client().rpush(key, repr(time.time()))
    if remaining > 0:
        send_task_on_commit(hop, args=[key, remaining - 1], queue="steps")
