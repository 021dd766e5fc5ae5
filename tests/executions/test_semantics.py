"""Branch, merge, parallel, join and loop through a real worker, checked against the reference
executor, and a property test over generated workflows."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from executions.engine.graphs import compiled
from workflows import samples as s
from workflows.catalog import builtin_catalog
from workflows.domain import validate_document

from .conftest import document, node_states, run, runs, start, store, wait_for
from .oracle import assert_agrees, reference


def branching() -> dict[str, Any]:
    """n > 0 runs `positive` (data edge out of the branch); otherwise the conditional edge runs
    `negative`; a merge takes whichever ran."""
    return document("Branch and merge", [
        s.node_input("n", "integer"),
        s.node_control("route", "branch", condition="inputs.value > 0"),
        s.node_operator("positive", "template", {"template": "positive {{ inputs.variables }}"}),
        s.node_operator("negative", "template", {"template": "not positive"}),
        s.node_control("either", "merge"),
        s.node_output("out", "string"),
    ], [
        s.data_edge("e1", "n", "value", "route", "value"),
        s.data_edge("e2", "route", "value", "positive", "variables"),
        s.conditional_edge("e3", "route", "negative", "inputs.value <= 0"),
        s.data_edge("e4", "positive", "text", "either", "value"),
        s.data_edge("e5", "negative", "text", "either", "value"),
        s.data_edge("e6", "either", "value", "out", "value"),
    ])


@pytest.mark.parametrize(("n", "ran", "skipped", "out"), [
    (5, "positive", "negative", "positive 5"),
    (-1, "negative", "positive", "not positive"),
])
def test_branch_takes_one_path_and_the_merge_runs_on_it(engine, n, ran, skipped, out) -> None:
    execution = run(engine, branching(), {"n": n})
    assert execution.state == "completed"
    assert execution.outputs == {"out": out}
    done = runs(execution)
    assert (done[ran].state, done[skipped].state, done[skipped].skip_reason) == (
        "completed", "skipped", "branch not taken")
    assert done["either"].state == "completed"
    assert_agrees(execution, reference(execution))


def fan_out() -> dict[str, Any]:
    return document("Parallel and join", [
        s.node_input("text", "string"),
        s.node_control("fan", "parallel"),
        s.node_operator("upper", "template", {"template": "{{ inputs.variables | upper }}"}),
        s.node_operator("lower", "template", {"template": "{{ inputs.variables | lower }}"}),
        s.node_operator("slow", "delay", {"milliseconds": 200}),
        s.node_control("gather", "join"),
        s.node_operator("report", "json_format", {}),
        s.node_output("out", "string"),
    ], [
        s.data_edge("e1", "text", "value", "fan", "value"),
        s.data_edge("e2", "fan", "value", "upper", "variables"),
        s.data_edge("e3", "fan", "value", "lower", "variables"),
        s.data_edge("e4", "fan", "value", "slow", "value"),
        s.data_edge("e5", "upper", "text", "gather", "value"),
        s.data_edge("e6", "lower", "text", "gather", "value"),
        s.data_edge("e7", "slow", "value", "gather", "value"),
        s.data_edge("e8", "gather", "value", "report", "value"),
        s.data_edge("e9", "report", "text", "out", "value"),
    ])


def test_parallel_paths_run_and_the_join_waits_for_all_in_edge_order(engine) -> None:
    execution = run(engine, fan_out(), {"text": "MiXeD"})
    assert execution.state == "completed"
    assert execution.outputs == {"out": '["MIXED","mixed","MiXeD"]'}
    done = runs(execution)
    assert done["gather"].output == {"value": ["MIXED", "mixed", "MiXeD"]}
    # The join started only after its slowest path finished.
    assert done["gather"].started_at >= done["slow"].finished_at
    assert done["slow"].queue == "io"
    assert_agrees(execution, reference(execution))


def shout_body() -> dict[str, Any]:
    return document("shout", [
        s.node_input("word", "string"),
        s.node_operator("loud", "template", {"template": "{{ inputs.variables | upper }}!"}),
        s.node_output("result", "string"),
    ], [
        s.data_edge("e1", "word", "value", "loud", "variables"),
        s.data_edge("e2", "loud", "text", "result", "value"),
    ])


def test_a_loop_runs_its_body_per_item_and_keeps_item_order(engine) -> None:
    body = store(engine, shout_body())
    looping = document("Loop", [
        s.node_input("words", "array<string>"),
        s.node_control("each", "loop", over="inputs.value", body="shout"),
        s.node_output("out", "array"),
    ], [
        s.data_edge("e1", "words", "value", "each", "value"),
        s.data_edge("e2", "each", "value", "out", "value"),
    ], max_parallel=2)
    words = ["a", "bb", "ccc", "dddd", "e"]
    execution = run(engine, looping, {"words": words})
    assert execution.state == "completed"
    assert execution.outputs == {"out": ["A!", "BB!", "CCC!", "DDDD!", "E!"]}
    assert runs(execution)["each"].queue == "steps"  # its body is cheap operators only
    body_graph = compiled(body.current_version_id).workflow
    assert_agrees(execution, reference(execution, resolve_workflow=lambda reference_: body_graph))


def test_a_loop_whose_body_is_unknown_fails_clearly(engine) -> None:
    looping = document("Loop", [
        s.node_input("words", "array<string>"),
        s.node_control("each", "loop", over="inputs.value", body="no-such-workflow"),
        s.node_output("out", "array"),
    ], [s.data_edge("e1", "words", "value", "each", "value"), s.data_edge("e2", "each", "value", "out", "value")])
    execution = run(engine, looping, {"words": ["a"]})
    assert execution.state == "failed"
    each = runs(execution)["each"]
    assert each.error["code"] == "unknown_workflow"
    assert execution.error["node_id"] == "each"
    assert node_states(execution)["out"] == "skipped"


def test_max_parallel_bounds_nodes_in_flight(engine) -> None:
    nodes = [s.node_input("go", "string")] + [
        s.node_operator(f"wait{i}", "delay", {"milliseconds": 300}) for i in range(4)]
    edges = [s.data_edge(f"e{i}", "go", "value", f"wait{i}", "value") for i in range(4)]
    execution = run(engine, document("Bounded", nodes, edges, max_parallel=1), {"go": "x"})
    assert execution.state == "completed"
    spans = sorted((run_.started_at, run_.finished_at) for node_id, run_ in runs(execution).items()
                   if node_id.startswith("wait"))
    # One at a time: each started after the previous one finished.
    for (_, finished), (started, _) in pairwise(spans):
        assert started >= finished


# --------------------------------------------------------------------------- property

KINDS = ["log", "log", "fail", "branch", "merge", "join", "parallel"]


def _node(node_id: str, kind: str, condition: str) -> dict[str, Any]:
    if kind == "log":
        return s.node_operator(node_id, "log", {"message": node_id})
    if kind == "fail":
        # Always fails (not retryable): a strict template reads a key its value lacks.
        return s.node_operator(node_id, "template", {"template": "{{ inputs.variables.missing.deeper }}"})
    if kind == "branch":
        return s.node_control(node_id, "branch", condition=condition)
    return s.node_control(node_id, kind)


@st.composite
def valid_workflows(draw: st.DrawFn) -> dict[str, Any]:
    """Small random DAGs of logs, failing nodes, branches, merges, joins and parallels, with data,
    control and conditional edges; merges and joins get two or more incoming edges, parallels two
    or more outgoing (else they become logs), and the result must pass validation."""
    size = draw(st.integers(3, 8))
    kinds = [draw(st.sampled_from(KINDS)) for _ in range(size)]
    edges: list[dict[str, Any]] = []
    for target in range(1, size):
        sources = draw(st.sets(st.integers(0, target - 1), max_size=3))
        for source in sorted(sources):
            edge_id = f"e{len(edges)}"
            kind = draw(st.sampled_from(["data", "data", "control", "conditional"]))
            if kind == "data":
                edges.append(s.data_edge(edge_id, f"n{source}", "text" if kinds[source] == "fail" else "value",
                                         f"n{target}", "variables" if kinds[target] == "fail" else "value"))
            elif kind == "control":
                edges.append(s.control_edge(edge_id, f"n{source}", f"n{target}"))
            else:
                edges.append(s.conditional_edge(edge_id, f"n{source}", f"n{target}",
                                                draw(st.sampled_from(["true", "false"]))))
    incoming = {f"n{i}": sum(edge["target"] == f"n{i}" for edge in edges) for i in range(size)}
    outgoing = {f"n{i}": sum(edge["source"] == f"n{i}" for edge in edges) for i in range(size)}
    for position, kind in enumerate(kinds):
        node_id = f"n{position}"
        if (kind in ("merge", "join") and incoming[node_id] < 2) or (kind == "parallel" and outgoing[node_id] < 2):
            kinds[position] = "log"
    for edge in edges:  # a node that became a log reads `value`
        if edge["kind"] == "data":
            edge["source_port"] = "text" if kinds[int(edge["source"][1:])] == "fail" else "value"
            edge["target_port"] = "variables" if kinds[int(edge["target"][1:])] == "fail" else "value"
    nodes = [_node(f"n{i}", kind, draw(st.sampled_from(["true", "false"]))) for i, kind in enumerate(kinds)]
    built = document("random", nodes, edges, error_policy="continue")
    assume(validate_document(built, catalog=builtin_catalog()).valid)
    return built


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
@given(built=valid_workflows())
def test_the_engine_agrees_with_the_reference_executor_on_random_workflows(engine, built) -> None:
    execution = start(engine, store(engine, built))
    execution = wait_for(execution)
    assert_agrees(execution, reference(execution))
