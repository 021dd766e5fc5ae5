"""Graphs for the property tests: random ones, and acyclic ones with real structure.

``random_graphs`` draws anything (self-loops, duplicates, dangling ends), so
most of its graphs have a cycle or almost no edges: of 60 examples only 4 to
13 were acyclic with at least three edges, and the level, dependency and
critical-path properties returned early on the rest. ``dags`` builds acyclic
graphs by construction: the nodes are put in a random order and every edge
goes forward in it, in one of a few shapes that workflows have — layers,
diamonds, fan-out/fan-in, chains, or any forward edges.
"""

from __future__ import annotations

import itertools

from hypothesis import strategies as st

NODE_NAMES = [f"n{number:02d}" for number in range(20)]

Graph = tuple[list[str], list[tuple[str, str]]]


@st.composite
def random_graphs(draw: st.DrawFn) -> Graph:
    """(node ids, edge pairs) with self-loops, duplicates and dangling ends."""
    node_count = draw(st.integers(min_value=0, max_value=14))
    node_ids = draw(st.permutations(NODE_NAMES))[:node_count]
    endpoint = st.sampled_from([*node_ids, "ghost"]) if node_ids else st.just("ghost")
    pairs = draw(st.lists(st.tuples(endpoint, endpoint), max_size=40))
    return node_ids, pairs


def _layered(draw: st.DrawFn, order: list[str]) -> list[tuple[str, str]]:
    """Consecutive slices of the order as layers; each node reads from the layer before
    (at least one edge) and sometimes from further back."""
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=len(order) - 1), min_size=1,
                               max_size=len(order) - 1)))
    layers = [order[start:end] for start, end in zip([0, *cuts], [*cuts, len(order)], strict=True)]
    pairs: list[tuple[str, str]] = []
    for index in range(1, len(layers)):
        for node in layers[index]:
            parents = draw(st.lists(st.sampled_from(layers[index - 1]), min_size=1, max_size=3, unique=True))
            pairs += [(parent, node) for parent in parents]
            earlier = [n for layer in layers[: index - 1] for n in layer]
            if earlier and draw(st.booleans()):
                pairs.append((draw(st.sampled_from(earlier)), node))
    return pairs


def _diamonds(draw: st.DrawFn, order: list[str]) -> list[tuple[str, str]]:
    """Diamonds in a row: a source splits into 1 to 3 branches that join again."""
    pairs: list[tuple[str, str]] = []
    start = 0
    while start < len(order) - 1:
        width = draw(st.integers(min_value=1, max_value=3))
        source, branches = order[start], order[start + 1:start + 1 + width]
        join_index = start + 1 + len(branches)
        pairs += [(source, branch) for branch in branches]
        if join_index < len(order):
            pairs += [(branch, order[join_index]) for branch in branches]
        start = join_index
    return pairs


def _fan(draw: st.DrawFn, order: list[str]) -> list[tuple[str, str]]:
    """One node feeds many; many feed one (a map/reduce shape), with a tail."""
    middle = max(1, draw(st.integers(min_value=1, max_value=max(1, len(order) - 2))))
    head, spokes, tail = order[0], order[1:middle + 1], order[middle + 1:]
    pairs = [(head, spoke) for spoke in spokes]
    if tail:
        pairs += [(spoke, tail[0]) for spoke in spokes]
        pairs += list(itertools.pairwise(tail))
    return pairs


def _chain(draw: st.DrawFn, order: list[str]) -> list[tuple[str, str]]:
    return list(itertools.pairwise(order))


def _forward(draw: st.DrawFn, order: list[str]) -> list[tuple[str, str]]:
    """Any edges that go forward in the order, duplicates included."""
    position = st.integers(min_value=0, max_value=len(order) - 1)
    pairs = []
    for first, second in draw(st.lists(st.tuples(position, position), min_size=3, max_size=40)):
        if first != second:
            low, high = sorted((first, second))
            pairs.append((order[low], order[high]))
    return pairs


SHAPES = {"layered": _layered, "diamonds": _diamonds, "fan": _fan, "chain": _chain, "forward": _forward}


@st.composite
def dags(draw: st.DrawFn, min_nodes: int = 4, max_nodes: int = 14) -> Graph:
    """(node ids, edge pairs) of an acyclic graph: edges only go forward in a random order."""
    node_count = draw(st.integers(min_value=min_nodes, max_value=max_nodes))
    order = draw(st.permutations(NODE_NAMES))[:node_count]
    shape = SHAPES[draw(st.sampled_from(sorted(SHAPES)))]
    pairs = shape(draw, order)
    # The document lists nodes in another order than the topological one.
    node_ids = draw(st.permutations(order))
    return node_ids, draw(st.permutations(pairs))
