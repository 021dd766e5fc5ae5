"""The execution plan of a valid workflow: order, levels, critical path, dependencies."""

from __future__ import annotations

from collections.abc import Mapping
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

    def to_dict(self) -> dict[str, Any]:
        """The ``GET /api/v1/workflows/{id}/plan/`` shape of ``api.md``."""
        return {
            "topological_order": list(self.topological_order),
            "execution_levels": [list(level) for level in self.execution_levels],
            "critical_path": list(self.critical_path),
            "dependencies": {
                node_id: self.analysis.dependencies(node_id).to_dict()
                for node_id in self.topological_order
            },
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
