"""Follow-ups: starting a "run after" rule's workflow, and retrying a failed execution.

`executions.triggers.endings` writes a follow-up in the transaction that ends an
execution. Here one follow-up at a time is taken with `FOR UPDATE SKIP LOCKED` (two
takers never get the same row), its execution is started in that same transaction, and
the row is marked done or failed: so each is acted on exactly once, whichever task or
tick gets there first.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from executions.domain import ExecutionState
from executions.engine.graphs import compiled
from executions.models import Execution, FollowUp, Trigger, TriggeredBy
from executions.services import execution_rerun
from executions.triggers.services.common import start_triggered
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import ApiError

logger = logging.getLogger(__name__)

RUN_AFTER = Actor.system("run-after")
RETRY = Actor.system("retry")
BATCH = 100


def run_due_follow_ups(*, limit: int = BATCH) -> int:
    """Act on due follow-ups, oldest first, one transaction each; answers how many."""
    done = 0
    while done < limit and _take_one():
        done += 1
    return done


def _take_one() -> bool:
    with transaction.atomic():
        follow_up = (FollowUp.objects.select_for_update(skip_locked=True)
                     .filter(state="pending", due_at__lte=timezone.now()).order_by("due_at", "id").first())
        if follow_up is None:
            return False
        try:
            with transaction.atomic():
                result = _retry(follow_up) if follow_up.kind == "retry" else _run_after(follow_up)
        except ApiError as error:
            _settle(follow_up, state="failed", error=error.message)
            logger.warning("Follow-up %s (%s of %s) started nothing: %s", follow_up.pk, follow_up.kind,
                           follow_up.source_id, error.message)
            return True
        if isinstance(result, str):
            _settle(follow_up, state="failed", error=result)
        else:
            _settle(follow_up, state="done", result=result)
    return True


def _settle(follow_up: FollowUp, *, state: str, error: str = "", result: Execution | None = None) -> None:
    FollowUp.objects.filter(pk=follow_up.pk).update(state=state, error=error[:1000], result=result,
                                                    settled_at=timezone.now())


def _context_of(execution_id: Any) -> tuple[int, int]:
    """(chain depth, attempt) carried by an execution; a run nothing triggered has (0, 1)."""
    row = TriggeredBy.objects.filter(execution_id=execution_id).values_list("chain_depth", "attempt").first()
    return (row[0], row[1]) if row is not None else (0, 1)


def _run_after(follow_up: FollowUp) -> Execution | str:
    rule = follow_up.rule
    if rule is None or not rule.enabled:
        return "The rule was disabled before the follow-up ran."
    upstream = Execution.objects.only("pk", "outputs", "state").get(pk=follow_up.source_id)
    depth, _ = _context_of(upstream.pk)
    if depth + 1 > settings.TRIGGER_MAX_CHAIN_DEPTH:
        return (f"Not started: this would be step {depth + 1} of a chain of \"run after\" rules; the "
                f"limit is {settings.TRIGGER_MAX_CHAIN_DEPTH} (TRIGGER_MAX_CHAIN_DEPTH).")
    outputs = upstream.outputs or {}
    inputs = {input_id: outputs.get(output_id) for input_id, output_id in (rule.input_mapping or {}).items()}
    return start_triggered(
        actor=RUN_AFTER, origin=Origin.task(), workflow=rule.downstream, inputs=inputs, trigger=Trigger.RUN_AFTER,
        context={"rule": rule, "upstream": upstream, "chain_depth": depth + 1})


def _retry(follow_up: FollowUp) -> Execution | str:
    source = Execution.objects.select_related("team", "workflow", "workflow_version").get(pk=follow_up.source_id)
    if source.state != ExecutionState.FAILED.value:
        return f"Not retried: the execution is {source.state}."
    depth, attempt = _context_of(source.pk)
    policy = compiled(source.workflow_version_id).workflow.settings.retry_workflow
    if policy is None or attempt >= policy.max_attempts:
        return f"Not retried: attempt {attempt} was the last one settings.retry_workflow allows."
    retry = execution_rerun(actor=RETRY, origin=Origin.task(), execution=source, trigger=Trigger.RETRY,
                            reason=f"automatic retry: attempt {attempt + 1} (settings.retry_workflow)")
    TriggeredBy.objects.update_or_create(execution=retry, defaults={
        "team_id": source.team_id, "chain_depth": depth, "attempt": attempt + 1, "upstream": source})
    return retry
