"""The execution plan of a valid workflow: order, levels, critical path, dependencies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.domain.algorithms import (
    CriticalPath,
    CycleError,
    Dependencies,
    GraphAnalysis,
    node_weights,
)
from workflows.domain.model import Workflow


@dataclass(slots=True)
class Plan:
    """What an engine needs to schedule a workflow.

    ``dependencies`` for every node are computed on first use (they are the
    costly part for big workflows) and kept.
    """

    topological_order: list[str]
    execution_levels: list[list[str]]
    critical_path: list[str]
    critical_path_duration: float
    analysis: GraphAnalysis = field(repr=False, compare=False)

    def dependencies(self, node_id: str) -> Dependencies:
        return self.analysis.dependencies(node_id)

    def to_dict(
        self, *, nodes: Iterable[str] | None = None, transitive_limit: int | None = None
    ) -> dict[str, Any]:
        """The ``GET /api/v1/workflows/{id}/plan/`` shape of ``api.md``.

        ``nodes`` limits ``dependencies`` to those ids (the caller checks they exist).
        Transitive lists grow with the square of the graph (a 10,000-node workflow of
        100 levels holds ~50 million ids), so when they would hold more than
        ``transitive_limit`` ids together, every node's ``all`` is left out and
        ``transitive_dependencies`` says "omitted"; asking for a few ``nodes`` gets them.
        """
        selected = list(self.topological_order if nodes is None else nodes)
        include_all = (
            transitive_limit is None
            or (nodes is not None and len(selected) * len(self.topological_order) <= transitive_limit)
            or self.analysis.transitive_dependency_count() <= transitive_limit
        )
        describe = (
            (lambda node_id: self.analysis.dependencies(node_id).to_dict())
            if include_all
            else self.analysis.direct_dependencies
        )
        return {
            "topological_order": list(self.topological_order),
            "execution_levels": [list(level) for level in self.execution_levels],
            "critical_path": list(self.critical_path),
            "dependencies": {node_id: describe(node_id) for node_id in selected},
            "transitive_dependencies": "included" if include_all else "omitted",
        }


def plan_workflow(workflow: Workflow, *, durations: Mapping[str, float] | None = None) -> Plan:
    """Plan a workflow; raise CycleError (with the cycle) when it has none.

    ``durations`` maps node ids to estimated milliseconds and wins over each
    node's ``metadata.custom.estimated_duration_ms``; nodes with neither count
    1.0 and disabled nodes 0 (see ``algorithms.node_weights``).
    """
    analysis = workflow.analysis()
    if analysis.has_cycle:
        cycles = analysis.cycles()
        raise CycleError(cycles[0] if cycles else [])
    path: CriticalPath = analysis.critical_path(node_weights(workflow, analysis.index, durations))
    return Plan(
        topological_order=analysis.topological_order(),
        execution_levels=analysis.execution_levels(),
        critical_path=list(path.nodes),
        critical_path_duration=path.duration,
        analysis=analysis,
    )
