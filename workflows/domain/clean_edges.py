"""The fast pass over the edges of a workflow whose edges are all fine.

``checks.Checker._check_edges`` is the careful pass: it checks every edge
and words an issue for each problem, keeping a dictionary of filled input
ports, a set of control connections and a set of merge connections as it
goes. On a 10,000-node / 50,000-edge workflow that bookkeeping costs about
half of the whole validation. Almost every workflow that reaches validation
is valid, so ``index_clean_edges`` first tries a leaner pass that only
*decides* whether the edges are clean, building the graph index on the way:

- filled input ports are flags in one ``bytearray`` (a slot per declared
  input port: ``input_offsets[node] + port position``) instead of a
  dictionary keyed by ``(node, port name)`` tuples;
- duplicate control connections are looked for only when a control edge
  finds its source already among its target's predecessors;
- duplicate data connections only when a merge or join port is fed twice.

At the first thing the careful pass would report (a missing endpoint, a
self-loop, an unknown port, a type mismatch, a second feed into an ordinary
input, a bad expression, a duplicate connection) or any edge class it does
not know exactly, it returns None and the careful pass runs from scratch, so
every issue is still found and worded, in order, by one piece of code. The
property test ``test_fast_and_careful_edge_passes_agree`` runs both passes on
random and garbage workflows and compares everything they produce.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from workflows.domain.expressions import check_expression
from workflows.domain.graph_index import GraphIndex
from workflows.domain.model import (
    ConditionalEdge,
    ControlEdge,
    ControlNode,
    DataEdge,
    Edge,
    Node,
    PortDefinition,
    TransformType,
)

# Transforms whose config holds an expression (``config.expr``) to check.
EXPRESSION_TRANSFORMS = frozenset({TransformType.MAP, TransformType.FILTER, TransformType.REDUCE})
Ports = Sequence[PortDefinition]
_NO_EDGE_YET = object()


@dataclass(slots=True)
class CleanEdges:
    """What the careful pass would have built, for a workflow with clean edges."""

    index: GraphIndex
    data_out: bytearray  # 1 where a node's output feeds a data edge
    conditional_out: bytearray  # 1 where a node has an outgoing conditional edge
    input_offsets: list[int]  # first input-port slot of each node in ``fed``
    fed: bytearray  # 1 where an input port receives a data edge


def input_port_offsets(inputs: Sequence[Ports]) -> list[int]:
    """Where each node's input ports start in one flat list of every input port."""
    return list(accumulate(map(len, inputs), initial=0))


def index_clean_edges(
    edges: dict[str, Edge],
    ids: list[str],
    index_of: dict[str, int],
    node_list: list[Node],
    inputs: list[Ports],
    outputs: list[Ports],
    *,
    check_types: bool,
    check_expressions: bool,
) -> CleanEdges | None:
    """The graph index and port flags when no edge has a problem; None otherwise."""
    size = len(ids)
    successors: list[list[int]] = [[] for _ in range(size)]
    predecessors: list[list[int]] = [[] for _ in range(size)]
    data_out = bytearray(size)
    conditional_out = bytearray(size)
    input_offsets = input_port_offsets(inputs)
    fed = bytearray(input_offsets[-1])
    conditional_connections: set[tuple[int, int, str]] = set()
    port_fed_twice = False
    control_pair_repeated = False

    # One loop, written out by hand (local names, no helper calls on the common
    # path): this is the 50,000-edge hot path of bench/graph. Edges usually come
    # grouped by target (a node's inputs are written together), so the target's
    # index and predecessor list are kept while its id stays the same object.
    last_target_id: object = _NO_EDGE_YET
    target = -1
    target_predecessors: list[int] = []
    for edge in edges.values():
        try:
            source = index_of[edge.source]
            target_id = edge.target
            if target_id is not last_target_id:
                last_target_id = target_id
                target = index_of[target_id]
                target_predecessors = predecessors[target]
        except KeyError:  # an endpoint that is not a node
            return None
        if source == target:
            return None
        edge_class = type(edge)
        if edge_class is ControlEdge:  # the most common kind first
            # A second control edge between two nodes finds the first one's
            # source among the target's predecessors (a short list, in cache
            # for the append below). Another kind of edge between them raises
            # the same suspicion, so it is confirmed after the loop.
            if source in target_predecessors:
                control_pair_repeated = True
        elif edge_class is DataEdge:
            data_edge: DataEdge = edge  # type: ignore[assignment]
            port_name = data_edge.source_port
            source_port = None
            for port in outputs[source]:
                if port.name == port_name:
                    source_port = port
                    break
            if source_port is None:
                return None
            port_name = data_edge.target_port
            slot = input_offsets[target]
            target_port = None
            for port in inputs[target]:
                if port.name == port_name:
                    target_port = port
                    break
                slot += 1
            if target_port is None:
                return None
            if fed[slot]:
                # Only merge and join take several edges into one port; the
                # duplicate connections among those are looked for below.
                target_node = node_list[target]
                if not (type(target_node) is ControlNode and target_node.accepts_many_inputs):
                    return None
                port_fed_twice = True
            fed[slot] = 1
            data_out[source] = 1
            transform = data_edge.transform
            if transform is not None:
                # As in the careful pass: no type check through a transform,
                # but its expression must be there and parse.
                if transform.type in EXPRESSION_TRANSFORMS:
                    expression = transform.expression
                    if expression is None:
                        return None
                    if check_expressions and check_expression(expression) is not None:
                        return None
            elif check_types:
                found = source_port.data_type
                expected = target_port.data_type
                if (
                    found is not expected
                    and expected.name != "any"
                    and found.name != "any"
                    and not found.is_assignable_to(expected)
                ):
                    return None
        elif edge_class is ConditionalEdge:
            conditional: ConditionalEdge = edge  # type: ignore[assignment]
            condition = conditional.condition
            connection = (source, target, condition)
            if connection in conditional_connections:
                return None
            conditional_connections.add(connection)
            conditional_out[source] = 1
            if check_expressions and (
                not condition.strip() or check_expression(condition) is not None
            ):
                return None
        else:
            return None  # a subclass someone added: leave it to the careful pass
        successors[source].append(target)
        target_predecessors.append(source)

    if control_pair_repeated and _repeats_control_connection(edges, index_of, size):
        return None
    if port_fed_twice and _repeats_data_connection(edges, index_of):
        return None
    index = GraphIndex(ids, index_of, successors, predecessors, [], [])
    return CleanEdges(index, data_out, conditional_out, input_offsets, fed)


def _repeats_control_connection(
    edges: dict[str, Edge], index_of: dict[str, int], size: int
) -> bool:
    """Whether two control edges join the same two nodes (a duplicate connection)."""
    seen: set[int] = set()
    for edge in edges.values():
        if type(edge) is ControlEdge:
            pair = index_of[edge.source] * size + index_of[edge.target]
            if pair in seen:
                return True
            seen.add(pair)
    return False


def _repeats_data_connection(edges: dict[str, Edge], index_of: dict[str, int]) -> bool:
    """Whether two data edges join the same two ports (a duplicate connection)."""
    seen: set[tuple[int, str, int, str]] = set()
    for edge in edges.values():
        if type(edge) is DataEdge:
            key = (index_of[edge.source], edge.source_port, index_of[edge.target], edge.target_port)
            if key in seen:
                return True
            seen.add(key)
    return False
