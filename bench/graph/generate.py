"""Seeded generator of valid wide or deep workflow documents.

Shared by the graph benchmark and by tests at small sizes. Layer 0 holds a
few string inputs; every later node is an operator (``text: string`` and an
optional ``extra: number`` in; ``text: string`` and ``length: integer`` out)
fed by ``edges_per_node`` distinct nodes of the previous layer: one data edge
into ``text``, one from ``length`` into ``extra`` (integer into number,
exercising assignability) and control edges for the rest. ``wide``
workflows have about ten levels; ``deep`` ones have layers of
``edges_per_node + 1`` nodes, so about n / 6 levels.
"""

from __future__ import annotations

import random
from typing import Any, Literal

Shape = Literal["wide", "deep"]
INPUT_COUNT = 5


def node_id(number: int) -> str:
    return f"n{number:05d}"


def _input(number: int) -> dict[str, Any]:
    return {
        "id": node_id(number),
        "kind": "input",
        "name": f"Input {number}",
        "data_type": "string",
        "position": {"x": 0, "y": number * 80},
    }


def _operator(number: int, layer: int, duration_ms: int) -> dict[str, Any]:
    return {
        "id": node_id(number),
        "kind": "operator",
        "name": f"Step {number}",
        "operator": "template",
        "config": {"template": "{{ inputs.text | upper }}"},
        "inputs": [
            {"name": "text", "data_type": "string", "required": True},
            {"name": "extra", "data_type": "number", "required": False},
        ],
        "outputs": [
            {"name": "text", "data_type": "string"},
            {"name": "length", "data_type": "integer"},
        ],
        "position": {"x": layer * 240, "y": number * 80},
        "metadata": {"custom": {"estimated_duration_ms": duration_ms}},
    }


def generate_workflow(
    node_count: int, *, edges_per_node: int = 5, shape: Shape = "wide", seed: int = 0
) -> dict[str, Any]:
    """The inner ``workflow`` object of a valid document with ``node_count`` nodes."""
    if node_count < 1:
        raise ValueError("node_count must be at least 1")
    rng = random.Random(seed)
    input_count = min(INPUT_COUNT, node_count)
    operator_count = node_count - input_count
    width = max(edges_per_node + 1, operator_count // 10) if shape == "wide" else edges_per_node + 1
    nodes: list[dict[str, Any]] = [_input(number) for number in range(input_count)]
    edges: list[dict[str, Any]] = []
    previous_layer = list(range(input_count))
    number = input_count
    layer = 1
    while number < node_count:
        current_layer = list(range(number, min(node_count, number + width)))
        for target in current_layer:
            nodes.append(_operator(target, layer, rng.randint(1, 100)))
            sources = rng.sample(previous_layer, min(edges_per_node, len(previous_layer)))
            for position, source in enumerate(sources):
                edge_id = f"e{len(edges) + 1}"
                if position == 0:
                    source_port = "value" if layer == 1 else "text"
                    edges.append(_data_edge(edge_id, source, source_port, target, "text"))
                elif position == 1 and layer > 1:
                    edges.append(_data_edge(edge_id, source, "length", target, "extra"))
                else:
                    edges.append(
                        {
                            "id": edge_id,
                            "kind": "control",
                            "source": node_id(source),
                            "target": node_id(target),
                            "priority": position,
                        }
                    )
        previous_layer = current_layer
        number += len(current_layer)
        layer += 1
    return {
        "id": f"00000000-0000-4000-8000-{seed:012d}",
        "name": f"Generated {shape} workflow of {node_count} nodes",
        "description": "Seeded benchmark workflow",
        "version": "1.0.0",
        "metadata": {"author": "bench", "tags": ["generated", shape]},
        "settings": {"error_policy": "stop", "max_parallel": 8},
        "nodes": nodes,
        "edges": edges,
    }


def _data_edge(
    edge_id: str, source: int, source_port: str, target: int, target_port: str
) -> dict[str, Any]:
    return {
        "id": edge_id,
        "kind": "data",
        "source": node_id(source),
        "source_port": source_port,
        "target": node_id(target),
        "target_port": target_port,
    }
