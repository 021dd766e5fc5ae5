"""Batches: one step task claims several cheap queued runs of one execution in one statement, runs
them, and records them in one transaction (docs/executions.md, "Batches").

Most cases keep the engine's step messages in a list (`messages`) and call the real step task
function, claim and record here, so each interleaving (a lease taken over between the run and
the record, a pause, a message delivered twice) is placed exactly; the last runs on the real
worker.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from executions import tasks
from executions.engine import reaper, stepping
from executions.engine.claiming import CLAIM_SQL, claim_batch
from executions.engine.recording import RECORD_SQL
from executions.models import Execution, ExecutionEvent, NodeRun
from workflows import samples as s

from .conftest import command, document, node_states, runs, start, store, take_steps, wait_for
from .counting import counting


def noop(node_id: str) -> dict[str, Any]:
    return s.node_operator(node_id, "select", {"path": "absent", "default": node_id})


def wide(width: int, *, max_parallel: int = 8, successors: bool = False) -> dict[str, Any]:
    """`in` feeding `width` cheap no-ops (`n0`…), each with a cheap successor `m0`… if asked."""
    nodes = [s.node_input("in", "any")] + [noop(f"n{i}") for i in range(width)]
    edges = [s.data_edge(f"e{i}", "in", "value", f"n{i}", "value") for i in range(width)]
    if successors:
        nodes += [noop(f"m{i}") for i in range(width)]
        edges += [s.data_edge(f"f{i}", f"n{i}", "value", f"m{i}", "value") for i in range(width)]
    return document(f"Wide {width}", nodes, edges, max_parallel=max_parallel)


def seqs_without_gaps(execution: Execution) -> bool:
    seqs = list(ExecutionEvent.objects.filter(execution=execution).order_by("seq").values_list("seq", flat=True))
    return seqs == list(range(1, len(seqs) + 1)) and Execution.objects.get(pk=execution.pk).event_seq == len(seqs)


def events_per_node(execution: Execution, event_type: str) -> Counter[str]:
    return Counter(ExecutionEvent.objects.filter(execution=execution, type=event_type)
                   .values_list("node_id", flat=True))


def batch_message(messages: list[tuple[Any, ...]]) -> tuple[str, list[int]]:
    """The one message left, a batch: (execution id, the run ids it carries, in order)."""
    [message] = messages
    messages.clear()
    execution_id, run_id, *more = message
    return execution_id, [run_id, *(more[0] if more else [])]


def first_step_sends_a_batch(personas: Any, messages: list[tuple[Any, ...]], settings: Any,
                             built: dict[str, Any]) -> tuple[Execution, str, list[int]]:
    """Start, and run the input's step with inlining off: its cheap successors leave as one
    batch message."""
    settings.EXECUTION_INLINE_MAX = 0
    execution = start(personas, store(personas, built), {"in": 1})
    take_steps(messages, limit=1)
    execution_id, run_ids = batch_message(messages)
    return execution, execution_id, run_ids


def node_of(run_id: int) -> str:
    return str(NodeRun.objects.get(pk=run_id).node_id)


@pytest.mark.django_db(transaction=True)
def test_the_ready_cheap_runs_leave_as_one_batch_message_up_to_the_batch_size(personas: Any, settings: Any,
                                                                             messages: list[tuple[Any, ...]]) -> None:
    settings.EXECUTION_BATCH_MAX = 3
    settings.EXECUTION_INLINE_MAX = 0
    execution = start(personas, store(personas, wide(7)), {"in": 1})
    take_steps(messages, limit=1)
    carried = [[node_of(message[1]), *(node_of(run) for run in (message[2] if len(message) > 2 else []))]
               for message in messages]
    # max_parallel 8 leaves room for all seven; three, three and one to a message.
    assert carried == [["n0", "n1", "n2"], ["n3", "n4", "n5"], ["n6"]]
    take_steps(messages)
    execution.refresh_from_db()
    assert execution.state == "completed"
    assert set(node_states(execution).values()) == {"completed"}
    assert events_per_node(execution, "node.completed") == Counter({f"n{i}": 1 for i in range(7)} | {"in": 1})
    assert seqs_without_gaps(execution)


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_one_restores_one_message_per_run(personas: Any, settings: Any,
                                                     messages: list[tuple[Any, ...]]) -> None:
    settings.EXECUTION_BATCH_MAX = 1
    settings.EXECUTION_INLINE_MAX = 0
    start(personas, store(personas, wide(4)), {"in": 1})
    take_steps(messages, limit=1)
    assert [len(message) for message in messages] == [2, 2, 2, 2]  # (execution, run) each: no batch


@pytest.mark.django_db(transaction=True)
def test_a_wide_workflow_records_its_steps_in_batches(personas: Any, settings: Any,
                                                      messages: list[tuple[Any, ...]]) -> None:
    """60 no-ops, max_parallel 8, batches of up to 16: the input's record keeps the first eight
    for its task (claimed in its closing round trip), and every record after that records eight
    and claims the next eight: 1 + 8 records, one task, no message after the input's."""
    settings.EXECUTION_BATCH_MAX = 16
    workflow = store(personas, wide(60))
    start(personas, workflow, {"in": 0})  # warm: the compiled version, model caches
    take_steps(messages)
    execution = start(personas, workflow, {"in": 1})
    with counting() as counts:
        steps = take_steps(messages)
    execution.refresh_from_db()
    assert (execution.state, steps, messages) == ("completed", 1, [])
    assert set(node_states(execution).values()) == {"completed"}
    assert events_per_node(execution, "node.completed") == Counter({f"n{i}": 1 for i in range(60)} | {"in": 1})
    assert seqs_without_gaps(execution)
    # The claim of the input, then nine records (the last one finishes the execution).
    assert counts.sql.count(RECORD_SQL[:200]) == 9
    # The input's own claim, then one per batch in a record's round trip.
    assert counts.sql.count(CLAIM_SQL[:200]) == 1 + 8
    # Every other batch runs and is recorded inside the transaction of the record that claimed it
    # (`EXECUTION_INLINE_FOLD_MAX`): records 1+2, 3+4, 5+6, 7+8, then 9 (the claim is autocommit).
    assert counts.transactions == 5
    assert counts.statements <= WIDE_BATCHED_STATEMENTS
    assert counts.round_trips <= WIDE_BATCHED_ROUND_TRIPS
    # Each batch's node.started events were written by one claim: eight to a claim.
    started_at = Counter(ExecutionEvent.objects.filter(execution=execution, type="node.started")
                         .exclude(node_id="in").values_list("at", flat=True))
    assert sorted(started_at.values()) == [4] + [8] * 7


# Ceilings for the batched wide workflow above (docs/executions.md, "Benchmarks"): 61 node steps.
WIDE_BATCHED_STATEMENTS = 60
WIDE_BATCHED_ROUND_TRIPS = 40


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_lease_was_taken_over_is_dropped_alone(personas: Any, settings: Any,
                                                           messages: list[tuple[Any, ...]]) -> None:
    execution, execution_id, run_ids = first_step_sends_a_batch(personas, messages, settings, wide(3))
    claimed = claim_batch(execution_id, run_ids)
    assert [claim.node_id for claim in claimed] == ["n0", "n1", "n2"]
    assert len({claim.owner for claim in claimed}) == 1  # one owner, a lease on each row
    results = [(claim, stepping.execute(claim)) for claim in claimed]
    # n1's lease lapses while the batch runs; the reaper queues it again (an attempt counted).
    taken = claimed[1]
    NodeRun.objects.filter(pk=taken.run_id).update(lease_expires_at=Execution.objects.get(pk=execution.pk).created_at)
    assert reaper.expire_leases() == 1
    assert [message[1] for message in messages] == [taken.run_id]
    messages.clear()

    assert stepping.record_batch(results) == []

    after = runs(execution)
    assert (after["n0"].state, after["n0"].output, after["n2"].state, after["n2"].output) == (
        "completed", {"value": "n0"}, "completed", {"value": "n2"})
    assert (after["n1"].state, after["n1"].output, after["n1"].lost_leases) == ("queued", None, 1)
    assert events_per_node(execution, "node.completed") == Counter({"in": 1, "n0": 1, "n2": 1})
    assert Execution.objects.get(pk=execution.pk).state == "running"
    # n1 runs again through its own message and the execution completes; nothing twice.
    tasks.step(execution_id, taken.run_id)
    done = Execution.objects.get(pk=execution.pk)
    assert done.state == "completed"
    assert runs(done)["n1"].attempt == 2
    assert events_per_node(done, "node.completed") == Counter({"in": 1, "n0": 1, "n1": 1, "n2": 1})
    assert events_per_node(done, "node.started") == Counter({"in": 1, "n0": 1, "n1": 2, "n2": 1})
    assert seqs_without_gaps(done)


@pytest.mark.django_db(transaction=True)
def test_a_batch_with_a_failure_records_both_and_the_policy_decides(personas: Any, settings: Any,
                                                                    messages: list[tuple[Any, ...]]) -> None:
    built = document("One bad parse", [
        s.node_input("in", "any"), noop("ok"), s.node_operator("parse", "json_parse", {}),
        s.node_output("out", "any"),
    ], [
        s.data_edge("e1", "in", "value", "ok", "value"), s.data_edge("e2", "in", "value", "parse", "text"),
        s.data_edge("e3", "ok", "value", "out", "value"),
    ], error_policy="continue")
    settings.EXECUTION_INLINE_MAX = 0
    execution = start(personas, store(personas, built), {"in": "not json"})
    take_steps(messages, limit=1)
    execution_id, run_ids = batch_message(messages)
    assert [node_of(run) for run in run_ids] == ["ok", "parse"]
    tasks.step(execution_id, run_ids[0], run_ids[1:])
    after = runs(execution)
    assert (after["ok"].state, after["parse"].state) == ("completed", "failed")
    assert after["parse"].error["code"] == "invalid_input"
    assert [message[1] for message in messages] == [after["out"].pk]  # ok's successor, once
    take_steps(messages)
    done = Execution.objects.get(pk=execution.pk)
    assert (done.state, done.outputs) == ("failed", {"out": "ok"})
    assert events_per_node(done, "node.completed") == Counter({"in": 1, "ok": 1, "out": 1})
    assert events_per_node(done, "node.failed") == Counter({"parse": 1})
    assert seqs_without_gaps(done)


@pytest.mark.django_db(transaction=True)
def test_a_pause_during_a_batch_lets_it_finish_and_claims_nothing_more(personas: Any, settings: Any,
                                                                       messages: list[tuple[Any, ...]]) -> None:
    execution, execution_id, run_ids = first_step_sends_a_batch(personas, messages, settings,
                                                                wide(3, successors=True))
    settings.EXECUTION_INLINE_MAX = 1  # the record would keep the successors, were it running
    claimed = claim_batch(execution_id, run_ids)
    results = [(claim, stepping.execute(claim)) for claim in claimed]
    command(personas, Execution.objects.get(pk=execution.pk), "pause")

    kept = stepping.record_batch(results, inline_capacity=stepping.inline_capacity())

    assert kept == []  # nothing claimed or kept while paused
    paused = Execution.objects.get(pk=execution.pk)
    assert paused.state == "paused"
    states = node_states(paused)
    assert [states[f"n{i}"] for i in range(3)] == ["completed"] * 3  # running nodes finish, recorded
    assert [states[f"m{i}"] for i in range(3)] == ["queued"] * 3
    assert messages == []  # nothing dispatched while paused
    queued = [run.pk for run in NodeRun.objects.filter(execution=paused, state="queued").order_by("id")]
    assert claim_batch(execution_id, queued) == []  # a claim sees the pause
    assert set(node_states(paused).values()) == {"completed", "queued"}

    command(personas, paused, "resume")
    assert [message[1] for message in messages] == [queued[0]]  # one batch message for the three
    take_steps(messages)
    done = Execution.objects.get(pk=execution.pk)
    assert done.state == "completed"
    assert events_per_node(done, "node.completed") == Counter(
        {"in": 1} | {f"n{i}": 1 for i in range(3)} | {f"m{i}": 1 for i in range(3)})
    assert seqs_without_gaps(done)


@pytest.mark.django_db(transaction=True)
def test_a_batch_message_delivered_twice_changes_nothing_the_second_time(personas: Any, settings: Any,
                                                                         messages: list[tuple[Any, ...]]) -> None:
    execution, execution_id, run_ids = first_step_sends_a_batch(personas, messages, settings,
                                                                wide(3, successors=True))
    tasks.step(execution_id, run_ids[0], run_ids[1:])
    successors = list(messages)
    assert len(successors) == 1 and len(successors[0]) == 3  # m0…m2 in one message
    events_before = ExecutionEvent.objects.filter(execution=execution).count()
    states_before = {node_id: (run.state, run.attempt) for node_id, run in runs(execution).items()}

    tasks.step(execution_id, run_ids[0], run_ids[1:])  # the same message again

    assert ExecutionEvent.objects.filter(execution=execution).count() == events_before
    assert {node_id: (run.state, run.attempt) for node_id, run in runs(execution).items()} == states_before
    assert messages == successors  # no successor dispatched twice
    assert events_per_node(execution, "node.queued") == Counter(
        {"in": 1} | {f"n{i}": 1 for i in range(3)} | {f"m{i}": 1 for i in range(3)})
    take_steps(messages)
    assert Execution.objects.get(pk=execution.pk).state == "completed"


@pytest.mark.django_db(transaction=True)
def test_a_batch_stops_short_of_max_parallel(personas: Any, settings: Any, monkeypatch: pytest.MonkeyPatch,
                                             messages: list[tuple[Any, ...]]) -> None:
    """max_parallel 2: however big a batch may be, no more than two runs are in flight."""
    settings.EXECUTION_BATCH_MAX = 16
    execution = start(personas, store(personas, wide(5, max_parallel=2)), {"in": 1})
    in_flight: list[int] = []
    original = stepping.run_one

    def watched(claimed: Any) -> Any:
        in_flight.append(NodeRun.objects.filter(execution=execution, state="running").count())
        return original(claimed)

    monkeypatch.setattr(stepping, "run_one", watched)
    take_steps(messages)
    assert Execution.objects.get(pk=execution.pk).state == "completed"
    assert max(in_flight) == 2


def test_a_wide_workflow_on_the_worker_completes_in_batches(engine: Any) -> None:
    execution = wait_for(start(engine, store(engine, wide(40, max_parallel=16)), {"in": 1}), timeout=60)
    assert execution.state == "completed"
    assert set(node_states(execution).values()) == {"completed"}
    assert events_per_node(execution, "node.completed") == Counter({f"n{i}": 1 for i in range(40)} | {"in": 1})
    assert seqs_without_gaps(execution)
    # Runs claimed together share their claim's time: fewer claims than runs.
    claims = ExecutionEvent.objects.filter(execution=execution, type="node.started").values("at").distinct().count()
    assert claims < 41
    assert not NodeRun.objects.filter(execution=execution).exclude(lease_owner="").exists()


@pytest.mark.django_db(transaction=True)
def test_a_record_sends_only_the_slots_left_beside_what_is_in_flight(personas: Any, settings: Any,
                                                                     messages: list[tuple[Any, ...]]) -> None:
    """max_parallel 3 with one run already sent (`other`'s message not taken yet): the record of
    `in` makes three runs ready and sends 3 - 1 = 2 of them; the third waits queued, unsent, and
    leaves as soon as a slot frees (the backlog first)."""
    settings.EXECUTION_BATCH_MAX = 1
    settings.EXECUTION_INLINE_MAX = 0
    nodes = [s.node_input("in", "any"), s.node_input("other", "any"), noop("m")] + [noop(f"n{i}") for i in range(3)]
    edges = [s.data_edge("f", "other", "value", "m", "value")] + [
        s.data_edge(f"e{i}", "in", "value", f"n{i}", "value") for i in range(3)]
    execution = start(personas, store(personas, document("Slots", nodes, edges, max_parallel=3)),
                      {"in": 1, "other": 2})
    done = runs(execution)
    assert messages == [(str(execution.pk), done["in"].pk), (str(execution.pk), done["other"].pk)]
    take_steps(messages, limit=1)  # `in` only
    done = runs(execution)
    assert messages == [(str(execution.pk), done[node].pk) for node in ("other", "n0", "n1")]
    assert (done["n2"].state, done["n2"].dispatched_at) == ("queued", None)
    take_steps(messages, limit=1)  # `other`: its record sends the backlog's n2 before its own m
    done = runs(execution)
    assert messages == [(str(execution.pk), done[node].pk) for node in ("n0", "n1", "n2")]
    assert (done["m"].state, done["m"].dispatched_at) == ("queued", None)
    take_steps(messages)
    assert Execution.objects.get(pk=execution.pk).state == "completed"
    assert set(node_states(execution).values()) == {"completed"}
