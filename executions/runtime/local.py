"""The reference executor: a validated workflow run to the end, in-process, synchronously.

`run_workflow(workflow, inputs, ...)` settles nodes with the same functions the
distributed engine uses (`flow.readiness`, `flow.settle_outgoing`,
`flow.resolve_inputs`, `registry.run_node`), so it is the oracle the engine's tests
compare against, and it runs loop bodies. It touches no database and starts no
process; it sleeps only for retry backoff and `delay` nodes.

How it proceeds:

* Inputs are checked first (`flow.start_input_problems`); a problem fails the run
  with `invalid_inputs` before any node runs.
* Nodes whose readiness is decided go on a first-in-first-out queue, nodes without
  incoming edges (and disabled nodes) first, in document order; a node settling
  settles its outgoing edges and may decide its successors. Skips propagate the same
  way. A merge takes the first data edge that arrived.
* An attempt that raises a retryable NodeFailure is retried up to the node's
  `retry.max_attempts`, after `flow.backoff_delay_s`; an attempt that returns after
  its deadline (`timeout_s`, capped by the run's) counts as a `timeout`.
* When a node fails for good, `settings.error_policy` decides: `stop` ends the run
  `failed` and skips every unsettled node (`execution stopped`); `continue` lets
  independent paths run on (descendants are skipped as `upstream failed`) and ends
  `failed`; `pause` ends the run `paused`, leaving unsettled nodes `pending`.
* An interactive input without a value ends the run `waiting_for_input` (the node is
  `waiting`, queued nodes stay `pending`): nothing new is started while waiting.
* `should_stop()` turning true between nodes ends the run `cancelled`, unsettled
  nodes skipped (`execution stopped`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from executions.runtime.contract import (
    InputRequired,
    NodeContext,
    NodeFailure,
    NodeOutcome,
    Reporter,
)
from executions.runtime.flow import (
    SKIP_EXECUTION_STOPPED,
    Arrival,
    FlowIndex,
    Readiness,
    Settled,
    Verdict,
    backoff_delay_s,
    readiness,
    resolve_inputs,
    settle_outgoing,
    start_input_problems,
    strongest_reason,
    workflow_outputs,
)
from executions.runtime.registry import run_node
from workflows.domain import ControlNode, ControlType, DataEdge, ErrorPolicy, Workflow
from workflows.domain.model import _TaskNode

__all__ = ["NodeResult", "RunResult", "run_workflow"]

# Node states in a RunResult; the API's names.
PENDING = "pending"
WAITING = "waiting"


@dataclass(kw_only=True)
class NodeResult:
    """One node at the end of a run: `state` is completed, failed, skipped, pending
    or waiting (an interactive input); failures carry `error` (NodeFailure.to_dict())."""

    node_id: str
    state: str = PENDING
    outputs: dict[str, Any] = field(default_factory=dict)
    skip_reason: str | None = None
    error: dict[str, Any] | None = None
    attempts: int = 0
    usage: dict[str, Any] = field(default_factory=dict)
    decision: bool | None = None
    logs: list[tuple[str, str]] = field(default_factory=list)


@dataclass(kw_only=True)
class RunResult:
    """A finished run: `state` is completed, failed, paused, waiting_for_input or
    cancelled; `outputs` are keyed by output node id; `order` lists node ids in the
    order they settled."""

    state: str
    nodes: dict[str, NodeResult]
    outputs: dict[str, Any]
    error: dict[str, Any] | None = None
    order: list[str] = field(default_factory=list)
    waiting_for: dict[str, str] = field(default_factory=dict)

    def states(self) -> dict[str, str]:
        return {node_id: result.state for node_id, result in self.nodes.items()}


class _NodeReporter:
    """A node's reporter: keeps its log lines, forwards them (prefixed with the node id) to
    the run's reporter, and says stop when the run stops or the attempt's deadline passed."""

    def __init__(self, node_id: str, lines: list[tuple[str, str]], parent: Reporter | None,
                 stop: Callable[[], bool], deadline: float | None) -> None:
        self.node_id = node_id
        self.lines = lines
        self.parent = parent
        self.stop = stop
        self.deadline = deadline

    def progress(self, fraction: float, message: str = "") -> None:
        return None

    def log(self, level: str, message: str) -> None:
        self.lines.append((level, message))
        if self.parent is not None:
            self.parent.log(level, f"{self.node_id}: {message}")

    def should_stop(self) -> bool:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return True
        return self.stop()


def _never() -> bool:
    return False


class _Run:
    def __init__(self, workflow: Workflow, inputs: Mapping[str, Any], *, index: FlowIndex,
                 resolve_workflow: Callable[[str], Workflow] | None,
                 execution: Mapping[str, Any], secrets: Mapping[str, str],
                 allowed_hosts: frozenset[str], reporter: Reporter | None,
                 deadline: float | None, should_stop: Callable[[], bool], depth: int,
                 execution_id: str) -> None:
        self.workflow = workflow
        self.inputs = inputs
        self.index = index
        self.resolve_workflow = resolve_workflow
        self.execution = execution
        self.secrets = secrets
        self.allowed_hosts = allowed_hosts
        self.reporter = reporter
        self.deadline = deadline
        self.should_stop = should_stop
        self.depth = depth
        self.execution_id = execution_id
        self.results = {node_id: NodeResult(node_id=node_id) for node_id in workflow.nodes}
        self.pending = {node_id: index.incoming_count(node_id) for node_id in workflow.nodes}
        self.taken = dict.fromkeys(workflow.nodes, 0)
        self.dead = dict.fromkeys(workflow.nodes, 0)
        self.reasons: dict[str, str | None] = dict.fromkeys(workflow.nodes)
        # Taken data edges into each node, in order of arrival.
        self.arrived: dict[str, list[DataEdge]] = {node_id: [] for node_id in workflow.nodes}
        self.decided: set[str] = set()
        self.queue: deque[tuple[str, Readiness]] = deque()
        self.order: list[str] = []
        self.first_failure: dict[str, Any] | None = None

    # -- the loop ---------------------------------------------------------------------

    def run(self) -> RunResult:
        problems = start_input_problems(self.workflow, self.inputs)
        if problems:
            return self._result("failed", {
                "code": "invalid_inputs",
                "message": "; ".join(problem.message for problem in problems),
                "details": {"problems": [problem.to_dict() for problem in problems]}})
        for node_id, node in self.workflow.nodes.items():
            verdict = readiness(node, pending=self.pending[node_id], taken=0, dead=0)
            if verdict.verdict is not Verdict.WAIT:
                self.decided.add(node_id)
                self.queue.append((node_id, verdict))
        policy = self.workflow.settings.error_policy
        while self.queue:
            if self.should_stop():
                self._skip_unsettled()
                return self._result("cancelled", {"code": "cancelled",
                                                  "message": "The run was stopped."})
            node_id, verdict = self.queue.popleft()
            if verdict.verdict is Verdict.SKIP:
                self._settle(node_id, Settled.SKIPPED, skip_reason=verdict.reason)
                continue
            state = self._run_node(node_id)
            if state == WAITING:
                return self._result("waiting_for_input", None)
            if state == Settled.FAILED and policy is not ErrorPolicy.CONTINUE:
                if policy is ErrorPolicy.PAUSE:
                    return self._result("paused", self.first_failure)
                self._skip_unsettled()
                return self._result("failed", self.first_failure)
        unsettled = [node_id for node_id, result in self.results.items()
                     if result.state == PENDING]
        if unsettled:
            return self._result("failed", {
                "code": "stalled", "message": f"Nodes never became ready: {unsettled}; is "
                                              "the workflow validated (no cycles)?"})
        if self.first_failure is not None:
            return self._result("failed", self.first_failure)
        return self._result("completed", None)

    def _result(self, state: str, error: dict[str, Any] | None) -> RunResult:
        completed = {node_id: result.outputs for node_id, result in self.results.items()
                     if result.state == Settled.COMPLETED}
        waiting = {node_id: str((result.error or {}).get("details", {}).get("prompt", ""))
                   for node_id, result in self.results.items() if result.state == WAITING}
        return RunResult(state=state, nodes=self.results,
                         outputs=workflow_outputs(self.workflow, completed), error=error,
                         order=self.order, waiting_for=waiting)

    def _skip_unsettled(self) -> None:
        for node_id, result in self.results.items():
            if result.state == PENDING:
                result.state = Settled.SKIPPED
                result.skip_reason = SKIP_EXECUTION_STOPPED
                self.order.append(node_id)
        self.queue.clear()

    # -- settling ---------------------------------------------------------------------

    def _settle(self, node_id: str, state: Settled, *, outputs: Mapping[str, Any] | None = None,
                decision: bool | None = None, skip_reason: str | None = None,
                settlements: list[Any] | None = None) -> None:
        result = self.results[node_id]
        result.state = state
        result.skip_reason = skip_reason
        self.order.append(node_id)
        if settlements is None:
            settlements = settle_outgoing(self.index, node_id, state=state, outputs=outputs,
                                          decision=decision, execution=self.execution,
                                          secrets=self.secrets)
        for edge, settlement in settlements:
            target = edge.target
            self.pending[target] -= 1
            if settlement.taken:
                self.taken[target] += 1
                if isinstance(edge, DataEdge):
                    self.arrived[target].append(edge)
            else:
                self.dead[target] += 1
                self.reasons[target] = strongest_reason(self.reasons[target], settlement.reason)
            if target in self.decided:
                continue
            verdict = readiness(self.index.nodes[target], pending=self.pending[target],
                                taken=self.taken[target], dead=self.dead[target],
                                dead_reason=self.reasons[target])
            if verdict.verdict is not Verdict.WAIT:
                self.decided.add(target)
                self.queue.append((target, verdict))

    def _arrivals(self, node_id: str) -> list[Arrival]:
        node = self.index.nodes[node_id]
        edges = self.arrived[node_id]
        if not (isinstance(node, ControlNode) and node.control is ControlType.MERGE):
            edges = sorted(edges, key=lambda edge: self.index.edge_order[edge.id])
        return [Arrival(edge, self.results[edge.source].outputs) for edge in edges]

    def _fail(self, node_id: str, failure: NodeFailure) -> str:
        result = self.results[node_id]
        result.error = failure.to_dict()
        if self.first_failure is None:
            self.first_failure = {"code": "node_failed", "node_id": node_id,
                                  "message": f"Node {node_id!r} failed: {failure.message}",
                                  "details": {"node_error": failure.to_dict()}}
        self._settle(node_id, Settled.FAILED)
        return Settled.FAILED

    # -- running ----------------------------------------------------------------------

    def _attempt_deadline(self, node_id: str) -> float | None:
        node = self.index.nodes[node_id]
        timeout_s = node.timeout_s if isinstance(node, _TaskNode) else None
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        if self.deadline is not None:
            deadline = self.deadline if deadline is None else min(deadline, self.deadline)
        return deadline

    def _run_node(self, node_id: str) -> str:
        node = self.index.nodes[node_id]
        result = self.results[node_id]
        try:
            inputs = resolve_inputs(node, self._arrivals(node_id), execution=self.execution,
                                    secrets=self.secrets)
        except NodeFailure as failure:
            return self._fail(node_id, failure)
        policy = node.retry if isinstance(node, _TaskNode) else None
        max_attempts = max(1, policy.max_attempts if policy is not None else 1)
        for attempt in range(1, max_attempts + 1):
            result.attempts = attempt
            deadline = self._attempt_deadline(node_id)
            reporter = _NodeReporter(node_id, result.logs, self.reporter, self.should_stop,
                                     deadline)
            context = NodeContext(
                execution_id=self.execution_id, node=node, inputs=inputs, attempt=attempt,
                deadline=deadline, reporter=reporter, execution=self.execution,
                secrets=self.secrets, resolve_workflow=self.resolve_workflow,
                execution_inputs=self.inputs, allowed_hosts=self.allowed_hosts,
                max_parallel=self.workflow.settings.max_parallel, depth=self.depth)
            try:
                outcome = run_node(context)
                if deadline is not None and time.monotonic() > deadline:
                    raise NodeFailure(f"Node {node_id!r} ran past its timeout.",
                                      code="timeout", retryable=True,
                                      details={"node_id": node_id})
                settlements = settle_outgoing(
                    self.index, node_id, state=Settled.COMPLETED, outputs=outcome.outputs,
                    decision=outcome.decision, execution=self.execution, secrets=self.secrets)
            except InputRequired as waiting:
                result.state = WAITING
                result.error = waiting.to_dict()
                return WAITING
            except NodeFailure as failure:
                if failure.retryable and attempt < max_attempts and not self.should_stop():
                    delay = backoff_delay_s(policy, attempt)
                    if deadline is not None:
                        delay = min(delay, max(0.0, deadline - time.monotonic()))
                    time.sleep(delay)
                    continue
                return self._fail(node_id, failure)
            self._complete(node_id, outcome, settlements)
            return Settled.COMPLETED
        raise AssertionError("unreachable: the last attempt returns")

    def _complete(self, node_id: str, outcome: NodeOutcome, settlements: list[Any]) -> None:
        result = self.results[node_id]
        result.outputs = dict(outcome.outputs)
        result.usage = dict(outcome.usage)
        result.decision = outcome.decision
        result.error = None
        self._settle(node_id, Settled.COMPLETED, outputs=outcome.outputs,
                     decision=outcome.decision, settlements=settlements)


def run_workflow(
    workflow: Workflow,
    inputs: Mapping[str, Any] | None = None,
    *,
    resolve_workflow: Callable[[str], Workflow] | None = None,
    execution: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    allowed_hosts: frozenset[str] = frozenset(),
    reporter: Reporter | None = None,
    deadline: float | None = None,
    should_stop: Callable[[], bool] | None = None,
    depth: int = 0,
    index: FlowIndex | None = None,
    execution_id: str = "local",
) -> RunResult:
    """Run a validated workflow to the end in-process; never raises for a node's failure.

    `inputs` are keyed by input node id. `resolve_workflow` resolves loop bodies;
    `reporter` receives every node's log lines (prefixed with the node id); `deadline`
    (a `time.monotonic()` value) caps every attempt; `should_stop` is asked between
    nodes and by nodes that wait; `index` may be passed to reuse a FlowIndex.
    """
    run = _Run(workflow, inputs or {}, index=index or FlowIndex(workflow),
               resolve_workflow=resolve_workflow, execution=execution or {},
               secrets=secrets or {}, allowed_hosts=allowed_hosts, reporter=reporter,
               deadline=deadline, should_stop=should_stop or _never, depth=depth,
               execution_id=execution_id)
    return run.run()
