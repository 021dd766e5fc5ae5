import pytest

from workflows.domain import CycleError, Workflow, plan_workflow
from workflows.domain.algorithms import would_create_cycle
from workflows.domain.model import ControlEdge, OperatorNode
from workflows.domain.traversal import (
    TraversalOrder,
    VisitAction,
    all_paths,
    ancestors,
    descendants,
    find_path,
    traverse,
)

from .helpers import graph_document

#   a ─▶ c ─▶ e
#   b ─▶ c    d ─▶ e      (d has no predecessor)
DIAMOND = (["a", "b", "c", "d", "e"], [("a", "c"), ("b", "c"), ("c", "e"), ("d", "e")])


def graph(node_ids, pairs) -> Workflow:
    return Workflow.from_document(graph_document(node_ids, pairs))


def test_topological_order_is_levels_laid_end_to_end_sorted_by_id():
    workflow = graph(*DIAMOND)
    analysis = workflow.analysis()
    assert analysis.execution_levels() == [["a", "b", "d"], ["c"], ["e"]]
    assert analysis.topological_order() == ["a", "b", "d", "c", "e"]


def test_order_does_not_depend_on_document_order():
    node_ids, pairs = DIAMOND
    shuffled = graph(list(reversed(node_ids)), list(reversed(pairs)))
    assert shuffled.analysis().topological_order() == ["a", "b", "d", "c", "e"]


def test_levels_use_the_longest_path():
    workflow = graph(["a", "b", "c"], [("a", "b"), ("b", "c"), ("a", "c")])
    assert workflow.analysis().execution_levels() == [["a"], ["b"], ["c"]]


def test_cycle_is_reported_as_a_real_path_and_blocks_ordering():
    workflow = graph(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("c", "b"), ("c", "d")])
    analysis = workflow.analysis()
    assert analysis.has_cycle
    assert analysis.cycles() == [["b", "c", "b"]]
    with pytest.raises(CycleError) as caught:
        analysis.topological_order()
    assert caught.value.cycle == ["b", "c", "b"]
    with pytest.raises(CycleError, match="b → c → b"):
        plan_workflow(workflow)


def test_the_shortest_cycle_through_the_smallest_node_is_reported():
    workflow = graph(
        ["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a"), ("c", "a")]
    )
    assert workflow.analysis().cycles() == [["a", "b", "c", "a"]]


def test_edges_to_missing_nodes_and_self_loops_are_left_out_of_the_graph():
    workflow = graph(["a", "b"], [("a", "b"), ("b", "b"), ("a", "ghost")])
    analysis = workflow.analysis()
    assert not analysis.has_cycle
    assert analysis.index.self_loop_edge_ids == ["e1"]
    assert analysis.index.dangling_edge_ids == ["e2"]


def test_dependencies():
    workflow = graph(*DIAMOND)
    dependencies = workflow.analysis().dependencies("e")
    assert dependencies.direct == ("c", "d")
    assert dependencies.all == ("a", "b", "c", "d")
    assert dependencies.dependents == ()
    assert workflow.analysis().dependencies("a").all_dependents == ("c", "e")
    assert workflow.analysis().dependencies("c").dependents == ("e",)


def test_analysis_is_cached_until_the_workflow_changes():
    workflow = graph(*DIAMOND)
    first = workflow.analysis()
    assert workflow.analysis() is first
    assert first.dependencies("e") is first.dependencies("e")
    workflow.add_node(OperatorNode(id="f", operator="noop"))
    workflow.add_edge(ControlEdge(id="e9", source="e", target="f"))
    second = workflow.analysis()
    assert second is not first
    assert second.dependencies("f").all == ("a", "b", "c", "d", "e")
    workflow.remove_node("c")
    assert workflow.analysis().dependencies("e").all == ("d",)
    assert workflow.dependencies("e").direct == ("d",)


def test_would_create_cycle():
    workflow = graph(*DIAMOND)
    assert would_create_cycle(workflow, "e", "a")
    assert would_create_cycle(workflow, "c", "c")
    assert not would_create_cycle(workflow, "a", "e")
    assert not would_create_cycle(workflow, "d", "c")
    assert not would_create_cycle(workflow, "a", "ghost")


def test_critical_path_uses_duration_overrides_then_metadata_then_one():
    document = graph_document(*DIAMOND)
    document["nodes"][1]["metadata"] = {"custom": {"estimated_duration_ms": 50}}  # b
    workflow = Workflow.from_document(document)
    plan = plan_workflow(workflow)
    assert plan.critical_path == ["b", "c", "e"]
    assert plan.critical_path_duration == 52.0
    plan = plan_workflow(workflow, durations={"d": 100})
    assert plan.critical_path == ["d", "e"]
    assert plan.critical_path_duration == 101.0


def test_critical_path_ties_go_to_the_smaller_id():
    plan = plan_workflow(graph(*DIAMOND))
    assert plan.critical_path == ["a", "c", "e"]
    assert plan.critical_path_duration == 3.0


def test_disabled_nodes_weigh_nothing():
    document = graph_document(*DIAMOND)
    for node in document["nodes"]:
        if node["id"] in ("a", "b"):
            node["enabled"] = False
    plan = plan_workflow(Workflow.from_document(document), durations={"a": 500, "d": 2})
    assert plan.critical_path == ["d", "e"]
    assert plan.critical_path_duration == 3.0


def test_plan_to_dict_is_the_api_shape():
    plan = plan_workflow(graph(*DIAMOND))
    assert plan.to_dict() == {
        "topological_order": ["a", "b", "d", "c", "e"],
        "execution_levels": [["a", "b", "d"], ["c"], ["e"]],
        "critical_path": ["a", "c", "e"],
        "dependencies": {
            "a": {"direct": [], "all": [], "dependents": ["c"]},
            "b": {"direct": [], "all": [], "dependents": ["c"]},
            "d": {"direct": [], "all": [], "dependents": ["e"]},
            "c": {"direct": ["a", "b"], "all": ["a", "b"], "dependents": ["e"]},
            "e": {"direct": ["c", "d"], "all": ["a", "b", "c", "d"], "dependents": []},
        },
        "transitive_dependencies": "included",
    }


def test_plan_to_dict_leaves_out_transitive_lists_past_the_limit_and_selects_nodes():
    plan = plan_workflow(graph(*DIAMOND))
    assert plan.analysis.transitive_dependency_count() == 6
    assert plan.to_dict(transitive_limit=6)["transitive_dependencies"] == "included"
    omitted = plan.to_dict(transitive_limit=5)
    assert omitted["transitive_dependencies"] == "omitted"
    assert omitted["dependencies"]["e"] == {"direct": ["c", "d"], "dependents": []}
    selected = plan.to_dict(nodes=["e"], transitive_limit=5)
    assert selected["transitive_dependencies"] == "included"
    assert selected["dependencies"] == {"e": {"direct": ["c", "d"], "all": ["a", "b", "c", "d"], "dependents": []}}


def test_plan_of_an_empty_workflow():
    plan = plan_workflow(Workflow(id="w", name="Empty"))
    assert plan.to_dict() == {
        "topological_order": [],
        "execution_levels": [],
        "critical_path": [],
        "dependencies": {},
        "transitive_dependencies": "included",
    }


#   a ─▶ b ─▶ d
#   a ─▶ c ─▶ d ─▶ e
TREE = (["a", "b", "c", "d", "e"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "e")])


def collect(action_for=None):
    seen = []

    def visitor(node):
        seen.append(node.id)
        return (action_for or {}).get(node.id)

    return seen, visitor


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (TraversalOrder.BREADTH_FIRST, ["a", "b", "c", "d", "e"]),
        (TraversalOrder.DEPTH_FIRST, ["a", "b", "d", "e", "c"]),
        (TraversalOrder.TOPOLOGICAL, ["a", "b", "c", "d", "e"]),
    ],
)
def test_traversal_orders(order, expected):
    seen, visitor = collect()
    assert traverse(graph(*TREE), visitor, order=order) == expected
    assert seen == expected


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("bfs", ["a", "b", "c", "d", "e"]),
        ("dfs", ["a", "b", "c", "d", "e"]),
        ("topological", ["a", "b", "c", "d", "e"]),
    ],
)
def test_skip_children_of_one_path_still_reaches_nodes_through_another(order, expected):
    _seen, visitor = collect({"b": VisitAction.SKIP_CHILDREN})
    assert traverse(graph(*TREE), visitor, order=order) == expected


@pytest.mark.parametrize("order", ["bfs", "dfs", "topological"])
def test_skip_children_on_every_path_prunes(order):
    _seen, visitor = collect({"b": VisitAction.SKIP_CHILDREN, "c": VisitAction.SKIP_CHILDREN})
    assert traverse(graph(*TREE), visitor, order=order) == ["a", "b", "c"]


@pytest.mark.parametrize("order", ["bfs", "dfs", "topological"])
def test_stop_ends_the_walk(order):
    _seen, visitor = collect({"b": VisitAction.STOP})
    assert traverse(graph(*TREE), visitor, order=order) == ["a", "b"]


def test_traversal_from_chosen_start_nodes():
    _seen, visitor = collect()
    assert traverse(graph(*TREE), visitor, start=["c"]) == ["c", "d", "e"]


def test_ancestors_descendants_and_paths():
    workflow = graph(*TREE)
    assert ancestors(workflow, "d") == ["a", "b", "c"]
    assert descendants(workflow, "b") == ["d", "e"]
    assert find_path(workflow, "a", "e") == ["a", "b", "d", "e"]
    assert find_path(workflow, "e", "a") is None
    assert find_path(workflow, "c", "c") == ["c"]
    assert all_paths(workflow, "a", "e") == [["a", "b", "d", "e"], ["a", "c", "d", "e"]]
    assert all_paths(workflow, "a", "e", limit=1) == [["a", "b", "d", "e"]]
    assert all_paths(workflow, "e", "a") == []


def test_all_paths_is_capped_on_an_exploding_graph():
    # 20 diamonds in a row: 2**20 paths from start to end.
    node_ids = ["start"]
    pairs = []
    previous = "start"
    for number in range(20):
        top, bottom, join = f"t{number:02d}", f"b{number:02d}", f"j{number:02d}"
        node_ids += [top, bottom, join]
        pairs += [(previous, top), (previous, bottom), (top, join), (bottom, join)]
        previous = join
    workflow = graph(node_ids, pairs)
    assert len(all_paths(workflow, "start", previous, limit=50)) == 50
    assert len(all_paths(workflow, "start", previous, limit=10**9, step_budget=1_000)) < 1_000
