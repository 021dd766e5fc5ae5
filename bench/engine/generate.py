"""Workflow documents for the engine benchmarks: wide, chain, two-node and layered.

Every task node is a no-op operator (`select` reading a path that is absent, so it
outputs its default): the figures measure the engine, not a node's work.
"""

from __future__ import annotations

from typing import Any


def noop(node_id: str) -> dict[str, Any]:
    return {"id": node_id, "kind": "operator", "operator": "select",
            "config": {"path": "absent", "default": None}}


def data(edge_id: str, source: str, target: str) -> dict[str, Any]:
    return {"id": edge_id, "kind": "data", "source": source, "source_port": "value", "target": target,
            "target_port": "value"}


def control(edge_id: str, source: str, target: str) -> dict[str, Any]:
    return {"id": edge_id, "kind": "control", "source": source, "target": target}


def _document(name: str, nodes: list[dict[str, Any]], edges: list[dict[str, Any]],
              max_parallel: int | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {"name": name, "nodes": nodes, "edges": edges}
    if max_parallel is not None:
        document["settings"] = {"max_parallel": max_parallel}
    return document


def wide(width: int, max_parallel: int = 64) -> dict[str, Any]:
    """One input feeding `width` no-ops side by side."""
    nodes = [{"id": "in", "kind": "input", "data_type": "any"}] + [noop(f"n{i}") for i in range(width)]
    edges = [data(f"e{i}", "in", f"n{i}") for i in range(width)]
    return _document(f"Wide {width}", nodes, edges, max_parallel)


def chain(length: int) -> dict[str, Any]:
    """An input and `length` no-ops one after the other."""
    nodes = [{"id": "in", "kind": "input", "data_type": "any"}] + [noop(f"n{i}") for i in range(length)]
    edges = [data("e0", "in", "n0")] + [data(f"e{i}", f"n{i - 1}", f"n{i}") for i in range(1, length)]
    return _document(f"Chain {length}", nodes, edges)


def two_nodes() -> dict[str, Any]:
    """The smallest execution: an input and an output."""
    return _document("Two nodes", [{"id": "in", "kind": "input", "data_type": "any"},
                                   {"id": "out", "kind": "output", "data_type": "any"}],
                     [data("e0", "in", "out")])


def layered(levels: int, width: int, max_parallel: int = 64) -> dict[str, Any]:
    """`levels` layers of `width` no-ops; each node reads its left parent and waits for the
    right one too (one data and one control edge): levels * width + 1 nodes."""
    nodes: list[dict[str, Any]] = [{"id": "in", "kind": "input", "data_type": "any"}]
    edges: list[dict[str, Any]] = []
    for level in range(levels):
        for index in range(width):
            node_id = f"l{level}n{index}"
            nodes.append(noop(node_id))
            if level == 0:
                edges.append(data(f"e{len(edges)}", "in", node_id))
                continue
            left, right = f"l{level - 1}n{index}", f"l{level - 1}n{(index + 1) % width}"
            edges.append(data(f"e{len(edges)}", left, node_id))
            if right != left:
                edges.append(control(f"e{len(edges)}", right, node_id))
    return _document(f"Layered {levels}x{width}", nodes, edges, max_parallel)
