"""The platform accepts a workflow at the graph core's size limits, end to end."""

from __future__ import annotations

from typing import Any

import pytest

from symphony_site.actors import Actor, Origin
from workflows.models import WorkflowVersion

pytestmark = pytest.mark.django_db
LAYER_WIDTH = 100


def layered_log_workflow(node_count: int) -> dict[str, Any]:
    """One input, then layers of `log` operators: one data edge and four control edges into each."""
    nodes: list[dict[str, Any]] = [{"id": "n0", "kind": "input", "name": "Source", "data_type": "string"}]
    edges: list[dict[str, Any]] = []
    for number in range(1, node_count):
        nodes.append({"id": f"n{number}", "kind": "operator", "name": f"Log {number}", "operator": "log",
                      "config": {"level": "info", "message": "step"}})
        layer_start = ((number - 1) // LAYER_WIDTH) * LAYER_WIDTH + 1
        previous = [0] if layer_start == 1 else list(range(layer_start - LAYER_WIDTH, layer_start))
        sources = [previous[(number + offset) % len(previous)] for offset in range(min(5, len(previous)))]
        edges.append({"id": f"d{number}", "kind": "data", "source": f"n{sources[0]}", "source_port": "value",
                      "target": f"n{number}", "target_port": "value"})
        edges += [{"id": f"c{number}-{source}", "kind": "control", "source": f"n{source}", "target": f"n{number}"}
                  for source in sources[1:]]
    return {"name": "Ten thousand steps", "version": "1.0.0", "nodes": nodes, "edges": edges}


def test_a_10000_node_workflow_is_stored_and_planned(personas) -> None:
    document = layered_log_workflow(10_000)
    assert (len(document["nodes"]), len(document["edges"])) == (10_000, 49_595)
    client = personas.client("editor")
    response = client.post("/api/v1/workflows/", {"team": str(personas.team.pk), "document": document},
                           format="json")
    assert response.status_code == 201, response.content[:500]
    workflow_id = response.json()["id"]
    stored = WorkflowVersion.objects.get(workflow_id=workflow_id).document["workflow"]
    assert (len(stored["nodes"]), len(stored["edges"])) == (10_000, 49_595)
    plan = client.get(f"/api/v1/workflows/{workflow_id}/plan/").json()
    assert len(plan["topological_order"]) == 10_000
    assert len(plan["execution_levels"]) == 101


def test_one_node_past_the_limit_is_413_before_validation(personas) -> None:
    document = layered_log_workflow(10_001)
    response = personas.client("editor").post(
        "/api/v1/workflows/", {"team": str(personas.team.pk), "document": document}, format="json")
    assert response.status_code == 413
    assert response.json()["error"]["details"][0]["max_nodes"] == 10_000
    assert WorkflowVersion.objects.count() == 0


def test_plan_of_a_large_workflow_omits_transitive_lists_unless_asked_per_node(personas) -> None:
    from workflows import services

    workflow = services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team,
                                        document=layered_log_workflow(2_000))
    client = personas.client("viewer")
    plan = client.get(f"/api/v1/workflows/{workflow.pk}/plan/").json()
    assert plan["transitive_dependencies"] == "omitted"
    assert len(plan["dependencies"]) == 2_000
    # n150 (second layer) is fed by n51..n55 and feeds n245..n249 (third layer).
    assert plan["dependencies"]["n150"] == {"direct": ["n51", "n52", "n53", "n54", "n55"],
                                            "dependents": ["n245", "n246", "n247", "n248", "n249"]}
    one = client.get(f"/api/v1/workflows/{workflow.pk}/plan/?node=n150&node=n1").json()
    assert one["transitive_dependencies"] == "included"
    assert sorted(one["dependencies"]) == ["n1", "n150"]
    assert one["dependencies"]["n1"]["all"] == ["n0"]
    assert one["dependencies"]["n150"]["all"] == ["n0", "n51", "n52", "n53", "n54", "n55"]
    missing = client.get(f"/api/v1/workflows/{workflow.pk}/plan/?node=nope")
    assert missing.status_code == 400
    assert missing.json()["error"]["details"] == [{"field": "node", "message": "unknown node 'nope'", "code": "invalid"}]
