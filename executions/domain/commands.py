"""Control commands: which ones each state allows, and the check every command passes first.

`available_commands` is what the API shows; `check_command` is what the
service enforces. Both read the same table, so the commands offered are
exactly the commands accepted (a Hypothesis state-machine test holds them to
it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from executions.domain.states import ExecutionState, NodeRunState


class Command(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    RETRY_NODE = "retry_node"
    SKIP_NODE = "skip_node"
    PROVIDE_INPUT = "provide_input"
    RERUN = "rerun"


NODE_COMMANDS: Final = frozenset({Command.RETRY_NODE, Command.SKIP_NODE, Command.PROVIDE_INPUT})

_C = Command
_E = ExecutionState
# What each execution state allows; a node command is offered only when some node accepts it.
STATE_COMMANDS: Final[Mapping[ExecutionState, tuple[Command, ...]]] = {
    _E.PENDING: (_C.START, _C.CANCEL),
    _E.RUNNING: (_C.PAUSE, _C.CANCEL, _C.RETRY_NODE, _C.SKIP_NODE),
    _E.PAUSED: (_C.RESUME, _C.CANCEL, _C.RETRY_NODE, _C.SKIP_NODE),
    _E.WAITING_FOR_INPUT: (_C.CANCEL, _C.RETRY_NODE, _C.SKIP_NODE, _C.PROVIDE_INPUT),
    _E.COMPLETED: (),
    _E.FAILED: (_C.RERUN,),
    _E.CANCELLED: (_C.RERUN,),
}


@dataclass(frozen=True, slots=True)
class NodeView:
    """What the command rules need to know about one node run."""

    state: NodeRunState
    # An interactive input node with no value yet: provide_input answers it.
    awaiting_input: bool = False
    # Whether the node's outgoing edges were settled. A failed node whose edges are not settled
    # is held for an operator (the `pause` policy); once settled (`continue`, or a resume that
    # gave up on it) retrying or skipping it could no longer reach its descendants.
    edges_settled: bool = False

    @property
    def held(self) -> bool:
        return self.state is NodeRunState.FAILED and not self.edges_settled


def node_accepts(command: Command, node: NodeView) -> bool:
    """Whether `command` may target a node in this state."""
    if command is Command.RETRY_NODE:
        return node.held
    if command is Command.SKIP_NODE:
        return node.held or node.state is NodeRunState.PENDING
    if command is Command.PROVIDE_INPUT:
        return node.state is NodeRunState.PENDING and node.awaiting_input
    return False


_NODE_NEEDS = {
    Command.RETRY_NODE: "retry_node needs a failed node whose successors still wait for it",
    Command.SKIP_NODE: "skip_node needs a pending node, or a failed one whose successors still wait for it",
    Command.PROVIDE_INPUT: "provide_input needs an interactive input node that is waiting for its value",
}


def available_commands(state: ExecutionState, nodes: Iterable[NodeView]) -> list[Command]:
    """The commands accepted now, in a stable order."""
    allowed = STATE_COMMANDS[state]
    node_commands = [command for command in allowed if command in NODE_COMMANDS]
    offered = {command for command in allowed if command not in NODE_COMMANDS}
    if node_commands:
        for node in nodes:
            for command in node_commands:
                if command not in offered and node_accepts(command, node):
                    offered.add(command)
            if len(offered) == len(allowed):
                break
    return [command for command in allowed if command in offered]


def command_targets(command: Command, state: ExecutionState,
                    nodes: Mapping[str, NodeView]) -> list[str]:
    """The node ids `command` accepts now (empty for execution-level commands)."""
    if command not in NODE_COMMANDS or command not in STATE_COMMANDS[state]:
        return []
    return sorted(node_id for node_id, node in nodes.items() if node_accepts(command, node))


class CommandInvalid(ValueError):
    """The command itself is malformed (unknown command, missing or unknown node): a 400."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class CommandRefused(Exception):
    """The state forbids the command now: a 409 naming the state and what it allows."""

    def __init__(self, message: str, *, state: ExecutionState,
                 available: list[Command], node_id: str | None = None,
                 node_state: NodeRunState | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.state = state
        self.available = available
        self.node_id = node_id
        self.node_state = node_state


def parse_command(name: object) -> Command:
    try:
        return Command(str(name))
    except ValueError:
        raise CommandInvalid(
            f"Unknown command {name!r}; commands are {', '.join(command.value for command in Command)}.",
            field="command") from None


def check_command(state: ExecutionState, nodes: Mapping[str, NodeView], command: Command,
                  node_id: str | None = None, *,
                  all_views: Callable[[], Iterable[NodeView]] | None = None) -> None:
    """Raise unless `command` (on `node_id` for node commands) is accepted in this state.

    `nodes` must hold the targeted node; a refusal names the commands available now, computed
    from `all_views()` when given (every node's view), else from `nodes`.
    """

    def offered() -> list[Command]:
        return available_commands(state, all_views() if all_views is not None else nodes.values())

    if command not in STATE_COMMANDS[state]:
        available = offered()
        names = ", ".join(available) or "none"
        raise CommandRefused(f"The execution is {state}; {command} is not allowed now. "
                             f"Available commands: {names}.", state=state, available=available)
    if command in NODE_COMMANDS:
        if not node_id:
            raise CommandInvalid(f"{command} needs a node_id.", field="node_id")
        if node_id not in nodes:
            raise CommandInvalid(f"This execution has no node {node_id!r}.", field="node_id")
        node = nodes[node_id]
        if not node_accepts(command, node):
            available = offered()
            detail = (" (waiting for input)" if node.awaiting_input
                      else " (its failure already settled its successors)"
                      if node.state is NodeRunState.FAILED else "")
            raise CommandRefused(
                f"Node {node_id!r} is {node.state}{detail}; {_NODE_NEEDS[command]}.",
                state=state, available=available, node_id=node_id, node_state=node.state)


# The execution-level commands one request may apply to many executions at once. Node commands
# name a node of one execution, and start is for executions created to wait (a person starts them).
BULK_COMMANDS: Final = (Command.PAUSE, Command.RESUME, Command.CANCEL, Command.RERUN)


def bulk_refusal(command: Command, state: ExecutionState) -> str:
    """Why a bulk `command` would leave an execution in `state` alone ("" when it applies).

    Bulk commands are execution-level, so the state alone decides (no node views needed), by the
    same table `check_command` enforces when each change is applied.
    """
    if command not in BULK_COMMANDS:
        raise CommandInvalid(
            f"{command} cannot be applied in bulk; bulk commands are "
            f"{', '.join(bulk.value for bulk in BULK_COMMANDS)}.", field="command")
    if command in STATE_COMMANDS[state]:
        return ""
    allowed = [offered.value for offered in STATE_COMMANDS[state]
               if offered in BULK_COMMANDS]
    return (f"it is {state}; {command} is not allowed now"
            + (f" (it allows {', '.join(allowed)})" if allowed else ""))
