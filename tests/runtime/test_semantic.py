"""The embedding operators on the local model, and their measured quality.

Quality is measured on tests/fixtures/semantic_labelled.json, written for these tests:
40 sentence pairs (20 paraphrases, 20 not, many of them on the same topic) and 32
support tickets labelled with one of four routes. Figures when this was written
(docs/instruments.md): paraphrase decision at similarity ≥ 0.65, 35 of 40 right
(0.875); routing and classifying, 32 of 32 (1.0).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from executions.runtime.contract import NodeFailure
from executions.runtime.local import run_workflow
from executions.runtime.registry import queue_for, run_node
from tests.runtime.helpers import (
    build,
    conditional_edge,
    context_for,
    data_edge,
    node_control,
    node_input,
    node_operator,
    node_output,
    operator,
)

LABELLED = json.loads((Path(__file__).resolve().parent.parent / "fixtures"
                       / "semantic_labelled.json").read_text())
PARAPHRASE_THRESHOLD = 0.65
PARAPHRASE_FLOOR = 0.85
ROUTING_FLOOR = 0.9


def run(name: str, config: dict[str, Any], inputs: dict[str, Any]) -> Any:
    return run_node(context_for(operator(name, name, config), inputs))


# ---------------------------------------------------------------------- quality


def test_paraphrase_accuracy_clears_its_floor() -> None:
    right = 0
    for pair in LABELLED["pairs"]:
        score = run("similarity", {}, {"a": pair["a"], "b": pair["b"]}).outputs["score"]
        right += (score >= PARAPHRASE_THRESHOLD) == pair["paraphrase"]
    accuracy = right / len(LABELLED["pairs"])
    print(f"paraphrase accuracy at {PARAPHRASE_THRESHOLD}: {right}/{len(LABELLED['pairs'])}"
          f" = {accuracy:.3f}")
    assert len(LABELLED["pairs"]) == 40
    assert accuracy >= PARAPHRASE_FLOOR


def test_routing_accuracy_clears_its_floor() -> None:
    routes = LABELLED["routes"]
    chosen = [run("route", {"routes": routes}, {"text": ticket["text"]}).outputs["route"]
              for ticket in LABELLED["tickets"]]
    right = sum(route == ticket["route"] for route, ticket in zip(chosen, LABELLED["tickets"],
                                                                  strict=True))
    print(f"routing accuracy: {right}/{len(chosen)} = {right / len(chosen):.3f}")
    assert len(chosen) == 32
    assert right / len(chosen) >= ROUTING_FLOOR


def test_classify_agrees_with_route_and_reports_confidence() -> None:
    labels = LABELLED["routes"]
    right = 0
    for ticket in LABELLED["tickets"]:
        outputs = run("classify", {"labels": labels}, {"text": ticket["text"]}).outputs
        assert set(outputs["scores"]) == set(labels)
        assert 0 < outputs["confidence"] <= 1
        assert outputs["scores"][outputs["label"]] == max(outputs["scores"].values())
        right += outputs["label"] == ticket["route"]
    assert right / len(LABELLED["tickets"]) >= ROUTING_FLOOR


# ---------------------------------------------------------------------- operators


def test_embed_a_text_and_a_list() -> None:
    one = run("embed", {}, {"text": "A man is eating food."})
    vector = one.outputs["embedding"]
    assert len(vector) == 384
    assert sum(value * value for value in vector) == pytest.approx(1.0, abs=1e-5)
    many = run("embed", {}, {"text": ["A man is eating food.", "A cat."]}).outputs["embedding"]
    assert len(many) == 2 and many[0] == vector
    assert one.usage["model"] == "local/all-minilm-l6-v2"
    assert (one.usage["tokens_in"], one.usage["cost"]) == (8, 0.0)


def test_embed_refuses_what_is_not_text() -> None:
    with pytest.raises(NodeFailure) as caught:
        run("embed", {}, {"text": 42})
    assert caught.value.code == "invalid_input"


def test_similarity_of_texts_vectors_and_lists() -> None:
    same = run("similarity", {}, {"a": "hello world", "b": "hello world"}).outputs
    assert same == {"score": pytest.approx(1.0, abs=1e-5), "best": None}
    vector = run("embed", {}, {"text": "hello world"}).outputs["embedding"]
    mixed = run("similarity", {}, {"a": vector, "b": "hello world"}).outputs
    assert mixed["score"] == pytest.approx(1.0, abs=1e-5)
    faq = [{"question": "How do I reset my password?", "answer": "Use the reset link."},
           {"question": "Where is my invoice?", "answer": "Billing → Invoices."}]
    best = run("similarity", {"field": "question"},
               {"a": "I forgot my password", "b": faq}).outputs
    assert len(best["score"]) == 2 and best["score"][0] > best["score"][1]
    assert best["best"] == {"index": 0, "score": best["score"][0], "item": faq[0]}


@pytest.mark.parametrize(("inputs", "port"), [
    ({"a": "x", "b": []}, "b"),
    ({"a": [0.1, 0.2], "b": [[0.1, 0.2, 0.3]]}, "b"),
    ({"a": "x", "b": [{"no": "field"}]}, "b"),
], ids=["empty list", "vectors of different lengths", "objects without field"])
def test_similarity_refuses_bad_inputs(inputs: dict[str, Any], port: str) -> None:
    with pytest.raises(NodeFailure) as caught:
        run("similarity", {}, inputs)
    assert (caught.value.code, caught.value.details["port"]) == ("invalid_input", port)


def test_route_falls_back_below_its_threshold_and_forwards_the_value() -> None:
    routes = LABELLED["routes"]
    outputs = run("route", {"routes": routes, "threshold": 0.3, "fallback": "human"},
                  {"text": "Lisbon's trams are yellow and old.", "value": {"id": 7}}).outputs
    assert outputs["route"] == "human"
    assert outputs["score"] < 0.3 and outputs["value"] == {"id": 7}
    billed = run("route", {"routes": routes}, {"text": "You charged me twice!"}).outputs
    assert (billed["route"], billed["value"]) == ("billing", "You charged me twice!")


def test_route_needs_examples_for_every_route() -> None:
    # Validation refuses an empty list; a node read without it still fails clearly.
    with pytest.raises(NodeFailure) as caught:
        run("route", {"routes": {"a": []}}, {"text": "t"})
    assert (caught.value.code, caught.value.details["field"]) == ("invalid_config",
                                                                  "config.routes")


def test_deduplicate_keeps_the_first_of_each_group() -> None:
    records = [
        {"id": 1, "description": "Acme Corp, 12 Main Street, Springfield"},
        {"id": 2, "description": "Blue Widgets Ltd, 4 Harbour Road, Dover"},
        {"id": 3, "description": "ACME Corp., 12 Main St., Springfield"},
        {"id": 4, "description": "Green Grocers, 9 Market Square, York"},
        {"id": 5, "description": "Blue Widgets Limited, 4 Harbour Rd, Dover"},
        {"id": 6, "description": "Acme Corporation, 12 Main Street, Springfield"},
    ]
    outputs = run("deduplicate", {"field": "description", "threshold": 0.85},
                  {"items": records}).outputs
    assert outputs["groups"] == [[0, 2, 5], [1, 4], [3]]
    assert [record["id"] for record in outputs["items"]] == [1, 2, 4]
    assert outputs["duplicates"] == 3
    assert run("deduplicate", {}, {"items": []}).outputs == {"items": [], "groups": [],
                                                             "duplicates": 0}


def test_embedding_operators_run_on_the_model_queue() -> None:
    for name in ("embed", "similarity", "route", "classify", "deduplicate"):
        assert queue_for(operator(name, name, {"routes": {"a": ["x"]}, "labels": {"a": ["x"]}}
                                  if name in ("route", "classify") else {})) == "models"


def test_a_routed_workflow_runs_only_the_chosen_branch() -> None:
    routes = {name: LABELLED["routes"][name] for name in ("billing", "technical")}
    flow = build("route tickets", [
        node_input("ticket"),
        node_operator("triage", "route", {"routes": routes}),
        node_operator("to_billing", "template", {"template": "billing: {{ inputs.variables }}"}),
        node_operator("to_tech", "template", {"template": "tech: {{ inputs.variables }}"}),
        node_control("answer", "merge"),
        node_output("reply", "string"),
    ], [
        data_edge("e1", "ticket", "value", "triage", "text"),
        conditional_edge("c_billing", "triage", "to_billing", 'inputs.route == "billing"'),
        data_edge("d_billing", "triage", "value", "to_billing", "variables"),
        conditional_edge("c_tech", "triage", "to_tech", 'inputs.route == "technical"'),
        data_edge("d_tech", "triage", "value", "to_tech", "variables"),
        data_edge("m1", "to_billing", "text", "answer", "value"),
        data_edge("m2", "to_tech", "text", "answer", "value"),
        data_edge("e9", "answer", "value", "reply", "value"),
    ])
    result = run_workflow(flow, {"ticket": "The app crashes when I save"})
    assert result.state == "completed"
    assert result.outputs == {"reply": "tech: The app crashes when I save"}
    assert result.states()["to_billing"] == "skipped"
    assert result.nodes["triage"].outputs["route"] == "technical"


def test_label_scores_are_mean_similarities() -> None:
    from executions.runtime.semantic import label_scores

    text = np.array([1.0, 0.0], dtype=np.float32)
    examples = {"a": np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32),
                "b": np.array([[0.6, 0.8]], dtype=np.float32)}
    assert label_scores(text, examples) == {"a": 0.5, "b": pytest.approx(0.6)}
