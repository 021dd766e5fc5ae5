"""Progress counts and the remaining-time estimate, which improves as history grows."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from executions import selectors
from executions.domain import ExecutionState, NodeRunState
from executions.domain.progress import estimate_remaining
from executions.models import NodeRun
from workflows import samples as s
from workflows.domain import Workflow

from .conftest import document, start, store

# The true duration of each node type in this test's world, in milliseconds.
TRUE_MS = {"input": 10.0, "template": 100.0, "json_format": 200.0, "output": 10.0}
CHAIN_S = sum(TRUE_MS.values()) / 1000


def chain() -> dict:
    return document("Chain", [
        s.node_input("x", "string"),
        s.node_operator("render", "template", {"template": "{{ inputs.variables }}"}),
        s.node_operator("encode", "json_format", {}),
        s.node_output("out", "string"),
    ], [
        s.data_edge("e1", "x", "value", "render", "variables"),
        s.data_edge("e2", "render", "text", "encode", "value"),
        s.data_edge("e3", "encode", "text", "out", "value"),
    ])


def add_history(personas, workflow, durations: dict[str, float]) -> None:
    """One finished execution whose node runs took these milliseconds, by node type."""
    past = start(personas, workflow, {"x": "y"}, start=False)
    finished = timezone.now()
    for run in NodeRun.objects.filter(execution=past):
        run.state = "completed"
        run.started_at = finished - dt.timedelta(milliseconds=durations[run.node_type])
        run.finished_at = finished
        run.save(update_fields=["state", "started_at", "finished_at"])


def estimate(execution) -> tuple[float | None, str]:
    runs = selectors.node_runs_of(execution)
    progress = selectors.progress_for(execution, runs).to_dict()
    return progress["estimated_remaining_s"], progress["estimate_basis"]


def test_the_estimate_improves_as_history_grows(personas) -> None:
    workflow = store(personas, chain())
    execution = start(personas, workflow, {"x": "y"}, start=False)
    assert estimate(execution) == (None, "no history yet for node types: input, json_format, output, template")
    # One unlucky run of each type: an estimate, far off.
    add_history(personas, workflow, {"input": 60.0, "template": 900.0, "json_format": 20.0, "output": 90.0})
    first, basis = estimate(execution)
    assert first == 1.07
    assert basis == ("median duration of each node type on this platform, along the remaining critical path "
                     "(4 nodes left, 4 node types)")
    errors = [abs(first - CHAIN_S)]
    for _ in range(4):  # typical runs accumulate; the median moves to the typical durations
        add_history(personas, workflow, TRUE_MS)
        value, _ = estimate(execution)
        errors.append(abs(value - CHAIN_S))
    assert errors == sorted(errors, reverse=True)
    assert errors[0] > 0.7 and errors[-1] == 0.0


def test_counts_and_percentage_and_what_a_running_node_has_spent(personas) -> None:
    workflow = store(personas, chain())
    add_history(personas, workflow, TRUE_MS)
    execution = start(personas, workflow, {"x": "y"}, start=False)
    NodeRun.objects.filter(execution=execution, node_id="x").update(state="completed")
    NodeRun.objects.filter(execution=execution, node_id="render").update(
        state="running", started_at=timezone.now() - dt.timedelta(milliseconds=60),
        lease_expires_at=timezone.now() + dt.timedelta(seconds=30), lease_owner="test")
    execution.state = "running"
    execution.save(update_fields=["state"])
    runs = selectors.node_runs_of(execution)
    progress = selectors.progress_for(execution, runs).to_dict()
    assert {key: progress[key] for key in ("total", "completed", "running", "pending", "queued", "failed",
                                           "skipped", "percentage")} == {
        "total": 4, "completed": 1, "running": 1, "pending": 2, "queued": 0, "failed": 0, "skipped": 0,
        "percentage": 25.0}
    # render has at most 40 ms left of its typical 100 (it ran 60 ms, maybe more by now);
    # encode's 200 and out's 10 remain in full.
    assert 0.21 <= progress["estimated_remaining_s"] <= 0.25


def test_a_finished_execution_has_nothing_left() -> None:
    assert estimate_remaining(state=ExecutionState.COMPLETED, workflow=Workflow(id="w", name="w"),
                              node_states={}, node_types={}, typical_ms={}, elapsed_ms={}).seconds == 0.0


def test_the_remaining_critical_path_is_the_longest_branch_left() -> None:
    workflow = Workflow.from_document(document("Two branches", [
        s.node_input("x", "string"),
        s.node_operator("fast", "template", {"template": "a"}),
        s.node_operator("slow", "json_format", {}),
    ], [s.data_edge("e1", "x", "value", "fast", "variables"), s.data_edge("e2", "x", "value", "slow", "value")]))
    found = estimate_remaining(
        state=ExecutionState.RUNNING, workflow=workflow,
        node_states={"x": NodeRunState.COMPLETED, "fast": NodeRunState.PENDING, "slow": NodeRunState.PENDING},
        node_types={"x": "input", "fast": "template", "slow": "json_format"},
        typical_ms={"template": 100.0, "json_format": 700.0}, elapsed_ms={})
    assert found.seconds == 0.7  # the branches run side by side: the longer one decides
