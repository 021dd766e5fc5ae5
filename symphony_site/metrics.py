"""Prometheus metrics: every metric Symphony exports, and the thin calls that record them.

Multiprocess mode (prometheus-client): daphne, each Celery prefork child and
beat write their samples to files under PROMETHEUS_MULTIPROC_DIR (settings:
`var/prometheus/`, emptied by `scripts/run.sh` and `scripts/test.sh` before
anything starts), and `/metrics` adds them up. Settings set that variable
before this module first imports prometheus-client, which reads it once.

Callers record through the functions below, never through the metric objects,
so instrumentation stays one line at each place and out of the pure cores.
docs/operations.md lists every metric with its type and labels.
"""

from __future__ import annotations

import glob
import os
import re
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings

# Reading a setting loads the settings, which point prometheus-client at the shared directory
# before the import below decides, once, whether values live in files or in memory.
MULTIPROCESS_DIR = settings.PROMETHEUS_MULTIPROC_DIR

from prometheus_client import Counter, Gauge, Histogram, multiprocess  # noqa: E402
from prometheus_client.metrics_core import Metric  # noqa: E402

# Node steps run from milliseconds (operators inline) to minutes (model calls, delays).
NODE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

NODE_DURATION = Histogram(
    "symphony_node_duration_seconds", "Time a node attempt ran on a worker, by kind, type and model.",
    ["node_kind", "node_type", "model"], buckets=NODE_BUCKETS)
NODE_FAILURES = Counter(
    "symphony_node_failures_total", "Node attempts that failed, by node type and error code.",
    ["node_type", "code"])
NODE_RETRIES = Counter(
    "symphony_node_retries_total", "Node attempts after a node's first (retries and lost-lease re-runs).",
    ["node_type"])
REAPER_RECOVERIES = Counter(
    "symphony_reaper_recoveries_total", "Work the reaper recovered, by kind (expired_leases, resent, "
    "dispatched, timed_out).", ["kind"])
EVENT_PUBLISH_LAG = Histogram(
    "symphony_event_publish_lag_seconds", "From a committed event's hand-off to its send to the channel "
    "layer.", buckets=FAST_BUCKETS)
WEBSOCKET_CONNECTIONS = Gauge(
    "symphony_websocket_connections", "Open WebSocket connections, by consumer.", ["consumer"],
    multiprocess_mode="livesum")
AUDIT_APPENDS = Counter(
    "symphony_audit_appends_total", "Audit entries appended, by event type.", ["event_type"])
TEMPLATE_SEARCHES = Counter(
    "symphony_template_searches_total", "Marketplace template searches.", ["channel"])
TEMPLATE_SEARCH_SECONDS = Histogram(
    "symphony_template_search_seconds", "Time to answer a marketplace template search.", ["channel"],
    buckets=FAST_BUCKETS)
HTTP_REQUESTS = Counter(
    "symphony_http_requests_total", "HTTP requests answered, by view, method and status.",
    ["view", "method", "status"])
HTTP_SECONDS = Histogram(
    "symphony_http_request_seconds", "Time to answer an HTTP request, by view.", ["view"],
    buckets=FAST_BUCKETS)


def node_attempt(*, node_kind: str, node_type: str, attempt: int, seconds: float,
                 failure_code: str | None) -> None:
    """One node attempt ended on a worker (completed, or failed with `failure_code`)."""
    model = node_type if node_kind == "instrument" else ""
    NODE_DURATION.labels(node_kind, node_type, model).observe(seconds)
    if attempt > 1:
        NODE_RETRIES.labels(node_type).inc()
    if failure_code is not None:
        NODE_FAILURES.labels(node_type, failure_code).inc()


def reaper_recovered(counts: dict[str, int]) -> None:
    for kind, count in counts.items():
        if count:
            REAPER_RECOVERIES.labels(kind).inc(count)


def event_published(handed_at: float) -> None:
    """`handed_at`: the `time.monotonic()` of the hand-off (same process)."""
    EVENT_PUBLISH_LAG.observe(max(0.0, time.monotonic() - handed_at))


def websocket_opened(consumer: str) -> None:
    WEBSOCKET_CONNECTIONS.labels(consumer).inc()


def websocket_closed(consumer: str) -> None:
    WEBSOCKET_CONNECTIONS.labels(consumer).dec()


def audit_appended(event_types: list[str]) -> None:
    for event_type in event_types:
        AUDIT_APPENDS.labels(event_type).inc()


def template_searched(channel: str, seconds: float) -> None:
    TEMPLATE_SEARCHES.labels(channel).inc()
    TEMPLATE_SEARCH_SECONDS.labels(channel).observe(seconds)


def http_answered(*, view: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(view, method, str(status)).inc()
    HTTP_SECONDS.labels(view).observe(seconds)


# A gauge in a "live" mode keeps one file per process, named by its pid.
LIVE_GAUGE_FILE = re.compile(r"^gauge_live[a-z]+_(\d+)\.db$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def forget_dead_processes(path: str | None = None) -> list[int]:
    """Delete the live-gauge files of this host's processes that have died (a web process killed
    and restarted by its supervisor), so their open WebSockets stop counting; answer their pids.

    A process that crashes never decrements its gauge, and prometheus-client only drops those
    files when told the process is dead. Pids are checked on this host only: with
    PROMETHEUS_MULTIPROC_SHARED, the other hosts' directories are theirs to clean."""
    path = path or settings.PROMETHEUS_MULTIPROC_DIR
    dead = sorted({int(match.group(1)) for name in os.listdir(path)
                   if (match := LIVE_GAUGE_FILE.match(name)) and not _alive(int(match.group(1)))})
    for pid in dead:
        multiprocess.mark_process_dead(pid, path)
    return dead


class ProcessFiles:
    """A collector adding up every process's samples: this host's directory, or with
    PROMETHEUS_MULTIPROC_SHARED every host's subdirectory of the shared one."""

    def __init__(self, shared: str = "", own: str = "") -> None:
        self.shared = shared if shared else settings.PROMETHEUS_MULTIPROC_SHARED
        self.own = own or settings.PROMETHEUS_MULTIPROC_DIR

    def files(self) -> list[str]:
        pattern = os.path.join(self.shared, "*", "*.db") if self.shared else os.path.join(self.own, "*.db")
        return sorted(glob.glob(pattern))

    def collect(self) -> Iterator[Metric]:
        return iter(multiprocess.MultiProcessCollector.merge(self.files(), accumulate=True))


class Stopwatch:
    """`with Stopwatch() as watch: …; watch.seconds` — elapsed wall time of the block."""

    def __init__(self) -> None:
        self.started = 0.0
        self.seconds = 0.0

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.seconds = time.perf_counter() - self.started
