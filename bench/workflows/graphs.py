"""Benchmark: a stored version to its runnable graph, from the per-process cache and cold.

Ours: `workflows.graphs.runnable(version)` when the version's checksum is
already cached — what the engine pays on every step. Baseline: the same call
on a cold cache (validation against the built-in catalog, then the plan),
which is what every step would pay without the cache. Target: a hit costs
under 5 µs whatever the workflow's size. Run with `python -m bench.workflows`.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench.workflows.generate import layered_document
from workflows import graphs
from workflows.models import WorkflowVersion
from workflows.serialization import envelope
from workflows.versioning import checksum

AREA = "workflows"
TARGET_HIT_MICROSECONDS = 5.0


def _version(size: int) -> WorkflowVersion:
    """An unsaved version row: `graphs` reads only its checksum and document."""
    stored = envelope(layered_document(size, width=max(19, size // 10), seed=size))
    return WorkflowVersion(document=stored, checksum=checksum(stored))


def run(quick: bool = False) -> list[dict[str, Any]]:
    sizes = [200] if quick else [200, 1_000, 5_000]
    cold_repetitions = 2 if quick else 5
    hits = 10_000 if quick else 100_000
    rows = []
    for size in sizes:
        version = _version(size)
        cold = []
        for _ in range(cold_repetitions):
            graphs.forget_all()
            started = time.perf_counter()
            graphs.runnable(version)
            cold.append((time.perf_counter() - started) * 1_000_000)
        started = time.perf_counter()
        for _ in range(hits):
            graphs.runnable(version)
        hit = (time.perf_counter() - started) * 1_000_000 / hits
        baseline = statistics.median(cold)
        rows.append({
            "area": AREA, "name": "runnable(version): cache hit", "size": size, "unit": "µs", "value": hit,
            "baseline_name": "runnable(version): cold (validate + plan)", "baseline": baseline,
            "ratio": baseline / hit if hit else None,
            "target": f"< {TARGET_HIT_MICROSECONDS:g} µs", "met": hit < TARGET_HIT_MICROSECONDS,
        })
    graphs.forget_all()
    return rows
