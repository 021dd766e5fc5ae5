"""Benchmark: laying out a workflow graph for the web UI's SVG, beside networkx.

Ours: `graph_view.layout` with the plan's execution levels (what the workflow
page does after validation): columns by level, two barycentre sweeps, edge
paths, labels. Baseline: networkx's `topological_generations` placed on a
grid — positions only, no ordering sweeps, no edge routing — the least a
networkx-based page would need. Target: a 200-node page lays out
in under 20 ms. Run with `python -m bench.workflows`.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import networkx

from bench.workflows.generate import layered_document
from workflows.domain import Workflow, plan_workflow
from workflows.graph_view import layout

AREA = "workflows"
TARGET_MS_AT_200 = 20.0


def _timed(function: Callable[[], Any], repetitions: int) -> list[float]:
    samples = []
    gc.collect()
    for _ in range(repetitions):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _networkx_layout(document: dict[str, Any]) -> dict[Any, Any]:
    graph = networkx.DiGraph()
    graph.add_nodes_from(node["id"] for node in document["nodes"])
    graph.add_edges_from((edge["source"], edge["target"]) for edge in document["edges"])
    # multipartite_layout needs numpy, which the stack does not have: place the generations on a grid.
    return {node_id: (level, row)
            for level, generation in enumerate(networkx.topological_generations(graph))
            for row, node_id in enumerate(generation)}


def run(quick: bool = False) -> list[dict[str, Any]]:
    sizes = [200] if quick else [200, 1_000, 5_000]
    repetitions = 3 if quick else 15
    rows = []
    for size in sizes:
        document = layered_document(size, width=max(19, size // 10), seed=size)
        levels = plan_workflow(Workflow.from_document(document)).execution_levels
        ours = _timed(lambda document=document, levels=levels: layout(document, levels=levels), repetitions)
        baseline = _timed(lambda document=document: _networkx_layout(document), repetitions)
        value, baseline_value = statistics.median(ours), statistics.median(baseline)
        rows.append({
            "area": AREA, "name": "svg layout (levels, ordering, edge paths)", "size": size, "unit": "ms",
            "value": value, "p50": value, "p95": sorted(ours)[int(0.95 * (len(ours) - 1))], "max": max(ours),
            "baseline_name": "networkx topological_generations grid (positions only)", "baseline": baseline_value,
            "ratio": baseline_value / value if value else None,
            "target": f"< {TARGET_MS_AT_200:g} ms" if size == 200 else None,
            "met": value < TARGET_MS_AT_200 if size == 200 else None,
        })
    return rows


if __name__ == "__main__":
    from bench.run import format_table

    print(format_table(run()))
