"""Concurrency limits with real processes: 50 concurrent webhook calls over HTTP (Django's
live server, one thread and one database connection per request) against a workflow limited
to 2 running, with a real Celery worker. Never more than 2 run; under `queue` all 50 run,
in the order they were admitted. Also: `cancel` and `fail`, and the team's limit."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from django.db import connection

from executions.models import Execution, ExecutionTransition, QueuedStart, WebhookDelivery
from executions.services import execution_start
from executions.triggers.services import limits, webhooks
from symphony_site.actors import Actor

from .conftest import ORIGIN, editor, slow, store

ACTIVE = {"running", "paused", "waiting_for_input"}
CALLS = 50


def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def post(url: str, body: bytes, key: str) -> tuple[int, dict[str, Any]]:
    """A sender as webhook senders are: it retries when the connection drops (the live
    server's listen backlog is small), with an idempotency key so a retry never runs twice."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "Idempotency-Key": key})
    for attempt in range(20):
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())
        except (ConnectionError, urllib.error.URLError):
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("the live server never took the call")


def most_ever_running(workflow: Any) -> int:
    """The largest number of the workflow's executions active at once, replayed from the
    engine's transition history (each start and each end, in time order)."""
    steps = []
    for from_state, to_state, at in ExecutionTransition.objects.filter(execution__workflow=workflow).values_list(
            "from_state", "to_state", "at"):
        if from_state not in ACTIVE and to_state in ACTIVE:
            steps.append((at, 1))
        elif from_state in ACTIVE and to_state not in ACTIVE:
            steps.append((at, -1))
    running = most = 0
    for _, change in sorted(steps):
        running += change
        most = max(most, running)
    return most


@pytest.fixture
def worked(celery_worker: str, live_server: Any, personas: Any) -> Any:
    yield personas
    from executions.services import execution_command

    for execution in Execution.objects.filter(state__in=["pending", *ACTIVE]):
        execution_command(actor=Actor.of(personas.users["owner"]), origin=ORIGIN, execution=execution,
                          command="cancel")


def test_fifty_concurrent_webhook_calls_never_exceed_a_limit_of_two_and_all_run_in_order(worked, live_server) -> None:
    personas = worked
    workflow = store(personas, slow(milliseconds=250, concurrency={"limit": 2, "on_limit": "queue"}))
    issued = webhooks.webhook_create(actor=editor(personas), origin=ORIGIN, workflow=workflow,
                                     rate_limit_per_minute=600)
    url = f"{live_server.url}/hooks/{issued.token}/"
    samples: list[int] = []
    sampling = threading.Event()

    def sample() -> None:
        from django.db import connections

        try:
            while not sampling.is_set():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM executions_execution WHERE workflow_id = %s "
                                   "AND state IN ('running', 'paused', 'waiting_for_input')", [workflow.pk])
                    samples.append(cursor.fetchone()[0])
                time.sleep(0.01)
        finally:
            connections.close_all()

    sampler = threading.Thread(target=sample)
    sampler.start()
    barrier = threading.Barrier(CALLS)
    answers: list[tuple[int, dict[str, Any]]] = []

    def call(index: int) -> None:
        barrier.wait()
        answers.append(post(url, json.dumps({"x": index}).encode(), f"call-{index}"))

    callers = [threading.Thread(target=call, args=(index,)) for index in range(CALLS)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(120)
    try:
        assert sorted(status for status, _ in answers) == [202] * CALLS
        ids = {body["execution"] for _, body in answers}
        assert len(ids) == CALLS
        wait_until(lambda: Execution.objects.filter(pk__in=ids, state="completed").count() == CALLS, 120,
                   "all 50 executions to complete")
    finally:
        sampling.set()
        sampler.join(10)
    executions = list(Execution.objects.filter(pk__in=ids))
    assert max(samples) <= 2
    assert most_ever_running(workflow) == 2
    # In order: the order they started is the order they were admitted (created).
    admitted = [execution.pk for execution in sorted(executions, key=lambda row: (row.created_at, row.pk))]
    started = [execution.pk for execution in sorted(executions, key=lambda row: row.started_at)]
    assert started == admitted
    assert sorted(execution.outputs["out"] for execution in executions) == list(range(CALLS))
    assert QueuedStart.objects.count() == 0
    assert WebhookDelivery.objects.filter(webhook=issued.webhook, status="accepted").count() == CALLS


def test_cancel_and_fail_past_a_limit_and_the_team_limit(worked) -> None:
    personas = worked
    operator = Actor.of(personas.users["operator"])
    cancelling = store(personas, slow("Cancelling", milliseconds=3000, concurrency={"limit": 1, "on_limit": "cancel"}))
    first = execution_start(actor=operator, origin=ORIGIN, workflow=cancelling, inputs={"x": 1})
    second = execution_start(actor=operator, origin=ORIGIN, workflow=cancelling, inputs={"x": 2})
    assert (first.state, Execution.objects.get(pk=second.pk).state) == ("running", "cancelled")
    assert Execution.objects.get(pk=second.pk).state_reason == (
        "Cancelled: the workflow's concurrency limit of 1 running execution was reached (on_limit: cancel).")
    failing = store(personas, slow("Failing", milliseconds=3000, concurrency={"limit": 1, "on_limit": "fail"}))
    execution_start(actor=operator, origin=ORIGIN, workflow=failing, inputs={"x": 1})
    before = Execution.objects.count()
    from executions.triggers.concurrency import ConcurrencyLimitReached

    with pytest.raises(ConcurrencyLimitReached) as refused:
        execution_start(actor=operator, origin=ORIGIN, workflow=failing, inputs={"x": 2})
    assert (refused.value.status_code, refused.value.details) == (429, {"scope": "workflow", "limit": 1,
                                                                        "running": 1})
    assert Execution.objects.count() == before
    # The team: two running now, a limit of 2 queues the next of any workflow.
    limits.team_limit_set(actor=Actor.of(personas.users["admin"]), origin=ORIGIN, team=personas.team, limit=2)
    free = store(personas, slow("Free", milliseconds=100))
    held = execution_start(actor=operator, origin=ORIGIN, workflow=free, inputs={"x": 3})
    assert Execution.objects.get(pk=held.pk).state == "pending"
    assert QueuedStart.objects.get(execution=held).held_by == "team"
    # It starts once a slot frees, and completes.
    wait_until(lambda: Execution.objects.get(pk=held.pk).state == "completed", 60, "the queued execution to run")
