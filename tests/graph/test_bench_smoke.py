"""The graph benchmark runs and its two pipelines agree (no timing is asserted)."""

from bench.graph import run
from bench.graph.generate import generate_workflow
from bench.graph.pipeline import (
    benchmark_catalog,
    networkx_graph_only,
    networkx_pipeline,
    symphony_graph_only,
    symphony_pipeline,
)
from workflows.domain import Workflow, validate_workflow

ROW_KEYS = {
    "area", "name", "size", "unit", "value", "p50", "p95", "max",
    "baseline_name", "baseline", "ratio", "target", "met",
}  # fmt: skip


def test_quick_run_returns_rows_in_the_bench_shape():
    rows = run(quick=True)
    assert [(row["name"], row["size"]) for row in rows] == [
        ("validate + plan (wide)", 100),
        ("validate + plan (wide)", 1_000),
        ("graph only: cycles, order, levels, critical path (wide)", 100),
    ]
    for row in rows:
        assert set(row) == ROW_KEYS
        assert row["area"] == "graph"
        assert row["unit"] == "ms"
        assert row["value"] == row["p50"] > 0
        assert row["baseline"] > 0
    assert rows[0]["target"] == "<= 2 ms"
    assert isinstance(rows[0]["met"], bool)
    assert rows[1]["met"] is None


def test_graph_only_pipelines_agree():
    workflow = Workflow.from_document(generate_workflow(200, shape="deep", seed=3))
    plan = symphony_graph_only(workflow)
    order, levels, critical_path = networkx_graph_only(workflow)
    assert plan.execution_levels == levels
    assert sorted(plan.topological_order) == sorted(order)
    weights = {
        node_id: node.metadata.estimated_duration_ms or 1.0
        for node_id, node in workflow.nodes.items()
    }
    assert sum(weights[node_id] for node_id in critical_path) == plan.critical_path_duration


def test_both_pipelines_compute_the_same_levels():
    for shape in ("wide", "deep"):
        workflow = Workflow.from_document(generate_workflow(300, shape=shape, seed=7))
        catalog = benchmark_catalog()
        plan = symphony_pipeline(workflow, catalog)
        workflow.mark_changed()
        order, levels, critical_path, warnings = networkx_pipeline(workflow, catalog)
        assert plan.execution_levels == levels
        assert sorted(plan.topological_order) == sorted(order)
        weights = {
            node_id: node.metadata.estimated_duration_ms or 1.0
            for node_id, node in workflow.nodes.items()
        }
        assert sum(weights[node_id] for node_id in critical_path) == plan.critical_path_duration
        ours = validate_workflow(workflow, catalog=catalog).warnings
        assert sorted(warnings) == sorted(issue.node_id for issue in ours)
