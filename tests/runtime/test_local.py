"""The reference executor: data flow, skips, error policies, retries, waiting for input,
cancellation and timeouts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from executions.runtime import registry
from executions.runtime.contract import NodeContext, NodeFailure, NodeOutcome, SilentReporter
from executions.runtime.local import run_workflow
from workflows.domain import Workflow

from .helpers import (
    build,
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


def test_a_linear_workflow_completes_with_outputs_keyed_by_output_node() -> None:
    flow = build("linear", [
        node_input("name"),
        node_operator("greet", "template", {"template": "Hello {{ inputs.variables }}!"}),
        node_model("answer", "local/echo", {}),
        node_output("reply", "string"),
    ], [
        data_edge("e1", "name", "value", "greet", "variables"),
        data_edge("e2", "greet", "text", "answer", "prompt"),
        data_edge("e3", "answer", "text", "reply", "value"),
    ])
    result = run_workflow(flow, {"name": "Ada"})
    assert result.state == "completed"
    assert result.error is None
    assert result.outputs == {"reply": "Hello Ada!"}
    assert result.order == ["name", "greet", "answer", "reply"]
    assert result.nodes["answer"].usage == {"model": "local/echo", "tokens_in": 2,
                                            "tokens_out": 2, "cost": 0}
    assert {node_id: node.attempts for node_id, node in result.nodes.items()} == dict.fromkeys(
        ["name", "greet", "answer", "reply"], 1)


def branching(value_type: str = "number") -> Workflow:
    return build("branching", [
        node_input("n", value_type),
        node_control("route", "branch", condition="inputs.value > 0"),
        node_operator("positive", "log", {"message": "positive"}),
        node_operator("negative", "log", {"message": "negative"}),
        node_operator("after_positive", "log", {}),
        node_control("either", "merge"),
        node_output("out"),
        node_output("direct"),
    ], [
        data_edge("e1", "n", "value", "route", "value"),
        data_edge("e2", "route", "value", "positive", "value"),
        conditional_edge("e3", "route", "negative", "inputs.value <= 0"),
        data_edge("e4", "positive", "value", "after_positive", "value"),
        data_edge("e5", "after_positive", "value", "either", "value"),
        data_edge("e6", "negative", "value", "either", "value"),
        data_edge("e7", "either", "value", "out", "value"),
        data_edge("e8", "positive", "value", "direct", "value"),
        # A conditional edge carries no data: the other path reads the input itself.
        data_edge("e9", "n", "value", "negative", "value"),
    ])


def test_a_true_branch_takes_its_data_edges_and_skips_the_other_path() -> None:
    result = run_workflow(branching(), {"n": 5})
    assert result.state == "completed"
    assert result.states() == {
        "n": "completed", "route": "completed", "positive": "completed",
        "negative": "skipped", "after_positive": "completed", "either": "completed",
        "out": "completed", "direct": "completed"}
    assert result.nodes["route"].decision is True
    assert result.nodes["negative"].skip_reason == "branch not taken"
    assert result.outputs == {"out": 5, "direct": 5}
    assert result.nodes["positive"].logs == [("info", "positive")]
    assert result.nodes["negative"].logs == []


def test_a_false_branch_kills_its_data_edges_and_skipping_propagates_to_a_merge() -> None:
    result = run_workflow(branching(), {"n": -3})
    assert result.state == "completed"
    assert result.nodes["route"].decision is False
    assert (result.nodes["positive"].state, result.nodes["positive"].skip_reason) == (
        "skipped", "branch not taken")
    assert (result.nodes["after_positive"].state,
            result.nodes["after_positive"].skip_reason) == ("skipped", "upstream skipped")
    assert (result.nodes["direct"].state, result.nodes["direct"].skip_reason) == (
        "skipped", "upstream skipped")
    assert result.nodes["negative"].state == "completed"
    assert result.nodes["either"].state == "completed"
    assert result.outputs == {"out": -3}


def test_a_merge_takes_the_first_arrival_and_ignores_later_ones() -> None:
    flow = build("race", [
        node_input("a"), node_input("b"), node_control("first", "merge"), node_output("out"),
    ], [
        data_edge("e1", "b", "value", "first", "value"),
        data_edge("e2", "a", "value", "first", "value"),
        data_edge("e3", "first", "value", "out", "value"),
    ])
    result = run_workflow(flow, {"a": "from a", "b": "from b"})
    # Both inputs start at once; a is first in document order, so it arrives first.
    assert result.outputs == {"out": "from a"}
    assert result.nodes["first"].state == "completed"
    assert result.nodes["b"].state == "completed"


def gathering() -> Workflow:
    return build("gather", [
        node_input("n", "number"),
        node_control("fan", "parallel"),
        node_operator("one", "log", {}),
        node_control("gate", "branch", condition="inputs.value > 10"),
        node_operator("two", "log", {}),
        node_operator("always", "log", {}),
        node_control("all", "join"),
        node_output("out"),
    ], [
        conditional_edge("e0", "gate", "always", "true"),
        data_edge("e1", "n", "value", "fan", "value"),
        data_edge("e2", "fan", "value", "one", "value"),
        data_edge("e3", "fan", "value", "gate", "value"),
        data_edge("e4", "gate", "value", "two", "value"),
        data_edge("e5", "two", "value", "all", "value"),
        data_edge("e6", "one", "value", "all", "value"),
        data_edge("e7", "all", "value", "out", "value"),
    ])


def test_join_lists_every_arrival_in_edge_order() -> None:
    result = run_workflow(gathering(), {"n": 11})
    assert result.outputs == {"out": [11, 11]}
    assert result.order.index("all") > result.order.index("two")


def test_join_runs_with_the_paths_that_arrived_when_others_died() -> None:
    result = run_workflow(gathering(), {"n": 1})
    assert result.nodes["two"].skip_reason == "branch not taken"
    assert result.nodes["all"].state == "completed"
    assert result.outputs == {"out": [1]}


def test_a_join_whose_paths_all_died_is_skipped() -> None:
    flow = build("dead join", [
        node_input("n", "number"),
        node_control("gate", "branch", condition="false"),
        node_operator("left", "log", {}), node_operator("right", "log", {}),
        node_operator("side", "log", {}), node_control("all", "join"), node_output("out"),
    ], [
        conditional_edge("e0", "gate", "side", "true"),
        data_edge("e1", "n", "value", "gate", "value"),
        data_edge("e2", "gate", "value", "left", "value"),
        data_edge("e3", "gate", "value", "right", "value"),
        data_edge("e4", "left", "value", "all", "value"),
        data_edge("e5", "right", "value", "all", "value"),
        data_edge("e6", "all", "value", "out", "value"),
    ])
    result = run_workflow(flow, {"n": 1})
    assert result.state == "completed"
    assert (result.nodes["all"].state, result.nodes["all"].skip_reason) == (
        "skipped", "upstream skipped")
    assert result.outputs == {}


def test_a_disabled_node_is_skipped_and_its_successors_too() -> None:
    document = workflow("disabled", [
        node_input("n"), {**node_operator("off", "log", {}), "enabled": False},
        node_operator("after", "log", {}), node_output("out"), node_output("kept"),
    ], [
        data_edge("e1", "n", "value", "off", "value"),
        data_edge("e2", "off", "value", "after", "value"),
        data_edge("e3", "after", "value", "out", "value"),
        data_edge("e4", "n", "value", "kept", "value"),
    ])
    result = run_workflow(Workflow.from_document(document), {"n": "x"})
    assert result.state == "completed"
    assert (result.nodes["off"].state, result.nodes["off"].skip_reason) == ("skipped",
                                                                            "disabled")
    assert result.nodes["after"].skip_reason == "upstream skipped"
    assert result.outputs == {"kept": "x"}


def test_edge_transforms_apply_before_the_target_runs() -> None:
    document = workflow("transforms", [node_input("words", "array<string>"), node_output("out")],
                        [data_edge("e1", "words", "value", "out", "value")])
    document["edges"][0]["transform"] = {"type": "map", "config": {"expr": "item | upper"}}
    result = run_workflow(Workflow.from_document(document), {"words": ["a", "b"]})
    assert result.outputs == {"out": ["A", "B"]}


# ------------------------------------------------------------------ inputs


def test_invalid_inputs_fail_before_any_node_runs() -> None:
    result = run_workflow(branching(), {"n": "five"})
    assert result.state == "failed"
    assert result.error is not None and result.error["code"] == "invalid_inputs"
    assert result.error["details"]["problems"][0]["node_id"] == "n"
    assert set(result.states().values()) == {"pending"}
    assert result.order == []


def test_an_interactive_input_makes_the_run_wait_with_its_prompt() -> None:
    flow = build("ask", [node_input("topic", interactive=True, prompt="Which topic?"),
                         node_input("other"), node_output("out"), node_output("echo")], [
        data_edge("e1", "topic", "value", "out", "value"),
        data_edge("e2", "other", "value", "echo", "value"),
    ])
    waiting = run_workflow(flow, {"other": "x"})
    assert waiting.state == "waiting_for_input"
    assert waiting.waiting_for == {"topic": "Which topic?"}
    assert waiting.nodes["topic"].state == "waiting"
    assert waiting.nodes["out"].state == "pending"
    answered = run_workflow(flow, {"topic": "bees", "other": "x"})
    assert (answered.state, answered.outputs) == ("completed", {"out": "bees", "echo": "x"})


# ------------------------------------------------------------------ failures


def failing(policy: str) -> Workflow:
    return build("failing", [
        node_input("text"),
        node_operator("parse", "json_parse", {}),
        node_operator("after", "log", {}),
        node_operator("independent", "log", {}),
        node_operator("later", "log", {}),
        node_output("parsed"), node_output("side"),
    ], [
        data_edge("e1", "text", "value", "parse", "text"),
        data_edge("e2", "parse", "value", "after", "value"),
        data_edge("e3", "after", "value", "parsed", "value"),
        data_edge("e4", "text", "value", "independent", "value"),
        data_edge("e5", "independent", "value", "later", "value"),
        data_edge("e6", "later", "value", "side", "value"),
    ], error_policy=policy)


def test_policy_stop_fails_the_run_and_skips_everything_unsettled() -> None:
    result = run_workflow(failing("stop"), {"text": "{oops"})
    assert result.state == "failed"
    assert result.error is not None
    assert (result.error["code"], result.error["node_id"]) == ("node_failed", "parse")
    assert result.error["details"]["node_error"]["code"] == "invalid_input"
    assert result.nodes["parse"].state == "failed"
    assert result.nodes["text"].state == "completed"
    # independent was queued behind parse, so it never started.
    for node_id in ("independent", "after", "later", "parsed", "side"):
        assert (result.nodes[node_id].state, result.nodes[node_id].skip_reason) == (
            "skipped", "execution stopped"), node_id
    assert result.outputs == {}


def test_policy_continue_runs_independent_paths_and_ends_failed() -> None:
    result = run_workflow(failing("continue"), {"text": "{oops"})
    assert result.state == "failed"
    assert result.nodes["after"].skip_reason == "upstream failed"
    assert result.nodes["parsed"].skip_reason == "upstream skipped"
    assert result.nodes["later"].state == "completed"
    assert result.outputs == {"side": "{oops"}


def test_policy_pause_stops_with_the_rest_pending() -> None:
    result = run_workflow(failing("pause"), {"text": "{oops"})
    assert result.state == "paused"
    assert result.nodes["after"].state == "pending"
    assert result.error is not None and result.error["node_id"] == "parse"


@pytest.fixture()
def flaky_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A test model registered like a provider would be: fails while `failures` > 0."""
    state: dict[str, Any] = {"failures": 2, "calls": 0, "retryable": True}

    def run(context: NodeContext) -> NodeOutcome:
        state["calls"] += 1
        if state["failures"] > 0:
            state["failures"] -= 1
            raise NodeFailure("provider hiccup", code="provider_error",
                              retryable=state["retryable"])
        return NodeOutcome(outputs={"text": "ok", "usage": {}})

    monkeypatch.setattr(registry, "_INSTRUMENTS", dict(registry._INSTRUMENTS))
    registry.register_instrument("test/flaky", run)
    yield state


def flaky_workflow(max_attempts: int) -> Workflow:
    return Workflow.from_document(workflow("flaky", [
        node_input("prompt"),
        {**node_model("call", "test/flaky", {}),
         "inputs": [{"name": "prompt", "data_type": "string"}],
         "outputs": [{"name": "text", "data_type": "string"},
                     {"name": "usage", "data_type": "object"}],
         "retry": {"max_attempts": max_attempts, "delay_ms": 1, "backoff_multiplier": 2.0}},
        node_output("out"),
    ], [data_edge("e1", "prompt", "value", "call", "prompt"),
        data_edge("e2", "call", "text", "out", "value")]))


def test_a_retryable_failure_is_retried_until_it_succeeds(flaky_model: dict[str, Any]) -> None:
    result = run_workflow(flaky_workflow(3), {"prompt": "hi"})
    assert (result.state, result.outputs) == ("completed", {"out": "ok"})
    assert result.nodes["call"].attempts == 3
    assert flaky_model["calls"] == 3


def test_attempts_run_out(flaky_model: dict[str, Any]) -> None:
    result = run_workflow(flaky_workflow(2), {"prompt": "hi"})
    assert result.state == "failed"
    assert result.nodes["call"].attempts == 2
    assert result.nodes["call"].error == {"code": "provider_error", "message": "provider hiccup",
                                          "retryable": True}


def test_a_failure_that_is_not_retryable_is_not_retried(flaky_model: dict[str, Any]) -> None:
    flaky_model["retryable"] = False
    result = run_workflow(flaky_workflow(5), {"prompt": "hi"})
    assert (result.state, result.nodes["call"].attempts, flaky_model["calls"]) == ("failed", 1, 1)


def test_a_node_timeout_bounds_a_delay() -> None:
    document = workflow("slow", [
        node_input("x"),
        {**node_operator("wait", "delay", {"milliseconds": 5_000}), "timeout_s": 0.2},
        node_output("out"),
    ], [data_edge("e1", "x", "value", "wait", "value"),
        data_edge("e2", "wait", "value", "out", "value")])
    result = run_workflow(Workflow.from_document(document), {"x": "1"})
    assert result.state == "failed"
    assert result.nodes["wait"].error is not None
    assert result.nodes["wait"].error["code"] == "timeout"


def test_stopping_between_nodes_cancels_the_run() -> None:
    stop = threading.Event()
    reporter = SilentReporter()

    class StopAfterFirstLog(SilentReporter):
        def log(self, level: str, message: str) -> None:
            reporter.log(level, message)
            stop.set()

    flow = failing("stop")
    result = run_workflow(flow, {"text": "[1]"}, reporter=StopAfterFirstLog(),
                          should_stop=stop.is_set)
    assert result.state == "cancelled"
    assert reporter.lines == [("info", 'independent: "[1]"')]
    skipped = [node_id for node_id, node in result.nodes.items()
               if node.skip_reason == "execution stopped"]
    assert skipped and all(result.nodes[node_id].attempts == 0 for node_id in skipped)


def test_a_condition_that_fails_fails_its_source_node() -> None:
    flow = build("bad condition", [
        node_input("x", "object"), node_operator("fmt", "json_format", {}),
        node_output("out", "string"),
    ], [
        data_edge("e1", "x", "value", "fmt", "value"),
        conditional_edge("e2", "fmt", "out", "inputs.text.missing.deeper"),
        data_edge("e3", "fmt", "text", "out", "value"),
    ])
    result = run_workflow(flow, {"x": {}})
    assert result.nodes["fmt"].state == "failed"
    assert result.nodes["fmt"].error is not None
    assert result.nodes["fmt"].error["code"] == "expression_failed"
    assert result.nodes["out"].skip_reason == "execution stopped"


def test_control_edges_order_without_data() -> None:
    flow = build("ordered", [
        node_input("x"), node_operator("first", "log", {"message": "1"}),
        node_operator("second", "log", {"message": "2"}), node_output("out"),
    ], [
        data_edge("e1", "x", "value", "second", "value"),
        control_edge("e2", "first", "second"),
        data_edge("e3", "second", "value", "out", "value"),
    ])
    lines = SilentReporter()
    result = run_workflow(flow, {"x": "v"}, reporter=lines)
    assert result.outputs == {"out": "v"}
    assert lines.lines == [("info", "first: 1"), ("info", "second: 2")]
