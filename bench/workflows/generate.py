"""Seeded layered workflows valid against the built-in catalog (shared by the layout benchmark and tests).

Five object inputs, then layers of `merge_objects` operators, each fed by two
distinct nodes of the layer before (into `left` and `right`).
"""

from __future__ import annotations

import random
from typing import Any

from workflows import samples


def layered_document(node_count: int, *, width: int = 19, seed: int = 0) -> dict[str, Any]:
    rng = random.Random(seed)
    nodes = [samples.node_input(f"n{number:05d}", "object") for number in range(min(5, node_count))]
    edges: list[dict[str, Any]] = []
    previous = [node["id"] for node in nodes]
    while len(nodes) < node_count:
        layer = []
        for _ in range(min(width, node_count - len(nodes))):
            node_id = f"n{len(nodes):05d}"
            nodes.append(samples.node_operator(node_id, "merge_objects", {}, name=f"Step {len(nodes)}"))
            for port, source in zip(("left", "right"), rng.sample(previous, 2), strict=True):
                edges.append(samples.data_edge(f"e{len(edges) + 1}", source, "value", node_id, port))
            layer.append(node_id)
        previous = layer
    return samples.workflow(f"Layered workflow of {node_count} nodes", nodes, edges)
