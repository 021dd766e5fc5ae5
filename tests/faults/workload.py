"""The fault suite's mixed workload: wide, deep, branching, looping and failing workflows.
Their nodes include `delay` operators (on the `io` queue) long enough for a kill to land in
the middle of a node."""

from __future__ import annotations

from typing import Any

from workflows import samples as s

LOOP_BODY = "fault-body"


def wide(width: int = 5, milliseconds: int = 300) -> dict[str, Any]:
    """One input fanned out to `width` delays and a template, joined into one JSON text."""
    nodes = [s.node_input("x", "string"), s.node_control("fan", "parallel")]
    edges = [s.data_edge("e_in", "x", "value", "fan", "value")]
    for index in range(width):
        nodes.append(s.node_operator(f"wait{index}", "delay", {"milliseconds": milliseconds + 40 * index}))
        edges.append(s.data_edge(f"e_fan{index}", "fan", "value", f"wait{index}", "value"))
        edges.append(s.data_edge(f"e_join{index}", f"wait{index}", "value", "gather", "value"))
    nodes += [s.node_operator("shout", "template", {"template": "{{ inputs.variables | upper }}"}),
              s.node_control("gather", "join"), s.node_operator("report", "json_format", {}),
              s.node_output("out", "string")]
    edges += [s.data_edge("e_shout", "fan", "value", "shout", "variables"),
              s.data_edge("e_join_shout", "shout", "text", "gather", "value"),
              s.data_edge("e_report", "gather", "value", "report", "value"),
              s.data_edge("e_out", "report", "text", "out", "value")]
    return s.workflow(f"Wide {width}", nodes, edges)


def deep(depth: int = 6, milliseconds: int = 250) -> dict[str, Any]:
    """A chain: delay, template, delay, template, … each template adding one mark."""
    nodes = [s.node_input("x", "string")]
    edges = []
    previous, port = "x", "value"
    for index in range(depth):
        if index % 2 == 0:
            node_id = f"wait{index}"
            nodes.append(s.node_operator(node_id, "delay", {"milliseconds": milliseconds}))
            edges.append(s.data_edge(f"e{index}", previous, port, node_id, "value"))
            port = "value"
        else:
            node_id = f"mark{index}"
            nodes.append(s.node_operator(node_id, "template", {"template": f"{{{{ inputs.variables }}}}-{index}"}))
            edges.append(s.data_edge(f"e{index}", previous, port, node_id, "variables"))
            port = "text"
        previous = node_id
    nodes.append(s.node_output("out", "string"))
    edges.append(s.data_edge("e_out", previous, port, "out", "value"))
    return s.workflow(f"Deep {depth}", nodes, edges)


def branching(milliseconds: int = 300) -> dict[str, Any]:
    """n > 0 takes a slow path, otherwise another; a merge takes whichever ran."""
    return s.workflow("Branching", [
        s.node_input("n", "integer"),
        s.node_control("route", "branch", condition="inputs.value > 0"),
        s.node_operator("slow_positive", "delay", {"milliseconds": milliseconds}),
        s.node_operator("positive", "template", {"template": "positive {{ inputs.variables }}"}),
        s.node_operator("slow_negative", "delay", {"milliseconds": milliseconds}),
        s.node_operator("negative", "template", {"template": "not positive"}),
        s.node_control("either", "merge"),
        s.node_output("out", "string"),
    ], [
        s.data_edge("e1", "n", "value", "route", "value"),
        s.data_edge("e2", "route", "value", "slow_positive", "value"),
        s.data_edge("e3", "slow_positive", "value", "positive", "variables"),
        s.conditional_edge("e4", "route", "slow_negative", "inputs.value <= 0"),
        s.control_edge("e5", "slow_negative", "negative"),
        s.data_edge("e6", "positive", "text", "either", "value"),
        s.data_edge("e7", "negative", "text", "either", "value"),
        s.data_edge("e8", "either", "value", "out", "value"),
    ])


def loop_body() -> dict[str, Any]:
    return s.workflow(LOOP_BODY, [
        s.node_input("word", "string"),
        s.node_operator("loud", "template", {"template": "{{ inputs.variables | upper }}!"}),
        s.node_output("result", "string"),
    ], [s.data_edge("e1", "word", "value", "loud", "variables"), s.data_edge("e2", "loud", "text", "result", "value")])


def looping(milliseconds: int = 300) -> dict[str, Any]:
    """A delay, then a loop running `fault-body` per item, then a count."""
    built = s.workflow("Looping", [
        s.node_input("words", "array<string>"),
        s.node_operator("wait", "delay", {"milliseconds": milliseconds}),
        s.node_control("each", "loop", over="inputs.value", body=LOOP_BODY),
        s.node_operator("count", "reduce", {"reducer": "count", "initial": 0}),
        s.node_output("out", "array"),
        s.node_output("how_many"),
    ], [
        s.data_edge("e1", "words", "value", "wait", "value"),
        s.data_edge("e2", "wait", "value", "each", "value"),
        s.data_edge("e3", "each", "value", "out", "value"),
        s.data_edge("e4", "each", "value", "count", "items"),
        s.data_edge("e5", "count", "value", "how_many", "value"),
    ])
    built["settings"] = {"max_parallel": 2}
    return built


def failing(milliseconds: int = 300) -> dict[str, Any]:
    """A delay, then a JSON parse of text that is not JSON: the execution fails (not retryable),
    and the node after it is skipped."""
    return s.workflow("Failing", [
        s.node_input("x", "string"),
        s.node_operator("wait", "delay", {"milliseconds": milliseconds}),
        s.node_operator("wrap", "template", {"template": "not json: {{ inputs.variables }}"}),
        s.node_operator("parse", "json_parse", {}),
        s.node_operator("after", "template", {"template": "never {{ inputs.variables }}"}),
        s.node_output("out"),
    ], [
        s.data_edge("e1", "x", "value", "wait", "value"),
        s.data_edge("e2", "wait", "value", "wrap", "variables"),
        s.data_edge("e3", "wrap", "text", "parse", "text"),
        s.data_edge("e4", "parse", "value", "after", "variables"),
        s.data_edge("e5", "after", "text", "out", "value"),
    ])


def tick() -> dict[str, Any]:
    """What the per-second schedule runs."""
    return s.workflow("Tick", [
        s.node_input("x", "string"),
        s.node_operator("say", "template", {"template": "tick {{ inputs.variables }}"}),
        s.node_output("out", "string"),
    ], [s.data_edge("e1", "x", "value", "say", "variables"), s.data_edge("e2", "say", "text", "out", "value")])


def mix() -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each workflow with the inputs it is started with, in turn."""
    return [
        (wide(5), [{"x": "a"}, {"x": "b"}]),
        (deep(6), [{"x": "d"}]),
        (branching(), [{"n": 3}, {"n": -2}]),
        (looping(), [{"words": ["a", "bb", "ccc"]}]),
        (failing(), [{"x": "f"}]),
        (wide(8, 200), [{"x": "w"}]),
        (deep(10, 150), [{"x": "z"}]),
    ]
