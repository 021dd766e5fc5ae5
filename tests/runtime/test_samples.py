"""Every demo workflow of workflows/samples.py through the reference executor.

The demos call remote models, which cannot run offline: each test substitutes
`local/echo` for them (and, where the demo's edges read an embedding port, reads the
echo's `text` port instead), saying so. `http_request` to api.example.com is made to
fail as it would offline (the name does not resolve) and to be refused when the name
resolves to an internal address — the one seam patched is the resolver.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from executions.runtime import http_request
from executions.runtime.local import run_workflow
from workflows import samples
from workflows.domain import Workflow

from .helpers import from_document


def with_echo_models(document: dict[str, Any]) -> dict[str, Any]:
    """The demo with every remote model replaced by local/echo (same config)."""
    for node in document["nodes"]:
        if node["kind"] == "instrument":
            node["model_id"] = "local/echo"
            node["config"] = {key: value for key, value in node["config"].items()
                              if key != "dimensions"}
    for edge in document["edges"]:
        if edge.get("source_port") == "embedding":
            edge["source_port"] = "text"
        if edge.get("target_port") == "text" and edge["target"] == "embedding":
            edge["target_port"] = "prompt"
    return document


def demo(factory: Any) -> Workflow:
    return from_document(with_echo_models(factory()))


def test_every_demo_is_covered() -> None:
    assert [factory.__name__ for factory in samples.DEMO_WORKFLOWS] == [
        "linear", "branching", "parallel_join", "loop_over_list", "interactive_input"]


def test_linear() -> None:
    result = run_workflow(demo(samples.linear), {"question": "Why is the sky blue?"})
    assert result.state == "completed"
    assert result.outputs == {"reply": "Answer briefly: Why is the sky blue?"}
    assert result.nodes["answer"].usage["tokens_in"] == 7


@pytest.mark.parametrize(("confidence", "ran", "skipped"), [
    (0.9, "draft", "escalate"),
    (0.2, "escalate", "draft"),
])
def test_branching_routes_by_confidence(confidence: float, ran: str, skipped: str) -> None:
    ticket = json.dumps({"confidence": confidence, "subject": "refund"})
    result = run_workflow(demo(samples.branching), {"ticket": ticket})
    assert result.state == "completed"
    assert result.nodes["confidence"].outputs == {"value": {"confidence": confidence,
                                                            "subject": "refund"}}
    assert result.nodes["route"].decision is (confidence >= 0.6)
    assert result.nodes[ran].state == "completed"
    assert (result.nodes[skipped].state, result.nodes[skipped].skip_reason) == (
        "skipped", "branch not taken")
    if ran == "draft":
        assert result.outputs == {"result": ticket}
    else:
        assert result.outputs == {}
        assert result.nodes["result"].skip_reason == "upstream skipped"
        assert result.nodes["escalate"].logs == [("warning", "Escalated to a person")]


def test_parallel_join_gathers_three_analyses() -> None:
    result = run_workflow(demo(samples.parallel_join), {"document": "Short text"})
    assert result.state == "completed"
    assert json.loads(result.outputs["out"]) == ["Short text", "Short text", "Short text"]
    assert result.nodes["gather"].outputs == {"value": ["Short text"] * 3}


def summarise_article() -> Workflow:
    """The loop body the demo names (summarise-article): a prompt to the echo model."""
    return from_document(samples.workflow("Summarise one article", [
        samples.node_input("article"),
        samples.node_operator("prompt", "template",
                              {"template": "Summary: {{ inputs.variables[:12] }}"}),
        samples.node_model("summarise", "local/echo", {}),
        samples.node_output("summary", "string"),
    ], [
        samples.data_edge("e1", "article", "value", "prompt", "variables"),
        samples.data_edge("e2", "prompt", "text", "summarise", "prompt"),
        samples.data_edge("e3", "summarise", "text", "summary", "value"),
    ]))


def test_loop_over_list_summarises_each_long_article() -> None:
    articles = ["  short  ", "  The first long article about bees.  ",
                "The second long article, about wasps."]
    bodies = {"summarise-article": summarise_article}
    result = run_workflow(demo(samples.loop_over_list), {"articles": articles},
                          resolve_workflow=lambda reference: bodies[reference]())
    assert result.state == "completed"
    assert result.nodes["keep"].outputs == {"items": [
        "The first long article about bees.", "The second long article, about wasps."]}
    assert result.outputs == {"summaries": ["Summary: The first lo", "Summary: The second l"],
                              "how_many": 2}


def test_loop_over_list_without_its_body_fails_clearly() -> None:
    result = run_workflow(demo(samples.loop_over_list), {"articles": ["a" * 30]})
    assert result.state == "failed"
    assert result.nodes["each"].error is not None
    assert result.nodes["each"].error["code"] == "loop_unavailable"
    # count was queued behind the loop, so stopping skipped it.
    assert result.nodes["count"].skip_reason == "execution stopped"


def test_interactive_input_waits_for_its_topic() -> None:
    result = run_workflow(demo(samples.interactive_input), {})
    assert result.state == "waiting_for_input"
    assert result.waiting_for == {"topic": "Which topic should we research?"}
    assert all(node.attempts == 0 for node_id, node in result.nodes.items() if node_id != "topic")


def test_interactive_input_search_fails_clearly_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(http_request, "resolve_host", offline)
    result = run_workflow(demo(samples.interactive_input), {"topic": "bees"})
    assert result.state == "failed"
    assert result.outputs == {"note": "Topic: bees"}
    error = result.nodes["fetch"].error
    assert error is not None
    assert (error["code"], error["retryable"]) == ("connection_failed", True)
    assert "could not resolve 'api.example.com'" in error["message"]
    for node_id in ("pick", "combine", "first", "details"):
        assert result.nodes[node_id].skip_reason == "execution stopped"


def test_interactive_input_search_is_refused_when_the_name_points_inside(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_request, "resolve_host", lambda host, port: ["10.0.0.8"])
    result = run_workflow(demo(samples.interactive_input), {"topic": "bees"})
    error = result.nodes["fetch"].error
    assert error is not None
    assert (error["code"], error["retryable"]) == ("address_refused", False)
    assert "10.0.0.8 (from api.example.com) is a private address" in error["message"]


def test_the_starter_workflow_passes_its_input_through() -> None:
    result = run_workflow(from_document(samples.starter()), {"input": "hello"})
    assert (result.state, result.outputs) == ("completed", {"output": "hello"})
