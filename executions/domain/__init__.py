"""The execution state machine: pure Python, no Django (a test enforces it).

`states` holds the states and transition tables, `commands` what each state
allows, `policy` the decisions on failure and completion, `history` the
records of state changes, `progress` the counts and the remaining-time
estimate, and `machine` a reference model composing them (the Hypothesis
state-machine tests drive it). See docs/executions.md.
"""

from executions.domain.commands import (
    BULK_COMMANDS,
    NODE_COMMANDS,
    Command,
    CommandInvalid,
    CommandRefused,
    NodeView,
    available_commands,
    bulk_refusal,
    check_command,
    command_targets,
    node_accepts,
    parse_command,
)
from executions.domain.history import HistoryRecord, record_transition
from executions.domain.policy import (
    ErrorPolicy,
    FailureReaction,
    finished_state,
    may_retry,
    reaction_to_failure,
    retry_delay_ms,
    state_when_running_again,
)
from executions.domain.states import (
    ACTIVE_EXECUTION_STATES,
    EXECUTION_TRANSITIONS,
    NODE_TRANSITIONS,
    SETTLED_NODE_STATES,
    TERMINAL_EXECUTION_STATES,
    UNSETTLED_NODE_STATES,
    ExecutionState,
    InvalidTransition,
    NodeRunState,
    can_node_transition,
    can_transition,
    require_node_transition,
    require_transition,
    valid_node_transitions,
    valid_transitions,
)

__all__ = [
    "ACTIVE_EXECUTION_STATES",
    "BULK_COMMANDS",
    "EXECUTION_TRANSITIONS",
    "NODE_COMMANDS",
    "NODE_TRANSITIONS",
    "SETTLED_NODE_STATES",
    "TERMINAL_EXECUTION_STATES",
    "UNSETTLED_NODE_STATES",
    "Command",
    "CommandInvalid",
    "CommandRefused",
    "ErrorPolicy",
    "ExecutionState",
    "FailureReaction",
    "HistoryRecord",
    "InvalidTransition",
    "NodeRunState",
    "NodeView",
    "available_commands",
    "bulk_refusal",
    "can_node_transition",
    "can_transition",
    "check_command",
    "command_targets",
    "finished_state",
    "may_retry",
    "node_accepts",
    "parse_command",
    "reaction_to_failure",
    "record_transition",
    "require_node_transition",
    "require_transition",
    "retry_delay_ms",
    "state_when_running_again",
    "valid_node_transitions",
    "valid_transitions",
]
