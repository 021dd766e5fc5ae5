"""An integer-indexed view of a workflow's graph, for the hot paths.

Node ids are sorted and numbered ``0 … n-1``; adjacency is lists of integers.
Sorting the ids first is what makes every answer deterministic and lets
"smallest index" stand for "smallest node id" in every tie-break. Edges whose
endpoints are missing, and self-loops, are left out of the adjacency (the
validator reports them as ``invalid_edge``) and listed on the side.

networkx is the reference these functions are checked against (see
``tests/graph/test_properties.py``); it is not used here because building a
networkx graph for 50,000 edges alone costs more than the whole budget.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from workflows.domain.model import Node, Workflow


@dataclass(slots=True)
class GraphIndex:
    ids: list[str]
    index_of: dict[str, int]
    successors: list[list[int]]
    predecessors: list[list[int]]
    dangling_edge_ids: list[str]
    self_loop_edge_ids: list[str]

    @classmethod
    def of(cls, workflow: Workflow) -> GraphIndex:
        ids = sorted(workflow.nodes)
        index_of = {node_id: position for position, node_id in enumerate(ids)}
        successors: list[list[int]] = [[] for _ in ids]
        predecessors: list[list[int]] = [[] for _ in ids]
        dangling: list[str] = []
        self_loops: list[str] = []
        lookup = index_of.get
        # The hot path of planning: plain loop, no tuple per edge.
        for edge in workflow.edges.values():
            source_index = lookup(edge.source)
            target_index = lookup(edge.target)
            if source_index is None or target_index is None:
                dangling.append(edge.id)
            elif source_index == target_index:
                self_loops.append(edge.id)
            else:
                successors[source_index].append(target_index)
                predecessors[target_index].append(source_index)
        return cls(ids, index_of, successors, predecessors, dangling, self_loops)

    @property
    def size(self) -> int:
        return len(self.ids)


def nodes_in_id_order(workflow: Workflow, ids: list[str]) -> list[Node]:
    """The workflow's nodes in the order of ``ids`` (its sorted node ids).
    Documents often list nodes in id order already; then the dictionary's own
    order serves and the 10,000 lookups are skipped."""
    if list(workflow.nodes) == ids:
        return list(workflow.nodes.values())
    return list(map(workflow.nodes.__getitem__, ids))


def kahn_levels(successors: list[list[int]], predecessors: list[list[int]]) -> list[list[int]]:
    """Kahn's algorithm, one round per level.

    Level 0 holds the nodes without predecessors; level k the nodes whose
    predecessors all sit in earlier levels, i.e. each node's level is the length
    of the longest path reaching it. Each level is sorted by index. Nodes on or
    downstream of a cycle never reach in-degree zero and are absent.
    """
    remaining = list(map(len, predecessors))
    frontier = [node for node, count in enumerate(remaining) if count == 0]
    levels: list[list[int]] = []
    while frontier:
        levels.append(frontier)
        following: list[int] = []
        append = following.append
        for node in frontier:
            for successor in successors[node]:
                count = remaining[successor] - 1
                remaining[successor] = count
                if count == 0:
                    append(successor)
        following.sort()
        frontier = following
    return levels


def strongly_connected_components(
    nodes: Iterable[int], successors: list[list[int]], members: set[int]
) -> list[list[int]]:
    """Tarjan's algorithm (iterative, so deep graphs cannot overflow the stack),
    restricted to ``members``."""
    order: dict[int, int] = {}
    lowlink: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    components: list[list[int]] = []
    counter = 0
    for root in nodes:
        if root in order:
            continue
        order[root] = lowlink[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(successors[root]))]
        while work:
            node, children = work[-1]
            descended = False
            for child in children:
                if child not in members:
                    continue
                if child not in order:
                    order[child] = lowlink[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors[child])))
                    descended = True
                    break
                if child in on_stack and order[child] < lowlink[node]:
                    lowlink[node] = order[child]
            if descended:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                if lowlink[node] < lowlink[parent]:
                    lowlink[parent] = lowlink[node]
            if lowlink[node] == order[node]:
                component: list[int] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def cycle_through(start: int, successors: list[list[int]], members: set[int]) -> list[int]:
    """A shortest cycle through ``start`` inside ``members`` (a strongly connected
    set), as ``[start, …, start]``; found by breadth-first search so it is real
    and short."""
    parent: dict[int, int] = {}
    frontier = [start]
    while frontier:
        following: list[int] = []
        for node in frontier:
            for child in sorted(successors[node]):
                if child not in members:
                    continue
                if child == start:
                    path = [start, node]
                    while node != start:
                        node = parent[node]
                        path.append(node)
                    path.reverse()
                    return path
                if child not in parent:
                    parent[child] = node
                    following.append(child)
        frontier = following
    return []


def find_cycles(
    successors: list[list[int]], unsorted_nodes: list[int], *, limit: int = 20
) -> list[list[int]]:
    """One real cycle for each strongly connected component left over by Kahn's
    algorithm (at most ``limit``), each starting at its smallest node."""
    members = set(unsorted_nodes)
    cycles: list[list[int]] = []
    for component in strongly_connected_components(unsorted_nodes, successors, members):
        if len(component) < 2:
            continue
        cycle = cycle_through(component[0], successors, set(component))
        if cycle:
            cycles.append(cycle)
    cycles.sort()
    return cycles[:limit]
