"""The runtime's in-process reference executor as the oracle the distributed engine must agree with."""

from __future__ import annotations

from typing import Any

from executions.engine.graphs import compiled
from executions.models import Execution
from executions.runtime.local import RunResult, run_workflow
from workflows.domain import ControlNode, ControlType, Workflow

from .conftest import runs


def reference(execution: Execution, *, resolve_workflow: Any = None) -> RunResult:
    """The reference executor's run of the same stored version with the same inputs."""
    graph = compiled(execution.workflow_version_id)
    return run_workflow(graph.workflow, execution.inputs, resolve_workflow=resolve_workflow)


def merge_descendants(workflow: Workflow) -> set[str]:
    """Nodes whose values may differ between correct runs: a merge takes whichever taken path
    arrived first, which is a race when paths run in parallel (its descendants inherit it)."""
    merges = [node_id for node_id, node in workflow.nodes.items()
              if isinstance(node, ControlNode) and node.control is ControlType.MERGE]
    racing: set[str] = set()
    frontier = list(merges)
    while frontier:
        node_id = frontier.pop()
        if node_id in racing:
            continue
        racing.add(node_id)
        frontier.extend(edge.target for edge in workflow.edges.values() if edge.source == node_id)
    return racing


def assert_agrees(execution: Execution, expected: RunResult) -> None:
    """Same execution state; every node in the same state with the same skip reason, error code
    and (away from merge races) the same output; the same execution outputs when no race."""
    graph = compiled(execution.workflow_version_id)
    racing = merge_descendants(graph.workflow)
    actual = runs(execution)
    assert execution.state == expected.state
    states = {node_id: (run_.state, run_.skip_reason or None) for node_id, run_ in actual.items()}
    assert states == {node_id: (node.state, node.skip_reason) for node_id, node in expected.nodes.items()}
    for node_id, node in expected.nodes.items():
        run_ = actual[node_id]
        if node.state == "failed":
            assert run_.error is not None and node.error is not None
            assert run_.error["code"] == node.error["code"], node_id
        if node.state == "completed" and node_id not in racing:
            assert run_.output == node.outputs, node_id
    output_nodes = set(execution.outputs) | set(expected.outputs)
    if not output_nodes & racing:
        assert execution.outputs == expected.outputs
