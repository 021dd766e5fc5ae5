"""Hypothesis: random DAGs with random conditional edges, branches, merges, joins and
failing nodes through the reference executor, checked against the flow rules."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from executions.runtime.flow import Settled, edge_taken
from executions.runtime.local import run_workflow
from workflows.domain import ControlNode, ControlType, Workflow

from .helpers import PROPERTY_SETTINGS, workflow

KINDS = ["log", "log", "fail", "branch", "merge", "join", "parallel"]


def _node(node_id: str, kind: str, enabled: bool, condition: str) -> dict[str, Any]:
    base: dict[str, Any] = {"id": node_id, "name": node_id, "enabled": enabled}
    if kind == "log":
        return {**base, "kind": "operator", "operator": "log", "config": {"message": node_id}}
    if kind == "fail":
        # Always fails: the strict template reads a key of a value that has none.
        return {**base, "kind": "operator", "operator": "template",
                "config": {"template": "{{ inputs.variables.missing.deeper }}"}}
    if kind == "branch":
        return {**base, "kind": "control", "control": "branch", "condition": condition}
    return {**base, "kind": "control", "control": kind}


@st.composite
def random_workflows(draw: st.DrawFn) -> Workflow:
    size = draw(st.integers(2, 10))
    kinds = [draw(st.sampled_from(KINDS)) for _ in range(size)]
    nodes = [_node(f"n{position}", kind, draw(st.booleans()) or draw(st.booleans()),
                   draw(st.sampled_from(["true", "false"])))
             for position, kind in enumerate(kinds)]
    edges: list[dict[str, Any]] = []
    for target in range(1, size):
        for source in range(target):
            if draw(st.integers(0, 3)) != 0:
                continue
            edge_id = f"e{len(edges)}"
            kind = draw(st.sampled_from(["data", "control", "conditional"]))
            if kind == "data":
                edges.append({
                    "id": edge_id, "kind": "data", "source": f"n{source}",
                    "source_port": "text" if kinds[source] == "fail" else "value",
                    "target": f"n{target}",
                    "target_port": "variables" if kinds[target] == "fail" else "value"})
            elif kind == "control":
                edges.append({"id": edge_id, "kind": "control", "source": f"n{source}",
                              "target": f"n{target}"})
            else:
                condition = draw(st.sampled_from(["true", "false", "inputs.value is defined"]))
                edges.append({"id": edge_id, "kind": "conditional", "source": f"n{source}",
                              "target": f"n{target}", "condition": condition})
    document = workflow("random", nodes, edges)
    document["settings"] = {"error_policy": "continue"}
    return Workflow.from_document(document)


@PROPERTY_SETTINGS
@given(random_workflows())
def test_every_node_settles_once_by_the_rules(flow: Workflow) -> None:
    result = run_workflow(flow, {})
    # Every node settled exactly once, and the run ended.
    assert sorted(result.order) == sorted(flow.nodes)
    assert result.state in ("completed", "failed")
    assert (result.state == "failed") == any(
        node.state == Settled.FAILED for node in result.nodes.values())
    position = {node_id: index for index, node_id in enumerate(result.order)}
    for node_id, node in flow.nodes.items():
        outcome = result.nodes[node_id]
        incoming = [edge for edge in flow.edges.values() if edge.target == node_id]
        taken = []
        for edge in incoming:
            source = result.nodes[edge.source]
            settlement = edge_taken(edge, source=flow.nodes[edge.source], state=source.state,
                                    outputs=source.outputs, decision=source.decision)
            taken.append(settlement.taken)
        control = node.control if isinstance(node, ControlNode) else None
        ran = outcome.attempts > 0
        if not node.enabled:
            assert (outcome.state, outcome.skip_reason, ran) == ("skipped", "disabled", False)
            continue
        if not incoming:
            should_run = True
        elif control in (ControlType.MERGE, ControlType.JOIN):
            should_run = any(taken)
        else:
            should_run = all(taken)
        assert ran == should_run, (node_id, outcome.state, taken)
        if not should_run:
            assert outcome.state == "skipped"
            assert outcome.skip_reason in ("branch not taken", "upstream skipped",
                                           "upstream failed")
        # Nothing settles before what it waited for (a merge waits for one arrival only).
        if control is not ControlType.MERGE:
            for edge in incoming:
                assert position[edge.source] < position[node_id]
        elif ran and incoming:
            assert any(position[edge.source] < position[node_id]
                       for edge, was_taken in zip(incoming, taken, strict=True) if was_taken)
        # A skip names a dead edge's reason: failed beats skipped beats branch not taken.
        if outcome.skip_reason == "upstream failed":
            assert any(result.nodes[edge.source].state == Settled.FAILED for edge in incoming)
        if outcome.state == "completed" and control is ControlType.JOIN:
            arrived = [result.nodes[edge.source].outputs.get("value")
                       for edge, was_taken in zip(incoming, taken, strict=True)
                       if was_taken and edge.kind == "data" and edge.source_port == "value"
                       and "value" in result.nodes[edge.source].outputs]
            assert outcome.outputs == {"value": arrived}


@PROPERTY_SETTINGS
@given(random_workflows())
def test_the_reference_executor_is_deterministic(flow: Workflow) -> None:
    first = run_workflow(flow, {})
    second = run_workflow(flow, {})
    assert first.order == second.order
    assert first.states() == second.states()
    assert {node_id: node.outputs for node_id, node in first.nodes.items()} == {
        node_id: node.outputs for node_id, node in second.nodes.items()}
