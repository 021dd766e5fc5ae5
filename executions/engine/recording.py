"""Recording a completed node: the hot path, in three statements and two round trips.

Round trip 1 (a pipeline, in order on the server, each statement after the lock):
    lock the execution and write the result if this attempt holds the lease;
    read the pending targets of its edges; read the backlog of queued runs not yet sent;
    count what is in flight and whether anything is left unsettled.
In Python: count the settled edges into the targets and decide each with the runtime's
`flow.readiness`, then choose what to send (the backlog first, then the newly queued) up to
`max_parallel` in flight.
Round trip 2: one statement writes every touched run, the events and the execution row; in the
same pipeline, the run kept for inline is claimed (`claiming.CLAIM_SQL`), so it needs no
transaction of its own.

Anything off the common path — the execution not running, a target skipped (skips cascade),
an input waiting for a person, nothing left to do (the execution finishes) — continues with the
general bookkeeping of `Books` in the same transaction, so the rules live in one place.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.db import connection

from executions.engine import events as ev
from executions.engine.books import (
    LOCKED_COLUMNS,
    TARGETS_SQL,
    WRITE_RUNS_SQL,
    Books,
    Dispatch,
    locked_execution,
    targets_from_rows,
)
from executions.engine.claiming import CLAIM_SQL, claim_parameters, claimed_from_row
from executions.engine.leases import add_reports

# Lock the execution, then write the result only if this attempt still holds the lease; its
# edges are marked settled at once when the execution is active (they are settled in this same
# transaction). Answers the locked execution's row and the attempt's duration (null: the lease
# was lost).
RECORD_SQL = f"""
WITH e AS (
    SELECT {LOCKED_COLUMNS} FROM executions_execution WHERE id = %(e)s FOR NO KEY UPDATE
), r AS (
    UPDATE executions_noderun SET state = 'completed', output = %(output)s::jsonb, inputs = %(inputs)s::jsonb,
        usage = %(usage)s::jsonb, cached = %(cached)s, error = NULL, lease_owner = '', lease_expires_at = NULL,
        finished_at = now(), progress = 1,
        edges_settled = EXISTS (SELECT 1 FROM e WHERE e.state IN ('running', 'paused', 'waiting_for_input'))
    WHERE id = %(run)s AND state = 'running' AND lease_owner = %(owner)s
    RETURNING (extract(epoch FROM finished_at - started_at) * 1000)::float8 AS duration_ms
)
SELECT e.*, r.duration_ms FROM e LEFT JOIN r ON true
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


def record_completed(*, execution_id: Any, run_id: int, node_id: str, owner: str, attempt: int, outcome: Any,
                     inputs: Any, settlements: Any, lines: list[tuple[str, str]], max_parallel: int,
                     inline_capacity: int) -> Books | None:
    """Inside the caller's transaction. Answers the books (their `inline` runs are the caller's to
    run), or None when the lease was lost and nothing was written."""
    targets = sorted({edge.target for edge, _ in settlements})
    parameters = {"e": execution_id, "run": run_id, "owner": owner, "output": _json(dict(outcome.outputs)),
                  "inputs": _json(inputs), "usage": _json(dict(outcome.usage)), "cached": outcome.cached,
                  "targets": targets, "limit": max_parallel}  # fixed at creation: the claim's copy holds
    connection.ensure_connection()
    raw = connection.connection
    with raw.pipeline():
        recorded = raw.cursor()
        recorded.execute(RECORD_SQL, parameters)
        pending = raw.cursor()
        if targets:
            pending.execute(TARGETS_SQL, parameters)
        backlog = raw.cursor()
        backlog.execute(BACKLOG_SQL, parameters)
        flags = raw.cursor()
        flags.execute(FLAGS_SQL, parameters)
    found = recorded.fetchone()
    if found is None or found[-1] is None:
        return None
    books = Books.of(locked_execution(found[:-1]))
    add_reports(books, node_id, None, lines)
    books.event(ev.NODE_COMPLETED, node_id, attempt=attempt, duration_ms=round(found[-1], 3),
                **({"cached": True} if outcome.cached else {}))
    if books.state.value != "running":
        return _general(books, node_id, settlements, inline_capacity)
    rows: list[dict[str, Any]] = []
    queued = []
    if targets:
        decided, next_frontier, queued = books.decide([(node_id, list(settlements))],
                                                      targets_from_rows(pending.fetchall()))
        if next_frontier or any(row["awaiting"] for row in decided):
            books._update_runs(WRITE_RUNS_SQL, [orjson.dumps(decided).decode()])
            return _general(books, node_id, [], inline_capacity, frontier=next_frontier, queued=bool(queued))
        rows = decided
    in_flight, unsettled, failed = flags.fetchone()
    if not queued and not unsettled:
        # Nothing is left to run or to send: the execution ends here (what `_general` would
        # find asking `dispatch` again).
        if rows:
            books._update_runs(WRITE_RUNS_SQL, [orjson.dumps(rows).decode()])
        books.finish_if_done((False, bool(failed)))
        books.close()
        return books
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
    extra = [("runs", WRITE_RUNS_SQL + " RETURNING r.id", [orjson.dumps(rows).decode()])] if rows else []
    statement = books.write_statement(extra)
    claims: list[tuple[Dispatch, dict[str, Any], Any]] = []
    if statement is not None and books.inline:
        claims = _write_and_claim(raw, statement, execution_id, books.inline)
    elif statement is not None:
        books._update_runs(*statement)
    books.after_write()
    # After the record's own events, so `node.started` is published after them (seq order).
    for item, claim_parameters_used, found in claims:
        if found is not None:
            books.pre_claimed.append(claimed_from_row(claim_parameters_used, found))
            books.inline.remove(item)
    return books


def _write_and_claim(raw: Any, statement: tuple[str, list[Any]], execution_id: Any, inline: list[Dispatch]
                     ) -> list[tuple[Dispatch, dict[str, Any], Any]]:
    """The closing write and the claims of the runs kept for inline, in one round trip and one
    transaction: an inline successor then needs no claim of its own after commit. A claim that
    finds nothing (it cannot, under the lock, but if it did) leaves the run to the plain claim."""
    claims = [(item, claim_parameters(execution_id, item.run_id)) for item in inline]
    cursors = []
    with raw.pipeline():
        raw.cursor().execute(*statement)
        for _, parameters in claims:
            cursor = raw.cursor()
            cursor.execute(CLAIM_SQL, parameters)
            cursors.append(cursor)
    return [(item, parameters, cursor.fetchone()) for (item, parameters), cursor in zip(claims, cursors, strict=True)]


def _queue_of(books: Books, run_id: int, node_id: str, queue: str) -> str:
    """A newly queued run's queue: its node's, or the run's own for loops (decided per team)."""
    if books.graph.facts[node_id].type_name != "loop":
        return queue
    return str(books._update_runs("SELECT queue FROM executions_noderun WHERE id = %s", [run_id])[0][0])


def _general(books: Books, node_id: str, settlements: Any, inline_capacity: int, *,
             frontier: Any = None, queued: bool = False) -> Books:
    """The rest of the recording through the general bookkeeping, in the same transaction."""
    if books.state.is_active:
        if settlements:
            queued = books.settle([(node_id, list(settlements))], marked=frozenset({node_id}))
        elif frontier:
            queued = books.settle(frontier) or queued
    elif books.state.is_terminal and books.graph.facts[node_id].kind == "output":
        # An output node that was running when the execution stopped: its value still counts.
        books.collect_outputs()
    known = books.dispatch(inline_capacity=inline_capacity, report=not queued)
    if known is not None:
        books.finish_if_done(known)
    books.close()
    return books
