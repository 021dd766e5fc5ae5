"""Benchmark: full validation + plan of a workflow, beside the same pipeline in networkx.

Ours: ``validate_workflow`` (every check: node types and config against a
catalog, ports, types, duplicates, required inputs, control rules,
connectivity, expressions, cycles) then ``plan_workflow`` (topological order,
execution levels, critical path) on an in-memory Workflow.

Baseline: the same checks written plainly, with the graph work done by
networkx (``DiGraph``, ``is_directed_acyclic_graph``/``simple_cycles``,
``lexicographical_topological_sort``, ``topological_generations``,
``dag_longest_path``). Both share the catalog's config-answer cache and the
compiled-expression cache, so the difference measured is graph handling and
loop structure, not caching.

Each repetition starts cold for the graph: ``mark_changed()`` drops the
workflow's cached analysis. Run with ``python -m bench.graph``.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import networkx

from bench.graph.generate import generate_workflow
from workflows.domain import (
    InMemoryNodeTypeCatalog,
    NodeKind,
    NodeTypeDefinition,
    PortDefinition,
    Workflow,
    plan_workflow,
    validate_workflow,
)
from workflows.domain.expressions import check_expression, check_template
from workflows.domain.model import (
    ConditionalEdge,
    ControlNode,
    ControlType,
    DataEdge,
    InputNode,
    _TaskNode,
)
from workflows.domain.types import INTEGER, NUMBER, STRING

AREA = "graph"
EDGES_PER_NODE = 5


def benchmark_catalog() -> InMemoryNodeTypeCatalog:
    return InMemoryNodeTypeCatalog(
        [
            NodeTypeDefinition(
                kind=NodeKind.OPERATOR,
                type_name="template",
                inputs=(
                    PortDefinition(name="text", data_type=STRING),
                    PortDefinition(name="extra", data_type=NUMBER, required=False),
                ),
                outputs=(
                    PortDefinition(name="text", data_type=STRING),
                    PortDefinition(name="length", data_type=INTEGER),
                ),
                config_schema={
                    "type": "object",
                    "properties": {"template": {"type": "string"}},
                    "required": ["template"],
                },
            )
        ]
    )


def symphony_pipeline(workflow: Workflow, catalog: InMemoryNodeTypeCatalog) -> Any:
    result = validate_workflow(workflow, catalog=catalog)
    if not result.valid:
        raise AssertionError(result.codes()[:5])
    return plan_workflow(workflow)


def networkx_pipeline(workflow: Workflow, catalog: InMemoryNodeTypeCatalog) -> Any:
    """The same checks, written plainly, with the graph work done by networkx."""
    errors: list[str] = []
    graph = networkx.DiGraph()
    inputs: dict[str, dict[str, PortDefinition]] = {}
    outputs: dict[str, dict[str, PortDefinition]] = {}
    for node_id, node in workflow.nodes.items():
        graph.add_node(node_id)
        input_ports = list(node.input_ports())
        output_ports = list(node.output_ports())
        if isinstance(node, _TaskNode):
            definition = catalog.get(node.kind, node.type_name)
            if definition is None:
                errors.append("unknown_node_type")
            else:
                input_ports = input_ports or list(definition.inputs)
                output_ports = output_ports or list(definition.outputs)
                errors.extend("invalid_config" for _ in definition.config_problems(node.config))
                known_inputs = {port.name: port for port in definition.inputs}
                known_outputs = {port.name: port for port in definition.outputs}
                for port in node.inputs:
                    reference = known_inputs.get(port.name)
                    if reference is None or not port.data_type.is_assignable_to(
                        reference.data_type
                    ):
                        errors.append("invalid_port")
                for port in node.outputs:
                    reference = known_outputs.get(port.name)
                    if reference is None or not reference.data_type.is_assignable_to(
                        port.data_type
                    ):
                        errors.append("invalid_port")
                declared = {port.name for port in node.inputs}
                if node.inputs and any(
                    port.required and port.name not in declared for port in definition.inputs
                ):
                    errors.append("invalid_port")
            for value in node.config.values():
                if isinstance(value, str) and check_template(value) is not None:
                    errors.append("invalid_expression")
        if isinstance(node, ControlNode) and node.condition and check_expression(node.condition):
            errors.append("invalid_expression")
        inputs[node_id] = {port.name: port for port in input_ports}
        outputs[node_id] = {port.name: port for port in output_ports}
    seen: set[tuple[str, ...]] = set()
    filled: dict[tuple[str, str], str] = {}
    data_sources: set[str] = set()
    for edge in workflow.edges.values():
        if edge.source not in graph or edge.target not in graph or edge.source == edge.target:
            errors.append("invalid_edge")
            continue
        key = edge.connection_key()
        if key in seen:
            errors.append("invalid_edge")
            continue
        seen.add(key)
        if isinstance(edge, DataEdge):
            data_sources.add(edge.source)
            source_port = outputs[edge.source].get(edge.source_port)
            target_port = inputs[edge.target].get(edge.target_port)
            if source_port is None or target_port is None:
                errors.append("invalid_edge")
            elif edge.transform is None and not (
                source_port.data_type.is_any
                or source_port.data_type.is_assignable_to(target_port.data_type)
            ):
                errors.append("type_mismatch")
            if (edge.target, edge.target_port) in filled:
                errors.append("invalid_edge")
            filled[(edge.target, edge.target_port)] = edge.id
        elif isinstance(edge, ConditionalEdge) and check_expression(edge.condition) is not None:
            errors.append("invalid_expression")
        graph.add_edge(edge.source, edge.target)
    for node_id, ports in inputs.items():
        for port in ports.values():
            if port.required and port.default is None and (node_id, port.name) not in filled:
                errors.append("missing_required_input")
    warnings = [
        node_id
        for node_id, node in workflow.nodes.items()
        if (isinstance(node, InputNode) and node_id not in data_sources)
        or graph.degree(node_id) == 0
    ]
    for node_id, node in workflow.nodes.items():
        if (
            isinstance(node, ControlNode)
            and node.control is ControlType.MERGE
            and graph.in_degree(node_id) < 2
        ):
            errors.append("invalid_control_node")
    if not networkx.is_directed_acyclic_graph(graph):
        errors.append("cycle_detected")
        next(networkx.simple_cycles(graph))
    if errors:
        raise AssertionError(errors[:5])
    order = list(networkx.lexicographical_topological_sort(graph))
    levels = [sorted(generation) for generation in networkx.topological_generations(graph)]
    weights = {
        node_id: float(node.metadata.estimated_duration_ms or 1.0) if node.enabled else 0.0
        for node_id, node in workflow.nodes.items()
    }
    for source, target in graph.edges:
        graph.edges[source, target]["weight"] = weights[target]
    # A virtual start before every root carries the roots' own weights, so the
    # longest path weighs whole nodes, as ours does.
    roots = [node_id for node_id in order if graph.in_degree(node_id) == 0]
    graph.add_weighted_edges_from(("<start>", root, weights[root]) for root in roots)
    critical_path = networkx.dag_longest_path(graph, weight="weight")[1:]
    return order, levels, critical_path, warnings


def symphony_graph_only(workflow: Workflow) -> Any:
    """Cycles, topological order, levels and critical path from a cold workflow."""
    return plan_workflow(workflow)


def networkx_graph_only(workflow: Workflow) -> Any:
    """The same graph work with networkx, from the same workflow."""
    graph = networkx.DiGraph()
    graph.add_nodes_from(workflow.nodes)
    graph.add_edges_from(
        (edge.source, edge.target)
        for edge in workflow.edges.values()
        if edge.source in graph and edge.target in graph and edge.source != edge.target
    )
    if not networkx.is_directed_acyclic_graph(graph):
        raise AssertionError(next(networkx.simple_cycles(graph)))
    order = list(networkx.lexicographical_topological_sort(graph))
    levels = [sorted(generation) for generation in networkx.topological_generations(graph)]
    weights = {
        node_id: float(node.metadata.estimated_duration_ms or 1.0) if node.enabled else 0.0
        for node_id, node in workflow.nodes.items()
    }
    for source, target in graph.edges:
        graph.edges[source, target]["weight"] = weights[target]
    roots = [node_id for node_id in order if graph.in_degree(node_id) == 0]
    graph.add_weighted_edges_from(("<start>", root, weights[root]) for root in roots)
    return order, levels, networkx.dag_longest_path(graph, weight="weight")[1:]


def _time(function: Callable[[], Any], repetitions: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        function()
    samples: list[float] = []
    for _ in range(repetitions):
        gc.collect()
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _row(
    name: str,
    size: int,
    ours: list[float],
    baseline: list[float],
    target: str,
    met: Callable[[float, float], bool] | None,
) -> dict[str, Any]:
    value = statistics.median(ours)
    baseline_value = statistics.median(baseline)
    ratio = baseline_value / value if value else None
    return {
        "area": AREA,
        "name": name,
        "size": size,
        "unit": "ms",
        "value": round(value, 3),
        "p50": round(value, 3),
        "p95": round(_percentile(ours, 0.95), 3),
        "max": round(max(ours), 3),
        "baseline_name": "the same pipeline with plain networkx calls",
        "baseline": round(baseline_value, 3),
        "ratio": round(ratio, 2) if ratio is not None else None,
        "target": target,
        "met": met(value, ratio or 0.0) if met is not None else None,
    }


def _measure(
    size: int, shape: str, repetitions: int, warmup: int, *, graph_only: bool = False
) -> tuple[list[float], list[float]]:
    catalog = benchmark_catalog()
    workflow = Workflow.from_document(
        generate_workflow(size, edges_per_node=EDGES_PER_NODE, shape=shape, seed=size)  # type: ignore[arg-type]
    )

    def ours() -> None:
        workflow.mark_changed()
        if graph_only:
            symphony_graph_only(workflow)
        else:
            symphony_pipeline(workflow, catalog)

    def theirs() -> None:
        workflow.mark_changed()
        if graph_only:
            networkx_graph_only(workflow)
        else:
            networkx_pipeline(workflow, catalog)

    ours_samples = _time(ours, repetitions, warmup)
    baseline_samples = _time(theirs, repetitions, warmup)
    return ours_samples, baseline_samples


def measurement_plan(quick: bool) -> list[tuple[str, int, str, int, int]]:
    """(pipeline, nodes, shape, repetitions, warm-up runs) per row.

    ``full`` is validation (every check) + plan; ``graph`` is the graph work
    alone (cycles, topological order, levels, critical path), the figure
    benchmarks.md names in parentheses.
    """
    if quick:
        return [
            ("full", 100, "wide", 5, 2),
            ("full", 1_000, "wide", 3, 1),
            ("graph", 100, "wide", 5, 2),
        ]
    return [
        ("full", 100, "wide", 200, 20),
        ("full", 1_000, "wide", 30, 3),
        ("full", 10_000, "wide", 15, 2),
        ("full", 10_000, "deep", 15, 2),
        ("graph", 100, "wide", 200, 20),
        ("graph", 10_000, "wide", 15, 2),
        ("graph", 10_000, "deep", 15, 2),
    ]


PIPELINE_NAMES = {
    "full": "validate + plan",
    "graph": "graph only: cycles, order, levels, critical path",
}


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Rows for 100, 1,000 and 10,000 nodes (5 edges per node); ``quick`` skips 10,000."""
    rows: list[dict[str, Any]] = []
    for pipeline, size, shape, repetitions, warmup in measurement_plan(quick):
        ours, baseline = _measure(size, shape, repetitions, warmup, graph_only=pipeline == "graph")
        name = f"{PIPELINE_NAMES[pipeline]} ({shape})"
        if size == 100:
            rows.append(
                _row(name, size, ours, baseline, "<= 2 ms", lambda value, ratio: value <= 2.0)
            )
        elif size == 10_000:
            rows.append(
                _row(
                    name,
                    size,
                    ours,
                    baseline,
                    "<= 60 ms and >= 6x networkx",
                    lambda value, ratio: value <= 60.0 and ratio >= 6.0,
                )
            )
        else:
            rows.append(_row(name, size, ours, baseline, "", None))
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    header = ["name", "size", "p50", "p95", "max", "baseline", "ratio", "target", "met"]
    lines = [header] + [[str(row[key]) for key in header] for row in rows]
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    for line in lines:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


def main(arguments: list[str]) -> None:
    quick = "--quick" in arguments
    print(f"graph benchmark: {EDGES_PER_NODE} edges per node, times in ms (p50 is the value)")
    for pipeline, size, shape, repetitions, warmup in measurement_plan(quick):
        print(
            f"  {PIPELINE_NAMES[pipeline]}, {size} nodes ({shape}): {warmup} warm-up runs, "
            f"then {repetitions} timed runs of each"
        )
    print_table(run(quick=quick))


if __name__ == "__main__":
    main(sys.argv[1:])
