"""Every rule of executions/runtime/flow.py, one labelled case at a time."""

from __future__ import annotations

from typing import Any

import pytest

from executions.runtime.contract import InputRequired, NodeFailure
from executions.runtime.flow import (
    SKIP_BRANCH_NOT_TAKEN,
    SKIP_DISABLED,
    SKIP_UPSTREAM_FAILED,
    SKIP_UPSTREAM_SKIPPED,
    Arrival,
    EdgeSettlement,
    FlowIndex,
    Readiness,
    Settled,
    Verdict,
    backoff_delay_s,
    check_outputs,
    edge_taken,
    input_node_value,
    ordered_arrivals,
    readiness,
    resolve_inputs,
    settle_outgoing,
    start_input_problems,
    strongest_reason,
    workflow_outputs,
)
from workflows.domain import ConditionalEdge, ControlEdge, DataEdge, Transform, TransformType
from workflows.domain.values import RetryPolicy

from .helpers import (
    build,
    conditional_edge,
    control_edge,
    data_edge,
    node_control,
    node_input,
    node_of,
    node_operator,
    node_output,
    operator,
)

TEMPLATE = node_of(node_operator("render", "template", {"template": "x"}))
BRANCH = node_of(node_control("route", "branch", condition="inputs.value > 0"))
MERGE = node_of(node_control("m", "merge"))
JOIN = node_of(node_control("j", "join"))
PARALLEL = node_of(node_control("p", "parallel"))
DISABLED = node_of({**node_operator("off", "template", {"template": "x"}), "enabled": False})
DISABLED_MERGE = node_of({**node_control("off_merge", "merge"), "enabled": False})

DATA = DataEdge(id="d", source="a", target="b", source_port="text", target_port="variables")
CONTROL = ControlEdge(id="c", source="a", target="b")


def conditional(condition: str) -> ConditionalEdge:
    return ConditionalEdge(id="k", source="a", target="b", condition=condition)


# ------------------------------------------------------------------ edge_taken

EDGE_CASES = [
    ("data edge from a completed node is taken", DATA, TEMPLATE, "completed", {"text": "t"},
     None, EdgeSettlement(True)),
    ("control edge from a completed node is taken", CONTROL, TEMPLATE, "completed", {}, None,
     EdgeSettlement(True)),
    ("data edge from a skipped node is dead", DATA, TEMPLATE, "skipped", None, None,
     EdgeSettlement(False, SKIP_UPSTREAM_SKIPPED)),
    ("control edge from a failed node is dead", CONTROL, TEMPLATE, "failed", None, None,
     EdgeSettlement(False, SKIP_UPSTREAM_FAILED)),
    ("conditional edge from a skipped node is dead even if its condition holds",
     conditional("true"), TEMPLATE, Settled.SKIPPED, None, None,
     EdgeSettlement(False, SKIP_UPSTREAM_SKIPPED)),
    ("conditional edge whose condition holds over the source's outputs is taken",
     conditional("inputs.text == 't'"), TEMPLATE, "completed", {"text": "t"}, None,
     EdgeSettlement(True)),
    ("conditional edge whose condition is false is dead",
     conditional("inputs.text == 'u'"), TEMPLATE, "completed", {"text": "t"}, None,
     EdgeSettlement(False, SKIP_BRANCH_NOT_TAKEN)),
    ("a truthy non-boolean condition takes the edge", conditional("inputs.text"), TEMPLATE,
     "completed", {"text": "t"}, None, EdgeSettlement(True)),
    ("an empty-list condition is falsy", conditional("inputs.rows"), TEMPLATE, "completed",
     {"rows": []}, None, EdgeSettlement(False, SKIP_BRANCH_NOT_TAKEN)),
    ("data edge out of a branch whose decision was true is taken", DATA, BRANCH, "completed",
     {"value": -5}, True, EdgeSettlement(True)),
    ("control edge out of a branch whose decision was false is dead", CONTROL, BRANCH,
     "completed", {"value": 5}, False, EdgeSettlement(False, SKIP_BRANCH_NOT_TAKEN)),
    ("without a recorded decision, a branch's condition is evaluated over its outputs", DATA,
     BRANCH, "completed", {"value": 5}, None, EdgeSettlement(True)),
    ("without a recorded decision, a false condition kills the branch's data edge", CONTROL,
     BRANCH, "completed", {"value": -1}, None, EdgeSettlement(False, SKIP_BRANCH_NOT_TAKEN)),
    ("a branch's conditional edge follows its own condition, not the branch's decision",
     conditional("inputs.value < 0"), BRANCH, "completed", {"value": 1}, True,
     EdgeSettlement(False, SKIP_BRANCH_NOT_TAKEN)),
    ("a branch's conditional edge can be taken when the branch decided false",
     conditional("inputs.value < 0"), BRANCH, "completed", {"value": -1}, False,
     EdgeSettlement(True)),
]


@pytest.mark.parametrize(("label", "edge", "source", "state", "outputs", "decision", "expected"),
                         EDGE_CASES, ids=[case[0] for case in EDGE_CASES])
def test_edge_taken(label: str, edge: Any, source: Any, state: str, outputs: Any,
                    decision: bool | None, expected: EdgeSettlement) -> None:
    assert edge_taken(edge, source=source, state=state, outputs=outputs,
                      decision=decision) == expected


def test_conditions_read_execution_and_secrets() -> None:
    edge = conditional("execution.trigger == 'api' and secrets.flag == 'on'")
    taken = edge_taken(edge, source=TEMPLATE, state="completed", outputs={},
                       execution={"trigger": "api"}, secrets={"flag": "on"})
    dead = edge_taken(edge, source=TEMPLATE, state="completed", outputs={},
                      execution={"trigger": "ui"}, secrets={"flag": "on"})
    assert (taken.taken, dead.taken) == (True, False)


def test_a_condition_that_cannot_be_evaluated_fails_and_names_the_edge() -> None:
    with pytest.raises(NodeFailure) as caught:
        edge_taken(conditional("inputs.missing > 1"), source=TEMPLATE, state="completed",
                   outputs={"text": "t"})
    assert caught.value.code == "expression_failed"
    assert caught.value.retryable is False
    assert caught.value.details == {"edge_id": "k", "field": "condition"}
    assert "conditional edge 'k'" in caught.value.message


def test_an_edge_cannot_settle_from_an_unsettled_source() -> None:
    with pytest.raises(ValueError, match="running"):
        edge_taken(DATA, source=TEMPLATE, state="running", outputs={})


def test_settle_outgoing_answers_every_edge_in_document_order() -> None:
    workflow = build("fan", [
        node_input("a", "number"),
        node_control("route", "branch", condition="inputs.value > 0"),
        node_output("yes"), node_operator("no", "log", {}), node_operator("big", "log", {}),
    ], [
        data_edge("e1", "a", "value", "route", "value"),
        data_edge("e2", "route", "value", "yes", "value"),
        conditional_edge("e3", "route", "no", "inputs.value <= 0"),
        conditional_edge("e4", "route", "big", "inputs.value > 100"),
    ])
    index = FlowIndex(workflow)
    settled = settle_outgoing(index, "route", state="completed", outputs={"value": 7},
                              decision=True)
    assert [(edge.id, settlement.taken) for edge, settlement in settled] == [
        ("e2", True), ("e3", False), ("e4", False)]
    skipped = settle_outgoing(index, "route", state="skipped")
    assert {settlement.reason for _, settlement in skipped} == {SKIP_UPSTREAM_SKIPPED}
    assert index.incoming_count("route") == 1
    assert index.sources() == ["a"]


# ------------------------------------------------------------------ readiness

READINESS_CASES = [
    ("a node without incoming edges runs", TEMPLATE, 0, 0, 0, None, Verdict.RUN, None),
    ("an ordinary node waits while an edge is pending", TEMPLATE, 1, 2, 0, None, Verdict.WAIT,
     None),
    ("an ordinary node waits even when an edge is already dead", TEMPLATE, 1, 0, 1,
     SKIP_UPSTREAM_FAILED, Verdict.WAIT, None),
    ("an ordinary node runs when every edge is taken", TEMPLATE, 0, 3, 0, None, Verdict.RUN,
     None),
    ("an ordinary node is skipped when one edge is dead", TEMPLATE, 0, 2, 1,
     SKIP_BRANCH_NOT_TAKEN, Verdict.SKIP, SKIP_BRANCH_NOT_TAKEN),
    ("the skip carries the dead edges' reason", TEMPLATE, 0, 0, 2, SKIP_UPSTREAM_FAILED,
     Verdict.SKIP, SKIP_UPSTREAM_FAILED),
    ("parallel follows the ordinary rule", PARALLEL, 0, 0, 1, SKIP_UPSTREAM_SKIPPED,
     Verdict.SKIP, SKIP_UPSTREAM_SKIPPED),
    ("branch follows the ordinary rule", BRANCH, 0, 1, 0, None, Verdict.RUN, None),
    ("join waits while an edge is pending", JOIN, 1, 1, 0, None, Verdict.WAIT, None),
    ("join runs when one edge was taken and the rest died", JOIN, 0, 1, 2,
     SKIP_BRANCH_NOT_TAKEN, Verdict.RUN, None),
    ("join is skipped only when every edge is dead", JOIN, 0, 0, 3, SKIP_UPSTREAM_SKIPPED,
     Verdict.SKIP, SKIP_UPSTREAM_SKIPPED),
    ("merge runs as soon as one edge is taken", MERGE, 2, 1, 0, None, Verdict.RUN, None),
    ("merge waits while nothing arrived", MERGE, 1, 0, 1, SKIP_BRANCH_NOT_TAKEN, Verdict.WAIT,
     None),
    ("merge is skipped when every edge is dead", MERGE, 0, 0, 2, SKIP_BRANCH_NOT_TAKEN,
     Verdict.SKIP, SKIP_BRANCH_NOT_TAKEN),
    ("a disabled node is skipped at start", DISABLED, 0, 0, 0, None, Verdict.SKIP,
     SKIP_DISABLED),
    ("a disabled node is skipped whatever its edges", DISABLED, 2, 1, 0, None, Verdict.SKIP,
     SKIP_DISABLED),
    ("a disabled merge is skipped even when a path arrived", DISABLED_MERGE, 0, 1, 0, None,
     Verdict.SKIP, SKIP_DISABLED),
]


@pytest.mark.parametrize(
    ("label", "node", "pending", "taken", "dead", "dead_reason", "verdict", "reason"),
    READINESS_CASES, ids=[case[0] for case in READINESS_CASES])
def test_readiness(label: str, node: Any, pending: int, taken: int, dead: int,
                   dead_reason: str | None, verdict: Verdict, reason: str | None) -> None:
    assert readiness(node, pending=pending, taken=taken, dead=dead,
                     dead_reason=dead_reason) == Readiness(verdict, reason)


@pytest.mark.parametrize(("first", "second", "expected"), [
    (None, None, None),
    (None, SKIP_BRANCH_NOT_TAKEN, SKIP_BRANCH_NOT_TAKEN),
    (SKIP_UPSTREAM_SKIPPED, None, SKIP_UPSTREAM_SKIPPED),
    (SKIP_BRANCH_NOT_TAKEN, SKIP_UPSTREAM_SKIPPED, SKIP_UPSTREAM_SKIPPED),
    (SKIP_UPSTREAM_FAILED, SKIP_UPSTREAM_SKIPPED, SKIP_UPSTREAM_FAILED),
    (SKIP_BRANCH_NOT_TAKEN, SKIP_UPSTREAM_FAILED, SKIP_UPSTREAM_FAILED),
])
def test_strongest_reason(first: str | None, second: str | None, expected: str | None) -> None:
    assert strongest_reason(first, second) == expected


# ------------------------------------------------------------------ resolve_inputs


def edge(edge_id: str, source: str, source_port: str, target_port: str = "variables",
         transform: Transform | None = None) -> DataEdge:
    return DataEdge(id=edge_id, source=source, target="t", source_port=source_port,
                    target_port=target_port, transform=transform)


def transform(kind: str, **config: Any) -> Transform:
    return Transform(type=TransformType(kind), config=config)


RESOLVE_CASES = [
    ("one edge gives the source port's value", TEMPLATE,
     [Arrival(edge("e1", "a", "out"), {"out": {"name": "Ada"}})], {"variables": {"name": "Ada"}}),
    ("an optional port with no edge gets its default", TEMPLATE, [], {"variables": None}),
    ("a source without the port gives nothing (default applies)", TEMPLATE,
     [Arrival(edge("e1", "a", "out"), {})], {"variables": None}),
    ("map transforms every item", TEMPLATE,
     [Arrival(edge("e1", "a", "out", transform=transform("map", expr="item | upper")),
              {"out": ["a", "b"]})], {"variables": ["A", "B"]}),
    ("filter keeps items whose expression is truthy", TEMPLATE,
     [Arrival(edge("e1", "a", "out", transform=transform("filter", expr="item > 1")),
              {"out": [1, 2, 3]})], {"variables": [2, 3]}),
    ("reduce folds with accumulator and value from initial", TEMPLATE,
     [Arrival(edge("e1", "a", "out", transform=transform(
         "reduce", expr="item.accumulator + item.value", initial=10)), {"out": [1, 2, 3]})],
     {"variables": 16}),
    ("reduce without initial starts from the first item", TEMPLATE,
     [Arrival(edge("e1", "a", "out", transform=transform(
         "reduce", expr="item.accumulator ~ '-' ~ item.value")), {"out": ["x", "y", "z"]})],
     {"variables": "x-y-z"}),
    ("reduce of an empty list without initial is null", TEMPLATE,
     [Arrival(edge("e1", "a", "out", transform=transform(
         "reduce", expr="item.accumulator + item.value")), {"out": []})], {"variables": None}),
    ("flatten flattens one level and keeps other items", TEMPLATE,
     [Arrival(edge("e1", "a", "out", transform=transform("flatten")),
              {"out": [[1, [2]], 3, []]})], {"variables": [1, [2], 3]}),
    ("custom evaluates over the whole value", TEMPLATE,
     [Arrival(edge("e1", "a", "out", transform=transform("custom", expr="item | length")),
              {"out": [1, 2, 3]})], {"variables": 3}),
    ("a transform reads the source's outputs as inputs", TEMPLATE,
     [Arrival(edge("e1", "a", "out", transform=transform("map", expr="item * inputs.k")),
              {"out": [1, 2], "k": 3})], {"variables": [3, 6]}),
    ("several edges into an ordinary node's port give a list in the given order", TEMPLATE,
     [Arrival(edge("e1", "a", "out"), {"out": 1}), Arrival(edge("e2", "b", "out"), {"out": 2})],
     {"variables": [1, 2]}),
    ("join collects every arrival in order", JOIN,
     [Arrival(edge("e1", "a", "out", "value"), {"out": "x"}),
      Arrival(edge("e2", "b", "out", "value"), {"out": "y"})], {"value": ["x", "y"]}),
    ("join's port is a list even for one arrival", JOIN,
     [Arrival(edge("e1", "a", "out", "value"), {"out": "x"})], {"value": ["x"]}),
    ("merge takes the first arrival", MERGE,
     [Arrival(edge("e2", "b", "out", "value"), {"out": "late-in-document"}),
      Arrival(edge("e1", "a", "out", "value"), {"out": "early"})],
     {"value": "late-in-document"}),
]


@pytest.mark.parametrize(("label", "node", "arrivals", "expected"), RESOLVE_CASES,
                         ids=[case[0] for case in RESOLVE_CASES])
def test_resolve_inputs(label: str, node: Any, arrivals: list[Arrival],
                        expected: dict[str, Any]) -> None:
    assert resolve_inputs(node, arrivals) == expected


def test_a_declared_default_fills_a_missing_port() -> None:
    node = operator("render", "template", {"template": "x"}, inputs=[
        {"name": "variables", "data_type": "object", "required": False, "default": {"n": 1}}])
    assert resolve_inputs(node, []) == {"variables": {"n": 1}}


RESOLVE_FAILURES = [
    ("a required port without a value", operator("parse", "json_parse", {}), [],
     "invalid_input", "has no value"),
    ("a value that does not fit the port's type", operator("parse", "json_parse", {}),
     [Arrival(edge("e1", "a", "out", "text"), {"out": 42})], "invalid_input",
     "expects string, but got integer"),
    ("a boolean is not a number", node_of({**node_output("o", "number")}),
     [Arrival(edge("e1", "a", "out", "value"), {"out": True})], "invalid_input",
     "expects number"),
    ("map over something that is not a list", TEMPLATE,
     [Arrival(edge("e1", "a", "out", transform=transform("map", expr="item")), {"out": "abc"})],
     "invalid_input", "needs a list, got string"),
    ("a failing transform expression", TEMPLATE,
     [Arrival(edge("e1", "a", "out", transform=transform("map", expr="item.missing")),
              {"out": [{}]})], "expression_failed", "edge 'e1'"),
    ("a custom transform without an expression", TEMPLATE,
     [Arrival(edge("e1", "a", "out", transform=transform("custom")), {"out": 1})],
     "invalid_input", "needs config.expr"),
]


@pytest.mark.parametrize(("label", "node", "arrivals", "code", "text"), RESOLVE_FAILURES,
                         ids=[case[0] for case in RESOLVE_FAILURES])
def test_resolve_inputs_failures(label: str, node: Any, arrivals: list[Arrival], code: str,
                                 text: str) -> None:
    with pytest.raises(NodeFailure) as caught:
        resolve_inputs(node, arrivals)
    assert caught.value.code == code
    assert caught.value.retryable is False
    assert text in caught.value.message


def test_an_integer_fits_a_number_port() -> None:
    node = node_of(node_output("o", "number"))
    assert resolve_inputs(node, [Arrival(edge("e1", "a", "out", "value"), {"out": 3})]) == {
        "value": 3}


def test_ordered_arrivals_keeps_document_order_and_only_taken_data_edges() -> None:
    workflow = build("gather", [
        node_input("a"), node_input("b"), node_input("c"), node_control("j", "join"),
        node_output("o"),
    ], [
        data_edge("e1", "a", "value", "j", "value"),
        data_edge("e2", "b", "value", "j", "value"),
        data_edge("e3", "c", "value", "j", "value"),
        control_edge("e4", "a", "j"),
        data_edge("e5", "j", "value", "o", "value"),
    ])
    index = FlowIndex(workflow)
    arrivals = ordered_arrivals(index, "j", ["e3", "e1", "e4"],
                                {"a": {"value": "A"}, "c": {"value": "C"}})
    assert [arrival.edge.id for arrival in arrivals] == ["e1", "e3"]
    assert resolve_inputs(workflow.nodes["j"], arrivals) == {"value": ["A", "C"]}


# ------------------------------------------------------------------ input nodes

INPUT_CASES: list[tuple[str, dict[str, Any], dict[str, Any], Any]] = [
    ("a given value wins over the default", {"default": "d"}, {"x": "given"}, "given"),
    ("the default when nothing is given", {"default": "d"}, {}, "d"),
    ("null counts as not given", {"default": "d"}, {"x": None}, "d"),
    ("an optional input without value or default is null", {"required": False}, {}, None),
    ("an integer is accepted for a number", {"data_type": "number"}, {"x": 3}, 3),
    ("an array<string> checks its items", {"data_type": "array<string>"}, {"x": ["a"]}, ["a"]),
]


@pytest.mark.parametrize(("label", "fields", "provided", "expected"), INPUT_CASES,
                         ids=[case[0] for case in INPUT_CASES])
def test_input_node_value(label: str, fields: dict[str, Any], provided: dict[str, Any],
                          expected: Any) -> None:
    node = node_of({**node_input("x"), **fields})
    assert input_node_value(node, provided) == expected  # type: ignore[arg-type]


def test_an_interactive_input_without_value_asks_with_its_prompt() -> None:
    node = node_of(node_input("topic", interactive=True, prompt="Which topic?"))
    with pytest.raises(InputRequired) as caught:
        input_node_value(node, {})  # type: ignore[arg-type]
    assert (caught.value.prompt, caught.value.node_id, caught.value.code) == (
        "Which topic?", "topic", "input_required")
    assert input_node_value(node, {"topic": "bees"}) == "bees"  # type: ignore[arg-type]


@pytest.mark.parametrize(("label", "fields", "provided", "code"), [
    ("a required input without value or default", {}, {}, "missing_input"),
    ("a string for a number input", {"data_type": "number"}, {"x": "3"}, "invalid_input"),
    ("a float for an integer input", {"data_type": "integer"}, {"x": 2.5}, "invalid_input"),
    ("a wrong item in an array<integer>", {"data_type": "array<integer>"}, {"x": [1, "2"]},
     "invalid_input"),
], ids=lambda value: value if isinstance(value, str) and " " in value else "")
def test_input_node_value_failures(label: str, fields: dict[str, Any], provided: dict[str, Any],
                                   code: str) -> None:
    node = node_of({**node_input("x"), **fields})
    with pytest.raises(NodeFailure) as caught:
        input_node_value(node, provided)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert "'x'" in caught.value.message


def test_start_input_problems_names_each_input() -> None:
    workflow = build("inputs", [
        node_input("name"), node_input("age", "integer"),
        node_input("topic", interactive=True, prompt="?"),
        {**node_input("unused"), "enabled": False},
        node_output("o"),
    ], [
        data_edge("e1", "name", "value", "o", "value"),
    ])
    problems = start_input_problems(workflow, {"age": "old", "nmae": "typo"})
    assert sorted((problem.node_id, problem.code) for problem in problems) == [
        ("age", "invalid_input"), ("name", "missing_input"), ("nmae", "unknown_input")]
    assert start_input_problems(workflow, {"name": "Ada", "age": 36}) == []


# ------------------------------------------------------------------ outputs


@pytest.mark.parametrize(("label", "ports", "outputs", "problem"), [
    ("every declared port with a fitting value", [("text", "string")], {"text": "x"}, None),
    ("any accepts null", [("value", "any")], {"value": None}, None),
    ("json accepts an object", [("value", "json")], {"value": {"a": [1]}}, None),
    ("an integer fits a number", [("n", "number")], {"n": 1}, None),
    ("a missing port", [("text", "string")], {}, "produced no value"),
    ("an undeclared port", [("text", "string")], {"text": "x", "extra": 1}, "undeclared"),
    ("a wrong type", [("text", "string")], {"text": 1}, "declared string"),
    ("a wrong item type", [("items", "array<string>")], {"items": ["a", 1]},
     "declared array<string>"),
    ("null for a string", [("text", "string")], {"text": None}, "produced null"),
], ids=lambda value: value if isinstance(value, str) and " " in value else "")
def test_check_outputs(label: str, ports: list[tuple[str, str]], outputs: dict[str, Any],
                       problem: str | None) -> None:
    node = operator("n", "template", {"template": "x"},
                    outputs=[{"name": name, "data_type": kind} for name, kind in ports])
    if problem is None:
        assert check_outputs(node, outputs) == outputs
        return
    with pytest.raises(NodeFailure) as caught:
        check_outputs(node, outputs)
    assert (caught.value.code, caught.value.retryable) == ("output_mismatch", False)
    assert problem in caught.value.message


def test_catalog_ports_apply_when_a_node_declares_none() -> None:
    node = operator("fetch", "http_request", {"method": "GET", "url": "http://x"})
    good = {"status": 200, "headers": {}, "body": None}
    assert check_outputs(node, good) == good
    with pytest.raises(NodeFailure):
        check_outputs(node, {"status": "200", "headers": {}, "body": None})


def test_workflow_outputs_are_keyed_by_output_node_id() -> None:
    workflow = build("outs", [node_input("a"), node_output("first"), node_output("second")], [
        data_edge("e1", "a", "value", "first", "value"),
        data_edge("e2", "a", "value", "second", "value"),
    ])
    assert workflow_outputs(workflow, {"a": {"value": 1}, "first": {"value": 1}}) == {"first": 1}


@pytest.mark.parametrize(("policy", "attempt", "expected"), [
    (None, 1, 0.0),
    (RetryPolicy(max_attempts=3, delay_ms=0), 2, 0.0),
    (RetryPolicy(max_attempts=3, delay_ms=500, backoff_multiplier=2.0), 1, 0.5),
    (RetryPolicy(max_attempts=3, delay_ms=500, backoff_multiplier=2.0), 3, 2.0),
    (RetryPolicy(max_attempts=3, delay_ms=500, backoff_multiplier=0.5), 3, 0.5),
    (RetryPolicy(max_attempts=99, delay_ms=60_000, backoff_multiplier=10.0), 9, 3600.0),
])
def test_backoff_delay(policy: RetryPolicy | None, attempt: int, expected: float) -> None:
    assert backoff_delay_s(policy, attempt) == expected
