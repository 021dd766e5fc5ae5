"""Builders shared by the runtime tests: validated workflows and node contexts."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings

from executions.runtime.contract import NodeContext, SilentReporter
from workflows.catalog import builtin_catalog
from workflows.domain import Node, Workflow, validate_document
from workflows.samples import (
    conditional_edge,
    control_edge,
    data_edge,
    node_control,
    node_input,
    node_model,
    node_operator,
    node_output,
    workflow,
)

__all__ = [
    "PROPERTY_SETTINGS",
    "build",
    "conditional_edge",
    "context_for",
    "control_edge",
    "data_edge",
    "node_control",
    "node_input",
    "node_model",
    "node_operator",
    "node_output",
    "operator",
    "workflow",
]

PROPERTY_SETTINGS = settings(
    max_examples=1_000 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def build(name: str, nodes: list[dict[str, Any]], edges: list[dict[str, Any]],
          **settings_fields: Any) -> Workflow:
    """A workflow that passed validation against the built-in catalog."""
    document = workflow(name, nodes, edges)
    if settings_fields:
        document["settings"] = settings_fields
    return from_document(document)


def from_document(document: dict[str, Any]) -> Workflow:
    result = validate_document(document, catalog=builtin_catalog())
    assert result.valid, [issue.message for issue in result.errors]
    assert result.workflow is not None
    return result.workflow


def operator(node_id: str, name: str, config: dict[str, Any], **fields: Any) -> Node:
    """A lone operator node read from its document (ports: the catalog's defaults)."""
    return node_of({**node_operator(node_id, name, config), **fields})


def node_of(document: dict[str, Any]) -> Node:
    """One node read from its document, without the workflow-level checks."""
    built = Workflow.from_document(workflow("one node", [document], []))
    return built.nodes[document["id"]]


def context_for(node: Node, inputs: dict[str, Any] | None = None, **fields: Any) -> NodeContext:
    fields.setdefault("reporter", SilentReporter())
    return NodeContext(execution_id="test-execution", node=node, inputs=inputs or {}, **fields)
