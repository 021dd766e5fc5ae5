"""The types the engine and the node implementations share.

The engine owns persistence, leases, retries and dispatch; an implementation
owns only "given these input values and this config, produce these output
values". It must be safe to run twice for the same node run (at-least-once),
must not touch the database, and must check `context.reporter.should_stop()`
in any loop or wait that can last longer than a moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from workflows.domain import Node, Workflow


class Reporter(Protocol):
    """How a running node talks back to the engine while it works."""

    def progress(self, fraction: float, message: str = "") -> None:
        """`fraction` in [0, 1]; the engine coalesces frequent calls."""

    def log(self, level: str, message: str) -> None:
        """A line for the execution's log (`debug`, `info`, `warning`, `error`); capped per node."""

    def should_stop(self) -> bool:
        """True once the execution was cancelled or the node's deadline passed."""


class SilentReporter:
    """A reporter that records nothing: for tests and for loop bodies run in-process."""

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline
        self.lines: list[tuple[str, str]] = []
        self.fractions: list[float] = []

    def progress(self, fraction: float, message: str = "") -> None:
        self.fractions.append(fraction)

    def log(self, level: str, message: str) -> None:
        self.lines.append((level, message))

    def should_stop(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


@dataclass(frozen=True, kw_only=True)
class NodeContext:
    """Everything one attempt of one node run may read."""

    execution_id: str
    node: Node
    # The node's input values by port name, already resolved from upstream outputs and edge
    # transforms (`flow.resolve_inputs`). A port with no value is absent or holds its declared
    # default; implementations read optional ports with `.get(name, default)`.
    inputs: Mapping[str, Any]
    attempt: int = 1
    # `time.monotonic()` deadline for this attempt (node timeout_s, capped by the execution's).
    deadline: float | None = None
    reporter: Reporter = field(default_factory=SilentReporter)
    # Facts expressions may read as `execution.*` (id, started_at, workflow name, trigger).
    execution: Mapping[str, Any] = field(default_factory=dict)
    # The team's secrets by name, resolved only in the worker (issue 13); empty until then.
    secrets: Mapping[str, str] = field(default_factory=dict)
    # Resolves a loop body reference to its (validated) workflow; None where loops cannot run.
    resolve_workflow: Callable[[str], Workflow] | None = None
    # The execution's inputs keyed by input node id (answers to `provide_input` included):
    # what an `input` node reads.
    execution_inputs: Mapping[str, Any] = field(default_factory=dict)
    # Host names `http_request` may reach even when they resolve to internal addresses
    # (the engine passes the HTTP_REQUEST_ALLOWED_HOSTS setting); empty means none.
    allowed_hosts: frozenset[str] = frozenset()
    # The workflow's `settings.max_parallel`: how many loop items run at once (None: a default).
    max_parallel: int | None = None
    # How many loop bodies this node runs inside (0 at the top): bounds recursive bodies.
    depth: int = 0

    def remaining_s(self) -> float | None:
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())


@dataclass(frozen=True, kw_only=True)
class NodeOutcome:
    """A node's result: its output values by port name, and optional usage facts."""

    outputs: Mapping[str, Any]
    # Instruments: {"model", "tokens_in", "tokens_out", "cost"}; empty for operators.
    usage: Mapping[str, Any] = field(default_factory=dict)
    cached: bool = False
    # A branch's own outcome (its `condition` was truthy); None for every other node type.
    # Data and control edges leaving a branch are taken only when it is True.
    decision: bool | None = None


class NodeFailure(Exception):
    """An attempt failed. `retryable` False means retrying cannot help (bad config, refused URL)."""

    def __init__(self, message: str, *, code: str = "node_failed", retryable: bool = True,
                 details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.details = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "retryable": self.retryable,
                **({"details": self.details} if self.details else {})}


class InputRequired(NodeFailure):
    """An interactive `input` node has no value yet: the execution waits for `provide_input`.

    A NodeFailure so that an engine which does not handle it still records something
    sensible (a failed, not retryable attempt); the engine catches it first, puts the
    execution in WaitingForInput and shows `prompt`.
    """

    def __init__(self, node_id: str, prompt: str) -> None:
        super().__init__(
            f"Input {node_id!r} is waiting for a person to answer: {prompt}",
            code="input_required", retryable=False, details={"node_id": node_id, "prompt": prompt},
        )
        self.node_id = node_id
        self.prompt = prompt
