"""A reference model of one execution: the state machine's rules in memory, no database.

The engine applies the same rules with conditional updates in PostgreSQL
(`executions.engine`); this model composes them in a few lines so a
Hypothesis state machine can drive any sequence of commands and node results
through it and check that every execution and node run stays in a valid
state, terminal states stay terminal, and the commands offered are exactly
the ones accepted. Readiness here is the plain rule (a node runs once every
predecessor completed, and is skipped when any of them died); branches,
merges and joins are the runtime's `flow` rules, tested on their own.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from executions.domain.commands import (
    Command,
    NodeView,
    available_commands,
    check_command,
)
from executions.domain.history import HistoryRecord, record_transition
from executions.domain.policy import (
    ErrorPolicy,
    FailureReaction,
    finished_state,
    may_retry,
    reaction_to_failure,
    state_when_running_again,
)
from executions.domain.states import (
    ExecutionState,
    NodeRunState,
    require_node_transition,
)

_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@dataclass
class ModelNode:
    state: NodeRunState = NodeRunState.PENDING
    attempt: int = 0
    max_attempts: int = 1
    lost_leases: int = 0
    awaiting_input: bool = False
    # Whether this node's outgoing edges were settled, and how: taken or dead.
    edges_settled: bool = False
    edges_taken: bool = False
    skip_reason: str = ""

    def view(self) -> NodeView:
        return NodeView(state=self.state, awaiting_input=self.awaiting_input,
                        edges_settled=self.edges_settled)


@dataclass
class ExecutionModel:
    predecessors: Mapping[str, Sequence[str]]
    policy: ErrorPolicy = ErrorPolicy.STOP
    interactive: frozenset[str] = frozenset()
    max_attempts: Mapping[str, int] = field(default_factory=dict)
    lost_lease_retries: int = 2
    state: ExecutionState = ExecutionState.PENDING
    nodes: dict[str, ModelNode] = field(default_factory=dict)
    history: list[HistoryRecord] = field(default_factory=list)
    successors: dict[str, list[str]] = field(default_factory=dict)
    # Interactive inputs answered by provide_input: their answers are part of the inputs.
    provided: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        for node_id in self.predecessors:
            self.nodes.setdefault(node_id, ModelNode(max_attempts=self.max_attempts.get(node_id, 1)))
            self.successors.setdefault(node_id, [])
        for node_id, sources in self.predecessors.items():
            for source in sources:
                self.successors[source].append(node_id)

    # -- reading ---------------------------------------------------------------------------

    def views(self) -> dict[str, NodeView]:
        return {node_id: node.view() for node_id, node in self.nodes.items()}

    def available(self) -> list[Command]:
        return available_commands(self.state, self.views().values())

    # -- commands --------------------------------------------------------------------------

    def command(self, command: Command, node_id: str | None = None, *, actor: str = "operator",
                reason: str = "") -> ExecutionModel:
        """Apply a command (CommandRefused / CommandInvalid when not accepted); rerun answers
        the new execution, every other command this one."""
        check_command(self.state, self.views(), command, node_id)
        if command is Command.START:
            self._move(ExecutionState.RUNNING, actor, reason)
            self._queue_roots()
            self._settle_gate(actor)
        elif command is Command.PAUSE:
            self._move(ExecutionState.PAUSED, actor, reason)
        elif command is Command.RESUME:
            self._move(ExecutionState.RUNNING, actor, reason)
            for held in [n for n, node in self.nodes.items()
                         if node.state is NodeRunState.FAILED and not node.edges_settled]:
                self._settle(held, taken=False)
            self._settle_gate(actor)
        elif command is Command.CANCEL:
            self._finish(ExecutionState.CANCELLED, actor, reason, skip_reason="cancelled")
        elif command is Command.RETRY_NODE:
            assert node_id is not None
            node = self.nodes[node_id]
            self._node(node_id, NodeRunState.QUEUED)
            node.attempt = 0
        elif command is Command.SKIP_NODE:
            assert node_id is not None
            self.nodes[node_id].awaiting_input = False
            self._node(node_id, NodeRunState.SKIPPED, skip_reason="skipped by an operator")
            self._settle(node_id, taken=True)
            self._leave_waiting(actor)
            self._check_finished()
        elif command is Command.PROVIDE_INPUT:
            assert node_id is not None
            self.provided.add(node_id)
            self.nodes[node_id].awaiting_input = False
            self._node(node_id, NodeRunState.QUEUED)
            self._leave_waiting(actor)
        elif command is Command.RERUN:
            return self._rerun()
        return self

    # -- results from workers --------------------------------------------------------------

    def claim(self, node_id: str) -> bool:
        node = self.nodes[node_id]
        if self.state is not ExecutionState.RUNNING or node.state is not NodeRunState.QUEUED:
            return False
        self._node(node_id, NodeRunState.RUNNING)
        node.attempt += 1
        return True

    def succeed(self, node_id: str) -> bool:
        if self.nodes[node_id].state is not NodeRunState.RUNNING:
            return False
        self._node(node_id, NodeRunState.COMPLETED)
        if self.state.is_active:
            self._settle(node_id, taken=True)
            self._check_finished()
        return True

    def fail(self, node_id: str, *, retryable: bool = True) -> bool:
        node = self.nodes[node_id]
        if node.state is not NodeRunState.RUNNING:
            return False
        if self.state.is_terminal:
            # Recorded as it happened; a finished execution reacts to nothing any more.
            self._node(node_id, NodeRunState.FAILED)
            return True
        if may_retry(attempt=node.attempt, max_attempts=node.max_attempts, retryable=retryable):
            self._node(node_id, NodeRunState.QUEUED)
            return True
        self._node(node_id, NodeRunState.FAILED)
        self._react_to_failure(node_id)
        return True

    def stop(self, node_id: str) -> bool:
        """A running node noticed the execution stopped (`reporter.should_stop()`) and gave up."""
        if self.nodes[node_id].state is not NodeRunState.RUNNING or not self.state.is_terminal:
            return False
        self._node(node_id, NodeRunState.SKIPPED, skip_reason="execution stopped")
        return True

    def lose_lease(self, node_id: str) -> bool:
        """The worker running `node_id` died: the reaper re-queues it (counting an attempt)."""
        node = self.nodes[node_id]
        if node.state is not NodeRunState.RUNNING:
            return False
        if self.state.is_terminal:
            self._node(node_id, NodeRunState.SKIPPED, skip_reason="execution stopped")
            return True
        if node.lost_leases < self.lost_lease_retries:
            node.lost_leases += 1
            node.max_attempts += 1
            self._node(node_id, NodeRunState.QUEUED)
            return True
        self._node(node_id, NodeRunState.FAILED)
        self._react_to_failure(node_id)
        return True

    def pass_deadline(self) -> bool:
        if not self.state.is_active:
            return False
        self._finish(ExecutionState.FAILED, "reaper", "the execution's timeout passed",
                     skip_reason="execution timed out")
        return True

    # -- the rules -------------------------------------------------------------------------

    def _move(self, wanted: ExecutionState, actor: str, reason: str) -> None:
        self.history.append(record_transition(self.state, wanted, actor=actor, reason=reason,
                                              at=_EPOCH + dt.timedelta(seconds=len(self.history))))
        self.state = wanted

    def _node(self, node_id: str, wanted: NodeRunState, *, skip_reason: str = "") -> None:
        node = self.nodes[node_id]
        require_node_transition(node.state, wanted)
        node.state = wanted
        if skip_reason:
            node.skip_reason = skip_reason

    def _queue_roots(self) -> None:
        for node_id, sources in self.predecessors.items():
            if not sources and self.nodes[node_id].state is NodeRunState.PENDING:
                if node_id in self.interactive:
                    self.nodes[node_id].awaiting_input = True
                else:
                    self._node(node_id, NodeRunState.QUEUED)

    def _settle(self, node_id: str, *, taken: bool) -> None:
        """Settle a node's outgoing edges, and every consequence, iteratively."""
        work = [(node_id, taken)]
        while work:
            source, source_taken = work.pop()
            node = self.nodes[source]
            if node.edges_settled:
                continue
            node.edges_settled, node.edges_taken = True, source_taken
            for target in self.successors[source]:
                successor = self.nodes[target]
                if successor.state is not NodeRunState.PENDING:
                    continue
                upstream = [self.nodes[s] for s in self.predecessors[target]]
                if not all(u.edges_settled for u in upstream):
                    continue
                if all(u.edges_taken for u in upstream):
                    self._node(target, NodeRunState.QUEUED)
                else:
                    self._node(target, NodeRunState.SKIPPED, skip_reason="upstream failed")
                    work.append((target, False))

    def _react_to_failure(self, node_id: str) -> None:
        reaction = reaction_to_failure(self.policy)
        if reaction is FailureReaction.FAIL_EXECUTION:
            self._finish(ExecutionState.FAILED, "engine", f"node {node_id} failed",
                         skip_reason="execution failed")
        elif reaction is FailureReaction.SKIP_DESCENDANTS:
            self._settle(node_id, taken=False)
            self._check_finished()
        elif self.state is ExecutionState.RUNNING:
            self._move(ExecutionState.PAUSED, "engine", f"node {node_id} failed")

    def _finish(self, wanted: ExecutionState, actor: str, reason: str, *, skip_reason: str) -> None:
        self._move(wanted, actor, reason)
        for node_id, node in self.nodes.items():
            if node.state in (NodeRunState.PENDING, NodeRunState.QUEUED):
                node.awaiting_input = False
                self._node(node_id, NodeRunState.SKIPPED, skip_reason=skip_reason)

    def _leave_waiting(self, actor: str) -> None:
        if self.state is ExecutionState.WAITING_FOR_INPUT and not any(
                node.awaiting_input for node in self.nodes.values()):
            self._move(ExecutionState.RUNNING, actor, "input provided")
            self._settle_gate(actor)

    def _settle_gate(self, actor: str) -> None:
        """On returning to running: pause again for a held failure, wait for input, or finish."""
        wanted = state_when_running_again(
            awaiting_input=any(node.awaiting_input for node in self.nodes.values()),
            held_failure=any(node.state is NodeRunState.FAILED and not node.edges_settled
                             for node in self.nodes.values()),
            policy=self.policy)
        if wanted is not ExecutionState.RUNNING:
            self._move(wanted, "engine", "needs input" if wanted is ExecutionState.WAITING_FOR_INPUT
                       else "a failed node waits for an operator")
            return
        self._check_finished()

    def _check_finished(self) -> None:
        if self.state is not ExecutionState.RUNNING:
            return
        states = [node.state for node in self.nodes.values()]
        done = finished_state(
            unsettled=sum(state in (NodeRunState.PENDING, NodeRunState.QUEUED, NodeRunState.RUNNING)
                          for state in states),
            failed=sum(state is NodeRunState.FAILED for state in states))
        if done is not None:
            self._move(done, "engine", "every node settled")

    def _rerun(self) -> ExecutionModel:
        """A new execution of the same graph reusing completed nodes; it starts at once."""
        # The inputs carry over, answers to interactive inputs included: nobody is asked twice.
        again = ExecutionModel(predecessors=self.predecessors, policy=self.policy,
                               interactive=self.interactive - self.provided,
                               max_attempts=self.max_attempts,
                               lost_lease_retries=self.lost_lease_retries)
        reused = [n for n, node in self.nodes.items() if node.state is NodeRunState.COMPLETED]
        for node_id in reused:
            again.nodes[node_id].state = NodeRunState.COMPLETED  # created completed, not moved
        again.command(Command.START, actor="operator", reason="rerun")
        for node_id in reused:
            if again.state.is_active:
                again._settle(node_id, taken=True)
        again._check_finished()
        return again

    def copy(self) -> ExecutionModel:
        return copy.deepcopy(self)


def chain_of(node_ids: Iterable[str]) -> dict[str, list[str]]:
    """Predecessors of a simple chain a → b → c (a convenience for tests and docs)."""
    ids = list(node_ids)
    return {node_id: ([ids[index - 1]] if index else []) for index, node_id in enumerate(ids)}


def summary(model: ExecutionModel) -> dict[str, Any]:
    return {"state": str(model.state),
            "nodes": {node_id: str(node.state) for node_id, node in model.nodes.items()}}
