"""Properties of the pure helpers: any graph lays out without overlaps, diffs are exact."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from workflows.graph_view import NODE_HEIGHT, NODE_WIDTH, layout
from workflows.versioning import SemanticVersion, diff_documents, is_empty_diff, next_version

from .conftest import PROPERTY_SETTINGS

node_ids = st.lists(st.text("abcdefgh", min_size=1, max_size=3), min_size=0, max_size=40, unique=True)
kinds = st.sampled_from(["input", "output", "operator", "instrument", "control", "strange"])


@st.composite
def graphs(draw):
    ids = draw(node_ids)
    endpoints = st.sampled_from([*ids, "missing"]) if ids else st.just("missing")
    nodes = [{"id": node_id, "kind": draw(kinds), "name": node_id * draw(st.integers(1, 12))} for node_id in ids]
    edges = [{"id": f"e{index}", "kind": draw(st.sampled_from(["data", "control", "conditional"])),
              "source": draw(endpoints), "target": draw(endpoints), "condition": "inputs.x > 1"}
             for index in range(draw(st.integers(0, 60)))]
    return {"nodes": nodes, "edges": edges}


@PROPERTY_SETTINGS
@given(graphs())
def test_every_node_is_placed_once_without_overlap_and_inside_the_canvas(document) -> None:
    drawn = layout(document)
    assert sorted(box.id for box in drawn.nodes) == sorted(node["id"] for node in document["nodes"])
    for box in drawn.nodes:
        assert box.x >= 0 and box.x + NODE_WIDTH <= drawn.width
        assert box.y >= 0 and box.y + NODE_HEIGHT <= drawn.height
    corners = sorted((box.x, box.y) for box in drawn.nodes)
    for (x1, y1), (x2, y2) in itertools.pairwise(corners):
        assert x1 != x2 or y2 - y1 >= NODE_HEIGHT
    known = {node["id"] for node in document["nodes"]}
    expected_edges = [edge["id"] for edge in document["edges"] if edge["source"] in known and edge["target"] in known]
    assert [line.id for line in drawn.edges] == expected_edges


items = st.lists(st.fixed_dictionaries({"id": st.sampled_from("abcdefg"), "value": st.integers(0, 3),
                                        "extra": st.one_of(st.none(), st.text(max_size=2))}),
                 max_size=7, unique_by=lambda item: item["id"])


@PROPERTY_SETTINGS
@given(items, items, items, items)
def test_diff_names_exactly_what_differs(old_nodes, new_nodes, old_edges, new_edges) -> None:
    old = {"name": "w", "nodes": old_nodes, "edges": old_edges}
    new = {"name": "w", "nodes": new_nodes, "edges": new_edges}
    diff = diff_documents(old, new)
    for part, before, after in (("nodes", old_nodes, new_nodes), ("edges", old_edges, new_edges)):
        before_by_id = {item["id"]: item for item in before}
        after_by_id = {item["id"]: item for item in after}
        assert [item["id"] for item in diff[part]["added"]] == [i for i in after_by_id if i not in before_by_id]
        assert [item["id"] for item in diff[part]["removed"]] == [i for i in before_by_id if i not in after_by_id]
        assert [item["id"] for item in diff[part]["changed"]] == [
            i for i in after_by_id if i in before_by_id and before_by_id[i] != after_by_id[i]]
    assert is_empty_diff(diff_documents(old, old))
    assert is_empty_diff(diff) == (old == new)


@PROPERTY_SETTINGS
@given(st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50)), items, items)
def test_the_automatic_version_is_always_greater(numbers, old_nodes, new_nodes) -> None:
    current = SemanticVersion(*numbers)
    bumped = next_version(current, {"nodes": old_nodes}, {"nodes": new_nodes})
    assert bumped > current
    assert SemanticVersion.parse(str(bumped)) == bumped
