"""The transition tables and command rules, case by case (no database)."""

from __future__ import annotations

import pytest

from executions.domain import (
    EXECUTION_TRANSITIONS,
    NODE_TRANSITIONS,
    Command,
    CommandInvalid,
    CommandRefused,
    ErrorPolicy,
    ExecutionState,
    FailureReaction,
    InvalidTransition,
    NodeRunState,
    NodeView,
    available_commands,
    can_node_transition,
    can_transition,
    check_command,
    command_targets,
    finished_state,
    may_retry,
    reaction_to_failure,
    require_transition,
    retry_delay_ms,
    state_when_running_again,
    valid_transitions,
)

E = ExecutionState
N = NodeRunState


def test_execution_transitions_are_the_specs_plus_failing_while_paused_or_waiting() -> None:
    allowed = {(a, b) for a in E for b in E if can_transition(a, b)}
    assert allowed == {
        (E.PENDING, E.RUNNING), (E.PENDING, E.CANCELLED),
        (E.RUNNING, E.PAUSED), (E.RUNNING, E.WAITING_FOR_INPUT), (E.RUNNING, E.COMPLETED),
        (E.RUNNING, E.FAILED), (E.RUNNING, E.CANCELLED),
        (E.PAUSED, E.RUNNING), (E.PAUSED, E.CANCELLED), (E.PAUSED, E.FAILED),
        (E.WAITING_FOR_INPUT, E.RUNNING), (E.WAITING_FOR_INPUT, E.CANCELLED),
        (E.WAITING_FOR_INPUT, E.FAILED),
    }
    for terminal in (E.COMPLETED, E.FAILED, E.CANCELLED):
        assert valid_transitions(terminal) == frozenset()
        assert terminal.is_terminal and not terminal.is_active


def test_node_transitions() -> None:
    allowed = {(a, b) for a in N for b in N if can_node_transition(a, b)}
    assert allowed == {
        (N.PENDING, N.QUEUED), (N.PENDING, N.SKIPPED), (N.QUEUED, N.RUNNING), (N.QUEUED, N.SKIPPED),
        (N.RUNNING, N.COMPLETED), (N.RUNNING, N.FAILED), (N.RUNNING, N.SKIPPED), (N.RUNNING, N.QUEUED),
        (N.FAILED, N.QUEUED), (N.FAILED, N.SKIPPED),
    }
    assert set(EXECUTION_TRANSITIONS) == set(E) and set(NODE_TRANSITIONS) == set(N)


def test_a_refused_transition_names_the_state_and_what_it_allows() -> None:
    with pytest.raises(InvalidTransition) as refused:
        require_transition(E.PAUSED, E.COMPLETED)
    assert str(refused.value) == ("The execution is paused; it cannot become completed. "
                                  "From paused it may become: cancelled, failed, running.")
    with pytest.raises(InvalidTransition) as refused:
        require_transition(E.COMPLETED, E.RUNNING)
    assert "may become: nothing (it is final)" in str(refused.value)


NODES = {"a": NodeView(N.COMPLETED), "held": NodeView(N.FAILED),
         "settled": NodeView(N.FAILED, edges_settled=True), "b": NodeView(N.PENDING),
         "ask": NodeView(N.PENDING, awaiting_input=True), "r": NodeView(N.RUNNING)}


@pytest.mark.parametrize("state,expected", [
    (E.PENDING, ["start", "cancel"]),
    (E.RUNNING, ["pause", "cancel", "retry_node", "skip_node"]),
    (E.PAUSED, ["resume", "cancel", "retry_node", "skip_node"]),
    (E.WAITING_FOR_INPUT, ["cancel", "retry_node", "skip_node", "provide_input"]),
    (E.COMPLETED, []),
    (E.FAILED, ["rerun"]),
    (E.CANCELLED, ["rerun"]),
], ids=str)
def test_available_commands_per_state(state, expected) -> None:
    assert available_commands(state, NODES.values()) == expected


def test_node_commands_are_offered_only_when_a_node_accepts_them() -> None:
    only_done = [NodeView(N.COMPLETED), NodeView(N.RUNNING), NodeView(N.FAILED, edges_settled=True)]
    assert available_commands(E.RUNNING, only_done) == ["pause", "cancel"]
    assert available_commands(E.WAITING_FOR_INPUT, [NodeView(N.QUEUED)]) == ["cancel"]
    assert command_targets(Command.RETRY_NODE, E.PAUSED, NODES) == ["held"]
    assert command_targets(Command.SKIP_NODE, E.PAUSED, NODES) == ["ask", "b", "held"]
    assert command_targets(Command.PROVIDE_INPUT, E.WAITING_FOR_INPUT, NODES) == ["ask"]
    assert command_targets(Command.PROVIDE_INPUT, E.RUNNING, NODES) == []
    assert command_targets(Command.PAUSE, E.RUNNING, NODES) == []


def test_check_command_refusals_name_the_state_and_the_available_commands() -> None:
    with pytest.raises(CommandRefused) as refused:
        check_command(E.COMPLETED, NODES, Command.PAUSE)
    assert refused.value.state is E.COMPLETED and refused.value.available == []
    assert refused.value.message == ("The execution is completed; pause is not allowed now. "
                                     "Available commands: none.")
    with pytest.raises(CommandRefused) as refused:
        check_command(E.PAUSED, NODES, Command.RETRY_NODE, "a")
    assert refused.value.node_id == "a" and refused.value.node_state is N.COMPLETED
    assert refused.value.available == ["resume", "cancel", "retry_node", "skip_node"]
    assert "Node 'a' is completed; retry_node needs a failed node" in refused.value.message
    with pytest.raises(CommandRefused) as refused:
        check_command(E.PAUSED, NODES, Command.SKIP_NODE, "settled")
    assert "its failure already settled its successors" in refused.value.message
    with pytest.raises(CommandInvalid) as invalid:
        check_command(E.PAUSED, NODES, Command.RETRY_NODE)
    assert invalid.value.field == "node_id"
    with pytest.raises(CommandInvalid) as invalid:
        check_command(E.PAUSED, NODES, Command.RETRY_NODE, "nope")
    assert invalid.value.message == "This execution has no node 'nope'."
    check_command(E.PAUSED, NODES, Command.RETRY_NODE, "held")
    check_command(E.WAITING_FOR_INPUT, NODES, Command.PROVIDE_INPUT, "ask")


def test_policies_and_finishing() -> None:
    assert reaction_to_failure("stop") is FailureReaction.FAIL_EXECUTION
    assert reaction_to_failure(ErrorPolicy.CONTINUE) is FailureReaction.SKIP_DESCENDANTS
    assert reaction_to_failure("pause") is FailureReaction.PAUSE_EXECUTION
    assert finished_state(unsettled=1, failed=0) is None
    assert finished_state(unsettled=0, failed=0) is E.COMPLETED
    assert finished_state(unsettled=0, failed=2) is E.FAILED
    assert state_when_running_again(awaiting_input=True, held_failure=True, policy="pause") is E.PAUSED
    assert state_when_running_again(awaiting_input=True, held_failure=False, policy="pause") is E.WAITING_FOR_INPUT
    assert state_when_running_again(awaiting_input=False, held_failure=True, policy="stop") is E.RUNNING


def test_retry_timing() -> None:
    assert [retry_delay_ms(delay_ms=500, multiplier=2.0, failed_attempts=n) for n in (1, 2, 3)] == [500, 1000, 2000]
    assert retry_delay_ms(delay_ms=500, multiplier=2.0, failed_attempts=0) == 0
    assert retry_delay_ms(delay_ms=0, multiplier=2.0, failed_attempts=3) == 0
    assert retry_delay_ms(delay_ms=1000, multiplier=10.0, failed_attempts=5000) == 3_600_000
    assert retry_delay_ms(delay_ms=100, multiplier=0.5, failed_attempts=3) == 100  # never shrinks
    # A multiplier of 1 keeps the delay flat however many attempts failed (no cap needed).
    assert retry_delay_ms(delay_ms=100, multiplier=1.0, failed_attempts=500) == 100
    assert retry_delay_ms(delay_ms=100, multiplier=0.5, failed_attempts=500) == 100
    # The smallest delays are kept as they are.
    assert retry_delay_ms(delay_ms=1, multiplier=2.0, failed_attempts=1) == 1
    assert retry_delay_ms(delay_ms=0.5, multiplier=2.0, failed_attempts=2) == 1
    # A negative delay means none, never a negative one.
    assert retry_delay_ms(delay_ms=-0.5, multiplier=2.0, failed_attempts=1) == 0
    assert retry_delay_ms(delay_ms=-200, multiplier=2.0, failed_attempts=2) == 0
    assert may_retry(attempt=1, max_attempts=3, retryable=True)
    assert not may_retry(attempt=3, max_attempts=3, retryable=True)
    assert not may_retry(attempt=4, max_attempts=3, retryable=True)  # past the budget: no more
    assert not may_retry(attempt=1, max_attempts=3, retryable=False)


def test_the_state_groups_each_state_belongs_to() -> None:
    # Asked as properties: a property turned back into a method would be a bound method,
    # truthy for every state, and every set below would hold all of them.
    assert {state for state in E if state.is_terminal} == {E.COMPLETED, E.FAILED, E.CANCELLED}
    assert {state for state in E if state.is_active} == {E.RUNNING, E.PAUSED, E.WAITING_FOR_INPUT}
    assert {state for state in N if state.is_settled} == {N.COMPLETED, N.FAILED, N.SKIPPED}
    # Failed is settled but not final: retry_node and skip_node still move it.
    assert {state for state in N if state.is_final} == {N.COMPLETED, N.SKIPPED}
