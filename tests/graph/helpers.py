"""Small document builders and Hypothesis settings shared by the graph tests."""

import os
from typing import Any

from hypothesis import settings

# Profiles are registered in conftest.py, which pytest imports first.
PROPERTY_SETTINGS = settings.get_profile(
    "graph-thorough" if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else "graph-default"
)


def input_node(node_id: str, data_type: str = "string", **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "kind": "input", "name": node_id, "data_type": data_type, **extra}


def output_node(node_id: str, data_type: str = "any", **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "kind": "output", "name": node_id, "data_type": data_type, **extra}


def operator_node(
    node_id: str,
    operator: str = "template",
    inputs: dict[str, str] | None = None,
    outputs: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": node_id,
        "kind": "operator",
        "name": node_id,
        "operator": operator,
        "inputs": [{"name": name, "data_type": kind} for name, kind in (inputs or {}).items()],
        "outputs": [{"name": name, "data_type": kind} for name, kind in (outputs or {}).items()],
        **extra,
    }


def control_node(node_id: str, control: str, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "kind": "control", "name": node_id, "control": control, **extra}


def data_edge(
    edge_id: str,
    source: str,
    target: str,
    source_port: str = "value",
    target_port: str = "value",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": edge_id,
        "kind": "data",
        "source": source,
        "source_port": source_port,
        "target": target,
        "target_port": target_port,
        **extra,
    }


def control_edge(edge_id: str, source: str, target: str, priority: int = 0) -> dict[str, Any]:
    return {
        "id": edge_id,
        "kind": "control",
        "source": source,
        "target": target,
        "priority": priority,
    }


def conditional_edge(
    edge_id: str, source: str, target: str, condition: str, label: str | None = None
) -> dict[str, Any]:
    return {
        "id": edge_id,
        "kind": "conditional",
        "source": source,
        "target": target,
        "condition": condition,
        "label": label,
    }


def workflow_document(
    nodes: list[Any], edges: list[Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {"id": "wf-1", "name": "Test workflow", "nodes": nodes, "edges": edges or [], **extra}


def chain_document() -> dict[str, Any]:
    """ticket(string) → shout(text: string → text: string) → reply(string): valid."""
    return workflow_document(
        [
            input_node("ticket"),
            operator_node("shout", inputs={"text": "string"}, outputs={"text": "string"}),
            output_node("reply", "string"),
        ],
        [
            data_edge("e1", "ticket", "shout", target_port="text"),
            data_edge("e2", "shout", "reply", source_port="text"),
        ],
    )


def graph_document(node_ids: list[str], pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Port-less operators joined by control edges: a pure graph for algorithm tests."""
    return workflow_document(
        [operator_node(node_id, "noop") for node_id in node_ids],
        [
            control_edge(f"e{number}", source, target)
            for number, (source, target) in enumerate(pairs)
        ],
    )
