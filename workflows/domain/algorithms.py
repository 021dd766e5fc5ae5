"""Graph facts about a workflow: cycles, order, levels, dependencies, critical path.

``GraphAnalysis.of(workflow)`` runs Kahn's algorithm once over the integer
index; everything else is derived from it on demand and kept, and the
workflow caches the analysis against its revision (``Workflow.analysis()``),
so asking again is O(1) until the workflow changes.

Determinism: node ids are sorted before numbering, so ties are always broken
by the smaller node id. The topological order is the execution levels laid
end to end, each level sorted by node id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.domain.graph_index import GraphIndex, find_cycles, kahn_levels, nodes_in_id_order
from workflows.domain.model import ESTIMATED_DURATION_KEY, Workflow

DEFAULT_DURATION = 1.0


class CycleError(ValueError):
    """The workflow has a cycle, so it has no order; ``cycle`` is one of them."""

    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__("workflow has a cycle: " + " → ".join(cycle))


@dataclass(frozen=True, slots=True)
class Dependencies:
    """A node's place in the graph, ids sorted.

    ``direct``: its predecessors; ``all``: every node it transitively depends on;
    ``dependents``: its direct successors; ``all_dependents``: every node that
    transitively depends on it.
    """

    direct: tuple[str, ...]
    all: tuple[str, ...]
    dependents: tuple[str, ...]
    all_dependents: tuple[str, ...]

    def to_dict(self) -> dict[str, list[str]]:
        """The ``plan`` API shape (``api.md``)."""
        return {
            "direct": list(self.direct),
            "all": list(self.all),
            "dependents": list(self.dependents),
        }


@dataclass(frozen=True, slots=True)
class CriticalPath:
    nodes: tuple[str, ...]
    duration: float


def _bits_to_indices(bits: int) -> list[int]:
    indices: list[int] = []
    while bits:
        lowest = bits & -bits
        indices.append(lowest.bit_length() - 1)
        bits ^= lowest
    return indices


@dataclass(slots=True)
class GraphAnalysis:
    index: GraphIndex
    levels: list[list[int]]
    sorted_count: int
    _cycles: list[list[str]] | None = field(default=None, repr=False)
    _ancestor_bits: list[int] | None = field(default=None, repr=False)
    _descendant_bits: list[int] | None = field(default=None, repr=False)
    _dependencies: dict[str, Dependencies] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, workflow: Workflow) -> GraphAnalysis:
        return cls.of_index(GraphIndex.of(workflow))

    @classmethod
    def of_index(cls, index: GraphIndex) -> GraphAnalysis:
        levels = kahn_levels(index.successors, index.predecessors)
        return cls(index, levels, sum(len(level) for level in levels))

    # -- cycles -------------------------------------------------------------------

    @property
    def has_cycle(self) -> bool:
        return self.sorted_count < self.index.size

    def cycles(self) -> list[list[str]]:
        """One real cycle per strongly connected component, as ``[a, b, c, a]``."""
        if self._cycles is None:
            if not self.has_cycle:
                self._cycles = []
            else:
                placed = bytearray(self.index.size)
                for level in self.levels:
                    for node in level:
                        placed[node] = 1
                unsorted = [node for node in range(self.index.size) if not placed[node]]
                ids = self.index.ids
                self._cycles = [
                    [ids[node] for node in cycle]
                    for cycle in find_cycles(self.index.successors, unsorted)
                ]
        return self._cycles

    def _require_acyclic(self) -> None:
        if self.has_cycle:
            cycles = self.cycles()
            raise CycleError(cycles[0] if cycles else [])

    # -- order and levels -----------------------------------------------------------

    def topological_indices(self) -> list[int]:
        self._require_acyclic()
        return [node for level in self.levels for node in level]

    def topological_order(self) -> list[str]:
        ids = self.index.ids
        return [ids[node] for node in self.topological_indices()]

    def execution_levels(self) -> list[list[str]]:
        self._require_acyclic()
        ids = self.index.ids
        return [[ids[node] for node in level] for level in self.levels]

    # -- dependencies ---------------------------------------------------------------

    def _closure_bits(self) -> tuple[list[int], list[int]]:
        """Ancestor and descendant sets as integer bitsets, one pass each in
        topological order (acyclic graphs only)."""
        if self._ancestor_bits is None or self._descendant_bits is None:
            order = self.topological_indices()
            predecessors = self.index.predecessors
            successors = self.index.successors
            ancestors = [0] * self.index.size
            for node in order:
                bits = 0
                for parent in predecessors[node]:
                    bits |= ancestors[parent] | (1 << parent)
                ancestors[node] = bits
            descendants = [0] * self.index.size
            for node in reversed(order):
                bits = 0
                for child in successors[node]:
                    bits |= descendants[child] | (1 << child)
                descendants[node] = bits
            self._ancestor_bits = ancestors
            self._descendant_bits = descendants
        return self._ancestor_bits, self._descendant_bits

    def dependencies(self, node_id: str) -> Dependencies:
        """Direct and transitive predecessors and successors; O(1) once computed."""
        cached = self._dependencies.get(node_id)
        if cached is not None:
            return cached
        node = self.index.index_of[node_id]
        ancestors, descendants = self._closure_bits()
        ids = self.index.ids
        result = Dependencies(
            direct=tuple(ids[i] for i in sorted(set(self.index.predecessors[node]))),
            all=tuple(ids[i] for i in _bits_to_indices(ancestors[node])),
            dependents=tuple(ids[i] for i in sorted(set(self.index.successors[node]))),
            all_dependents=tuple(ids[i] for i in _bits_to_indices(descendants[node])),
        )
        self._dependencies[node_id] = result
        return result

    def direct_dependencies(self, node_id: str) -> dict[str, list[str]]:
        """A node's direct predecessors and successors (the plan shape), without any closure."""
        node = self.index.index_of[node_id]
        ids = self.index.ids
        return {
            "direct": [ids[i] for i in sorted(set(self.index.predecessors[node]))],
            "dependents": [ids[i] for i in sorted(set(self.index.successors[node]))],
        }

    def transitive_dependency_count(self) -> int:
        """How many ids all nodes' ``all`` lists hold together: what a full plan costs to send."""
        ancestors, _ = self._closure_bits()
        return sum(bits.bit_count() for bits in ancestors)

    # -- critical path --------------------------------------------------------------

    def critical_path(self, weights: list[float]) -> CriticalPath:
        """The heaviest path, weighting each node by ``weights[index]``.

        Ties go to the smaller node id, both for the end node and for each step back.
        """
        order = self.topological_indices()
        if not order:
            return CriticalPath((), 0.0)
        predecessors = self.index.predecessors
        finish = [0.0] * self.index.size
        read = finish.__getitem__
        # Forward pass at C speed (map/max); the path is recovered backwards
        # afterwards, only along itself.
        for node in order:
            parents = predecessors[node]
            if parents:
                finish[node] = max(map(read, parents)) + weights[node]
            else:
                finish[node] = weights[node]
        best_finish = max(finish)
        end = finish.index(best_finish)  # the smallest index among the heaviest ends
        path = [end]
        node = end
        while predecessors[node]:
            before = finish[node] - weights[node]
            # Float sums can differ in the last bit, so take the heaviest parent
            # and break ties by the smaller index (no key function: on a deep
            # workflow this walk takes thousands of steps).
            parents = predecessors[node]
            heaviest = parents[0]
            latest = finish[heaviest]
            for parent in parents:
                parent_finish = finish[parent]
                if parent_finish > latest or (parent_finish == latest and parent < heaviest):
                    heaviest, latest = parent, parent_finish
            node = heaviest
            if finish[node] < before - 1e-9 * max(1.0, abs(before)):
                break
            path.append(node)
        path.reverse()
        ids = self.index.ids
        return CriticalPath(tuple(ids[item] for item in path), best_finish)


def node_weights(
    workflow: Workflow, index: GraphIndex, durations: Mapping[str, float] | None
) -> list[float]:
    """Per-node estimated durations in milliseconds, by index.

    First ``durations[node_id]``, then the node's ``metadata.custom.
    estimated_duration_ms``, then 1.0, so an unestimated workflow's critical
    path is its longest chain of nodes. A disabled node is skipped at run time
    and weighs 0.
    """
    overrides = durations or {}
    weights: list[float] = []
    append = weights.append
    for node in nodes_in_id_order(workflow, index.ids):
        if not node.enabled:
            append(0.0)
            continue
        value: Any = overrides.get(node.id) if overrides else None
        if value is None:
            value = node.metadata.custom.get(ESTIMATED_DURATION_KEY)
        # Exact type checks: bools are not durations, and this loop runs per node.
        value_type = type(value)
        if (value_type is int or value_type is float) and value >= 0:
            append(float(value))
        else:
            append(DEFAULT_DURATION)
    return weights


def would_create_cycle(workflow: Workflow, source: str, target: str) -> bool:
    """Whether adding an edge ``source → target`` would close a cycle
    (including a self-loop): true when ``source`` is reachable from ``target``."""
    if source == target:
        return True
    analysis = workflow.analysis()
    index = analysis.index
    if source not in index.index_of or target not in index.index_of:
        return False
    goal = index.index_of[source]
    start = index.index_of[target]
    seen = {start}
    stack = [start]
    successors = index.successors
    while stack:
        node = stack.pop()
        for child in successors[node]:
            if child == goal:
                return True
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return False
