"""The loop control node: items, body inputs and outputs, order, parallelism, failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from executions.runtime import registry
from executions.runtime.contract import NodeContext, NodeFailure, NodeOutcome, SilentReporter
from executions.runtime.local import run_workflow
from executions.runtime.registry import run_node
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
    workflow,
)


def shout_body() -> Workflow:
    """One input, one output: the item upper-cased."""
    return build("shout", [
        node_input("word"),
        node_operator("upper", "template", {"template": "{{ inputs.variables | upper }}"}),
        node_output("loud", "string"),
    ], [data_edge("e1", "word", "value", "upper", "variables"),
        data_edge("e2", "upper", "text", "loud", "value")])


def pair_body() -> Workflow:
    """Two inputs, two outputs."""
    return build("pair", [
        node_input("name"), node_input("greeting"),
        node_operator("say", "template", {"template": "{{ inputs.variables }}"}),
        node_output("first", "string"), node_output("second", "string"),
    ], [data_edge("e1", "greeting", "value", "say", "variables"),
        data_edge("e2", "say", "text", "first", "value"),
        data_edge("e3", "name", "value", "second", "value")])


def nested_body() -> Workflow:
    """A body that loops over its item with the shout body."""
    return build("nested", [
        node_input("words", "array<string>"),
        node_control("inner", "loop", over="inputs.value", body="shout"),
        node_output("out", "array"),
    ], [data_edge("e1", "words", "value", "inner", "value"),
        data_edge("e2", "inner", "value", "out", "value")])


def recursive_body() -> Workflow:
    return build("forever", [
        node_input("x", "any"),
        node_control("again", "loop", over="[inputs.value]", body="forever"),
        node_output("out", "array"),
    ], [data_edge("e1", "x", "value", "again", "value"),
        data_edge("e2", "again", "value", "out", "value")])


BODIES: dict[str, Callable[[], Workflow]] = {
    "shout": shout_body, "pair": pair_body, "nested": nested_body, "forever": recursive_body}


def resolve(reference: str) -> Workflow:
    return BODIES[reference]()


def loop(body: str, over: str = "inputs.value", value: Any = None, **fields: Any) -> NodeOutcome:
    node = node_of(node_control("each", "loop", over=over, body=body))
    fields.setdefault("resolve_workflow", resolve)
    return run_node(context_for(node, {"value": value}, **fields))


def loop_failure(body: str, over: str = "inputs.value", value: Any = None,
                 **fields: Any) -> NodeFailure:
    with pytest.raises(NodeFailure) as caught:
        loop(body, over, value, **fields)
    return caught.value


def test_one_input_body_gets_each_item_and_results_keep_item_order() -> None:
    outcome = loop("shout", value=["a", "bb", "ccc", "d", "e", "f"], max_parallel=3)
    assert dict(outcome.outputs) == {"value": ["A", "BB", "CCC", "D", "E", "F"]}


def test_over_can_compute_the_items() -> None:
    outcome = loop("shout", over="inputs.value.split(',')", value="x,y")
    assert dict(outcome.outputs) == {"value": ["X", "Y"]}


def test_an_empty_list_gives_an_empty_result() -> None:
    assert dict(loop("shout", value=[]).outputs) == {"value": []}


def test_several_inputs_take_an_object_per_item_and_several_outputs_give_objects() -> None:
    outcome = loop("pair", value=[{"name": "Ada", "greeting": "hi"},
                                  {"name": "Bo", "greeting": "yo"}])
    assert dict(outcome.outputs) == {"value": [{"first": "hi", "second": "Ada"},
                                               {"first": "yo", "second": "Bo"}]}


def test_a_nested_loop_runs_its_own_body() -> None:
    outcome = loop("nested", value=[["a", "b"], ["c"]])
    assert dict(outcome.outputs) == {"value": [["A", "B"], ["C"]]}


def test_a_recursive_body_stops_at_the_depth_limit() -> None:
    problem = loop_failure("forever", value=[1])
    assert problem.code == "loop_item_failed"
    assert "loop_too_deep" in str(problem.details)


def test_a_failing_item_fails_the_loop_and_names_the_item() -> None:
    problem = loop_failure("shout", value=["a", 3, "c"], max_parallel=1)
    assert (problem.code, problem.retryable) == ("loop_item_failed", False)
    assert problem.details["item"] == 1
    assert problem.details["body_node_id"] is None
    assert "item 1" in problem.message
    assert "invalid_inputs" in str(problem.details["body_error"])


def test_a_failing_body_node_is_named() -> None:
    bodies = {"parse": lambda: build("parse", [
        node_input("text"), node_operator("parse", "json_parse", {}), node_output("out")],
        [data_edge("e1", "text", "value", "parse", "text"),
         data_edge("e2", "parse", "value", "out", "value")])}
    problem = loop_failure("parse", value=["[1]", "{bad", "2"],
                           resolve_workflow=lambda ref: bodies[ref]())
    assert problem.details["item"] == 1
    assert problem.details["body_node_id"] == "parse"
    assert problem.details["body_error"]["code"] == "invalid_input"
    assert "item 1 failed at node 'parse'" in problem.message


def test_items_for_a_several_input_body_must_be_objects() -> None:
    problem = loop_failure("pair", value=["just text"])
    assert problem.code == "invalid_input"
    assert "keyed by input node id" in problem.message


@pytest.mark.parametrize(("over", "value", "code"), [
    ("inputs.value", "not a list", "invalid_input"),
    ("inputs.value.missing", {}, "expression_failed"),
])
def test_over_must_give_a_list(over: str, value: Any, code: str) -> None:
    assert loop_failure("shout", over, value).code == code


def test_an_unknown_body_and_a_missing_resolver_are_refused() -> None:
    unknown = loop_failure("nope", value=["a"])
    assert (unknown.code, unknown.retryable) == ("unknown_workflow", False)
    missing = loop_failure("shout", value=["a"], resolve_workflow=None)
    assert (missing.code, missing.retryable) == ("loop_unavailable", False)


class Gauge:
    """Counts how many test-model calls run at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.calls = 0

    def run(self, context: NodeContext) -> NodeOutcome:
        with self.lock:
            self.active += 1
            self.calls += 1
            self.peak = max(self.peak, self.active)
        time.sleep(0.03)
        with self.lock:
            self.active -= 1
        prompt = context.inputs["prompt"]
        if prompt == "boom":
            raise NodeFailure("the model broke", code="provider_error", retryable=True)
        return NodeOutcome(outputs={"text": prompt[::-1], "usage": {}})


@pytest.fixture()
def gauge(monkeypatch: pytest.MonkeyPatch) -> Gauge:
    counter = Gauge()
    monkeypatch.setattr(registry, "_INSTRUMENTS", dict(registry._INSTRUMENTS))
    registry.register_instrument("test/gauge", counter.run)
    return counter


def gauge_body() -> Workflow:
    return Workflow.from_document(workflow("gauge", [
        node_input("text"),
        {**node_model("call", "test/gauge", {}),
         "inputs": [{"name": "prompt", "data_type": "string"}],
         "outputs": [{"name": "text", "data_type": "string"},
                     {"name": "usage", "data_type": "object"}]},
        node_output("out"),
    ], [data_edge("e1", "text", "value", "call", "prompt"),
        data_edge("e2", "call", "text", "out", "value")]))


@pytest.mark.parametrize("max_parallel", [1, 2, 5])
def test_at_most_max_parallel_items_run_at_once(gauge: Gauge, max_parallel: int) -> None:
    items = [f"item{number}" for number in range(10)]
    reporter = SilentReporter()
    outcome = loop("gauge", value=items, max_parallel=max_parallel, reporter=reporter,
                   resolve_workflow=lambda ref: gauge_body())
    assert dict(outcome.outputs) == {"value": [item[::-1] for item in items]}
    assert gauge.peak <= max_parallel
    assert gauge.calls == 10
    assert len(reporter.fractions) == 10 and reporter.fractions[-1] == 1.0
    if max_parallel > 1:
        assert gauge.peak > 1, "items never overlapped"


def test_a_failing_item_stops_the_items_not_yet_started(gauge: Gauge) -> None:
    items = ["boom"] + [f"item{number}" for number in range(20)]
    with pytest.raises(NodeFailure) as caught:
        loop("gauge", value=items, max_parallel=2, resolve_workflow=lambda ref: gauge_body())
    assert caught.value.details["item"] == 0
    assert caught.value.retryable is True
    assert gauge.calls < len(items)


def test_a_cancelled_loop_stops_between_items() -> None:
    class CancelAfterFirstLog(SilentReporter):
        def log(self, level: str, message: str) -> None:
            super().log(level, message)
            self.cancelled = True

        def should_stop(self) -> bool:
            return getattr(self, "cancelled", False)

    bodies = {"log": lambda: build("log", [
        node_input("x"), node_operator("say", "log", {"message": "{{ inputs.value }}"}),
        node_output("out")], [data_edge("e1", "x", "value", "say", "value"),
                              data_edge("e2", "say", "value", "out", "value")])}
    reporter = CancelAfterFirstLog()
    with pytest.raises(NodeFailure) as caught:
        loop("log", value=["a", "b", "c"], max_parallel=1, reporter=reporter,
             resolve_workflow=lambda ref: bodies[ref]())
    assert (caught.value.code, caught.value.retryable) == ("cancelled", False)
    assert reporter.lines == [("info", "item 0: say: a")]


def test_a_loop_inside_a_workflow_run() -> None:
    flow = build("outer", [
        node_input("words", "array<string>"),
        node_control("each", "loop", over="inputs.value", body="shout"),
        node_output("out", "array"),
    ], [data_edge("e1", "words", "value", "each", "value"),
        data_edge("e2", "each", "value", "out", "value")], max_parallel=2)
    result = run_workflow(flow, {"words": ["x", "y", "z"]}, resolve_workflow=resolve)
    assert (result.state, result.outputs) == ("completed", {"out": ["X", "Y", "Z"]})
