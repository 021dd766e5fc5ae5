"""What an execution's end sets off: called by the engine's terminal transition.

`Books.move` calls `execution_ended` in the transaction that makes an execution
completed, failed or cancelled (an explicit call, not a signal). In that same
transaction, with one statement, it

* writes a follow-up for every enabled "run after" rule of the workflow that this end
  matches (completed, or failed), due now;
* writes a retry follow-up when the execution failed, its version's settings have
  `retry_workflow` and attempts remain, due after the backoff;
* drops the execution's place in the concurrency queue (a queued execution cancelled);
* asks whether the team has executions queued for a slot.

After commit, tasks run the follow-ups and promote the queue; the beat's tick does the
same as a safety net. Nothing here takes the admission lock: the engine holds the
execution's row lock, and taking the lock after it could deadlock with a promotion.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings

from executions.domain import ExecutionState
from symphony_site.events import send_task_on_commit

if TYPE_CHECKING:
    from executions.engine.books import Books

_RULE_FOLLOW_UPS = (
    "follow AS (INSERT INTO executions_followup (kind, team_id, source_id, rule_id, due_at, state, error, "
    "created_at) SELECT 'run_after', r.team_id, %(e)s, r.id, now(), 'pending', '', now() "
    "FROM executions_runafter AS r WHERE r.upstream_id = %(w)s AND r.enabled AND "
    "CASE %(on)s WHEN 'completed' THEN r.on_completed WHEN 'failed' THEN r.on_failed ELSE false END "
    "ON CONFLICT DO NOTHING RETURNING 1)"
)
_RETRY_FOLLOW_UP = (
    "attempt AS (SELECT COALESCE((SELECT attempt FROM executions_triggeredby WHERE execution_id = %(e)s), 1) "
    "AS n), retry AS (INSERT INTO executions_followup (kind, team_id, source_id, rule_id, due_at, state, "
    "error, created_at) SELECT 'retry', %(t)s, %(e)s, NULL, now() + make_interval(secs => %(backoff)s * "
    "power(%(multiplier)s, attempt.n - 1)), 'pending', '', now() FROM attempt WHERE attempt.n < %(attempts)s "
    "ON CONFLICT DO NOTHING RETURNING extract(epoch FROM due_at - now()) AS wait_s)"
)


def execution_ended(books: Books, state: ExecutionState) -> None:
    execution = books.execution
    on = {ExecutionState.COMPLETED: "completed", ExecutionState.FAILED: "failed"}.get(state, "")
    retry = books.graph.workflow.settings.retry_workflow if state is ExecutionState.FAILED else None
    parts = ["dequeued AS (DELETE FROM executions_queuedstart WHERE execution_id = %(e)s RETURNING 1)",
             _RULE_FOLLOW_UPS]
    retry_select = "NULL::float"
    parameters = {"e": execution.pk, "w": execution.workflow_id, "t": execution.team_id, "on": on}
    if retry is not None:
        parts.append(_RETRY_FOLLOW_UP)
        retry_select = "(SELECT min(wait_s) FROM retry)"
        parameters |= {"backoff": retry.backoff_s, "multiplier": retry.backoff_multiplier,
                       "attempts": retry.max_attempts}
    # Sent with the books' closing statement, in the same round trip (nothing in between reads
    # what it writes), prepared: every execution's end sends it.
    books.closing(f"WITH {', '.join(parts)} SELECT (SELECT count(*) FROM follow), {retry_select}, "
                  "EXISTS (SELECT 1 FROM executions_queuedstart WHERE team_id = %(t)s)", parameters,
                  then=lambda rows: _follow(execution, *rows[0]))


def _follow(execution: Any, follow_ups: int, retry_in: float | None, queue_waiting: bool) -> None:
    """After the ending's statement: the tasks that run its follow-ups and promote the queue,
    sent after commit."""
    from executions.triggers import tasks

    if follow_ups:
        send_task_on_commit(tasks.follow_up)
    # A short backoff is timed by the broker; a long one waits for the tick, which looks for
    # due follow-ups on every pass anyway.
    if retry_in is not None and retry_in <= settings.TRIGGER_SHORT_DELAY_S:
        send_task_on_commit(tasks.follow_up, countdown=max(float(retry_in), 0.0))
    if queue_waiting:
        send_task_on_commit(tasks.promote, args=[str(execution.team_id)])
