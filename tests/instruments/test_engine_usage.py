"""Instrument nodes through the real engine: usage recorded on node runs, the output cache
serving a second execution, and the execution's usage summed per node and in total."""

from __future__ import annotations

from executions.models import NodeRun
from instruments.models import CachedOutput, ModelCall
from instruments.selectors import execution_usage
from tests.executions.conftest import document, run, runs
from workflows import samples


def echo_workflow(config: dict | None = None) -> dict:
    return document("echo twice", [
        samples.node_input("question"),
        samples.node_model("answer", "local/echo", config or {}),
        samples.node_operator("route", "route", {"routes": {
            "billing": ["I was charged twice", "Where is my invoice?"],
            "technical": ["The app crashes", "Error 500 when saving"]}}),
        samples.node_output("reply", "string"),
        samples.node_output("queue", "string"),
    ], [samples.data_edge("e1", "question", "value", "answer", "prompt"),
        samples.data_edge("e2", "answer", "text", "reply", "value"),
        samples.data_edge("e3", "question", "value", "route", "text"),
        samples.data_edge("e4", "route", "route", "queue", "value")])


def test_a_second_execution_is_served_from_the_cache(engine) -> None:
    first = run(engine, echo_workflow(), {"question": "My card was billed two times"})
    second = run(engine, echo_workflow(), {"question": "My card was billed two times"})
    assert (first.state, second.state) == ("completed", "completed")
    assert first.outputs == second.outputs == {"reply": "My card was billed two times",
                                               "queue": "billing"}
    one, two = runs(first)["answer"], runs(second)["answer"]
    assert (one.cached, two.cached) == (False, True)
    assert one.usage["tokens_in"] == 6 and one.usage["cached"] is False
    assert {name: two.usage[name] for name in ("tokens_in", "tokens_out", "cost", "cached",
                                               "saved")} == {
        "tokens_in": 0, "tokens_out": 0, "cost": 0.0, "cached": True,
        "saved": {"tokens_in": 6, "tokens_out": 6, "cost": 0.0}}
    assert one.output == two.output
    # The route operator used the local embedding model: usage recorded, never cached.
    assert runs(second)["route"].usage["model"] == "local/all-minilm-l6-v2"
    assert runs(second)["route"].cached is False
    assert CachedOutput.objects.get().hits == 1
    assert list(ModelCall.objects.order_by("id").values_list("model_id", "cached")) == [
        ("local/echo", False), ("local/echo", True)]
    rows = list(NodeRun.objects.filter(execution=second).values("node_id", "usage", "cached",
                                                                "reused_from"))
    summary = execution_usage(rows)
    # The route read its text and its four examples (34 word pieces); the echo cost nothing.
    assert runs(second)["route"].usage["tokens_in"] == 34
    assert summary["total"] == {"calls": 2, "cached": 1, "tokens_in": 34, "tokens_out": 0,
                                "cost": 0.0, "saved": 0.0, "currency": "USD"}
    assert set(summary["by_node"]) == {"answer", "route"}


def test_cache_false_calls_the_model_again(engine) -> None:
    run(engine, echo_workflow({"cache": False}), {"question": "hello"})
    again = run(engine, echo_workflow({"cache": False}), {"question": "hello"})
    assert runs(again)["answer"].cached is False
    assert CachedOutput.objects.count() == 0


def test_the_execution_api_shows_usage_per_node_and_in_total(engine) -> None:
    execution = run(engine, echo_workflow(), {"question": "Where is my invoice?"})
    body = engine.client("viewer").get(f"/api/v1/executions/{execution.pk}/").json()
    answer = next(node for node in body["node_runs"] if node["node_id"] == "answer")
    assert (answer["cached"], answer["usage"]["model"], answer["usage"]["tokens_in"]) == (
        False, "local/echo", 4)
    assert set(body["usage"]["by_node"]) == {"answer", "route"}
    assert body["usage"]["total"]["calls"] == 2
    assert body["usage"]["total"]["tokens_in"] == (
        answer["usage"]["tokens_in"] + body["usage"]["by_node"]["route"]["tokens_in"])
