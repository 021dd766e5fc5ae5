"""One step: claim a queued node run, run its node outside any transaction, record the result.

    claim   one statement (its own transaction): Queued → Running only while the execution
            runs, with a lease (owner, expiry from the database clock); `node.started` is
            written with it and the inputs' outputs are read with it
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

import orjson
import structlog
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from executions.engine import events as ev
from executions.engine import recording
from executions.engine.books import Books, Dispatch
from executions.engine.dispatching import send_now
from executions.engine.graphs import CompiledVersion, compiled
from executions.engine.leases import (
    EngineReporter,
    RunningNode,
    add_reports,
    keeper,
    new_lease_owner,
    owner_is_dead_here,
)
from executions.engine.outcomes import lose_lease, record_failed_attempt
from executions.models import NodeRun, event_message
from executions.runtime import registry
from executions.runtime.contract import NodeContext, NodeFailure, NodeOutcome
from executions.runtime.flow import Arrival, Settled, resolve_inputs, settle_outgoing
from instruments.worker import node_context_fields
from symphony_site import metrics
from symphony_site.events import execution_group, publish_batch_to_group_on_commit
from workflows.domain import Workflow

logger = logging.getLogger(__name__)
step_logger = structlog.get_logger("symphony.step")

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
    # The outputs of the nodes whose data edges into this one were taken, by node id.
    source_outputs: dict[str, Any]
    max_parallel: int


@dataclass(frozen=True, slots=True)
class Result:
    outcome: NodeOutcome | None
    failure: NodeFailure | None
    inputs: dict[str, Any] | None
    settlements: Any
    reports: tuple[Any, list[tuple[str, str]]]


# One statement, its own transaction: lock the execution (so a pause or cancel committed first
# is seen, and event numbers stay in commit order), move the run Queued → Running with a lease
# from the database clock only while the execution runs, write `node.started` with the next
# sequence number, and read what the node needs: the execution's facts and its inputs' outputs.
CLAIM_SQL = """
WITH e AS (
    SELECT id, team_id, workflow_version_id, state, trigger, started_at, deadline_at, max_parallel
    FROM executions_execution WHERE id = %(e)s FOR NO KEY UPDATE
), r AS (
    UPDATE executions_noderun SET state = 'running', attempt = attempt + 1, lease_owner = %(owner)s,
        lease_expires_at = now() + make_interval(secs => %(lease)s), started_at = now(), finished_at = NULL,
        progress = NULL, message = '', dispatched_at = NULL, due_at = NULL
    WHERE id = %(run)s AND execution_id = %(e)s AND state = 'queued'
        AND (due_at IS NULL OR due_at <= now() + make_interval(secs => %(tolerance)s))
        AND EXISTS (SELECT 1 FROM e WHERE e.state = 'running')
    RETURNING node_id, node_kind, attempt, arrived_edges, input_sources
), s AS (
    UPDATE executions_execution AS x SET event_seq = x.event_seq + 1 FROM r WHERE x.id = %(e)s
    RETURNING x.event_seq
), written AS (
    INSERT INTO executions_executionevent (execution_id, seq, type, node_id, data, at)
    SELECT %(e)s, s.event_seq, 'node.started', r.node_id, jsonb_build_object('attempt', r.attempt), %(at)s
    FROM r, s
)
SELECT e.team_id, e.workflow_version_id, e.state, e.trigger, e.started_at, e.deadline_at, e.max_parallel,
    r.node_id, r.attempt, r.arrived_edges, s.event_seq,
    (SELECT jsonb_object_agg(source.node_id, source.output) FROM executions_noderun AS source
     WHERE source.execution_id = %(e)s AND source.node_id = ANY(r.input_sources)),
    CASE WHEN r.node_kind = 'input' THEN (SELECT inputs FROM executions_execution WHERE id = %(e)s) END
FROM e JOIN r ON true JOIN s ON true
"""


def claim(execution_id: Any, run_id: int) -> Claim | None:
    """Queued → Running with a fresh lease, only while the execution is running."""
    owner = new_lease_owner()
    at = timezone.now()
    parameters = {"e": execution_id, "run": run_id, "owner": owner, "lease": settings.EXECUTION_LEASE_S,
                  "tolerance": DUE_TOLERANCE_S, "at": at}
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, parameters)
        found = cursor.fetchone()
    if found is None:
        if not _took_over_dead_owner(execution_id, run_id):
            return None
        with connection.cursor() as cursor:
            cursor.execute(CLAIM_SQL, {**parameters, "at": timezone.now()})
            found = cursor.fetchone()
        if found is None:
            return None
    (team_id, version_id, _, trigger, started_at, deadline_at, max_parallel, node_id, attempt, arrived, seq,
     source_outputs, inputs) = found
    publish_batch_to_group_on_commit(execution_group(execution_id), [event_message(
        execution_id=str(execution_id), seq=seq, event_type=ev.NODE_STARTED, node_id=node_id, at=at,
        data={"attempt": attempt})])
    graph = compiled(version_id)
    left = (deadline_at - timezone.now()).total_seconds() if deadline_at is not None else None
    return Claim(
        execution_id=execution_id, team_id=team_id, run_id=run_id, node_id=node_id, attempt=attempt,
        arrived=list(arrived), owner=owner, graph=graph,
        execution_facts={"id": str(execution_id), "workflow": graph.workflow.name, "trigger": trigger,
                         "started_at": _iso(started_at)},
        execution_inputs=_decoded(inputs), execution_left_s=left, source_outputs=_decoded(source_outputs),
        max_parallel=max_parallel)


def _decoded(value: Any) -> dict[str, Any]:
    """A jsonb value read with a raw cursor (Django's driver setup returns jsonb as text)."""
    if value is None:
        return {}
    return dict(orjson.loads(value) if isinstance(value, str | bytes) else value)


def _took_over_dead_owner(execution_id: Any, run_id: int) -> bool:
    """The run is Running under a process of this host that died (its message came back through
    `reject_on_worker_lost`): end that attempt now rather than wait for the lease to lapse."""
    row = (NodeRun.objects.filter(pk=run_id, execution_id=execution_id, state="running")
           .values_list("lease_owner", flat=True).first())
    if row is None or not owner_is_dead_here(row):
        return False
    with transaction.atomic():
        books = Books.open(execution_id)
        if books is None or books.state.value != "running":
            return False
        current = books._update_runs("SELECT node_id, lease_owner FROM executions_noderun WHERE id = %s "
                                     "AND state = 'running'", [run_id])
        if not current or not owner_is_dead_here(current[0][1]):
            return False
        taken = lose_lease(books, run_id=run_id, node_id=current[0][0], reason="its worker process died")
        books.dispatches = [item for item in books.dispatches if item.run_id != run_id]
        books.close()
        return taken


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


def record(claimed: Claim, result: Result, *, inline_capacity: int = 0) -> list[Dispatch]:
    """Write the result if this attempt still holds the lease; answer the runs kept for inline."""
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
            return list(books.inline)
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
        return list(opened.inline)


def _dropped(claimed: Claim) -> list[Dispatch]:
    # Another attempt owns the node now (the lease lapsed): this result is dropped, and nothing it
    # would have caused happens.
    logger.info("Dropped the result of node %s (run %s): its lease was lost", claimed.node_id, claimed.run_id)
    return []


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
    for leftover in todo:
        send_now(execution_id, leftover)

