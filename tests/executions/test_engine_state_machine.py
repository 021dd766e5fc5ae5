"""The engine against the reference model: any sequence of commands and node results, applied to
both, leaves them in the same states — and the database's history, events and constraints valid.

A Hypothesis `RuleBasedStateMachine` builds a small random graph (input nodes, some interactive,
feeding log operators), stores it, and then interleaves: every control command (through
`execution_command`), step messages delivered (the engine's real claim, node run and record),
failed attempts (retryable or not), late results of a lost lease, expired leases and deadlines
(through the real reaper), and re-runs. After each step the engine's execution and node states
must equal `executions.domain.machine.ExecutionModel`'s, and the commands offered must be
exactly the commands accepted. Step messages are kept in a list instead of the broker, so no
worker races the test.
"""

from __future__ import annotations

import os
from itertools import pairwise
from typing import Any

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from executions.domain import NODE_COMMANDS, Command, ErrorPolicy, ExecutionState, can_transition
from executions.domain.machine import ExecutionModel
from executions.engine import dispatching, reaper, stepping
from executions.engine.books import Books
from executions.models import Execution, ExecutionEvent, NodeRun
from executions.runtime.contract import NodeFailure
from executions.runtime.flow import SKIP_EXECUTION_STOPPED
from executions.services.availability import commands_available
from symphony_site.actors import Actor
from symphony_site.api.errors import ApiError
from workflows import samples as s

from .conftest import command, document, start, store


@st.composite
def graphs(draw: st.DrawFn) -> dict[str, Any]:
    inputs = draw(st.integers(1, 2))
    inner = draw(st.integers(1, 4))
    ids = [f"in{i}" for i in range(inputs)] + [f"n{i}" for i in range(inner)]
    predecessors: dict[str, list[str]] = {node_id: [] for node_id in ids[:inputs]}
    for position in range(inputs, len(ids)):
        earlier = ids[:position]
        chosen = draw(st.sets(st.sampled_from(earlier), min_size=1, max_size=2))
        predecessors[ids[position]] = sorted(chosen)
    interactive = sorted(draw(st.sets(st.sampled_from(ids[:inputs]))))
    attempts = {node_id: draw(st.integers(1, 2)) for node_id in ids[inputs:]}
    return {"predecessors": predecessors, "interactive": interactive, "attempts": attempts,
            "policy": draw(st.sampled_from(list(ErrorPolicy)))}


def as_document(spec: dict[str, Any]) -> dict[str, Any]:
    nodes, edges = [], []
    for node_id, sources in spec["predecessors"].items():
        if node_id.startswith("in"):
            nodes.append(s.node_input(node_id, "any", interactive=node_id in spec["interactive"],
                                      prompt=f"value for {node_id}"))
            continue
        node = s.node_operator(node_id, "log", {"message": node_id})
        node["retry"] = {"max_attempts": spec["attempts"][node_id], "delay_ms": 0, "backoff_multiplier": 1.0}
        nodes.append(node)
        for source in sources:  # control edges: logs take their value port from nobody
            edges.append(s.control_edge(f"e{len(edges)}", source, node_id))
    return document("Machine", nodes, edges, error_policy=str(spec["policy"]))


class EngineMachine(RuleBasedStateMachine):
    personas: Any

    @initialize(spec=graphs())
    def build(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.workflow = store(self.personas, as_document(spec))
        given = {node_id: f"v-{node_id}" for node_id in spec["predecessors"]
                 if node_id.startswith("in") and node_id not in spec["interactive"]}
        self.execution = start(self.personas, self.workflow, given, start=False)
        self.model = ExecutionModel(predecessors=spec["predecessors"], policy=spec["policy"],
                                    interactive=frozenset(spec["interactive"]),
                                    max_attempts=spec["attempts"], lost_lease_retries=1)
        self.claims: dict[str, stepping.Claim] = {}
        self.stale: list[stepping.Claim] = []

    def teardown(self) -> None:
        """Examples share the database: an execution left active would be found by the next
        example's reaper (a deadline set here passes later), so it is cancelled through the
        engine, as the `engine` fixture does after a test."""
        if not hasattr(self, "execution"):
            return
        with transaction.atomic():
            books = Books.open(self.execution.pk, actor=Actor.system("tests"))
            if books is not None and not books.state.is_terminal:
                books.stop_execution(ExecutionState.CANCELLED, reason="example over",
                                     skip_reason=SKIP_EXECUTION_STOPPED)
                books.close()

    def fresh(self) -> Execution:
        return Execution.objects.get(pk=self.execution.pk)

    def run_of(self, node_id: str) -> NodeRun:
        return NodeRun.objects.get(execution=self.execution, node_id=node_id)

    def nodes_in(self, state: str) -> list[str]:
        return sorted(NodeRun.objects.filter(execution=self.execution, state=state)
                      .values_list("node_id", flat=True))

    # -- commands ---------------------------------------------------------------------------

    @rule(data=st.data())
    def send(self, data: st.DataObject) -> None:
        offered = [Command(c) for c in commands_available(self.fresh())]
        assert offered == self.model.available()
        # Mostly a command offered now (to go somewhere), sometimes any (to be refused).
        pool = offered if offered and data.draw(st.integers(0, 3), label="aim command") else list(Command)
        name = data.draw(st.sampled_from(pool), label="command")
        node_id = None
        if name in NODE_COMMANDS:
            from executions.domain import command_targets

            targets = command_targets(name, self.model.state, self.model.views())
            choices = targets if targets and data.draw(st.booleans(), label="aim") else sorted(self.model.nodes)
            node_id = data.draw(st.sampled_from(choices), label="node")
        arguments: dict[str, Any] = {}
        if name is Command.PROVIDE_INPUT:
            arguments["value"] = "answered"
        try:
            answer = command(self.personas, self.fresh(), name.value, node_id=node_id, **arguments)
        except ApiError as error:
            assert error.status_code in (400, 409), error.message
            try:
                self.model.command(name, node_id)
            except Exception:
                return
            raise AssertionError(f"the engine refused {name} {node_id} but the model accepted it") from None
        model_answer = self.model.command(name, node_id)
        if name is Command.RERUN:
            assert answer.pk != self.execution.pk
            self.execution, self.model = answer, model_answer
            self.claims, self.stale = {}, []

    # -- workers ----------------------------------------------------------------------------

    @rule(data=st.data())
    def deliver(self, data: st.DataObject) -> None:
        queued = self.nodes_in("queued")
        if not queued:
            return
        node_id = data.draw(st.sampled_from(queued))
        claimed = stepping.claim(self.execution.pk, self.run_of(node_id).pk)
        assert (claimed is not None) == self.model.claim(node_id)
        if claimed is not None:
            if node_id in self.claims:
                self.stale.append(self.claims[node_id])
            self.claims[node_id] = claimed

    @rule(data=st.data(), outcome=st.sampled_from(["succeed", "fail", "fail_for_good"]))
    def finish(self, data: st.DataObject, outcome: str) -> None:
        running = [node_id for node_id in self.nodes_in("running") if node_id in self.claims]
        if not running:
            return
        node_id = data.draw(st.sampled_from(running))
        claimed = self.claims.pop(node_id)
        if outcome == "succeed":
            result = stepping.execute(claimed)
            assert result.failure is None
            self.model.succeed(node_id)
        else:
            retryable = outcome == "fail"
            result = stepping.Result(outcome=None, failure=NodeFailure("boom", retryable=retryable),
                                     inputs=None, settlements=None, reports=(None, []))
            self.model.fail(node_id, retryable=retryable)
        stepping.record(claimed, result)

    @precondition(lambda self: bool(self.stale))
    @rule()
    def late_result_of_a_lost_lease(self) -> None:
        claimed = self.stale.pop()
        before = (self.fresh().state, dict(NodeRun.objects.filter(execution=self.execution)
                                           .values_list("node_id", "state")))
        stepping.record(claimed, stepping.execute(claimed))  # dropped: the lease moved on
        after = (self.fresh().state, dict(NodeRun.objects.filter(execution=self.execution)
                                          .values_list("node_id", "state")))
        assert after == before

    @rule(data=st.data())
    def lease_expires(self, data: st.DataObject) -> None:
        running = self.nodes_in("running")
        if not running:
            return
        node_id = data.draw(st.sampled_from(running))
        NodeRun.objects.filter(pk=self.run_of(node_id).pk).update(
            lease_expires_at=self.fresh().created_at)  # long past
        assert reaper.expire_leases() == 1
        assert self.model.lose_lease(node_id)
        if node_id in self.claims:
            self.stale.append(self.claims.pop(node_id))

    @precondition(lambda self: self.model.state.is_terminal)
    @rule(data=st.data())
    def running_node_notices_the_stop(self, data: st.DataObject) -> None:
        running = [node_id for node_id in self.nodes_in("running") if node_id in self.claims]
        if not running:
            return
        node_id = data.draw(st.sampled_from(running))
        claimed = self.claims.pop(node_id)
        stepping.record(claimed, stepping.Result(
            outcome=None, failure=NodeFailure("stopped", code="cancelled", retryable=False),
            inputs=None, settlements=None, reports=(None, [])))
        assert self.model.stop(node_id)

    @rule(roll=st.integers(0, 7))
    def deadline_passes(self, roll: int) -> None:
        if roll:  # rarely: a deadline ends everything, and the interesting paths come before it
            return
        with connection.cursor() as cursor:
            cursor.execute("UPDATE executions_execution SET deadline_at = now() - interval '1 second', "
                           "timeout_s = 1 WHERE id = %s", [self.execution.pk])
        # Every earlier example's execution was stopped in `teardown`: the count is this one's.
        failed = reaper.enforce_deadlines()
        assert failed == int(self.model.pass_deadline())

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def the_engine_and_the_model_agree(self) -> None:
        if not hasattr(self, "model"):
            return
        execution = self.fresh()
        assert execution.state == self.model.state.value
        assert dict(NodeRun.objects.filter(execution=execution).values_list("node_id", "state")) == {
            node_id: node.state.value for node_id, node in self.model.nodes.items()}

    @invariant()
    def history_and_events_are_valid(self) -> None:
        if not hasattr(self, "model"):
            return
        transitions = list(self.execution.transitions.order_by("id").values_list("from_state", "to_state"))
        assert transitions[0][0] is None
        for before, after in transitions[1:]:
            assert can_transition(ExecutionState(before), ExecutionState(after))
        for (_, to_state), (from_state, _) in pairwise(transitions):
            assert to_state == from_state
        seqs = list(ExecutionEvent.objects.filter(execution=self.execution).order_by("seq")
                    .values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))
        assert self.fresh().event_seq == len(seqs)


@pytest.mark.django_db(transaction=True)
def test_the_engine_follows_the_reference_model(personas, monkeypatch, settings) -> None:
    settings.EXECUTION_LEASE_S = 3600  # leases lapse only when a rule says so
    settings.EXECUTION_LOST_LEASE_RETRIES = 1
    sent: list[Any] = []
    monkeypatch.setattr(dispatching, "send_after_commit", lambda execution_id, item: sent.append(item))
    monkeypatch.setattr(reaper, "send_after_commit", lambda execution_id, item: sent.append(item))
    EngineMachine.personas = personas
    run_state_machine(EngineMachine)


def run_state_machine(machine: type[RuleBasedStateMachine]) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    thorough = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
    run_state_machine_as_test(machine, settings=settings(
        max_examples=200 if thorough else 15, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
