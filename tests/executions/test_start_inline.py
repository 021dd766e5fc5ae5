"""Inline starts: a start claims its cheap sources with its own closing write and runs them,
and what they make ready, in the starting process after commit (docs/executions.md, "Inline at
start"), instead of a step message each.

The test settings turn inline starts off (the other engine tests capture, duplicate and lose
the first step's message); these tests turn them on. Step messages are kept in a list
(`messages`): none reaches a broker, so every step counted here ran in this process.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from audit.models import AuditEntry
from executions.engine import reaper, stepping
from executions.models import Execution, NodeRun
from executions.services import starting
from symphony_site.events import flush_published
from workflows import samples as s

from .conftest import document, event_types, history, runs, start, store, take_steps, wait_until
from .counting import counting

# A two-node execution from `execution_start` to completed, all in the starting process: the
# start (its rows, the sources queued, the closing write with the source's claim, the audit
# append), the input node's record with the output node's claim, the output node's record
# and the ending. The same statements as a start then a step task (4 + 13), one round trip and
# one transaction fewer: the source's claim rides in the start's closing round trip
# (docs/executions.md, "Eighth session"). Second round: the output node, claimed by the input's
# record, runs and is recorded inside that record's transaction (`EXECUTION_INLINE_FOLD_MAX`),
# one commit and one channel message fewer (13 → 12 round trips, 3 → 2 transactions).
# The start's and the ending's audit appends ride last in their closing round trips
# (`audit.services.pending_event`): 12 → 10.
INLINE_TWO_NODE_STATEMENTS = 17
INLINE_TWO_NODE_ROUND_TRIPS = 10
INLINE_TWO_NODE_TRANSACTIONS = 2
# One channel message to the execution's group per transaction: the start's, then the record's
# with the folded node's record's events joined to it (`events.publish_batch_to_group_on_commit`).
INLINE_TWO_NODE_EXECUTION_SENDS = 2


def two_nodes() -> dict[str, Any]:
    return document("Two nodes", [s.node_input("in", "any"), s.node_output("out", "any")],
                    [s.data_edge("e0", "in", "value", "out", "value")])


@pytest.fixture
def inline_starts(settings: Any) -> None:
    settings.EXECUTION_START_INLINE_MAX = 1


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    """The channel-layer messages this process sends, as (group, event types), still sent."""
    from symphony_site import events as door

    sent: list[tuple[str, list[str]]] = []
    send = door._Publisher.send

    def kept(self: Any, group: str, message: dict[str, Any]) -> None:
        carried = message.get("events") or [message.get("event") or {}]
        sent.append((group, [str(event.get("type")) for event in carried]))
        send(self, group, message)

    monkeypatch.setattr(door._Publisher, "send", kept)
    return sent


@pytest.mark.parametrize(("folds", "round_trips", "transactions", "execution_sends"), [
    (1, INLINE_TWO_NODE_ROUND_TRIPS, INLINE_TWO_NODE_TRANSACTIONS, INLINE_TWO_NODE_EXECUTION_SENDS),
    (0, INLINE_TWO_NODE_ROUND_TRIPS + 1, INLINE_TWO_NODE_TRANSACTIONS + 1, INLINE_TWO_NODE_EXECUTION_SENDS + 1),
])
@pytest.mark.django_db(transaction=True)
def test_a_start_runs_its_cheap_nodes_itself_and_sends_no_step_message(
        personas: Any, inline_starts: None, messages: list[tuple[str, int]], settings: Any,
        published: list[tuple[str, list[str]]], folds: int, round_trips: int, transactions: int,
        execution_sends: int) -> None:
    settings.EXECUTION_INLINE_FOLD_MAX = folds
    workflow = store(personas, two_nodes())
    start(personas, workflow, {"in": 0})  # warm: the compiled version, model caches
    flush_published()
    published.clear()
    with counting() as counts:
        execution = start(personas, workflow, {"in": 7})
    flush_published()
    execution = Execution.objects.get(pk=execution.pk)
    assert execution.state == "completed"
    assert execution.outputs == {"out": 7}
    assert messages == []  # no step message: both nodes ran in this process
    done = runs(execution)
    assert {node_id: (run_.state, run_.attempt, run_.lease_owner) for node_id, run_ in done.items()} == {
        "in": ("completed", 1, ""), "out": ("completed", 1, "")}
    # Every change has its event, in order, with no gap, as when a worker runs the steps.
    assert event_types(execution) == [
        ("execution.created", None), ("execution.started", None), ("execution.state_changed", None),
        ("node.queued", "in"), ("node.started", "in"), ("node.completed", "in"),
        ("node.queued", "out"), ("node.started", "out"), ("node.completed", "out"),
        ("execution.state_changed", None), ("execution.completed", None)]
    assert execution.event_seq == 11
    assert history(execution) == [(None, "pending", "alpha-operator"), ("pending", "running", "alpha-operator"),
                                  ("running", "completed", "engine")]
    assert list(AuditEntry.objects.filter(execution_id=execution.pk).order_by("sequence")
                .values_list("event_type", "actor_name")) == [("execution.started", "alpha-operator"),
                                                              ("execution.completed", "engine")]
    assert counts.as_dict() == {"statements": INLINE_TWO_NODE_STATEMENTS, "round_trips": round_trips,
                                "transactions": transactions}
    # Each event published once, in order, in one channel message per transaction.
    to_execution = [types for group, types in published if group == f"execution.{execution.pk}"]
    assert len(to_execution) == execution_sends
    assert [event for types in to_execution for event in types] == [
        event_type for event_type, _ in event_types(execution)]


def three_sources() -> dict[str, Any]:
    return document("Three sources", [s.node_input("a", "any"), s.node_input("b", "any"), s.node_input("c", "any"),
                                      s.node_output("oa", "any"), s.node_output("ob", "any"),
                                      s.node_output("oc", "any")],
                    [s.data_edge("e0", "a", "value", "oa", "value"), s.data_edge("e1", "b", "value", "ob", "value"),
                     s.data_edge("e2", "c", "value", "oc", "value")])


@pytest.mark.parametrize(("start_max", "batch_max", "kept"), [
    (1, 16, 3), (1, 2, 2), (2, 1, 2), (1, 1, 1),
    (1, 0, 1),  # a batch size of 0 means batches of one (docs/executions.md), at start too
    (0, 16, 0), (-1, 16, 0),  # no inline start: every source through the broker
])
@pytest.mark.django_db(transaction=True)
def test_a_start_keeps_up_to_its_inline_batches_of_cheap_sources_and_sends_the_rest(
        personas: Any, messages: list[tuple[Any, ...]], settings: Any, monkeypatch: pytest.MonkeyPatch,
        start_max: int, batch_max: int, kept: int) -> None:
    """`EXECUTION_START_INLINE_MAX` batches of up to `EXECUTION_BATCH_MAX` cheap sources are
    claimed by the start for its own process (the first by run id); the others leave as step
    messages. The after-commit run is held back here, so what the start claimed stays running."""
    settings.EXECUTION_START_INLINE_MAX = start_max
    settings.EXECUTION_BATCH_MAX = batch_max
    held: list[Any] = []
    monkeypatch.setattr(starting, "run_after_commit", held.append)
    execution = start(personas, store(personas, three_sources()), {"a": 1, "b": 2, "c": 3})
    sources = sorted((run_ for run_ in runs(execution).values() if run_.node_id in "abc"), key=lambda r: r.pk)
    assert [(run_.node_id, run_.state, run_.attempt) for run_ in sources] == [
        (run_.node_id, "running", 1) if index < kept else (run_.node_id, "queued", 0)
        for index, run_ in enumerate(sources)]
    assert len(held) == (1 if kept else 0)
    sent = [run_id for message in messages for run_id in (message[1], *(message[2] if len(message) > 2 else ()))]
    assert sent == [run_.pk for run_ in sources[kept:]]
    assert all(message[0] == str(execution.pk) for message in messages)
    # What the start claimed runs now, as after its commit: no run is left running for the
    # suite's teardown to wait on (tests/conftest.py, settle_executions).
    for run_kept in held:
        run_kept()
    assert not NodeRun.objects.filter(execution=execution, state="running").exists()


@pytest.mark.django_db(transaction=True)
def test_a_start_sends_what_is_not_cheap_through_the_broker(
        personas: Any, inline_starts: None, messages: list[tuple[str, int]]) -> None:
    built = document("Delay first", [s.node_operator("wait", "delay", {"milliseconds": 1}),
                                     s.node_output("out", "any")],
                     [s.data_edge("e0", "wait", "value", "out", "value")])
    execution = start(personas, store(personas, built), {})
    wait = runs(execution)["wait"]
    assert (wait.state, wait.attempt) == ("queued", 0)  # not claimed by the start
    assert messages == [(str(execution.pk), wait.pk)]
    assert take_steps(messages) == 1
    execution.refresh_from_db()
    assert execution.state == "completed"


@pytest.mark.django_db(transaction=True)
def test_a_start_inside_a_transaction_that_rolls_back_runs_nothing(
        personas: Any, inline_starts: None, messages: list[tuple[str, int]]) -> None:
    workflow = store(personas, two_nodes())

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        created = start(personas, workflow, {"in": 1})
        raise Undo
    assert not Execution.objects.filter(pk=created.pk).exists()
    assert not AuditEntry.objects.filter(execution_id=created.pk).exists()
    assert messages == []


def recovered_by_the_reaper(execution: Any, input_run_id: int, messages: list[tuple[str, int]]) -> dict[str, Any]:
    """The input's lapsed lease taken over by the reaper, its second attempt run from the one step
    message sent, and the two-node execution completed once: its runs, by node id."""
    def reaped() -> bool:
        return reaper.reap()["expired_leases"] == 1

    wait_until(reaped, timeout=10, what="the reaper taking over the lapsed lease")
    assert messages == [(str(execution.pk), input_run_id)]
    assert take_steps(messages) == 1
    execution.refresh_from_db()
    assert execution.state == "completed"
    assert execution.outputs == {"out": 5}
    done = runs(execution)
    assert (done["in"].state, done["in"].attempt) == ("completed", 2)
    assert event_types(execution, node_id="in") == [("node.queued", "in"), ("node.started", "in"),
                                                    ("node.retrying", "in"), ("node.started", "in"),
                                                    ("node.completed", "in")]
    return done


@pytest.mark.django_db(transaction=True)
def test_a_starting_process_that_dies_after_commit_loses_nothing(
        personas: Any, inline_starts: None, messages: list[tuple[str, int]], settings: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The start committed with its source claimed for this process, and the process never ran
    it (its after-commit work is dropped here, as a SIGKILL would drop it): the
    lease lapses, the reaper queues the run again (the lost attempt counted) and sends it, and
    the execution completes once."""
    workflow = store(personas, two_nodes())
    settings.EXECUTION_LEASE_S = 0.2
    monkeypatch.setattr(starting, "run_after_commit", lambda work: None)
    execution = start(personas, workflow, {"in": 5})
    claimed = runs(execution)["in"]
    assert (claimed.state, claimed.attempt) == ("running", 1)
    assert claimed.lease_owner != ""
    assert messages == []
    settings.EXECUTION_LEASE_S = 2

    recovered_by_the_reaper(execution, claimed.pk, messages)


@pytest.mark.django_db(transaction=True)
def test_an_error_while_a_folded_node_runs_rolls_back_its_record_too_and_loses_nothing(
        personas: Any, inline_starts: None, messages: list[tuple[str, int]], settings: Any,
        published: list[tuple[str, list[str]]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The output node, claimed by the input's record, runs inside that record's transaction
    (a fold); the process fails while it runs (an error no node raises: the contract turns a
    node's own errors into failures, so this stands for a crash). The whole transaction rolls
    back: the input's result is not recorded, no event of it is stored or published, the output
    node is pending again; the input's lease lapses, the reaper queues it again, and the
    execution completes once."""
    workflow = store(personas, two_nodes())
    settings.EXECUTION_LEASE_S = 0.2
    run_one = stepping.run_one

    class ProcessDied(Exception):
        pass

    def dies_in_the_output_node(claimed: Any) -> Any:
        if claimed.node_id == "out":
            raise ProcessDied
        return run_one(claimed)

    monkeypatch.setattr(stepping, "run_one", dies_in_the_output_node)
    execution = start(personas, workflow, {"in": 5})  # the after-commit work fails: logged, not raised
    flush_published()
    monkeypatch.setattr(stepping, "run_one", run_one)
    settings.EXECUTION_LEASE_S = 2
    done = runs(execution)
    assert (done["in"].state, done["in"].attempt) == ("running", 1)
    assert (done["out"].state, done["out"].attempt) == ("pending", 0)
    assert event_types(execution) == [
        ("execution.created", None), ("execution.started", None), ("execution.state_changed", None),
        ("node.queued", "in"), ("node.started", "in")]
    assert [event for group, types in published if group == f"execution.{execution.pk}"
            for event in types] == [event_type for event_type, _ in event_types(execution)]
    assert messages == []

    done = recovered_by_the_reaper(execution, done["in"].pk, messages)
    assert (done["out"].state, done["out"].attempt) == ("completed", 1)
    assert event_types(execution, node_id="out") == [("node.queued", "out"), ("node.started", "out"),
                                                     ("node.completed", "out")]


@pytest.mark.django_db(transaction=True)
def test_a_step_messages_claim_publishes_its_node_started_event(
        personas: Any, messages: list[tuple[str, int]], published: list[tuple[str, list[str]]]) -> None:
    """Inline starts off: the source leaves as a step message, and the step task's own claim
    (`claiming.claim_batch`, its own transaction) publishes `node.started` after commit; every
    stored event reaches the execution's group once, in order."""
    execution = start(personas, store(personas, two_nodes()), {"in": 4})
    assert take_steps(messages) == 1
    flush_published()
    execution.refresh_from_db()
    assert execution.state == "completed"
    to_execution = [event for group, types in published if group == f"execution.{execution.pk}" for event in types]
    assert to_execution == [event_type for event_type, _ in event_types(execution)]
    assert ("node.started", "in") in event_types(execution)
