"""Any sequence of commands and node results keeps the reference model valid (no database).

A Hypothesis `RuleBasedStateMachine` drives `executions.domain.machine.ExecutionModel`
over random small graphs, policies and retry budgets. After every step: every
state is a known one, history is a chain of allowed transitions, terminal
states stay terminal, a running execution always has work queued or running,
and the commands offered are exactly the commands accepted.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from executions.domain import (
    NODE_COMMANDS,
    Command,
    CommandInvalid,
    CommandRefused,
    ErrorPolicy,
    ExecutionState,
    NodeRunState,
    can_transition,
    command_targets,
)
from executions.domain.machine import ExecutionModel

N = NodeRunState
E = ExecutionState


@st.composite
def graphs(draw: st.DrawFn) -> dict[str, list[str]]:
    size = draw(st.integers(min_value=1, max_value=6))
    ids = [f"n{i}" for i in range(size)]
    return {node_id: sorted(draw(st.sets(st.sampled_from(ids[:index]))) if index else [])
            for index, node_id in enumerate(ids)}


class ExecutionMachine(RuleBasedStateMachine):
    model: ExecutionModel

    @initialize(graph=graphs(), policy=st.sampled_from(list(ErrorPolicy)), data=st.data())
    def build(self, graph: dict[str, list[str]], policy: ErrorPolicy, data: st.DataObject) -> None:
        roots = sorted(node_id for node_id, sources in graph.items() if not sources)
        interactive = data.draw(st.sets(st.sampled_from(roots)), label="interactive")
        budget = data.draw(st.dictionaries(st.sampled_from(sorted(graph)), st.integers(1, 3)),
                           label="max_attempts")
        self.model = ExecutionModel(predecessors=graph, policy=policy, interactive=frozenset(interactive),
                                    max_attempts=budget, lost_lease_retries=data.draw(st.integers(0, 2)))
        self.seen_history = 0

    def node_ids(self) -> list[str]:
        return sorted(self.model.nodes)

    # -- commands: accepted exactly when offered -------------------------------------------

    @rule(command=st.sampled_from(list(Command)), data=st.data())
    def send(self, command: Command, data: st.DataObject) -> None:
        before = self.model.state
        offered = command in self.model.available()
        targets = command_targets(command, before, self.model.views())
        node_id = None
        if command in NODE_COMMANDS:
            # Mostly a node the command accepts, sometimes any node (to be refused).
            choices = targets if targets and data.draw(st.booleans(), label="aim") else self.node_ids()
            node_id = data.draw(st.sampled_from(choices), label="node")
        expected = offered and (node_id is None or node_id in targets)
        try:
            result = self.model.command(command, node_id, reason="because")
        except (CommandRefused, CommandInvalid):
            assert not expected, f"{command} {node_id} was offered in {before} but refused"
            return
        assert expected, f"{command} {node_id} was accepted in {before} but not offered"
        if command is Command.RERUN:
            assert before in (E.FAILED, E.CANCELLED)
            assert self.model.state is before  # the original stays as it was
            self.model = result
            self.seen_history = 0

    @invariant()
    def every_offered_node_command_has_a_target(self) -> None:
        for command in self.model.available():
            if command in NODE_COMMANDS:
                assert command_targets(command, self.model.state, self.model.views())

    # -- results from workers --------------------------------------------------------------

    def in_state(self, state: NodeRunState) -> list[str]:
        return [node_id for node_id, node in sorted(self.model.nodes.items()) if node.state is state]

    @rule(data=st.data())
    def claim(self, data: st.DataObject) -> None:
        queued = self.in_state(N.QUEUED)
        node_id = data.draw(st.sampled_from(queued if queued else self.node_ids()))
        before = self.model.nodes[node_id].state
        claimed = self.model.claim(node_id)
        assert claimed == (before is N.QUEUED and self.model.state is E.RUNNING)

    @rule(data=st.data(), outcome=st.sampled_from(["succeed", "fail", "fail_for_good", "lose_lease", "stop"]))
    def finish(self, data: st.DataObject, outcome: str) -> None:
        running = self.in_state(N.RUNNING)
        node_id = data.draw(st.sampled_from(running if running else self.node_ids()))
        terminal_before = self.model.state.is_terminal
        state_before = self.model.state
        if outcome == "succeed":
            self.model.succeed(node_id)
        elif outcome == "fail":
            self.model.fail(node_id)
        elif outcome == "fail_for_good":
            self.model.fail(node_id, retryable=False)
        elif outcome == "lose_lease":
            self.model.lose_lease(node_id)
        else:
            self.model.stop(node_id)
        if terminal_before:
            assert self.model.state is state_before

    @precondition(lambda self: self.model.state.is_active)
    @rule()
    def deadline(self) -> None:
        assert self.model.pass_deadline()
        assert self.model.state is E.FAILED

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def states_are_known_and_history_chains(self) -> None:
        model = self.model
        assert model.state in set(E)
        previous = E.PENDING
        for record in model.history:
            assert record.from_state is previous
            assert can_transition(record.from_state, record.to_state)
            previous = record.to_state
        assert previous is model.state
        for record in model.history[:-1]:
            assert not record.to_state.is_terminal  # nothing follows a terminal state

    @invariant()
    def node_runs_are_consistent(self) -> None:
        model = self.model
        for node in model.nodes.values():
            assert node.state in set(N)
            assert node.attempt <= node.max_attempts
            assert not node.awaiting_input or node.state is N.PENDING
        states = [node.state for node in model.nodes.values()]
        if model.state.is_terminal:
            assert N.PENDING not in states and N.QUEUED not in states
        if model.state is E.COMPLETED:
            assert set(states) <= {N.COMPLETED, N.SKIPPED}
        if model.state is E.PENDING:
            assert set(states) <= {N.PENDING, N.COMPLETED}

    @invariant()
    def a_running_execution_makes_progress(self) -> None:
        model = self.model
        if model.state is E.RUNNING:
            assert any(node.state in (N.QUEUED, N.RUNNING) for node in model.nodes.values())
            assert not any(node.awaiting_input for node in model.nodes.values())
        if model.state is E.WAITING_FOR_INPUT:
            assert any(node.awaiting_input for node in model.nodes.values())


PROFILE = {"max_examples": 1000 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 60,
           "stateful_step_count": 40, "deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
ExecutionMachine.TestCase.settings = settings(**PROFILE)
TestExecutionMachine = ExecutionMachine.TestCase
