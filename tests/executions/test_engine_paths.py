"""Engine paths the ordinary runs seldom take, each pinned with exact rows and events.

Added when mutation testing showed these decisions could change with no test noticing
(docs/testing.md, "Mutation testing"): the take-over of a run whose worker process died, a
successor kept for inline after a skip, a loop's queue chosen from its body, and the reaper's
re-check of an execution that ended while it waited for the lock.

The engine's step messages are kept in a list (`messages`, tests/executions/conftest.py) and
the step task's function runs in this process, so no worker takes a step behind the test's
back; the reaper test drives two real connections.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models.functions import Now

from audit.models import AuditEntry
from executions import tasks
from executions.engine import claiming, reaper, stepping
from executions.engine.leases import process_identity
from executions.models import Execution, ExecutionEvent, NodeRun
from workflows import samples as s

from .conftest import (
    command,
    document,
    history,
    http_node,
    node_states,
    runs,
    start,
    store,
    take_steps,
    wait_until,
)
from .counting import counting

pytestmark = pytest.mark.django_db(transaction=True)


def events_of(execution: Execution) -> list[tuple[str, str | None, dict[str, Any]]]:
    return [(event.type, event.node_id, event.data)
            for event in ExecutionEvent.objects.filter(execution=execution).order_by("seq")]


def dead_owner() -> str:
    """A lease owner naming a process of this host that has exited (and been reaped): what a
    worker's pool process killed inside a node leaves on the run it held."""
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    host, namespace, _ = process_identity().split("/")
    return f"{host}/{namespace}/{child.pid}/0123456789ab"


def test_a_redelivered_message_takes_over_the_run_of_a_dead_process_and_names_its_node(
        personas: Any, messages: list[tuple[str, int]]) -> None:
    workflow = store(personas, document("Two nodes", [s.node_input("in", "any"), s.node_output("out", "any")],
                                        [s.data_edge("e0", "in", "value", "out", "value")]))
    execution = start(personas, workflow, {"in": 7})
    [(execution_id, run_id)] = messages
    messages.clear()
    first = claiming.claim(execution_id, run_id)
    assert first is not None and first.attempt == 1
    # The process that claimed it died inside the node: the run keeps that process's lease.
    gone = dead_owner()
    NodeRun.objects.filter(pk=run_id).update(lease_owner=gone)

    retaken = claiming.claim(execution_id, run_id)  # the message, back through reject_on_worker_lost

    assert retaken is not None
    assert (retaken.node_id, retaken.attempt) == ("in", 2)
    assert retaken.owner.startswith(process_identity() + "/") and retaken.owner != gone
    run = NodeRun.objects.get(pk=run_id)
    assert (run.state, run.attempt, run.lost_leases, run.max_attempts, run.lease_owner) == (
        "running", 2, 1, 2, retaken.owner)
    assert run.error == {"code": "worker_lost", "retryable": True,
                         "message": "The worker running node 'in' stopped answering (its worker process died)."}
    node_events = [event for event in events_of(execution) if event[0].startswith("node.")]
    assert node_events == [
        ("node.queued", "in", {}),
        ("node.started", "in", {"attempt": 1}),
        ("node.retrying", "in", {"attempt": 1, "next_attempt": 2, "delay_s": 0, "error": {
            "code": "worker_lost", "retryable": True,
            "message": "The worker running node 'in' stopped answering (its worker process died)."}}),
        ("node.started", "in", {"attempt": 2}),
    ]
    assert messages == []  # the retaken run runs in this task: no message for it

    stepping.record(retaken, stepping.execute(retaken))
    assert take_steps(messages) == 1
    execution.refresh_from_db()
    assert (execution.state, execution.outputs) == ("completed", {"out": 7})


def branch_then_template() -> dict[str, Any]:
    """n > 0: `positive` (a cheap template) runs and `negative` is skipped. The skip takes the
    record of `route` off its fast path, so `positive` comes back kept for inline, not claimed."""
    return document("Branch", [
        s.node_input("n", "integer"),
        s.node_control("route", "branch", condition="inputs.value > 0"),
        s.node_operator("positive", "template", {"template": "positive {{ inputs.variables }}"}),
        s.node_operator("negative", "template", {"template": "not positive"}),
        s.node_output("out", "string"),
    ], [
        s.data_edge("e1", "n", "value", "route", "value"),
        s.data_edge("e2", "route", "value", "positive", "variables"),
        s.conditional_edge("e3", "route", "negative", "inputs.value <= 0"),
        s.data_edge("e4", "positive", "text", "out", "value"),
    ])


def test_a_kept_successor_runs_inline_while_the_budget_lasts(personas: Any,
                                                            messages: list[tuple[str, int]]) -> None:
    execution = start(personas, store(personas, branch_then_template()), {"n": 5})
    [(execution_id, run_id)] = messages
    messages.clear()

    tasks.step(execution_id, run_id)  # one task: n, route, positive (kept, then claimed), out

    assert messages == []
    execution.refresh_from_db()
    assert (execution.state, execution.outputs) == ("completed", {"out": "positive 5"})
    assert node_states(execution) == {"n": "completed", "route": "completed", "positive": "completed",
                                      "negative": "skipped", "out": "completed"}
    assert all(run.attempt == 1 for run in runs(execution).values() if run.state == "completed")


def test_without_a_budget_every_successor_goes_through_the_broker(personas: Any, settings: Any,
                                                                  messages: list[tuple[str, int]]) -> None:
    settings.EXECUTION_INLINE_BUDGET_MS = 0
    execution = start(personas, store(personas, branch_then_template()), {"n": 5})
    sent_for: list[str] = []
    while messages:
        execution_id, run_id = messages.pop(0)
        sent_for.append(NodeRun.objects.get(pk=run_id).node_id)
        tasks.step(execution_id, run_id)

    assert sent_for == ["n", "route", "positive", "out"]  # one message, one task per node
    execution.refresh_from_db()
    assert (execution.state, execution.outputs) == ("completed", {"out": "positive 5"})


def loop_over(body: str) -> dict[str, Any]:
    return document(f"Loop over {body}", [
        s.node_input("items", "array<string>"),
        s.node_control("each", "loop", over="inputs.value", body=body),
        s.node_output("out", "array"),
    ], [s.data_edge("e1", "items", "value", "each", "value"), s.data_edge("e2", "each", "value", "out", "value")])


def test_a_loops_queue_is_chosen_from_its_body(personas: Any, messages: list[tuple[str, int]]) -> None:
    store(personas, document("cheap-body", [
        s.node_input("item", "string"), s.node_operator("loud", "template", {"template": "{{ inputs.variables }}!"}),
        s.node_output("result", "string"),
    ], [s.data_edge("e1", "item", "value", "loud", "variables"), s.data_edge("e2", "loud", "text", "result", "value")]))
    store(personas, document("waiting-body", [
        s.node_input("item", "string"), s.node_operator("pause", "delay", {"milliseconds": 1}),
        s.node_output("result", "string"),
    ], [s.data_edge("e1", "item", "value", "pause", "value"), s.data_edge("e2", "pause", "value", "result", "value")]))

    queues = {}
    for body in ("cheap-body", "waiting-body", "no-such-body"):
        execution = start(personas, store(personas, loop_over(body)), {"items": ["a"]})
        queues[body] = {run.node_id: run.queue for run in runs(execution).values()}

    assert queues == {
        "cheap-body": {"items": "steps", "each": "steps", "out": "steps"},  # cheap operators only
        "waiting-body": {"items": "steps", "each": "io", "out": "steps"},  # a delay waits: io
        "no-such-body": {"items": "steps", "each": "io", "out": "steps"},  # unknown: the safe queue
    }


def backend_waits_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row and row[0])


def test_the_reaper_leaves_alone_an_execution_that_ended_while_it_waited_for_the_lock(
        personas: Any, messages: list[tuple[str, int]]) -> None:
    """The reaper reads its candidates without a lock; the execution may end before the reaper
    holds its row. Forced here: a second connection holds the row while the reaper reads the
    candidate and waits on the lock, then cancels the execution and commits."""
    waiting = document("Waits for a person", [
        s.node_input("topic", "string", interactive=True, prompt="Which topic?"), s.node_output("out", "string"),
    ], [s.data_edge("e1", "topic", "value", "out", "value")], timeout_s=0.2)
    execution = start(personas, store(personas, waiting))
    assert Execution.objects.get(pk=execution.pk).state == "waiting_for_input"
    wait_until(lambda: Execution.objects.filter(pk=execution.pk, deadline_at__lt=Now()).exists(),
               timeout=10, what="the deadline to pass")

    locked, release = threading.Event(), threading.Event()
    reaper_backend: list[int] = []
    answers: list[int] = []
    failures: list[BaseException] = []

    def finish_under_the_lock() -> None:
        try:
            with transaction.atomic():
                Execution.objects.select_for_update().get(pk=execution.pk)
                locked.set()
                release.wait(timeout=30)
                command(personas, execution, "cancel", reason="no longer needed")
        except BaseException as error:  # reported below
            failures.append(error)
        finally:
            connection.close()

    def reap_deadlines() -> None:
        try:
            connection.ensure_connection()
            reaper_backend.append(connection.connection.info.backend_pid)
            answers.append(reaper.enforce_deadlines())
        except BaseException as error:  # reported below
            failures.append(error)
        finally:
            connection.close()

    holder = threading.Thread(target=finish_under_the_lock)
    holder.start()
    assert locked.wait(timeout=10)
    sweeper = threading.Thread(target=reap_deadlines)
    sweeper.start()
    deadline = time.monotonic() + 20
    while not (reaper_backend and backend_waits_on_a_lock(reaper_backend[0])) and time.monotonic() < deadline:
        time.sleep(0.02)
    blocked = bool(reaper_backend) and backend_waits_on_a_lock(reaper_backend[0])
    release.set()
    for thread in (holder, sweeper):
        thread.join(timeout=30)

    assert failures == []
    assert blocked  # the reaper had read its candidate and was waiting on the row
    assert answers == [0]
    done = Execution.objects.get(pk=execution.pk)
    assert (done.state, done.error) == ("cancelled", None)
    assert history(done) == [(None, "pending", "alpha-operator"), ("pending", "running", "alpha-operator"),
                             ("running", "waiting_for_input", "engine"),
                             ("waiting_for_input", "cancelled", "alpha-operator")]
    assert not AuditEntry.objects.filter(execution_id=execution.pk, event_type="execution.failed").exists()
    assert not ExecutionEvent.objects.filter(execution=execution, type="execution.failed").exists()


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_while_an_input_reached_by_a_record_waits_for_its_value(
        personas: Any, messages: list[tuple[str, int]]) -> None:
    """`topic`, an interactive input after `a` (a control edge), becomes ready in the record of
    `a` together with `b`: the execution waits for input, and `b` stays queued, sent nowhere (a
    claim would refuse it anyway) until the value comes; then both leave and it completes."""
    built = document("Asks midway", [
        s.node_input("a", "any"), s.node_input("topic", "string", interactive=True, prompt="Which topic?"),
        s.node_operator("b", "select", {"path": "absent", "default": "b"}), s.node_output("out", "string"),
        s.node_output("other", "any"),
    ], [s.control_edge("c1", "a", "topic"), s.data_edge("e1", "a", "value", "b", "value"),
        s.data_edge("e2", "topic", "value", "out", "value"), s.data_edge("e3", "b", "value", "other", "value")])
    execution = start(personas, store(personas, built), {"a": 1})
    assert take_steps(messages) == 1  # `a` only
    execution.refresh_from_db()
    assert execution.state == "waiting_for_input"
    done = runs(execution)
    assert (done["topic"].state, done["topic"].awaiting_input) == ("pending", True)
    assert (done["b"].state, done["b"].attempt, done["b"].dispatched_at) == ("queued", 0, None)
    assert messages == []
    command(personas, execution, "provide_input", node_id="topic", value="bees")
    assert take_steps(messages) >= 1
    execution.refresh_from_db()
    assert (execution.state, execution.outputs) == ("completed", {"out": "bees", "other": "b"})


@pytest.mark.django_db(transaction=True)
def test_a_message_whose_run_is_done_costs_two_statements_and_claims_nothing(
        personas: Any, messages: list[tuple[str, int]]) -> None:
    """A duplicated or late step message finds its run no longer queued: one claim statement,
    one read of the runs' lease owners (none held by a dead process of this host), and nothing
    more: no second claim, no transaction, no event."""
    built = document("Two", [s.node_input("in", "any"), s.node_output("out", "any")],
                     [s.data_edge("e0", "in", "value", "out", "value")])
    execution = start(personas, store(personas, built), {"in": 1})
    [message] = messages
    assert take_steps(messages) == 1
    events = ExecutionEvent.objects.filter(execution=execution).count()
    with counting() as counts:
        tasks.step(*message)
    assert (counts.statements, counts.transactions) == (2, 0)
    assert ExecutionEvent.objects.filter(execution=execution).count() == events
    assert messages == []


@pytest.mark.django_db(transaction=True)
def test_a_claim_carries_the_time_left_before_the_executions_deadline(personas: Any,
                                                                       messages: list[tuple[str, int]]) -> None:
    """The claim reads the execution's deadline and gives its node the seconds left (the node's
    own deadline is cut to them); an execution without a timeout has none."""
    built = document("Timed", [s.node_input("in", "any"), s.node_output("out", "any")],
                     [s.data_edge("e0", "in", "value", "out", "value")], timeout_s=60)
    timed = start(personas, store(personas, built), {"in": 1})
    [claimed] = claiming.claim_batch(timed.pk, [runs(timed)["in"].pk])
    assert claimed.execution_left_s is not None and 30 < claimed.execution_left_s <= 60
    untimed_doc = document("Untimed", [s.node_input("in", "any"), s.node_output("out", "any")],
                           [s.data_edge("e0", "in", "value", "out", "value")])
    untimed = start(personas, store(personas, untimed_doc), {"in": 1})
    [claimed_untimed] = claiming.claim_batch(untimed.pk, [runs(untimed)["in"].pk])
    assert claimed_untimed.execution_left_s is None
    # Both claims run and are recorded, so no run is left running for the suite's teardown to
    # wait on (tests/conftest.py, settle_executions).
    for each in (claimed, claimed_untimed):
        stepping.record(each, stepping.run_one(each))
    assert not NodeRun.objects.filter(execution__in=[timed, untimed], state="running").exists()


@pytest.mark.django_db(transaction=True)
def test_a_workflow_of_max_parallel_one_sends_one_run_at_a_time(personas: Any,
                                                                messages: list[tuple[str, int]]) -> None:
    """`max_parallel` 1 is kept as 1 (only a missing or zero value takes the default): of two
    ready sources one is sent at start, the other when the first is done."""
    built = document("One at a time", [s.node_input("a", "any"), s.node_input("b", "any"),
                                       s.node_output("oa", "any"), s.node_output("ob", "any")],
                     [s.data_edge("e0", "a", "value", "oa", "value"), s.data_edge("e1", "b", "value", "ob", "value")],
                     max_parallel=1)
    execution = start(personas, store(personas, built), {"a": 1, "b": 2})
    assert Execution.objects.get(pk=execution.pk).max_parallel == 1
    done = runs(execution)
    assert messages == [(str(execution.pk), done["a"].pk)]
    assert (done["b"].state, done["b"].dispatched_at) == ("queued", None)
    take_steps(messages)
    execution.refresh_from_db()
    assert (execution.state, execution.outputs) == ("completed", {"oa": 1, "ob": 2})


def test_a_kept_successor_left_when_the_budget_runs_out_goes_through_the_broker(
        personas: Any, messages: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The record of `route` keeps `positive` for the task (not claimed: the skip took the record
    off its fast path); the budget then runs out (the step module's clock moved an hour on once
    a record has kept a run only) and `positive` leaves as a step message, sent once."""
    import types

    from executions.engine.books import Dispatch

    hour = [0.0]
    monkeypatch.setattr(stepping, "time", types.SimpleNamespace(
        monotonic=lambda: time.monotonic() + hour[0], perf_counter=time.perf_counter))
    record_batch = stepping.record_batch

    def spends_the_budget(*args: Any, **kwargs: Any) -> Any:
        kept = record_batch(*args, **kwargs)
        if any(batch and isinstance(batch[0], Dispatch) for batch in kept):
            hour[0] = 3600.0
        return kept

    monkeypatch.setattr(stepping, "record_batch", spends_the_budget)
    execution = start(personas, store(personas, branch_then_template()), {"n": 5})
    [(execution_id, run_id)] = messages
    messages.clear()
    tasks.step(execution_id, run_id)  # n, route; positive kept, then left to the broker
    positive = runs(execution)["positive"]
    assert (positive.state, positive.attempt) == ("queued", 0) and positive.dispatched_at is not None
    assert messages == [(str(execution.pk), positive.pk)]
    assert take_steps(messages) == 1
    execution.refresh_from_db()
    assert (execution.state, execution.outputs) == ("completed", {"out": "positive 5"})


def test_a_failed_attempts_log_lines_are_kept(personas: Any, messages: list[tuple[str, int]],
                                             http_server: Any) -> None:
    """An http_request answered 500 logs its request, then fails: the line is written with the
    failure (the record's general path), as a completed attempt's would be."""
    built = document("Fails loudly", [s.node_input("x", "string"),
                                      http_node("call", http_server.url("/fail/logged?times=5")),
                                      s.node_output("out")],
                     [s.control_edge("c1", "x", "call"), s.data_edge("e1", "call", "body", "out", "value")])
    execution = start(personas, store(personas, built), {"x": "y"})
    take_steps(messages)
    execution.refresh_from_db()
    assert execution.state == "failed"
    assert (runs(execution)["call"].state, runs(execution)["call"].log_lines) == ("failed", 1)
    [line] = ExecutionEvent.objects.filter(execution=execution, node_id="call", type="log")
    assert line.data["level"] == "info"
    assert line.data["message"].startswith("GET ") and " → 500 (" in line.data["message"]


def test_a_node_running_when_the_execution_began_to_wait_is_recorded_and_its_successor_waits_unsent(
        personas: Any, messages: list[tuple[str, int]], settings: Any) -> None:
    """`y` is claimed; then the record of `a` makes `topic` (an interactive input after it) wait for
    its value, and the execution waits. `y`'s result is recorded all the same, and `z`, ready
    after it, is queued but sent nowhere until the value comes."""
    built = document("Waits midway", [
        s.node_input("a", "any"), s.node_input("y", "any"),
        s.node_input("topic", "string", interactive=True, prompt="Which topic?"),
        s.node_operator("z", "select", {"path": "absent", "default": "z"}),
        s.node_output("out", "string"), s.node_output("other", "any"),
    ], [s.control_edge("c1", "a", "topic"), s.data_edge("e1", "topic", "value", "out", "value"),
        s.data_edge("e2", "y", "value", "z", "value"), s.data_edge("e3", "z", "value", "other", "value")])
    settings.EXECUTION_BATCH_MAX = 1  # a message each
    execution = start(personas, store(personas, built), {"a": 1, "y": 2})
    done = runs(execution)
    message_of_a = (str(execution.pk), done["a"].pk)
    assert messages == [message_of_a, (str(execution.pk), done["y"].pk)]
    messages.clear()
    [claimed] = claiming.claim_batch(execution.pk, [done["y"].pk])
    tasks.step(*message_of_a)
    assert Execution.objects.get(pk=execution.pk).state == "waiting_for_input"
    stepping.record_batch([(claimed, stepping.run_one(claimed))], inline_capacity=stepping.inline_capacity())
    done = runs(execution)
    assert (done["y"].state, done["z"].state, done["z"].dispatched_at) == ("completed", "queued", None)
    assert messages == []
    assert Execution.objects.get(pk=execution.pk).state == "waiting_for_input"
    command(personas, execution, "provide_input", node_id="topic", value="bees")
    take_steps(messages)
    execution.refresh_from_db()
    assert (execution.state, execution.outputs) == ("completed", {"out": "bees", "other": "z"})


def test_the_reaper_sends_a_retry_whose_backoff_ended_and_counts_it(
        personas: Any, messages: list[tuple[str, int]], http_server: Any) -> None:
    """A retry with a long backoff waits in the database (no countdown message); once due, one
    reaper pass sends it (`dispatched` 1) and the next finds nothing."""
    built = document("Backs off", [s.node_input("x", "string"),
                                   http_node("call", http_server.url("/fail/reaped?times=1"),
                                             retry={"max_attempts": 2, "delay_ms": 1500, "backoff_multiplier": 1.0}),
                                   s.node_output("out")],
                     [s.control_edge("c1", "x", "call"), s.data_edge("e1", "call", "status", "out", "value")])
    execution = start(personas, store(personas, built), {"x": "y"})
    take_steps(messages)
    waiting = runs(execution)["call"]
    assert (waiting.state, waiting.attempt, waiting.dispatched_at) == ("queued", 1, None)
    assert messages == []
    wait_until(lambda: NodeRun.objects.filter(pk=waiting.pk, due_at__lt=Now()).exists(), timeout=10,
               what="the retry's due time")
    assert reaper.reap() == {"expired_leases": 0, "resent": 0, "dispatched": 1, "timed_out": 0}
    assert messages == [(str(execution.pk), waiting.pk)]
    assert reaper.reap() == {"expired_leases": 0, "resent": 0, "dispatched": 0, "timed_out": 0}
    take_steps(messages)
    execution.refresh_from_db()
    assert (execution.state, execution.outputs) == ("completed", {"out": 200})


def test_the_reaper_counts_each_execution_it_fails_past_its_deadline(personas: Any,
                                                                     messages: list[tuple[str, int]]) -> None:
    waiting = document("Waits past its timeout", [
        s.node_input("topic", "string", interactive=True, prompt="Which topic?"), s.node_output("out", "string"),
    ], [s.data_edge("e1", "topic", "value", "out", "value")], timeout_s=0.2)
    workflow = store(personas, waiting)
    executions = [start(personas, workflow), start(personas, workflow)]
    wait_until(lambda: Execution.objects.filter(pk__in=[e.pk for e in executions], deadline_at__lt=Now()).count() == 2,
               timeout=10, what="both deadlines to pass")
    assert reaper.reap() == {"expired_leases": 0, "resent": 0, "dispatched": 0, "timed_out": 2}
    assert sorted(Execution.objects.filter(pk__in=[e.pk for e in executions]).values_list("state", flat=True)) == [
        "failed", "failed"]
    assert reaper.reap() == {"expired_leases": 0, "resent": 0, "dispatched": 0, "timed_out": 0}


def test_a_start_past_the_teams_limit_waits_in_the_queue(personas: Any, messages: list[tuple[str, int]]) -> None:
    """A team limit of 1 with one execution running: the next start of any workflow stays pending,
    queued for the team's slot, and sends nothing; an execution created without starting takes
    no slot and needs none."""
    from executions.models import QueuedStart
    from executions.triggers.services import limits
    from symphony_site.actors import Actor

    from .conftest import ORIGIN

    limits.team_limit_set(actor=Actor.of(personas.users["admin"]), origin=ORIGIN, team=personas.team, limit=1)
    built = document("Limited", [s.node_input("in", "any"), s.node_output("out", "any")],
                     [s.data_edge("e0", "in", "value", "out", "value")])
    workflow = store(personas, built)
    first = start(personas, workflow, {"in": 1})
    assert Execution.objects.get(pk=first.pk).state == "running"
    assert messages == [(str(first.pk), runs(first)["in"].pk)]
    held = start(personas, workflow, {"in": 2})
    assert Execution.objects.get(pk=held.pk).state == "pending"
    assert QueuedStart.objects.get(execution=held).held_by == "team"
    created = start(personas, workflow, {"in": 3}, start=False)
    assert Execution.objects.get(pk=created.pk).state == "pending"
    assert not QueuedStart.objects.filter(execution=created).exists()
    assert messages == [(str(first.pk), runs(first)["in"].pk)]
