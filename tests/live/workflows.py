"""Workflows that make events: a slow node with progress, a chatty loop, and a busy mix."""

from __future__ import annotations

from typing import Any

from workflows import samples as s


def slow(milliseconds: int = 1200) -> dict[str, Any]:
    return s.workflow("Slow", [
        s.node_input("value"),
        s.node_operator("wait", "delay", {"milliseconds": milliseconds}),
        s.node_output("out"),
    ], [
        s.data_edge("e1", "value", "value", "wait", "value"),
        s.data_edge("e2", "wait", "value", "out", "value"),
    ])


def say_body() -> dict[str, Any]:
    """A loop body that logs its item."""
    return s.workflow("say", [
        s.node_input("item", "any"),
        s.node_operator("say", "log", {"level": "info", "message": "line {{ inputs.value }}"}),
        s.node_output("out"),
    ], [
        s.data_edge("b1", "item", "value", "say", "value"),
        s.data_edge("b2", "say", "value", "out", "value"),
    ])


def chatty(items: int) -> dict[str, Any]:
    """One loop node whose body logs once per item: `items` log lines from one node."""
    built = s.workflow("Chatty", [
        s.node_input("count", "number"),
        s.node_control("each", "loop", over=f"range({items})", body="say"),
        s.node_output("out"),
    ], [
        s.data_edge("e1", "count", "value", "each", "value"),
        s.data_edge("e2", "each", "value", "out", "value"),
    ])
    built["settings"] = {"max_parallel": 8}
    return built


def busy(lines: int = 12, wait_ms: int = 600) -> dict[str, Any]:
    """A run that keeps producing events for a second or two: a delay with progress beside a
    chatty loop, then a template and an output."""
    return s.workflow("Busy", [
        s.node_input("value", "any"),
        s.node_operator("wait", "delay", {"milliseconds": wait_ms}),
        s.node_control("each", "loop", over=f"range({lines})", body="say"),
        s.node_control("both", "join"),
        s.node_operator("show", "template", {"template": "done {{ inputs.variables }}"}),
        s.node_output("out", "string"),
    ], [
        s.data_edge("e1", "value", "value", "wait", "value"),
        s.data_edge("e2", "value", "value", "each", "value"),
        s.data_edge("e3", "wait", "value", "both", "value"),
        s.data_edge("e4", "each", "value", "both", "value"),
        s.data_edge("e5", "both", "value", "show", "variables"),
        s.data_edge("e6", "show", "text", "out", "value"),
    ])
