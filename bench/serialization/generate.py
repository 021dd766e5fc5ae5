"""Seeded generators of realistic workflow documents (workflow-format.md).

Used by the serialization benchmark and, at small sizes, by the tests. The
same ``(node_count, seed)`` always gives the same document.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

_VERBS = [
    "Classify",
    "Summarize",
    "Translate",
    "Extract",
    "Score",
    "Route",
    "Draft",
    "Check",
    "Enrich",
    "Normalize",
    "Merge",
    "Filter",
    "Rank",
    "Validate",
    "Tag",
    "Escalate",
]
_OBJECTS = [
    "ticket",
    "reply",
    "invoice",
    "customer",
    "order",
    "document",
    "email",
    "lead",
    "contract",
    "review",
    "transcript",
    "report",
    "claim",
    "article",
    "message",
]
_MODELS = [
    ("gpt-4o", "2024-08-06"),
    ("claude-3-5-sonnet", "20241022"),
    ("llama-3.1-70b", "instruct"),
    ("mistral-large", "2407"),
    ("text-embedding-3", "small"),
]
_OPERATORS = [
    "template",
    "json_parse",
    "regex_extract",
    "http_request",
    "python_expression",
    "csv_parse",
    "dedupe",
    "sort",
]
_CONTROLS = ["branch", "merge", "loop", "parallel", "join"]
_DATA_TYPES = [
    "string",
    "number",
    "integer",
    "boolean",
    "object",
    "array",
    "array<string>",
    "json",
    "any",
]
_TRANSFORMS = ["map", "filter", "reduce", "flatten", "custom"]


def _port(
    name: str, data_type: str, *, required: bool = True, default: Any = None
) -> dict[str, Any]:
    return {"name": name, "data_type": data_type, "required": required, "default": default}


def _node_metadata(rng: random.Random) -> dict[str, Any]:
    documentation = ""
    if rng.random() < 0.3:
        documentation = "Keeps the reply short and cites the ticket number when it has one."
    return {"documentation": documentation, "examples": [], "warnings": [], "custom": {}}


def generate_workflow(node_count: int, *, seed: int = 0) -> dict[str, Any]:
    """A workflow document with ``node_count`` nodes and about 1.3 edges per node."""
    rng = random.Random(seed)
    nodes: list[dict[str, Any]] = []
    outputs_by_node: dict[str, list[str]] = {}
    inputs_by_node: dict[str, list[str]] = {}
    for index in range(node_count):
        verb, subject = rng.choice(_VERBS), rng.choice(_OBJECTS)
        node_id = f"{verb.lower()}_{subject}_{index}"
        common: dict[str, Any] = {
            "id": node_id,
            "name": f"{verb} {subject}",
            "description": f"{verb} the incoming {subject} and pass the result on",
            "position": {"x": float((index % 20) * 220), "y": float((index // 20) * 140)},
            "enabled": rng.random() > 0.05,
            "metadata": _node_metadata(rng),
        }
        if index < max(1, node_count // 10):
            kind = "input"
        elif index >= node_count - max(1, node_count // 20):
            kind = "output"
        else:
            kind = rng.choices(["instrument", "operator", "control"], weights=[45, 40, 15])[0]
        common["kind"] = kind
        if kind == "input":
            data_type = rng.choice(_DATA_TYPES)
            node = {
                **common,
                "data_type": data_type,
                "required": True,
                "default": None,
                "interactive": rng.random() < 0.3,
                "prompt": f"Paste the {subject} here",
            }
            outputs_by_node[node_id] = ["value"]
            inputs_by_node[node_id] = []
        elif kind == "output":
            node = {**common, "data_type": rng.choice(_DATA_TYPES)}
            outputs_by_node[node_id] = []
            inputs_by_node[node_id] = ["value"]
        elif kind == "instrument":
            model_id, model_version = rng.choice(_MODELS)
            node = {
                **common,
                "model_id": model_id,
                "model_version": model_version,
                "config": {
                    "temperature": round(rng.uniform(0, 1), 2),
                    "max_tokens": rng.choice([256, 512, 1024, 2048]),
                    "prompt": f"{verb} this {subject}: {{{{ inputs.text }}}}",
                },
                "inputs": [_port("text", "string"), _port("context", "object", required=False)],
                "outputs": [_port("result", "string"), _port("confidence", "number")],
                "retry": {"max_attempts": 3, "delay_ms": 500, "backoff_multiplier": 2.0},
                "timeout_s": rng.choice([30, 60, 120]),
            }
            outputs_by_node[node_id] = ["result", "confidence"]
            inputs_by_node[node_id] = ["text", "context"]
        elif kind == "operator":
            operator = rng.choice(_OPERATORS)
            node = {
                **common,
                "operator": operator,
                "config": {"template": f"{{{{ inputs.value }}}} ({subject})"}
                if operator == "template"
                else {"strict": rng.random() < 0.5},
                "inputs": [_port("value", "any")],
                "outputs": [_port("value", "any")],
                "retry": {"max_attempts": 1, "delay_ms": 0, "backoff_multiplier": 1.0},
                "timeout_s": 30,
            }
            outputs_by_node[node_id] = ["value"]
            inputs_by_node[node_id] = ["value"]
        else:
            control = rng.choice(_CONTROLS)
            node = {
                **common,
                "control": control,
            }
            if control == "branch":
                node["condition"] = "inputs.confidence < 0.6"
            if control == "loop":
                node["over"] = "inputs.items"
                node["body"] = f"{subject}-step-workflow"
            outputs_by_node[node_id] = ["value"]
            inputs_by_node[node_id] = ["value"]
        nodes.append(node)

    edges: list[dict[str, Any]] = []
    node_ids = [node["id"] for node in nodes]
    for target_index in range(1, node_count):
        target = node_ids[target_index]
        for _ in range(1 if rng.random() < 0.7 else 2):
            source = node_ids[rng.randrange(max(0, target_index - 30), target_index)]
            edge_number = len(edges) + 1
            if outputs_by_node[source] and inputs_by_node[target]:
                edge: dict[str, Any] = {
                    "id": f"e{edge_number}",
                    "kind": "data",
                    "source": source,
                    "source_port": rng.choice(outputs_by_node[source]),
                    "target": target,
                    "target_port": rng.choice(inputs_by_node[target]),
                }
                if rng.random() < 0.15:
                    edge["transform"] = {
                        "type": rng.choice(_TRANSFORMS),
                        "config": {"expr": "item | lower"},
                    }
            elif rng.random() < 0.5:
                edge = {
                    "id": f"e{edge_number}",
                    "kind": "control",
                    "source": source,
                    "target": target,
                    "priority": rng.randrange(3),
                }
            else:
                edge = {
                    "id": f"e{edge_number}",
                    "kind": "conditional",
                    "source": source,
                    "target": target,
                    "condition": "inputs.confidence < 0.6",
                    "label": "unsure",
                }
            edges.append(edge)

    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "name": f"Generated workflow of {node_count} nodes",
        "description": "A seeded workflow for benchmarks and tests",
        "version": "1.2.0",
        "metadata": {
            "author": "bench",
            "tags": ["generated", "benchmark"],
            "category": "testing",
            "icon": "inbox",
            "color": "#3b82f6",
            "custom": {},
        },
        "settings": {"error_policy": "stop", "max_parallel": 8, "timeout_s": 3600},
        "nodes": nodes,
        "edges": edges,
    }


def generate_envelope(node_count: int, *, seed: int = 0) -> dict[str, Any]:
    return {
        "schema_version": "1.0.0",
        "created_with": "symphony 0.1.0",
        "workflow": generate_workflow(node_count, seed=seed),
    }
