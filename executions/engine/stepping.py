"""One step: claim queued node runs, run their nodes outside any transaction, record the results.

    claim   one statement (`claiming`; its own transaction, or the previous record's for an
            inline batch): Queued → Running only while the execution runs, with a lease each
            (owner, expiry from the database clock); `node.started` is written with it and
            the inputs' outputs are read with it
    run     no transaction: inputs resolved from upstream outputs, `registry.run_node`, the
            outgoing edges settled in memory (a condition that fails fails the attempt);
            the process's lease keeper renews the lease while the node runs
    record  one short transaction: each result is written only if this batch still holds that
            run's lease; successors are counted, decided, queued or skipped; up to
            `max_parallel` are dispatched after commit

A batch is what one claim took: the runs one message names (one run, or up to
`EXECUTION_BATCH_MAX` cheap ones of one execution) or the cheap runs a record kept for its
task. Its runs are claimed in one statement, run one after another, and recorded in one
transaction: one lock, one commit and one event flush for all of them.

A duplicated or late message finds its runs no longer queued and does nothing; a
result whose lease was taken over is dropped (only that run's: the batch's others are
recorded); so every node's result is recorded once and no successor is dispatched twice.
Cheap operators made ready by a step may run inline in the same task, within a small time
budget, instead of paying a broker round trip each.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction

from executions.engine import recording
from executions.engine.books import Dispatch
from executions.engine.claiming import Claim, claim_batch
from executions.engine.claiming import (
    claim as claim,  # the one-run claim, for callers of this module
)
from executions.engine.dispatching import send_now
from executions.engine.leases import EngineReporter, RunningNode, keeper
from executions.runtime import registry
from executions.runtime.contract import NodeContext, NodeFailure, NodeOutcome
from executions.runtime.flow import Arrival, Settled, resolve_inputs, settle_outgoing
from instruments.worker import node_context_fields
from symphony_site import metrics
from workflows.domain import Workflow

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


def record(claimed: Claim, result: Result, *, inline_capacity: int = 0) -> list[recording.Batch]:
    """Write one run's result if this attempt still holds the lease (a batch of one)."""
    return record_batch([(claimed, result)], inline_capacity=inline_capacity)


def record_batch(results: list[tuple[Claim, Result]], *, inline_capacity: int = 0,
                 budget_end: float | None = None) -> list[recording.Batch]:
    """Write a batch's results (one transaction, one execution-row lock): each run's only if this
    batch still holds its lease. Answers the batches kept for this task (claimed with the record
    first, then those only kept).

    With `budget_end` (a task carrying on inline), up to `EXECUTION_INLINE_FOLD_MAX` batches the
    record claimed in its closing round trip are run and recorded inside this same transaction
    while the budget lasts, rather than after its commit in a transaction of their own: one
    commit, one lock and one publish fewer per fold. Only cheap nodes are claimed so
    (`registry.is_cheap`: pure, bounded, no I/O, no waiting), so the lock is held for
    microseconds more, never across a network call or a sleep (docs/spec-deviations.md). A crash
    or an unexpected error there rolls the whole transaction back: the recorded runs and the
    folded ones are still Running under their leases, which lapse, and the reaper queues them
    again, as for any claimed run."""
    with transaction.atomic():
        kept = recording.record_batch(results, inline_capacity=inline_capacity)
        folds = max(0, int(settings.EXECUTION_INLINE_FOLD_MAX)) if budget_end is not None else 0
        while folds and kept and kept[0] and isinstance(kept[0][0], Claim) and time.monotonic() < budget_end:
            folds -= 1
            folded = [(claimed, run_one(claimed)) for claimed in kept.pop(0)]
            capacity = inline_capacity_now(budget_end)
            kept = [*kept, *recording.record_batch(folded, inline_capacity=capacity)]
        return kept


def inline_capacity() -> int:
    """Runs a record may keep for this task: `EXECUTION_INLINE_MAX` batches of up to
    `EXECUTION_BATCH_MAX` each."""
    return max(0, int(settings.EXECUTION_INLINE_MAX)) * max(1, int(settings.EXECUTION_BATCH_MAX))


def inline_capacity_now(budget_end: float) -> int:
    """`inline_capacity()` while the budget lasts, else none."""
    return inline_capacity() if time.monotonic() < budget_end else 0


def run_one(claimed: Claim) -> Result:
    """Run one claimed node (no transaction open), with its metrics and log line."""
    facts = claimed.graph.facts[claimed.node_id]
    # Every log line written while this node runs and is recorded names it (docs/operations.md).
    with structlog.contextvars.bound_contextvars(execution_id=str(claimed.execution_id), node_id=claimed.node_id,
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
    return result


def step(execution_id: Any, run_ids: list[int]) -> None:
    """The step task's body: the message's runs (one batch), then cheap runs kept inline while the
    budget lasts.

    A batch comes back from the record either claimed already (in the record's closing round
    trip: its runs are running under this task's lease and must run here) or only kept (claimed
    here if the budget still allows, else sent through the broker). Each batch runs its nodes one
    after another and records them together; the claim of the next batch is where a pause or a
    cancel is seen (nothing is claimed unless the execution runs)."""
    budget_end = time.monotonic() + settings.EXECUTION_INLINE_BUDGET_MS / 1000
    carry_on(execution_id, [claim_batch(execution_id, run_ids)], budget_end=budget_end)


# Set while this thread runs steps inline (`carry_on`): a start made meanwhile (a "run after"
# rule of an execution that just ended) sends its first steps through the broker rather than
# nesting another inline run inside this one.
_inline = threading.local()


def running_inline() -> bool:
    return bool(getattr(_inline, "active", False))


def start_inline_capacity() -> int:
    """Cheap sources a start may keep for its own process to run after commit
    (`EXECUTION_START_INLINE_MAX` batches), none while this thread already runs steps inline."""
    if running_inline():
        return 0
    return max(0, int(settings.EXECUTION_START_INLINE_MAX)) * max(1, int(settings.EXECUTION_BATCH_MAX))


def run_kept_after_start(execution_id: Any, batches: list[recording.Batch]) -> None:
    """After a start committed: run the cheap sources it claimed for this process, and what
    they make ready, inline while `EXECUTION_INLINE_BUDGET_MS` lasts (what is left goes through
    the broker), exactly as a step task carries on after its own record."""
    carry_on(execution_id, batches, budget_end=time.monotonic() + settings.EXECUTION_INLINE_BUDGET_MS / 1000)


def carry_on(execution_id: Any, batches: list[recording.Batch], *, budget_end: float) -> None:
    """Run `batches` one after another (each claimed, or only kept: claimed here while the budget
    lasts, else sent), recording each and taking on the batches its record keeps."""
    todo: deque[recording.Batch] = deque(batches)
    leftovers: list[Dispatch] = []
    graph = None
    outer, _inline.active = running_inline(), True
    try:
        while todo:
            batch = todo.popleft()
            if batch and isinstance(batch[0], Dispatch):
                if time.monotonic() >= budget_end:
                    leftovers.extend(batch)
                    continue
                batch = claim_batch(execution_id, [item.run_id for item in batch])
            if not batch:
                continue
            graph = batch[0].graph
            results = [(claimed, run_one(claimed)) for claimed in batch]
            capacity = inline_capacity_now(budget_end)
            # Lines written while a batch is recorded name its execution, and its node when it has one.
            single = {"node_id": batch[0].node_id} if len(batch) == 1 else {}
            with structlog.contextvars.bound_contextvars(execution_id=str(execution_id),
                                                         team=str(batch[0].team_id), **single):
                todo.extend(record_batch(results, inline_capacity=capacity, budget_end=budget_end))
    finally:
        _inline.active = outer
    if leftovers and graph is not None:
        send_now(execution_id, leftovers, graph)
