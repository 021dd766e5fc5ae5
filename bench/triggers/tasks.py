"""The scheduling-lag baseline: a raw Celery task sent with an ETA at a due second records how
late it ran (loaded into the benchmark's worker with `--include`)."""

from __future__ import annotations

import time

from celery import shared_task

from bench.engine.tasks import client


@shared_task(name="bench.trigger_probe", ignore_result=True)
def probe(key: str, due: float) -> None:
    client().rpush(key, (time.time() - due) * 1000)
