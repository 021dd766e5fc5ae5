"""One step: claim a queued node run, run its node outside any transaction, record the result.

    claim   one statement (`claiming`; its own transaction, or the previous record's for an
            inline successor): Queued → Running only while the execution runs, with a lease
            (owner, expiry from the database clock); `node.started` is written with it and
            the inputs' outputs are read with it
    run     no transaction: inputs resolved from upstream outputs, `registry.run_node`, the
            outgoing edges settled in memory (a condition that fails fails the attempt);
            the process's lease keeper renews the lease while the node runs
    record  one short transaction: the result is written only if this attempt still holds
            the lease; successors are counted, decided, queued or skipped; up to
            `max_parallel` are dispatched after commit

A duplicated or late message finds the run no longer queued and does nothing; a
result whose lease was taken over is dropped; so every node's result is
recorded once and no successor is dispatched twice. Cheap operators made ready
by a step may run inline in the same task, within a small time budget, instead
of paying a broker round trip each.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction

from executions.engine import recording
from executions.engine.books import Books, Dispatch
from executions.engine.claiming import Claim, claim
from executions.engine.dispatching import send_now
from executions.engine.leases import (
    EngineReporter,
    RunningNode,
    add_reports,
    keeper,
)
from executions.engine.outcomes import record_failed_attempt
from executions.runtime import registry
from executions.runtime.contract import NodeContext, NodeFailure, NodeOutcome
from executions.runtime.flow import Arrival, Settled, resolve_inputs, settle_outgoing
from instruments.worker import node_context_fields
from symphony_site import metrics
from workflows.domain import Workflow

logger = logging.getLogger(__name__)
step_logger = structlog.get_logger("symphony.step")

@dataclass(frozen=True, slots=True)
class Result:
    outcome: NodeOutcome | None
    failure: NodeFailure | None
    inputs: dict[str, Any] | None
    settlements: Any
    reports: tuple[Any, list[tuple[str, str]]]


def resolve(claimed: Claim) -> dict[str, Any]:
    """The node's input values from the taken data edges into it and their sources' outputs."""
    index = claimed.graph.index
    facts = claimed.graph.facts[claimed.node_id]
    data_edges = {edge.id: edge for edge in index.data_edges_into(claimed.node_id)}
    arrived = [data_edges[edge_id] for edge_id in claimed.arrived if edge_id in data_edges]
    if not facts.is_merge:  # a merge takes arrivals in arrival order; others in document order
        arrived.sort(key=lambda edge: index.edge_order[edge.id])
    outputs = claimed.source_outputs
    arrivals = [Arrival(edge, outputs.get(edge.source) or {}) for edge in arrived]
    return resolve_inputs(facts.node, arrivals, execution=claimed.execution_facts)


def body_resolver(team_id: Any) -> Callable[[str], Workflow]:
    """Loop bodies: a workflow of the same team, named by id or by name (its current version)."""
    from executions.engine.bodies import resolve_body

    return lambda reference: resolve_body(team_id, reference)


def node_deadline(claimed: Claim) -> float:
    facts = claimed.graph.facts[claimed.node_id]
    timeout = min(facts.timeout_s or settings.EXECUTION_NODE_TIMEOUT_S, settings.EXECUTION_MAX_NODE_TIMEOUT_S)
    if claimed.execution_left_s is not None:
        timeout = min(timeout, max(claimed.execution_left_s, 0.0))
    return time.monotonic() + timeout


def execute(claimed: Claim) -> Result:
    """Run the node (no transaction open), with the lease kept alive while it runs."""
    facts = claimed.graph.facts[claimed.node_id]
    running = RunningNode(run_id=claimed.run_id, execution_id=claimed.execution_id, node_id=claimed.node_id,
                          owner=claimed.owner, deadline=node_deadline(claimed))
    lease_keeper = keeper()
    lease_keeper.register(running)
    inputs: dict[str, Any] | None = None
    try:
        inputs = resolve(claimed)
        resolve_workflow = body_resolver(claimed.team_id)
        context = NodeContext(
            execution_id=str(claimed.execution_id), node=facts.node, inputs=inputs, attempt=claimed.attempt,
            deadline=running.deadline, reporter=EngineReporter(running), execution=claimed.execution_facts,
            resolve_workflow=resolve_workflow, execution_inputs=claimed.execution_inputs,
            allowed_hosts=frozenset(settings.HTTP_REQUEST_ALLOWED_HOSTS),
            max_parallel=claimed.graph.workflow.settings.max_parallel,
            # Team secrets the node names, model providers and the output cache (issue 13).
            **node_context_fields(team_id=claimed.team_id, execution_id=claimed.execution_id,
                                  node=facts.node, resolve_workflow=resolve_workflow))
        outcome = registry.run_node(context)
        settlements = settle_outgoing(claimed.graph.index, claimed.node_id, state=Settled.COMPLETED,
                                      outputs=outcome.outputs, decision=outcome.decision,
                                      execution=claimed.execution_facts)
        return Result(outcome=outcome, failure=None, inputs=inputs, settlements=settlements,
                      reports=running.final_reports())
    except NodeFailure as failure:
        return Result(outcome=None, failure=failure, inputs=inputs, settlements=None,
                      reports=running.final_reports())
    finally:
        lease_keeper.unregister(running)


def record(claimed: Claim, result: Result, *, inline_capacity: int = 0) -> list[Dispatch | Claim]:
    """Write the result if this attempt still holds the lease; answer the runs kept for inline
    (those claimed with the record first)."""
    _, lines = result.reports  # the attempt's log lines; its last progress is superseded
    with transaction.atomic():
        if result.outcome is not None:
            books = recording.record_completed(
                execution_id=claimed.execution_id, run_id=claimed.run_id, node_id=claimed.node_id,
                owner=claimed.owner, attempt=claimed.attempt, outcome=result.outcome, inputs=result.inputs,
                settlements=result.settlements, lines=lines, max_parallel=claimed.max_parallel,
                inline_capacity=inline_capacity)
            if books is None:
                return _dropped(claimed)
            return [*books.pre_claimed, *books.inline]
        assert result.failure is not None
        opened = Books.open(claimed.execution_id)
        if opened is None:
            return []
        add_reports(opened, claimed.node_id, None, lines)
        if not record_failed_attempt(
                opened, run_id=claimed.run_id, node_id=claimed.node_id, lease_owner=claimed.owner,
                error=result.failure.to_dict(), retryable=result.failure.retryable, inputs=result.inputs):
            transaction.set_rollback(True)
            return _dropped(claimed)
        opened.close()
        return [*opened.inline]


def _dropped(claimed: Claim) -> list[Dispatch | Claim]:
    # Another attempt owns the node now (the lease lapsed): this result is dropped, and nothing it
    # would have caused happens.
    logger.info("Dropped the result of node %s (run %s): its lease was lost", claimed.node_id, claimed.run_id)
    return []


def step(execution_id: Any, run_id: int) -> None:
    """The step task's body: this run, then cheap successors inline while the budget lasts.

    A successor comes back from the record either claimed already (in the record's closing
    round trip: it is running under this task's lease and must run here) or only kept (claimed
    here if the budget still allows, else sent through the broker)."""
    budget_end = time.monotonic() + settings.EXECUTION_INLINE_BUDGET_MS / 1000
    todo: deque[Dispatch | Claim] = deque([Dispatch(run_id=run_id, node_id="", queue="")])
    leftovers: list[Dispatch] = []
    first = True
    while todo:
        item = todo.popleft()
        if isinstance(item, Claim):
            claimed: Claim | None = item
        elif not first and time.monotonic() >= budget_end:
            leftovers.append(item)
            continue
        else:
            claimed = claim(execution_id, item.run_id)
        first = False
        if claimed is None:
            continue
        facts = claimed.graph.facts[claimed.node_id]
        # Every log line written while this node runs and is recorded names it (docs/operations.md).
        with structlog.contextvars.bound_contextvars(execution_id=str(execution_id), node_id=claimed.node_id,
                                                     team=str(claimed.team_id)):
            started = time.perf_counter()
            result = execute(claimed)
            seconds = time.perf_counter() - started
            failure_code = result.failure.code if result.failure is not None else None
            metrics.node_attempt(node_kind=facts.kind, node_type=facts.type_name, attempt=claimed.attempt,
                                 seconds=seconds, failure_code=failure_code)
            step_logger.info("node.attempt", node_type=facts.type_name, attempt=claimed.attempt,
                             outcome="failed" if failure_code else "completed", error_code=failure_code,
                             duration_ms=round(seconds * 1000, 2))
            capacity = settings.EXECUTION_INLINE_MAX if time.monotonic() < budget_end else 0
            todo.extend(record(claimed, result, inline_capacity=capacity))
    for leftover in leftovers:
        send_now(execution_id, leftover)
