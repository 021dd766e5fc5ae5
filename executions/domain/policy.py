"""What the engine decides when a node fails, when an execution is finished, and retry timing.

Pure decisions the engine and the reference model (`machine.py`) share, so
the rules live in one place (execution-semantics.md, "Failure").
"""

from __future__ import annotations

from enum import StrEnum

from executions.domain.states import ExecutionState

# Backoffs are capped so a large multiplier cannot push a retry past any sensible deadline.
MAX_RETRY_DELAY_MS = 3_600_000


class ErrorPolicy(StrEnum):
    STOP = "stop"
    CONTINUE = "continue"
    PAUSE = "pause"


class FailureReaction(StrEnum):
    """What a node failing for good does to its execution."""

    # stop: the execution fails; queued and pending nodes are skipped; running ones asked to stop.
    FAIL_EXECUTION = "fail_execution"
    # continue: the failed node's descendants are skipped (upstream failed); the rest runs on.
    SKIP_DESCENDANTS = "skip_descendants"
    # pause: the execution pauses with the reason; the failed node's successors wait for an
    # operator's retry_node or skip_node (or resume, which gives up on that branch).
    PAUSE_EXECUTION = "pause_execution"


_REACTIONS = {
    ErrorPolicy.STOP: FailureReaction.FAIL_EXECUTION,
    ErrorPolicy.CONTINUE: FailureReaction.SKIP_DESCENDANTS,
    ErrorPolicy.PAUSE: FailureReaction.PAUSE_EXECUTION,
}


def reaction_to_failure(policy: ErrorPolicy | str) -> FailureReaction:
    return _REACTIONS[ErrorPolicy(policy)]


def finished_state(*, unsettled: int, failed: int) -> ExecutionState | None:
    """Once no node run is pending, queued or running: completed, or failed when any node failed."""
    if unsettled:
        return None
    return ExecutionState.FAILED if failed else ExecutionState.COMPLETED


def state_when_running_again(*, awaiting_input: bool, held_failure: bool,
                             policy: ErrorPolicy | str) -> ExecutionState:
    """Where an execution goes when it returns to running (start, provide_input).

    A failure held for an operator under `pause` pauses it again; an interactive input
    still without a value makes it wait; otherwise it runs.
    """
    if held_failure and ErrorPolicy(policy) is ErrorPolicy.PAUSE:
        return ExecutionState.PAUSED
    if awaiting_input:
        return ExecutionState.WAITING_FOR_INPUT
    return ExecutionState.RUNNING


def retry_delay_ms(*, delay_ms: float, multiplier: float, failed_attempts: int) -> float:
    """Exponential backoff before the attempt after `failed_attempts` failures (1 → `delay_ms`)."""
    if failed_attempts < 1 or delay_ms <= 0:
        return 0.0
    exponent = failed_attempts - 1
    multiplier = max(multiplier, 1.0)
    # Compare in logarithmic terms first: 2.0 ** 5000 overflows a float.
    if multiplier > 1.0 and exponent > 64:
        return float(MAX_RETRY_DELAY_MS)
    return float(min(delay_ms * multiplier ** exponent, MAX_RETRY_DELAY_MS))


def may_retry(*, attempt: int, max_attempts: int, retryable: bool) -> bool:
    """Whether a failed attempt number `attempt` (1-based) is followed by another."""
    return retryable and attempt < max_attempts
