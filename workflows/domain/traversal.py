"""Walking a workflow: traversal with a visitor, ancestors, descendants, paths.

All functions use the workflow's cached analysis, ignore edges to missing
nodes and self-loops, and visit neighbours in node-id order, so results are
deterministic.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from enum import Enum

from workflows.domain.model import Node, Workflow

DEFAULT_PATH_LIMIT = 100
DEFAULT_PATH_STEP_BUDGET = 100_000


class VisitAction(Enum):
    CONTINUE = "continue"
    SKIP_CHILDREN = "skip_children"
    STOP = "stop"


class TraversalOrder(Enum):
    BREADTH_FIRST = "bfs"
    DEPTH_FIRST = "dfs"
    TOPOLOGICAL = "topological"


Visitor = Callable[[Node], VisitAction | None]


def traverse(
    workflow: Workflow,
    visitor: Visitor,
    *,
    order: TraversalOrder | str = TraversalOrder.BREADTH_FIRST,
    start: Iterable[str] | None = None,
) -> list[str]:
    """Call ``visitor`` on nodes in the given order and return the visited ids.

    The visitor answers CONTINUE (or None), SKIP_CHILDREN (do not go on through
    this node's successors) or STOP (end the walk now). Breadth- and
    depth-first walks start from ``start`` (default: nodes without
    predecessors) and visit each reachable node once. The topological walk
    visits nodes in topological order; a node is visited when it is a start
    node or at least one of its predecessors was visited without answering
    SKIP_CHILDREN — like a branch that is not taken. It raises CycleError on a
    cyclic workflow.
    """
    order = TraversalOrder(order)
    analysis = workflow.analysis()
    index = analysis.index
    successors = index.successors
    if start is None:
        roots = [node for node in range(index.size) if not index.predecessors[node]]
    else:
        roots = sorted({index.index_of[node_id] for node_id in start})
    visited: list[str] = []
    nodes = workflow.nodes

    def visit(node: int) -> VisitAction:
        node_id = index.ids[node]
        visited.append(node_id)
        return visitor(nodes[node_id]) or VisitAction.CONTINUE

    if order is TraversalOrder.TOPOLOGICAL:
        reached = bytearray(index.size)
        for root in roots:
            reached[root] = 1
        for node in analysis.topological_indices():
            if not reached[node]:
                continue
            action = visit(node)
            if action is VisitAction.STOP:
                break
            if action is VisitAction.CONTINUE:
                for child in successors[node]:
                    reached[child] = 1
        return visited

    seen = set(roots)
    if order is TraversalOrder.BREADTH_FIRST:
        queue = deque(roots)
        while queue:
            node = queue.popleft()
            action = visit(node)
            if action is VisitAction.STOP:
                break
            if action is VisitAction.SKIP_CHILDREN:
                continue
            for child in sorted(successors[node]):
                if child not in seen:
                    seen.add(child)
                    queue.append(child)
        return visited

    # Depth-first, preorder: push children in reverse so the smallest id goes first.
    stack = list(reversed(roots))
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        action = visit(node)
        if action is VisitAction.STOP:
            break
        if action is VisitAction.SKIP_CHILDREN:
            continue
        for child in sorted(successors[node], reverse=True):
            if child not in seen:
                stack.append(child)
    return visited


def _reachable(workflow: Workflow, node_id: str, *, forward: bool) -> list[str]:
    index = workflow.analysis().index
    neighbours = index.successors if forward else index.predecessors
    start = index.index_of[node_id]
    seen = {start}
    stack = [start]
    while stack:
        node = stack.pop()
        for other in neighbours[node]:
            if other not in seen:
                seen.add(other)
                stack.append(other)
    seen.discard(start)
    return [index.ids[node] for node in sorted(seen)]


def ancestors(workflow: Workflow, node_id: str) -> list[str]:
    """Every node ``node_id`` depends on, sorted by id (works on cyclic graphs too)."""
    return _reachable(workflow, node_id, forward=False)


def descendants(workflow: Workflow, node_id: str) -> list[str]:
    """Every node that depends on ``node_id``, sorted by id."""
    return _reachable(workflow, node_id, forward=True)


def find_path(workflow: Workflow, source: str, target: str) -> list[str] | None:
    """A shortest path from ``source`` to ``target`` (fewest edges), or None."""
    index = workflow.analysis().index
    start = index.index_of[source]
    goal = index.index_of[target]
    if start == goal:
        return [source]
    parent = {start: start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(index.successors[node]):
            if child in parent:
                continue
            parent[child] = node
            if child == goal:
                path = [child]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [index.ids[item] for item in reversed(path)]
            queue.append(child)
    return None


def all_paths(
    workflow: Workflow,
    source: str,
    target: str,
    *,
    limit: int = DEFAULT_PATH_LIMIT,
    step_budget: int = DEFAULT_PATH_STEP_BUDGET,
) -> list[list[str]]:
    """Simple paths from ``source`` to ``target``, at most ``limit`` of them.

    The number of paths grows exponentially with the graph's width, so both the
    number returned (``limit``) and the work done (``step_budget`` edge steps)
    are capped; the answer is whatever was found within both, in depth-first
    order by node id.
    """
    if limit <= 0:
        return []
    index = workflow.analysis().index
    start = index.index_of[source]
    goal = index.index_of[target]
    if start == goal:
        return [[source]]
    ordered = [sorted(set(children)) for children in index.successors]
    paths: list[list[str]] = []
    path = [start]
    on_path = {start}
    stack = [iter(ordered[start])]
    steps = 0
    while stack and len(paths) < limit and steps < step_budget:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            on_path.discard(path.pop())
            continue
        steps += 1
        if child == goal:
            paths.append([index.ids[node] for node in (*path, child)])
        elif child not in on_path:
            path.append(child)
            on_path.add(child)
            stack.append(iter(ordered[child]))
    return paths
