"""What /metrics reads live when scraped: executions by state (one grouped query) and the depth
of each Celery queue (Redis LLEN). Collectors for `symphony_site.metrics_view`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from executions.domain import ExecutionState


class ExecutionStates(Collector):
    def collect(self) -> Iterator[Any]:
        family = GaugeMetricFamily("symphony_executions", "Executions by state (all teams).", labels=["state"])
        with connection.cursor() as cursor:
            cursor.execute("SELECT state, count(*) FROM executions_execution GROUP BY state")
            counts = dict(cursor.fetchall())
        for state in ExecutionState:
            family.add_metric([state.value], float(counts.get(state.value, 0)))
        yield family


class QueueDepths(Collector):
    def collect(self) -> Iterator[Any]:
        family = GaugeMetricFamily("symphony_queue_depth", "Step messages waiting in each Celery queue "
                                   "(Redis LLEN; reserved and running ones are not counted).", labels=["queue"])
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
        try:
            pipeline = client.pipeline(transaction=False)
            for queue in settings.METRICS_QUEUES:
                pipeline.llen(queue)
            depths = pipeline.execute()
        finally:
            client.close()
        for queue, depth in zip(settings.METRICS_QUEUES, depths, strict=True):
            family.add_metric([queue], float(depth))
        yield family


def collectors() -> list[Collector]:
    return [ExecutionStates(), QueueDepths()]
