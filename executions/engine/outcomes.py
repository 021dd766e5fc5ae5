"""What a node run's end does to its execution, inside `Books`: the one place for it.

A worker recording a result, the reaper finding a dead worker's lease, and the
commands `retry_node` / `skip_node` all end a node run here, so the error
policies (execution-semantics.md, "Failure") are applied the same way
whichever path a node ends by.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings

from executions.domain import ExecutionState, FailureReaction, reaction_to_failure
from executions.engine import events as ev
from executions.engine.books import Books, Dispatch
from executions.runtime.flow import (
    SKIP_EXECUTION_STOPPED,
    Settled,
    backoff_delay_s,
    settle_outgoing,
)


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def record_failed_attempt(books: Books, *, run_id: int, node_id: str, lease_owner: str,
                          error: dict[str, Any], retryable: bool, inputs: Any = None) -> bool:
    """A failed attempt: stopped (skipped), retried after its backoff, or failed for good."""
    ownership = "AND lease_owner = %s"
    row = books._update_runs(
        f"SELECT attempt, max_attempts FROM executions_noderun WHERE id = %s AND state = 'running' {ownership}",
        [run_id, lease_owner])
    if not row:
        return False
    attempt, max_attempts = row[0]
    return _end_attempt(books, run_id=run_id, node_id=node_id, owner_clause=(ownership, [lease_owner]),
                        error=error, retryable=retryable, attempt=attempt, max_attempts=max_attempts,
                        inputs=inputs)


def _end_attempt(books: Books, *, run_id: int, node_id: str, owner_clause: tuple[str, list[Any]],
                 error: dict[str, Any], retryable: bool, attempt: int, max_attempts: int,
                 inputs: Any = None) -> bool:
    clause, params = owner_clause
    stopped = error.get("code") == "cancelled"
    common = ("lease_owner = '', lease_expires_at = NULL, error = %s::jsonb, "
              "inputs = COALESCE(%s::jsonb, inputs)")
    common_params: list[Any] = [_json(error), None if inputs is None else _json(inputs)]
    if books.state.is_terminal:
        # The execution stopped while this node ran. It noticed and gave up (skipped), or its
        # failure is recorded as it happened; a finished execution reacts to nothing.
        state = "skipped" if stopped else "failed"
        rows = books._update_runs(
            f"UPDATE executions_noderun SET state = %s, skip_reason = %s, finished_at = now(), {common} "
            f"WHERE id = %s AND state = 'running' {clause} RETURNING id",
            [state, SKIP_EXECUTION_STOPPED if stopped else "", *common_params, run_id, *params])
        if rows:
            if stopped:
                books.event(ev.NODE_SKIPPED, node_id, reason=SKIP_EXECUTION_STOPPED)
            else:
                books.event(ev.NODE_FAILED, node_id, attempt=attempt, error=error)
        return bool(rows)
    if retryable and not stopped and attempt < max_attempts:
        facts = books.graph.facts[node_id]
        delay = backoff_delay_s(facts.retry, attempt)
        send_now = delay <= settings.EXECUTION_SHORT_BACKOFF_S
        rows = books._update_runs(
            "UPDATE executions_noderun SET state = 'queued', queued_at = now(), "
            "due_at = now() + make_interval(secs => %s), "
            f"dispatched_at = CASE WHEN %s THEN now() ELSE NULL END, {common} "
            f"WHERE id = %s AND state = 'running' {clause} RETURNING queue",
            [delay, send_now, *common_params, run_id, *params])
        if not rows:
            return False
        books.event(ev.NODE_RETRYING, node_id, attempt=attempt, next_attempt=attempt + 1,
                    delay_s=delay, error=error)
        if send_now:
            books.dispatches.append(Dispatch(run_id=run_id, node_id=node_id, queue=rows[0][0],
                                             countdown=delay or None))
        else:
            books.dispatch()
        return True
    rows = books._update_runs(
        f"UPDATE executions_noderun SET state = 'failed', finished_at = now(), {common} "
        f"WHERE id = %s AND state = 'running' {clause} RETURNING id",
        [*common_params, run_id, *params])
    if not rows:
        return False
    books.event(ev.NODE_FAILED, node_id, attempt=attempt, error=error)
    react_to_failure(books, node_id=node_id, error=error)
    return True


def react_to_failure(books: Books, *, node_id: str, error: dict[str, Any]) -> None:
    """The workflow's error policy, once a node failed for good."""
    if not books.state.is_active:
        return
    message = str(error.get("message", ""))
    reason = f"node {node_id} failed: {message}"[:1000]
    reaction = reaction_to_failure(books.execution.error_policy)
    if reaction is FailureReaction.FAIL_EXECUTION:
        books.stop_execution(ExecutionState.FAILED, reason=reason, skip_reason=SKIP_EXECUTION_STOPPED,
                             error={"code": "node_failed", "node_id": node_id, "message": message,
                                    "node_error": error.get("code", ""), "failed_nodes": [node_id]})
    elif reaction is FailureReaction.SKIP_DESCENDANTS:
        books.settle([(node_id, settle_outgoing(books.graph.index, node_id, state=Settled.FAILED))])
        books.finish_if_done()
        books.dispatch()
    elif books.state is ExecutionState.RUNNING:
        books.move(ExecutionState.PAUSED, reason=reason)


def lose_lease(books: Books, *, run_id: int, node_id: str, reason: str) -> bool:
    """The worker holding this run is gone (its lease expired, or its process died): the attempt
    counts, and the node is queued again with one more attempt granted, up to
    EXECUTION_LOST_LEASE_RETRIES times; past that it fails (`worker_lost`)."""
    row = books._update_runs(
        "SELECT attempt, max_attempts, lost_leases, lease_owner FROM executions_noderun "
        "WHERE id = %s AND state = 'running'", [run_id])
    if not row:
        return False
    attempt, max_attempts, lost_leases, owner = row[0]
    error = {"code": "worker_lost", "message": f"The worker running node {node_id!r} stopped "
             f"answering ({reason}).", "retryable": True}
    owner_clause = ("AND lease_owner = %s", [owner])
    if books.state.is_terminal:
        return _end_attempt(books, run_id=run_id, node_id=node_id, owner_clause=owner_clause,
                            error={**error, "code": "cancelled"}, retryable=False, attempt=attempt,
                            max_attempts=max_attempts)
    if lost_leases < settings.EXECUTION_LOST_LEASE_RETRIES:
        rows = books._update_runs(
            "UPDATE executions_noderun SET state = 'queued', queued_at = now(), due_at = NULL, "
            "dispatched_at = NULL, lost_leases = lost_leases + 1, max_attempts = max_attempts + 1, "
            "lease_owner = '', lease_expires_at = NULL, error = %s::jsonb "
            "WHERE id = %s AND state = 'running' AND lease_owner = %s RETURNING id",
            [_json(error), run_id, owner])
        if not rows:
            return False
        books.event(ev.NODE_RETRYING, node_id, attempt=attempt, next_attempt=attempt + 1, delay_s=0,
                    error=error)
        books.dispatch()
        return True
    return _end_attempt(books, run_id=run_id, node_id=node_id, owner_clause=owner_clause,
                        error={**error, "retryable": False}, retryable=False, attempt=attempt,
                        max_attempts=max_attempts)
