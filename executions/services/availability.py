"""Which commands an execution accepts now, read in one small query however many nodes it has."""

from __future__ import annotations

from typing import Any

from executions.domain import Command, ExecutionState, NodeRunState, NodeView, available_commands
from executions.models import Execution, NodeRun


def node_views(execution_id: Any) -> list[NodeView]:
    """The distinct (state, awaiting, settled) combinations of an execution's node runs: all the
    command rules need, in one grouped query."""
    rows = (NodeRun.objects.filter(execution_id=execution_id).order_by()
            .values_list("state", "awaiting_input", "edges_settled").distinct())
    return [NodeView(state=NodeRunState(state), awaiting_input=awaiting, edges_settled=settled)
            for state, awaiting, settled in rows]


def commands_available(execution: Execution) -> list[Command]:
    return available_commands(ExecutionState(execution.state), node_views(execution.pk))


def commands_available_from(execution: Execution, runs: list[NodeRun]) -> list[Command]:
    """`commands_available` from node runs already loaded (the execution's page has them all):
    the same views, without a statement of its own."""
    views = {(run.state, run.awaiting_input, run.edges_settled) for run in runs}
    return available_commands(ExecutionState(execution.state), [
        NodeView(state=NodeRunState(state), awaiting_input=awaiting, edges_settled=settled)
        for state, awaiting, settled in views])
