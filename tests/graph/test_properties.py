"""Property tests with networkx as the reference oracle.

The index-based algorithms (``graph_index.py``/``algorithms.py``) are checked
against networkx on random graphs, including self-loops, duplicate edges and
edges to missing nodes; the validator is fed garbage and must answer with
issues, never an exception.
"""

import itertools
import json

import networkx
from hypothesis import given
from hypothesis import strategies as st

from bench.graph.generate import generate_workflow
from workflows.domain import DocumentError, Workflow, plan_workflow, validate_document
from workflows.domain.algorithms import would_create_cycle
from workflows.domain.document import read_document
from workflows.domain.expressions import check_expression, check_template
from workflows.domain.traversal import all_paths

from .helpers import PROPERTY_SETTINGS, graph_document
from .strategies import dags, random_graphs


def oracle(node_ids, pairs) -> networkx.DiGraph:
    graph = networkx.DiGraph()
    graph.add_nodes_from(node_ids)
    graph.add_edges_from(
        (source, target)
        for source, target in pairs
        if source != target and source in graph and target in graph
    )
    return graph


def workflow_of(node_ids, pairs) -> Workflow:
    return Workflow.from_document(graph_document(node_ids, pairs))


@PROPERTY_SETTINGS
@given(random_graphs())
def test_cycle_flagged_exactly_when_networkx_finds_one(graph_spec):
    node_ids, pairs = graph_spec
    reference = oracle(node_ids, pairs)
    result = validate_document(graph_document(node_ids, pairs), catalog=None)
    cycles = [issue.path for issue in result.errors if issue.code == "cycle_detected"]
    assert bool(cycles) == (not networkx.is_directed_acyclic_graph(reference))
    for cycle in cycles:
        assert cycle[0] == cycle[-1]
        assert len(set(cycle[:-1])) == len(cycle) - 1  # a simple cycle
        for source, target in itertools.pairwise(cycle):
            assert reference.has_edge(source, target)
    # one cycle per non-trivial strongly connected component
    components = [c for c in networkx.strongly_connected_components(reference) if len(c) > 1]
    assert len(cycles) == len(components)


@PROPERTY_SETTINGS
@given(random_graphs() | dags())
def test_topological_order_respects_every_edge(graph_spec):
    node_ids, pairs = graph_spec
    reference = oracle(node_ids, pairs)
    analysis = workflow_of(node_ids, pairs).analysis()
    if not networkx.is_directed_acyclic_graph(reference):
        assert analysis.has_cycle
        return
    order = analysis.topological_order()
    assert sorted(order) == sorted(node_ids)
    position = {node_id: index for index, node_id in enumerate(order)}
    for source, target in reference.edges:
        assert position[source] < position[target]


@PROPERTY_SETTINGS
@given(dags())
def test_levels_are_networkx_generations_and_follow_predecessors(graph_spec):
    node_ids, pairs = graph_spec
    reference = oracle(node_ids, pairs)
    assert networkx.is_directed_acyclic_graph(reference)
    levels = workflow_of(node_ids, pairs).analysis().execution_levels()
    assert levels == [
        sorted(generation) for generation in networkx.topological_generations(reference)
    ]
    level_of = {node_id: index for index, level in enumerate(levels) for node_id in level}
    for node_id in node_ids:
        for predecessor in reference.predecessors(node_id):
            assert level_of[predecessor] < level_of[node_id]


@PROPERTY_SETTINGS
@given(dags())
def test_dependencies_match_networkx(graph_spec):
    node_ids, pairs = graph_spec
    reference = oracle(node_ids, pairs)
    assert networkx.is_directed_acyclic_graph(reference)
    analysis = workflow_of(node_ids, pairs).analysis()
    for node_id in node_ids:
        dependencies = analysis.dependencies(node_id)
        assert dependencies.direct == tuple(sorted(reference.predecessors(node_id)))
        assert dependencies.dependents == tuple(sorted(reference.successors(node_id)))
        assert dependencies.all == tuple(sorted(networkx.ancestors(reference, node_id)))
        assert dependencies.all_dependents == tuple(
            sorted(networkx.descendants(reference, node_id))
        )


@PROPERTY_SETTINGS
@given(dags(), st.lists(st.integers(min_value=0, max_value=50), min_size=20, max_size=20))
def test_critical_path_is_a_heaviest_path(graph_spec, raw_weights):
    node_ids, pairs = graph_spec
    reference = oracle(node_ids, pairs)
    assert node_ids and networkx.is_directed_acyclic_graph(reference)
    durations = {node_id: float(raw_weights[index]) for index, node_id in enumerate(node_ids)}
    plan = plan_workflow(workflow_of(node_ids, pairs), durations=durations)
    path = plan.critical_path
    for source, target in itertools.pairwise(path):
        assert reference.has_edge(source, target)
    assert plan.critical_path_duration == sum(durations[node_id] for node_id in path)
    best: dict[str, float] = {}
    for node_id in networkx.topological_sort(reference):
        before = [best[parent] for parent in reference.predecessors(node_id)]
        best[node_id] = durations[node_id] + max(before, default=0.0)
    assert plan.critical_path_duration == max(best.values())


@PROPERTY_SETTINGS
@given(random_graphs() | dags(), st.data())
def test_reachability_questions_match_networkx(graph_spec, data):
    node_ids, pairs = graph_spec
    if not node_ids:
        return
    reference = oracle(node_ids, pairs)
    workflow = workflow_of(node_ids, pairs)
    source = data.draw(st.sampled_from(node_ids))
    target = data.draw(st.sampled_from(node_ids))
    expected = source == target or networkx.has_path(reference, target, source)
    assert would_create_cycle(workflow, source, target) == expected
    if source != target and networkx.is_directed_acyclic_graph(reference):
        expected_paths = sorted(networkx.all_simple_paths(reference, source, target))
        assert sorted(all_paths(workflow, source, target, limit=10_000)) == expected_paths


@PROPERTY_SETTINGS
@given(
    st.integers(min_value=1, max_value=60),
    st.sampled_from(["wide", "deep"]),
    st.integers(min_value=0, max_value=10_000),
)
def test_generated_valid_workflows_pass_and_round_trip(node_count, shape, seed):
    document = generate_workflow(node_count, shape=shape, seed=seed)
    result = validate_document(document, catalog=None)
    assert result.errors == []
    workflow = Workflow.from_document(document)
    assert Workflow.from_document(workflow.to_document()) == workflow
    order = plan_workflow(workflow).topological_order
    position = {node_id: index for index, node_id in enumerate(order)}
    for edge in document["edges"]:
        assert position[edge["source"]] < position[edge["target"]]


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)
FIELD_NAMES = [
    "id", "kind", "name", "source", "target", "source_port", "target_port", "data_type",
    "control", "condition", "over", "body", "inputs", "outputs", "config", "retry",
    "transform", "priority", "position", "metadata", "operator", "model_id", "enabled",
]  # fmt: skip
FIELD_VALUES = (
    json_values
    | st.sampled_from(
        ["input", "output", "operator", "instrument", "control", "data", "conditional",
         "branch", "loop", "merge", "string", "array<number>", "a", "b", "value", "{{ x"]
    )
    | st.just([{"name": "value", "data_type": "string"}])
    | st.just({"type": "map", "config": {"expr": "item |"}})
)  # fmt: skip
garbage_objects = st.dictionaries(st.sampled_from(FIELD_NAMES), FIELD_VALUES, max_size=8)
garbage_documents = json_values | st.fixed_dictionaries(
    {},
    optional={
        "name": json_values,
        "version": st.sampled_from(["1.0.0", "1", "x"]) | json_values,
        "nodes": st.lists(garbage_objects, max_size=6) | json_values,
        "edges": st.lists(garbage_objects, max_size=6) | json_values,
        "settings": json_values,
        "metadata": json_values,
    },
)


@st.composite
def mutated_documents(draw):
    """A valid generated document with a few fields replaced, added or removed."""
    document = generate_workflow(
        draw(st.integers(min_value=1, max_value=12)), seed=draw(st.integers(0, 99))
    )
    document["nodes"].append(
        {"id": "gate", "kind": "control", "control": "branch", "condition": "inputs.x"}
    )
    document["edges"].append(
        {"id": "c1", "kind": "conditional", "source": "gate", "target": "n00000", "condition": "x"}
    )
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        collection = document[draw(st.sampled_from(["nodes", "edges"]))]
        if not collection:
            continue
        item = collection[draw(st.integers(min_value=0, max_value=len(collection) - 1))]
        key = draw(st.sampled_from([*FIELD_NAMES, "metadata", "examples", "custom"]))
        if key in item and draw(st.booleans()):
            del item[key]
        else:
            item[key] = draw(FIELD_VALUES)
    return document


@PROPERTY_SETTINGS
@given(garbage_documents | mutated_documents())
def test_nothing_raises_on_any_input(document):
    result = validate_document(document, catalog=None)
    assert all("internal error" not in issue.message for issue in result.errors)
    json.dumps(result.to_dict())
    try:
        workflow = Workflow.from_document(document)
    except DocumentError as error:
        assert error.issues
    else:
        assert Workflow.from_document(workflow.to_document()) == workflow


@PROPERTY_SETTINGS
@given(garbage_documents | mutated_documents())
def test_fast_and_careful_readers_agree(document):
    fast_workflow, fast_reader = read_document(document)
    careful_workflow, careful_reader = read_document(document, use_fast_paths=False)
    assert fast_reader.errors == careful_reader.errors
    assert fast_reader.warnings == careful_reader.warnings
    if fast_workflow is None or careful_workflow is None:
        assert fast_workflow is careful_workflow
    else:
        fast_workflow.id = careful_workflow.id  # a missing id gets a fresh UUID each time
        assert fast_workflow == careful_workflow


@PROPERTY_SETTINGS
@given(st.text(max_size=60))
def test_expression_checks_never_raise(source):
    problem = check_expression(source)
    assert problem is None or isinstance(problem.message, str)
    problem = check_template(source)
    assert problem is None or isinstance(problem.message, str)


@PROPERTY_SETTINGS
@given(st.text(alphabet="{}%|()[]'\"._ ab1+-*<>=~!", max_size=40))
def test_expression_checks_never_raise_on_syntax_soup(source):
    check_expression(source)
    check_template(source)
    check_template("{{ " + source + " }}")


@PROPERTY_SETTINGS
@given(dags())
def test_dags_are_acyclic_by_construction(graph_spec):
    node_ids, pairs = graph_spec
    reference = oracle(node_ids, pairs)
    assert networkx.is_directed_acyclic_graph(reference)
    assert sorted(reference.nodes) == sorted(node_ids)
    codes = {issue.code for issue in validate_document(graph_document(node_ids, pairs), catalog=None).errors}
    assert "cycle_detected" not in codes
