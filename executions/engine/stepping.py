"""One step: claim a queued node run, run its node outside any transaction, record the result.

    claim   one short transaction: Queued → Running only while the execution runs, with a
            lease (owner, expiry from the database clock); `node.started` is written with it
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

import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from executions.engine import events as ev
from executions.engine.books import Books, Dispatch
from executions.engine.dispatching import send_now
from executions.engine.graphs import CompiledVersion
from executions.engine.leases import (
    EngineReporter,
    RunningNode,
    add_reports,
    keeper,
    new_lease_owner,
    owner_is_dead_here,
)
from executions.engine.outcomes import lose_lease, record_completed, record_failed_attempt
from executions.models import NodeRun
from executions.runtime import registry
from executions.runtime.contract import NodeContext, NodeFailure, NodeOutcome
from executions.runtime.flow import Arrival, Settled, resolve_inputs, settle_outgoing
from instruments.worker import node_context_fields
from workflows.domain import Workflow

logger = logging.getLogger(__name__)

# A retry's step message may arrive a little before its due time (clocks differ by that much).
DUE_TOLERANCE_S = 1.0


@dataclass(frozen=True, slots=True)
class Claim:
    execution_id: Any
    team_id: Any
    run_id: int
    node_id: str
    attempt: int
    arrived: list[str]
    owner: str
    graph: CompiledVersion
    execution_facts: dict[str, Any]
    execution_inputs: dict[str, Any]
    # Seconds the execution has left before its deadline (None: no deadline).
    execution_left_s: float | None


@dataclass(frozen=True, slots=True)
class Result:
    outcome: NodeOutcome | None
    failure: NodeFailure | None
    inputs: dict[str, Any] | None
    settlements: Any
    reports: tuple[Any, list[tuple[str, str]]]


def claim(execution_id: Any, run_id: int) -> Claim | None:
    """Queued → Running with a fresh lease, only while the execution is running."""
    owner = new_lease_owner()
    with transaction.atomic():
        books = Books.open(execution_id)
        if books is None or books.state.value != "running":
            return None
        rows = _take(books, run_id, owner)
        if not rows and _dead_owner_took(books, run_id):
            rows = _take(books, run_id, owner)
        if not rows:
            return None
        node_id, attempt, arrived = rows[0]
        books.event(ev.NODE_STARTED, node_id, attempt=attempt)
        books.close()
        execution = books.execution
        facts = books.graph.facts[node_id]
        left = None
        if execution.deadline_at is not None:
            left = (execution.deadline_at - timezone.now()).total_seconds()
        return Claim(
            execution_id=execution.pk, team_id=execution.team_id, run_id=run_id, node_id=node_id,
            attempt=attempt, arrived=list(arrived), owner=owner, graph=books.graph,
            execution_facts={"id": str(execution.pk), "workflow": books.graph.workflow.name,
                             "trigger": execution.trigger,
                             "started_at": _iso(execution.started_at)},
            execution_inputs=books.inputs() if facts.is_input else {},
            execution_left_s=left)


def _take(books: Books, run_id: int, owner: str) -> list[tuple[Any, ...]]:
    return books._update_runs(
        "UPDATE executions_noderun SET state = 'running', attempt = attempt + 1, lease_owner = %s, "
        "lease_expires_at = now() + make_interval(secs => %s), started_at = now(), finished_at = NULL, "
        "progress = NULL, message = '', dispatched_at = NULL, due_at = NULL "
        "WHERE id = %s AND execution_id = %s AND state = 'queued' "
        "AND (due_at IS NULL OR due_at <= now() + make_interval(secs => %s)) "
        "RETURNING node_id, attempt, arrived_edges",
        [owner, settings.EXECUTION_LEASE_S, run_id, books.execution.pk, DUE_TOLERANCE_S])


def _dead_owner_took(books: Books, run_id: int) -> bool:
    """The run is Running under a process of this host that died (its message came back through
    `reject_on_worker_lost`): end that attempt now rather than wait for the lease to lapse."""
    row = books._update_runs("SELECT node_id, lease_owner FROM executions_noderun WHERE id = %s "
                             "AND execution_id = %s AND state = 'running'", [run_id, books.execution.pk])
    if not row or not owner_is_dead_here(row[0][1]):
        return False
    return lose_lease(books, run_id=run_id, node_id=row[0][0], reason="its worker process died")


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def resolve(claimed: Claim) -> dict[str, Any]:
    """The node's input values from the taken data edges into it and their sources' outputs."""
    index = claimed.graph.index
    facts = claimed.graph.facts[claimed.node_id]
    data_edges = {edge.id: edge for edge in index.data_edges_into(claimed.node_id)}
    arrived = [data_edges[edge_id] for edge_id in claimed.arrived if edge_id in data_edges]
    if not facts.is_merge:  # a merge takes arrivals in arrival order; others in document order
        arrived.sort(key=lambda edge: index.edge_order[edge.id])
    sources = sorted({edge.source for edge in arrived})
    outputs: dict[str, Any] = {}
    if sources:
        outputs = dict(NodeRun.objects.filter(execution_id=claimed.execution_id, node_id__in=sources)
                       .values_list("node_id", "output"))
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
                      reports=running.take_reports())
    except NodeFailure as failure:
        return Result(outcome=None, failure=failure, inputs=inputs, settlements=None,
                      reports=running.take_reports())
    finally:
        lease_keeper.unregister(running)


def record(claimed: Claim, result: Result, *, inline_capacity: int = 0) -> list[Dispatch]:
    """Write the result if this attempt still holds the lease; answer the runs kept for inline."""
    with transaction.atomic():
        books = Books.open(claimed.execution_id)
        if books is None:
            return []
        # The attempt's log lines; its last progress is superseded by the result.
        _, lines = result.reports
        add_reports(books, claimed.node_id, None, lines)
        if result.outcome is not None:
            outcome = result.outcome
            kept = record_completed(
                books, run_id=claimed.run_id, node_id=claimed.node_id, lease_owner=claimed.owner,
                outputs=dict(outcome.outputs), inputs=result.inputs, usage=dict(outcome.usage),
                cached=outcome.cached, settlements=result.settlements, attempt=claimed.attempt,
                inline_capacity=inline_capacity)
        else:
            assert result.failure is not None
            kept = record_failed_attempt(
                books, run_id=claimed.run_id, node_id=claimed.node_id, lease_owner=claimed.owner,
                error=result.failure.to_dict(), retryable=result.failure.retryable, inputs=result.inputs)
        if not kept:
            # Another attempt owns the node now (the lease lapsed): this result is dropped and
            # nothing it would have caused happens.
            transaction.set_rollback(True)
            logger.info("Dropped the result of node %s (run %s): its lease was lost",
                        claimed.node_id, claimed.run_id)
            return []
        books.close()
        return list(books.inline)


def step(execution_id: Any, run_id: int) -> None:
    """The step task's body: this run, then cheap successors inline while the budget lasts."""
    budget_end = time.monotonic() + settings.EXECUTION_INLINE_BUDGET_MS / 1000
    todo: deque[Dispatch] = deque([Dispatch(run_id=run_id, node_id="", queue="")])
    first = True
    while todo:
        item = todo.popleft()
        if not first and time.monotonic() >= budget_end:
            todo.appendleft(item)
            break
        first = False
        claimed = claim(execution_id, item.run_id)
        if claimed is None:
            continue
        result = execute(claimed)
        capacity = settings.EXECUTION_INLINE_MAX if time.monotonic() < budget_end else 0
        todo.extend(record(claimed, result, inline_capacity=capacity))
    for leftover in todo:
        send_now(execution_id, leftover)

