"""Input, output and control nodes through run_node; the registry's queues and cheapness."""

from __future__ import annotations

import pytest

from executions.runtime.contract import InputRequired, NodeFailure
from executions.runtime.registry import (
    QUEUE_IO,
    QUEUE_MODELS,
    QUEUE_STEPS,
    is_cheap,
    queue_for,
    run_node,
)
from workflows.domain import Workflow

from .helpers import (
    build,
    context_for,
    data_edge,
    node_control,
    node_input,
    node_model,
    node_of,
    node_operator,
    node_output,
    operator,
)


def test_input_node_outputs_the_execution_input() -> None:
    node = node_of(node_input("name"))
    outcome = run_node(context_for(node, execution_inputs={"name": "Ada"}))
    assert dict(outcome.outputs) == {"value": "Ada"}
    assert outcome.decision is None


def test_interactive_input_raises_input_required() -> None:
    node = node_of(node_input("topic", interactive=True, prompt="Which topic?"))
    with pytest.raises(InputRequired) as caught:
        run_node(context_for(node))
    assert caught.value.prompt == "Which topic?"


def test_input_node_refuses_a_value_of_the_wrong_type() -> None:
    node = node_of(node_input("age", "integer"))
    with pytest.raises(NodeFailure) as caught:
        run_node(context_for(node, execution_inputs={"age": "forty"}))
    assert caught.value.code == "invalid_input"


def test_output_node_passes_its_value_through() -> None:
    node = node_of(node_output("reply", "string"))
    assert dict(run_node(context_for(node, {"value": "hi"})).outputs) == {"value": "hi"}


def test_output_node_value_is_checked_against_its_type() -> None:
    node = node_of(node_output("reply", "string"))
    with pytest.raises(NodeFailure) as caught:
        run_node(context_for(node, {"value": 3}))
    assert caught.value.code == "output_mismatch"


@pytest.mark.parametrize(("value", "decision"), [(5, True), (0, False), (-2, False)])
def test_branch_forwards_its_value_and_reports_its_condition(value: int, decision: bool) -> None:
    node = node_of(node_control("route", "branch", condition="inputs.value > 0"))
    outcome = run_node(context_for(node, {"value": value}))
    assert (dict(outcome.outputs), outcome.decision) == ({"value": value}, decision)


def test_branch_condition_reads_execution_facts() -> None:
    node = node_of(node_control("route", "branch", condition="execution.trigger == 'api'"))
    outcome = run_node(context_for(node, {"value": None}, execution={"trigger": "api"}))
    assert outcome.decision is True


def test_branch_whose_condition_fails_fails_its_attempt() -> None:
    node = node_of(node_control("route", "branch", condition="inputs.value.score > 1"))
    with pytest.raises(NodeFailure) as caught:
        run_node(context_for(node, {"value": {}}))
    assert (caught.value.code, caught.value.retryable) == ("expression_failed", False)
    assert "branch 'route'" in caught.value.message


@pytest.mark.parametrize("control", ["merge", "parallel"])
def test_merge_and_parallel_forward_their_value(control: str) -> None:
    node = node_of(node_control("n", control))
    assert dict(run_node(context_for(node, {"value": [1, 2]})).outputs) == {"value": [1, 2]}
    assert dict(run_node(context_for(node, {})).outputs) == {"value": None}


@pytest.mark.parametrize(("arrived", "expected"), [
    (["a", "b"], ["a", "b"]),
    (["only"], ["only"]),
    ([None], [None]),
    (None, []),
])
def test_join_outputs_the_list_of_arrivals(arrived: object, expected: list[object]) -> None:
    node = node_of(node_control("j", "join"))
    assert dict(run_node(context_for(node, {"value": arrived})).outputs) == {"value": expected}


def test_an_unknown_operator_is_refused_without_retry() -> None:
    node = operator("mystery", "teleport", {})
    with pytest.raises(NodeFailure) as caught:
        run_node(context_for(node))
    assert (caught.value.code, caught.value.retryable) == ("unknown_node_type", False)


def test_a_model_without_implementation_is_refused_without_retry() -> None:
    node = node_of(node_model("answer", "openai/gpt-4o-mini"))
    with pytest.raises(NodeFailure) as caught:
        run_node(context_for(node, {"prompt": "hi"}))
    assert (caught.value.code, caught.value.retryable) == ("model_unavailable", False)
    assert "local/echo" in caught.value.message


@pytest.mark.parametrize(("document", "queue", "cheap"), [
    (node_input("a"), QUEUE_STEPS, True),
    (node_output("a"), QUEUE_STEPS, True),
    (node_control("a", "branch", condition="true"), QUEUE_STEPS, True),
    (node_control("a", "merge"), QUEUE_STEPS, True),
    (node_control("a", "parallel"), QUEUE_STEPS, True),
    (node_control("a", "join"), QUEUE_STEPS, True),
    (node_model("a", "openai/gpt-4o"), QUEUE_MODELS, False),
    (node_operator("a", "template", {"template": "x"}), QUEUE_STEPS, True),
    (node_operator("a", "json_parse", {}), QUEUE_STEPS, True),
    (node_operator("a", "json_format", {}), QUEUE_STEPS, True),
    (node_operator("a", "select", {"path": "a"}), QUEUE_STEPS, True),
    (node_operator("a", "map", {"expr": "item"}), QUEUE_STEPS, True),
    (node_operator("a", "filter", {"expr": "item"}), QUEUE_STEPS, True),
    (node_operator("a", "reduce", {"reducer": "sum"}), QUEUE_STEPS, True),
    (node_operator("a", "merge_objects", {}), QUEUE_STEPS, True),
    (node_operator("a", "log", {}), QUEUE_STEPS, True),
    (node_operator("a", "http_request", {"method": "GET", "url": "http://x"}), QUEUE_IO, False),
    (node_operator("a", "delay", {"milliseconds": 1}), QUEUE_IO, False),
    (node_model("a", "local/echo"), QUEUE_MODELS, False),
    (node_operator("a", "teleport", {}), QUEUE_STEPS, False),
], ids=lambda value: value.get("operator") or value.get("control") or value.get("model_id")
   or value["kind"] if isinstance(value, dict) else str(value))
def test_queue_and_cheapness(document: dict[str, object], queue: str, cheap: bool) -> None:
    node = node_of(document)
    assert (queue_for(node), is_cheap(node)) == (queue, cheap)


def _bodies() -> dict[str, Workflow]:
    cheap = build("cheap body", [node_input("x", "array"), node_operator("up", "map", {"expr": "item"}),
                                 node_output("y")],
                  [data_edge("e1", "x", "value", "up", "items"),
                   data_edge("e2", "up", "items", "y", "value")])
    slow = build("slow body", [node_input("x"), node_operator("wait", "delay", {"milliseconds": 1}),
                               node_output("y")],
                 [data_edge("e1", "x", "value", "wait", "value"),
                  data_edge("e2", "wait", "value", "y", "value")])
    nested = build("nested body", [node_input("x"),
                                   node_control("inner", "loop", over="inputs.value", body="slow"),
                                   node_output("y")],
                   [data_edge("e1", "x", "value", "inner", "value"),
                    data_edge("e2", "inner", "value", "y", "value")])
    return {"cheap": cheap, "slow": slow, "nested": nested}


@pytest.mark.parametrize(("body", "queue"), [
    ("cheap", QUEUE_STEPS), ("slow", QUEUE_IO), ("nested", QUEUE_IO), ("missing", QUEUE_IO)])
def test_a_loop_runs_on_io_when_its_body_waits(body: str, queue: str) -> None:
    bodies = _bodies()
    loop = node_of(node_control("each", "loop", over="inputs.value", body=body))
    assert queue_for(loop, resolve_workflow=bodies.__getitem__) == queue
    assert is_cheap(loop) is False


def test_a_loop_without_a_resolver_is_queued_on_io() -> None:
    loop = node_of(node_control("each", "loop", over="inputs.value", body="cheap"))
    assert queue_for(loop) == QUEUE_IO
