"""What a step costs in statements and round trips: ceilings the hot path must stay under.

The engine's messages are kept in a list instead of the broker, and the step task's function
is called in this process for each one, so nothing else (a worker started by another test)
takes a step and the counts are exact.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from executions.models import Execution, NodeRun
from workflows import samples as s

from .conftest import document, start, store, take_steps
from .counting import Counts, counting


def two_nodes() -> dict[str, Any]:
    return document("Two nodes", [s.node_input("in", "any"), s.node_output("out", "any")],
                    [s.data_edge("e0", "in", "value", "out", "value")])


def wide(width: int) -> dict[str, Any]:
    nodes = [s.node_input("in", "any")] + [
        s.node_operator(f"n{i}", "select", {"path": "absent", "default": None}) for i in range(width)]
    edges = [s.data_edge(f"e{i}", "in", "value", f"n{i}", "value") for i in range(width)]
    return document(f"Wide {width}", nodes, edges, max_parallel=8)


def chain(length: int) -> dict[str, Any]:
    nodes = [s.node_input("in", "any")] + [
        s.node_operator(f"n{i}", "select", {"path": "absent", "default": None}) for i in range(length)]
    edges = [s.data_edge("e0", "in", "value", "n0", "value")] + [
        s.data_edge(f"e{i}", f"n{i - 1}", "value", f"n{i}", "value") for i in range(1, length)]
    return document(f"Chain {length}", nodes, edges)


@pytest.fixture
def channel_sends(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The groups of the channel-layer messages this process sends (each one Redis round trip or
    more in the publisher thread), still sent."""
    from symphony_site import events as door

    groups: list[str] = []
    send = door._Publisher.send

    def counted(self: Any, group: str, message: dict[str, Any]) -> None:
        groups.append(group)
        send(self, group, message)

    monkeypatch.setattr(door._Publisher, "send", counted)
    return groups


def run_counted(personas: Any, built: dict[str, Any], sent: list[tuple[str, int]],
                groups: list[str] | None = None) -> tuple[Execution, Counts, Counts, int]:
    workflow = store(personas, built)
    start(personas, workflow, {"in": 0})  # warm: the compiled version, model caches
    take_steps(sent)
    if groups is not None:
        groups.clear()
    with counting() as starting:
        execution = start(personas, workflow, {"in": 1})
    with counting() as stepping:
        steps = take_steps(sent)
    execution.refresh_from_db()
    return execution, starting, stepping, steps


# Ceilings: what the engine takes now (docs/executions.md, "Benchmarks"). A change that adds a
# statement or a round trip to the hot path fails here, and must say why in that table.
# Sixth session: a plain start queues and sends its sources in one statement (7 → 6), and the
# record that completes every output node does not read the outputs back (14 → 13).
# Seventh session: the execution's row, its node runs and the team's limit in one prepared
# statement (`engine.creating`, 6 → 4).
# Eighth session, second round: the audit append rides last in the closing round trip (6 → 5,
# and 8 → 7 for the ending's).
START_STATEMENTS = 4
START_ROUND_TRIPS = 5
TWO_NODE_STEP_STATEMENTS = 13
# Seventh session: an ending's follow-up statement goes with the closing write (9 → 8).
TWO_NODE_STEP_ROUND_TRIPS = 7
WIDE_STEP_STATEMENTS = 5
WIDE_STEP_ROUND_TRIPS = 3
# A chain's hop (sixth session, docs/executions.md): the record (one pipeline), its closing write
# with the successor's claim (one pipeline) and the commit; one channel-layer message carries the
# record's events and the claim's `node.started`. The same at every position of the chain.
# Eighth session, second round: every other hop runs and is recorded inside the transaction of
# the record that claimed it (`EXECUTION_INLINE_FOLD_MAX`), its events in that transaction's one
# channel message: half a transaction, half a commit and half a message per hop.
CHAIN_HOP_STATEMENTS = 6
CHAIN_HOP_ROUND_TRIPS = 2.5
CHAIN_HOP_TRANSACTIONS = 0.5
CHAIN_HOP_CHANNEL_SENDS = 0.5


@pytest.mark.django_db(transaction=True)
def test_a_two_node_execution_stays_within_its_statement_ceiling(personas: Any,
                                                                 messages: list[tuple[str, int]]) -> None:
    execution, starting, stepping, steps = run_counted(personas, two_nodes(), messages)
    assert execution.state == "completed"
    assert execution.outputs == {"out": 1}
    assert steps == 1  # the output node ran inline, in the input's task
    assert starting.as_dict() == {"statements": START_STATEMENTS, "round_trips": START_ROUND_TRIPS,
                                  "transactions": 1}
    assert stepping.statements <= TWO_NODE_STEP_STATEMENTS
    assert stepping.round_trips <= TWO_NODE_STEP_ROUND_TRIPS
    assert messages == []  # nothing left to send


@pytest.mark.django_db(transaction=True)
def test_a_wide_workflow_step_stays_within_its_statement_ceiling(personas: Any, settings: Any,
                                                                 messages: list[tuple[str, int]]) -> None:
    settings.EXECUTION_BATCH_MAX = 1  # one run per claim and record, as before batches (test_batches.py)
    width = 60
    execution, starting, stepping, _ = run_counted(personas, wide(width), messages)
    assert execution.state == "completed"
    assert NodeRun.objects.filter(execution=execution, state="completed").count() == width + 1
    assert not NodeRun.objects.filter(execution=execution).exclude(state="completed").exists()
    assert starting.statements == START_STATEMENTS
    # The input's step queues every no-op (one more statement than a plain step) and the last
    # one finishes the execution (a few more): the rest are plain steps.
    finishing = 8
    assert stepping.statements <= (width + 1) * WIDE_STEP_STATEMENTS + 1 + finishing
    assert stepping.round_trips <= (width + 1) * WIDE_STEP_ROUND_TRIPS + finishing


@pytest.mark.django_db(transaction=True)
def test_a_chain_hop_stays_within_its_ceiling_wherever_it_is_in_the_chain(
        personas: Any, messages: list[tuple[str, int]], channel_sends: list[str]) -> None:
    short, long = 10, 40
    counted = {}
    for length in (short, long):
        execution, _, stepping, steps = run_counted(personas, chain(length), messages, channel_sends)
        assert execution.state == "completed"
        assert steps == 1  # every no-op ran inline, in the input's task
        counted[length] = (stepping, channel_sends.count(f"execution.{execution.pk}"))
    (short_counts, short_sends), (long_counts, long_sends) = counted[short], counted[long]
    hops = long - short  # what the longer chain's thirty extra nodes cost, so the ends cancel out
    assert long_counts.statements - short_counts.statements == hops * CHAIN_HOP_STATEMENTS
    assert long_counts.round_trips - short_counts.round_trips <= hops * CHAIN_HOP_ROUND_TRIPS
    assert long_counts.transactions - short_counts.transactions == hops * CHAIN_HOP_TRANSACTIONS
    assert long_sends - short_sends == hops * CHAIN_HOP_CHANNEL_SENDS
    assert messages == []


# A fragment of each statement a two-node execution's steps send, as PostgreSQL keeps it prepared.
STEP_STATEMENTS = {
    "claim": "'node.started', n.node_id, jsonb_build_object('attempt', n.attempt)",
    "record": "SET state = 'completed', output = v.output, inputs = v.inputs,",
    "targets": "SELECT id, node_id, state, pending_inputs, taken_inputs, dead_inputs, arrived_edges, dead_reason, "
               "input_sources FROM executions_noderun",
    "backlog": "ORDER BY queued_at, id LIMIT $",
    "flags": "OR (state = 'queued' AND dispatched_at IS NOT NULL))), EXISTS",
    # Every execution's end sends its follow-ups' statement (`triggers.endings`) with the closing
    # write (`Books.write_closing`).
    "ending": "DELETE FROM executions_queuedstart WHERE execution_id = $1%NULL::float",
}


@pytest.mark.parametrize(("start_inline_max", "inline_max", "steps"), [
    (0, 0, 2),  # each node from its own step message: claims by `claim_batch`
    (1, 1, 0),  # an inline start: both claims ride in a closing round trip (`_write_and_claim`)
])
@pytest.mark.django_db(transaction=True)
def test_a_steps_statements_are_prepared_on_the_connection(personas: Any, messages: list[tuple[str, int]],
                                                           settings: Any, start_inline_max: int, inline_max: int,
                                                           steps: int) -> None:
    """The claim, the record's four statements and the ending's follow-ups are parsed and planned
    once per connection (`symphony_site.prepared`), not on every step: on a new connection, each
    is among its prepared statements after one two-node execution."""
    settings.EXECUTION_START_INLINE_MAX = start_inline_max
    settings.EXECUTION_INLINE_MAX = inline_max
    workflow = store(personas, two_nodes())
    connection.close()  # a new connection: nothing prepared yet
    execution = start(personas, workflow, {"in": 1})
    assert take_steps(messages) == steps
    assert Execution.objects.get(pk=execution.pk).state == "completed"
    with connection.cursor() as cursor:
        found = {}
        for name, fragment in STEP_STATEMENTS.items():
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{fragment}%"])
            found[name] = cursor.fetchone()[0]
    # One or more each: psycopg prepares a statement once per shape of its parameters' types.
    assert [name for name, count in found.items() if count < 1] == []
