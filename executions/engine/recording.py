"""Recording a batch of node results: the hot path, in three statements and two round trips.

A batch is the runs one claim took (one lease owner; one run, or up to `EXECUTION_BATCH_MAX`
cheap ones). All their results are recorded in one transaction under one execution-row lock.

Round trip 1 (a pipeline, in order on the server, each statement after the lock):
    lock the execution and write every completed result whose run this batch still holds
    (each run its own lease: a run taken over is dropped alone, the others are recorded);
    read the pending targets of their edges; read the backlog of queued runs not yet sent;
    count what is in flight and whether anything is left unsettled.
In Python: count the settled edges into the targets and decide each with the runtime's
`flow.readiness`, then choose what to send (the backlog first, then the newly queued) up to
`max_parallel` in flight.
Round trip 2: one statement writes every touched run, the events and the execution row; in the
same pipeline, the cheap runs kept for this task's next batch are claimed (`claiming.CLAIM_SQL`,
one statement a batch), so they need no transaction of their own.

Anything off the common path — a failed attempt in the batch, the execution not running, a
target skipped (skips cascade), an input waiting for a person, nothing left to do (the execution
finishes) — continues with the general bookkeeping of `Books` in the same transaction, so the
rules live in one place.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from django.conf import settings

from audit.services import PendingAppend
from executions.engine import events as ev
from executions.engine.books import (
    LOCKED_COLUMNS,
    TARGETS_SQL,
    WRITE_RUNS_SQL,
    Books,
    Dispatch,
    finish_audits,
    locked_execution,
    send_audits,
    targets_from_rows,
    write_runs_parameters,
)
from executions.engine.claiming import CLAIM_SQL, claim_parameters, claims_and_events
from executions.engine.leases import add_reports
from executions.engine.outcomes import record_failed_attempt
from symphony_site import prepared

logger = logging.getLogger(__name__)

# Lock the execution, then write every completed result whose run this batch still holds; their
# edges are marked settled at once when the execution is active (they are settled in this same
# transaction). Answers the locked execution's row with each recorded run's id and duration (one
# row with nulls when none was recorded: every lease was lost, or only failures are recorded).
RECORD_SQL = f"""
WITH e AS (
    SELECT {LOCKED_COLUMNS} FROM executions_execution WHERE id = %(e)s FOR NO KEY UPDATE
), r AS (
    UPDATE executions_noderun AS n SET state = 'completed', output = v.output, inputs = v.inputs,
        usage = v.usage, cached = v.cached, error = NULL, lease_owner = '', lease_expires_at = NULL,
        finished_at = now(), progress = 1,
        edges_settled = EXISTS (SELECT 1 FROM e WHERE e.state IN ('running', 'paused', 'waiting_for_input'))
    FROM jsonb_to_recordset(%(results)s::jsonb) AS v(id bigint, output jsonb, inputs jsonb, usage jsonb,
                                                    cached boolean)
    WHERE n.id = v.id AND n.execution_id = %(e)s AND n.state = 'running' AND n.lease_owner = %(owner)s
    RETURNING n.id, (extract(epoch FROM n.finished_at - n.started_at) * 1000)::float8 AS duration_ms
)
SELECT e.*, r.id, r.duration_ms FROM e LEFT JOIN r ON true
"""

BACKLOG_SQL = ("SELECT id, node_id, queue FROM executions_noderun WHERE execution_id = %(e)s AND state = 'queued' "
               "AND dispatched_at IS NULL AND (due_at IS NULL OR due_at <= now()) ORDER BY queued_at, id "
               "LIMIT %(limit)s")
FLAGS_SQL = ("SELECT (SELECT count(*) FROM executions_noderun WHERE execution_id = %(e)s AND (state = 'running' "
             "OR (state = 'queued' AND dispatched_at IS NOT NULL))), EXISTS (SELECT 1 FROM executions_noderun "
             "WHERE execution_id = %(e)s AND state IN ('pending', 'queued', 'running')), EXISTS (SELECT 1 FROM "
             "executions_noderun WHERE execution_id = %(e)s AND state = 'failed')")


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


Batch = list[Any]  # claims (`claiming.Claim`) or runs kept but not claimed yet (`Dispatch`)


def record_batch(results: list[tuple[Any, Any]], *, inline_capacity: int) -> list[Batch]:
    """Inside the caller's transaction: `results` are (claim, result) pairs of one batch (one lease
    owner). Answers the batches this task is to run next: claimed already (in the closing round
    trip), or only kept (the caller claims them, or sends them when its budget is spent)."""
    first = results[0][0]
    execution_id, owner = first.execution_id, first.owner
    completed = [(claimed, result) for claimed, result in results if result.outcome is not None]
    failed = [(claimed, result) for claimed, result in results if result.outcome is None]
    targets = sorted({edge.target for _, result in completed for edge, _ in result.settlements})
    written = [{"id": claimed.run_id, "output": dict(result.outcome.outputs), "inputs": result.inputs,
                "usage": dict(result.outcome.usage), "cached": result.outcome.cached}
               for claimed, result in completed]
    parameters = {"e": execution_id, "owner": owner, "results": _json(written), "targets": targets,
                  "limit": first.max_parallel}  # fixed at creation: the claim's copy holds
    recorded_cursor = prepared.cursor()
    raw = recorded_cursor.connection
    with raw.pipeline():
        recorded_cursor.execute(RECORD_SQL, parameters, prepare=True)
        pending = prepared.cursor()
        backlog = prepared.cursor()
        flags = prepared.cursor()
        if not failed:  # a failure leaves the common path: these would not be read
            if targets:
                pending.execute(TARGETS_SQL, parameters, prepare=True)
            backlog.execute(BACKLOG_SQL, parameters, prepare=True)
            flags.execute(FLAGS_SQL, parameters, prepare=True)
    found = recorded_cursor.fetchall()
    if not found:
        return []  # the execution is gone
    durations = {run_id: duration for *_, run_id, duration in found if run_id is not None}
    books = Books.of(locked_execution(found[0][:-2]))
    recorded = []
    for claimed, result in completed:
        if claimed.run_id not in durations:
            _dropped(claimed)
            continue
        recorded.append((claimed, result))
        add_reports(books, claimed.node_id, None, result.reports[1])
        books.event(ev.NODE_COMPLETED, claimed.node_id, attempt=claimed.attempt,
                    duration_ms=round(durations[claimed.run_id], 3),
                    **({"cached": True} if result.outcome.cached else {}))
    settled = [(claimed.node_id, list(result.settlements)) for claimed, result in recorded]
    marked = frozenset(claimed.node_id for claimed, _ in recorded)
    if failed or books.state.value != "running":
        return _general(books, settled, marked, failed, inline_capacity)
    if not recorded:
        return []  # every lease was lost: nothing was written, nothing follows
    rows: list[dict[str, Any]] = []
    queued = []
    if targets:
        decided, next_frontier, queued = books.decide(settled, targets_from_rows(pending.fetchall()))
        if next_frontier or any(row["awaiting"] for row in decided):
            books._update_runs(WRITE_RUNS_SQL, write_runs_parameters(decided))
            return _general(books, next_frontier, frozenset(), [], inline_capacity, queued=bool(queued),
                            changed=True)
        rows = decided
    in_flight, unsettled, failed_any = flags.fetchone()
    if not queued and not unsettled:
        # Nothing is left to run or to send: the execution ends here (what `_general` would
        # find asking `dispatch` again).
        if rows:
            books._update_runs(WRITE_RUNS_SQL, write_runs_parameters(rows))
        books.finish_if_done((False, bool(failed_any)), outputs=_recorded_outputs(books, recorded))
        books.close()
        return []
    # What to send: the backlog first (oldest first), then the newly queued, up to max_parallel.
    slots = max(0, books.execution.max_parallel - int(in_flight))
    by_id = {row["id"]: row for row in rows}
    candidates = [(run, name, queue) for run, name, queue in backlog.fetchall()]
    candidates += [(target.run_id, target.node_id, books.graph.facts[target.node_id].queue) for target in
                   sorted(queued, key=lambda target: target.run_id)]
    for run, name, queue in candidates[:slots]:
        if run in by_id:
            by_id[run]["dispatch"] = True
            queue = _queue_of(books, run, name, queue)
        else:
            rows.append({"id": run, "dispatch": True})
        item = Dispatch(run_id=run, node_id=name, queue=queue)
        if inline_capacity > 0 and books.graph.facts[name].cheap:
            books.inline.append(item)
            inline_capacity -= 1
        else:
            books.dispatches.append(item)
    extra = [("runs", WRITE_RUNS_SQL + " RETURNING r.id", write_runs_parameters(rows))] if rows else []
    return close_claiming(books, extra)


def close_claiming(books: Books, extra: list[tuple[str, str, list[Any]]] | None = None) -> list[Batch]:
    """Close `books` (its closing statement, with `extra` CTEs) and, in the same round trip and
    transaction, claim the cheap runs it kept for this process (`books.inline`, one
    `CLAIM_SQL` a batch): the record of a step keeps its ready successors so, and a start its
    cheap sources (`starting.begin`). Answers the batches this process is to run next: claimed
    already (it holds their leases: it must run them, or they wait for the leases to lapse), or
    only kept (a claim did not take them: the caller claims them, or sends them)."""
    statement = books.write_statement(extra or [])
    claims: list[tuple[dict[str, Any], Any]] = []
    if statement is not None and books.inline:
        claims = _write_and_claim(prepared.cursor().connection, statement, books.execution.pk,
                                  batches_of(books.inline), books.pending_audits())
    else:
        books.write_closing(statement)
    # The claims' `node.started` events follow the record's own (seq order) in the same channel
    # message: one publish per step, not one for the record and one for the claim.
    started: list[dict[str, Any]] = []
    for claim_parameters_used, claimed_rows in claims:
        claimed, messages = claims_and_events(claim_parameters_used, claimed_rows)
        started.extend(messages)
        if claimed:
            books.pre_claimed.append(claimed)
    books.after_write(then=started)
    taken = {claimed.run_id for batch in books.pre_claimed for claimed in batch}
    return [*books.pre_claimed, *batches_of([item for item in books.inline if item.run_id not in taken])]


def _recorded_outputs(books: Books, recorded: list[tuple[Any, Any]]) -> dict[str, Any] | None:
    """Every output node's output as stored, when this record wrote them all (a small workflow's
    last record usually does): the execution's outputs then need no read. None otherwise."""
    written = {claimed.node_id: result.outcome.outputs for claimed, result in recorded
               if books.graph.facts[claimed.node_id].kind == "output"}
    if not set(books.output_node_ids()) <= written.keys():
        return None
    return {node_id: orjson.loads(_json(dict(outputs))) for node_id, outputs in written.items()}


def batches_of(items: list[Dispatch]) -> list[list[Dispatch]]:
    """Runs kept for this task, in batches of up to `EXECUTION_BATCH_MAX` (one claim each)."""
    size = max(1, int(settings.EXECUTION_BATCH_MAX))
    return [items[first:first + size] for first in range(0, len(items), size)]


def _dropped(claimed: Any) -> None:
    # Another attempt owns the node now (its lease lapsed): this result is dropped, and nothing it
    # would have caused happens. The batch's other runs are recorded as usual.
    logger.info("Dropped the result of node %s (run %s): its lease was lost", claimed.node_id, claimed.run_id)


def _write_and_claim(raw: Any, statement: tuple[str, list[Any]], execution_id: Any,
                     batches: list[list[Dispatch]], audits: list[PendingAppend]) -> list[tuple[dict[str, Any], Any]]:
    """The closing write, the claims of the batches kept for this task and the audit appends (a
    start's), in one round trip and one transaction: the claimed runs then need no claim of their
    own after commit. A run a claim does not find (it cannot, under the lock, but if it did) is
    left to the plain claim. The appends go last: the chain-head lock is held for the commit only."""
    claims = [claim_parameters(execution_id, [item.run_id for item in batch]) for batch in batches]
    cursors = []
    with raw.pipeline():
        prepared.cursor().execute(*statement, prepare=True)
        for parameters in claims:
            cursor = prepared.cursor()
            cursor.execute(CLAIM_SQL, parameters, prepare=True)
            cursors.append(cursor)
        appended = send_audits(audits)
    finish_audits(audits, appended)
    return [(parameters, cursor.fetchall()) for parameters, cursor in zip(claims, cursors, strict=True)]


def _queue_of(books: Books, run_id: int, node_id: str, queue: str) -> str:
    """A newly queued run's queue: its node's, or the run's own for loops (decided per team)."""
    if books.graph.facts[node_id].type_name != "loop":
        return queue
    return str(books._update_runs("SELECT queue FROM executions_noderun WHERE id = %s", [run_id])[0][0])


def _general(books: Books, settled: list[tuple[str, Any]], marked: frozenset[str], failed: list[tuple[Any, Any]],
             inline_capacity: int, *, queued: bool = False, changed: bool = False) -> list[Batch]:
    """The rest of the recording through the general bookkeeping, in the same transaction:
    the recorded nodes' edges (`settled`; those in `marked` were flagged by the record), then each
    failed attempt this batch still holds (retried, or failed for good under the error policy).
    A batch that recorded nothing (every lease lost) changes nothing more."""
    changed = changed or bool(marked)
    if books.state.is_active and settled:
        queued = books.settle(settled, marked=marked) or queued
    elif books.state.is_terminal and any(books.graph.facts[node_id].kind == "output" for node_id in marked):
        # An output node that was running when the execution stopped: its value still counts.
        books.collect_outputs()
    if failed:
        held = {row[0] for row in books._update_runs(
            "SELECT id FROM executions_noderun WHERE id = ANY(%s) AND state = 'running' AND lease_owner = %s",
            [[claimed.run_id for claimed, _ in failed], failed[0][0].owner])}
        for claimed, result in failed:
            if claimed.run_id not in held:
                _dropped(claimed)
                continue
            changed = True
            add_reports(books, claimed.node_id, None, result.reports[1])
            record_failed_attempt(books, run_id=claimed.run_id, node_id=claimed.node_id,
                                  lease_owner=claimed.owner, error=result.failure.to_dict(),
                                  retryable=result.failure.retryable, inputs=result.inputs)
    if not changed:
        books.close()
        return []
    known = books.dispatch(inline_capacity=inline_capacity, report=not queued)
    if known is not None:
        books.finish_if_done(known)
    books.close()
    return batches_of(books.inline)
