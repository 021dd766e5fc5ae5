"""The pure rule of bulk commands: the state alone decides, by the table `check_command` enforces."""

from __future__ import annotations

import pytest

from executions.domain import (
    BULK_COMMANDS,
    Command,
    CommandInvalid,
    ExecutionState,
    bulk_refusal,
    check_command,
)
from executions.domain.commands import STATE_COMMANDS, CommandRefused


@pytest.mark.parametrize("state", list(ExecutionState))
@pytest.mark.parametrize("command", list(BULK_COMMANDS))
def test_bulk_refusal_agrees_with_check_command(command, state) -> None:
    why = bulk_refusal(command, state)
    try:
        check_command(state, {}, command)
    except CommandRefused:
        assert why.startswith(f"it is {state}; {command} is not allowed now")
    else:
        assert why == ""
    assert (why == "") == (command in STATE_COMMANDS[state])


def test_bulk_refusal_names_what_the_state_allows() -> None:
    assert bulk_refusal(Command.PAUSE, ExecutionState.PAUSED) == (
        "it is paused; pause is not allowed now (it allows resume, cancel)")
    assert bulk_refusal(Command.CANCEL, ExecutionState.COMPLETED) == "it is completed; cancel is not allowed now"


@pytest.mark.parametrize("command", [Command.START, Command.RETRY_NODE, Command.SKIP_NODE, Command.PROVIDE_INPUT])
def test_node_commands_and_start_are_not_bulk_commands(command) -> None:
    with pytest.raises(CommandInvalid) as refused:
        bulk_refusal(command, ExecutionState.RUNNING)
    assert refused.value.field == "command"
    assert refused.value.message == f"{command} cannot be applied in bulk; bulk commands are pause, resume, cancel, rerun."
