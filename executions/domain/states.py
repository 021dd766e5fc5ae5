"""Execution and node-run states and the transitions between them (execution-semantics.md).

Pure Python. The engine checks every state change against these tables before
it writes one; the database refuses unknown state values with check
constraints, and these tables refuse the moves between known ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final


class ExecutionState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    WAITING_FOR_INPUT = "waiting_for_input"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_EXECUTION_STATES

    @property
    def is_active(self) -> bool:
        """Started and not finished: node runs may still be recorded."""
        return self in ACTIVE_EXECUTION_STATES


class NodeRunState(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def is_settled(self) -> bool:
        """Counted as done by progress: completed, failed or skipped."""
        return self in SETTLED_NODE_STATES

    @property
    def is_final(self) -> bool:
        """No command or result moves it again (failed still can: retry_node, skip_node)."""
        return self in FINAL_NODE_STATES


TERMINAL_EXECUTION_STATES: Final = frozenset(
    {ExecutionState.COMPLETED, ExecutionState.FAILED, ExecutionState.CANCELLED})
ACTIVE_EXECUTION_STATES: Final = frozenset(
    {ExecutionState.RUNNING, ExecutionState.PAUSED, ExecutionState.WAITING_FOR_INPUT})
SETTLED_NODE_STATES: Final = frozenset(
    {NodeRunState.COMPLETED, NodeRunState.FAILED, NodeRunState.SKIPPED})
FINAL_NODE_STATES: Final = frozenset({NodeRunState.COMPLETED, NodeRunState.SKIPPED})
# Node runs still to settle: what keeps an execution from finishing.
UNSETTLED_NODE_STATES: Final = frozenset(
    {NodeRunState.PENDING, NodeRunState.QUEUED, NodeRunState.RUNNING})

_E = ExecutionState
EXECUTION_TRANSITIONS: Final[Mapping[ExecutionState, frozenset[ExecutionState]]] = {
    _E.PENDING: frozenset({_E.RUNNING, _E.CANCELLED}),
    _E.RUNNING: frozenset({_E.PAUSED, _E.WAITING_FOR_INPUT, _E.COMPLETED, _E.FAILED, _E.CANCELLED}),
    # Beyond the spec's table: a paused or waiting execution can still fail, when its deadline
    # passes or a node that was running when it paused fails under the `stop` policy
    # (docs/spec-deviations.md).
    _E.PAUSED: frozenset({_E.RUNNING, _E.FAILED, _E.CANCELLED}),
    _E.WAITING_FOR_INPUT: frozenset({_E.RUNNING, _E.FAILED, _E.CANCELLED}),
    _E.COMPLETED: frozenset(),
    _E.FAILED: frozenset(),
    _E.CANCELLED: frozenset(),
}

_N = NodeRunState
NODE_TRANSITIONS: Final[Mapping[NodeRunState, frozenset[NodeRunState]]] = {
    # Skipped: a branch not taken, an upstream failure, a cancelled run, or skip_node.
    _N.PENDING: frozenset({_N.QUEUED, _N.SKIPPED}),
    _N.QUEUED: frozenset({_N.RUNNING, _N.SKIPPED}),
    # Queued again: a retry after a failed attempt or an expired lease. Skipped: stopped by cancel.
    _N.RUNNING: frozenset({_N.COMPLETED, _N.FAILED, _N.SKIPPED, _N.QUEUED}),
    # retry_node re-queues a failed node; skip_node skips it with an optional substitute output.
    _N.FAILED: frozenset({_N.QUEUED, _N.SKIPPED}),
    _N.COMPLETED: frozenset(),
    _N.SKIPPED: frozenset(),
}


class InvalidTransition(ValueError):
    """A state change the tables do not allow; the message names the state and what it allows."""

    def __init__(self, subject: str, current: StrEnum, wanted: StrEnum,
                 allowed: frozenset[ExecutionState] | frozenset[NodeRunState]) -> None:
        names = ", ".join(sorted(str(state) for state in allowed)) or "nothing (it is final)"
        super().__init__(f"The {subject} is {current}; it cannot become {wanted}. "
                         f"From {current} it may become: {names}.")
        self.current = current
        self.wanted = wanted
        self.allowed = allowed


def can_transition(current: ExecutionState, wanted: ExecutionState) -> bool:
    return wanted in EXECUTION_TRANSITIONS[current]


def valid_transitions(current: ExecutionState) -> frozenset[ExecutionState]:
    return EXECUTION_TRANSITIONS[current]


def require_transition(current: ExecutionState, wanted: ExecutionState) -> None:
    if wanted not in EXECUTION_TRANSITIONS[current]:
        raise InvalidTransition("execution", current, wanted, EXECUTION_TRANSITIONS[current])


def can_node_transition(current: NodeRunState, wanted: NodeRunState) -> bool:
    return wanted in NODE_TRANSITIONS[current]


def valid_node_transitions(current: NodeRunState) -> frozenset[NodeRunState]:
    return NODE_TRANSITIONS[current]


def require_node_transition(current: NodeRunState, wanted: NodeRunState) -> None:
    if wanted not in NODE_TRANSITIONS[current]:
        raise InvalidTransition("node run", current, wanted, NODE_TRANSITIONS[current])


def node_states_from(state: NodeRunState) -> frozenset[NodeRunState]:
    """The states a node run may be in just before it becomes `state` (for conditional updates)."""
    return frozenset(before for before, after in NODE_TRANSITIONS.items() if state in after)


def execution_states_from(state: ExecutionState) -> frozenset[ExecutionState]:
    return frozenset(before for before, after in EXECUTION_TRANSITIONS.items() if state in after)
