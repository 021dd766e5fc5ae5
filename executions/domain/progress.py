"""Progress of an execution: counts per node state, the percentage settled, and the time left.

The estimate takes, for every node not yet settled, the typical duration of its node type (or
model) on this platform, less what a running node has already spent, and walks the critical
path of what is left (`workflows.domain.plan_workflow` with those durations; settled nodes
weigh nothing). With no history for a node type it answers no number, and says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from executions.domain.states import ExecutionState, NodeRunState
from workflows.domain import Workflow, plan_workflow

STATE_KEYS = ("completed", "failed", "running", "queued", "pending", "skipped")


@dataclass(frozen=True, slots=True)
class Estimate:
    seconds: float | None
    basis: str


@dataclass(frozen=True, slots=True)
class Progress:
    total: int
    counts: Mapping[str, int]
    percentage: float
    estimate: Estimate

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, **{key: int(self.counts.get(key, 0)) for key in STATE_KEYS},
                "percentage": self.percentage, "estimated_remaining_s": self.estimate.seconds,
                "estimate_basis": self.estimate.basis}


def percentage(counts: Mapping[str, int], total: int) -> float:
    """Settled nodes (completed, failed, skipped) over all nodes, 0 to 100, one decimal."""
    if total <= 0:
        return 100.0
    settled = sum(int(counts.get(state.value, 0)) for state in
                  (NodeRunState.COMPLETED, NodeRunState.FAILED, NodeRunState.SKIPPED))
    return round(100.0 * settled / total, 1)


def estimate_remaining(*, state: ExecutionState, workflow: Workflow,
                       node_states: Mapping[str, NodeRunState], node_types: Mapping[str, str],
                       typical_ms: Mapping[str, float], elapsed_ms: Mapping[str, float]) -> Estimate:
    """Seconds left along the remaining critical path, or None with the reason.

    `typical_ms` holds the typical duration of each node type that has history;
    `elapsed_ms` how long each running node has been running.
    """
    if state.is_terminal:
        return Estimate(0.0, "finished")
    remaining = [node_id for node_id, node_state in node_states.items() if not node_state.is_settled]
    if not remaining:
        return Estimate(0.0, "every node has settled")
    unknown = sorted({node_types[node_id] for node_id in remaining if node_types[node_id] not in typical_ms})
    if unknown:
        return Estimate(None, "no history yet for node types: " + ", ".join(unknown))
    durations: dict[str, float] = {node_id: 0.0 for node_id in node_states}
    for node_id in remaining:
        durations[node_id] = max(0.0, typical_ms[node_types[node_id]] - elapsed_ms.get(node_id, 0.0))
    plan = plan_workflow(workflow, durations=durations)
    kinds = len({node_types[node_id] for node_id in remaining})
    return Estimate(round(plan.critical_path_duration / 1000.0, 3),
                    f"median duration of each node type on this platform, along the remaining "
                    f"critical path ({len(remaining)} nodes left, {kinds} node types)")


def progress_of(*, state: ExecutionState, counts: Mapping[str, int], total: int,
                estimate: Estimate) -> Progress:
    return Progress(total=total, counts=dict(counts), percentage=percentage(counts, total), estimate=estimate)
