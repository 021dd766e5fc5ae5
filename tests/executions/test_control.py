"""Control commands and error policies through a real worker: pause/resume, cancel mid-run,
stop/continue/pause, retry and skip after a failure, retries with backoff, provide_input, re-run,
and timeouts."""

from __future__ import annotations

import time
from typing import Any

import pytest

from audit.models import AuditEntry
from executions.engine import reaper
from executions.models import Execution, ExecutionEvent, NodeRun
from symphony_site.api.errors import Conflict, ValidationFailed
from workflows import samples as s

from .conftest import (
    command,
    document,
    event_types,
    history,
    http_node,
    node_states,
    run,
    runs,
    start,
    store,
    wait_for,
    wait_node,
    wait_until,
)


def audit_of(execution: Execution) -> list[tuple[str, str, str]]:
    return list(AuditEntry.objects.filter(execution_id=execution.pk).order_by("sequence")
                .values_list("event_type", "actor_name", "reason"))


def slow_chain(milliseconds: int = 1500, **settings: Any) -> dict[str, Any]:
    return document("Slow chain", [
        s.node_input("x", "string"),
        s.node_operator("slow", "delay", {"milliseconds": milliseconds}),
        s.node_operator("after", "template", {"template": "after {{ inputs.variables }}"}),
        s.node_output("out", "string"),
    ], [
        s.data_edge("e1", "x", "value", "slow", "value"),
        s.data_edge("e2", "slow", "value", "after", "variables"),
        s.data_edge("e3", "after", "text", "out", "value"),
    ], **settings)


def test_pause_lets_running_nodes_finish_and_dispatches_nothing_until_resume(engine) -> None:
    execution = start(engine, store(engine, slow_chain(1200)), {"x": "y"})
    wait_node(execution, "slow", ("running",))
    paused = command(engine, execution, "pause", reason="looking at it")
    assert paused.state == "paused" and paused.state_reason == "looking at it"
    wait_node(execution, "slow", ("completed",))
    time.sleep(0.5)  # a dispatched successor would have started by now
    assert node_states(execution)["after"] == "queued"
    assert ("node.started", "after") not in event_types(execution)
    resumed = command(engine, execution, "resume")
    assert resumed.state == "running"
    done = wait_for(execution)
    assert (done.state, done.outputs) == ("completed", {"out": "after y"})
    assert history(done)[1:] == [("pending", "running", "alpha-operator"), ("running", "paused", "alpha-operator"),
                                 ("paused", "running", "alpha-operator"), ("running", "completed", "engine")]
    assert audit_of(done) == [("execution.started", "alpha-operator", "started"),
                              ("execution.paused", "alpha-operator", "looking at it"),
                              ("execution.resumed", "alpha-operator", "resumed by alpha-operator"),
                              ("execution.completed", "engine", "every node settled")]


def test_cancel_mid_run_skips_what_waits_and_stops_what_runs(engine) -> None:
    built = document("Cancel me", [
        s.node_input("x", "string"),
        s.node_operator("slow", "delay", {"milliseconds": 20_000}),
        s.node_operator("after", "template", {"template": "never"}),
        s.node_output("out", "string"),
    ], [s.data_edge("e1", "x", "value", "slow", "value"), s.control_edge("e2", "slow", "after"),
        s.data_edge("e3", "after", "text", "out", "value")])
    execution = start(engine, store(engine, built), {"x": "y"})
    wait_node(execution, "slow", ("running",))
    cancelled = command(engine, execution, "cancel", reason="wrong input")
    assert cancelled.state == "cancelled" and cancelled.finished_at is not None
    assert node_states(cancelled) == {"x": "completed", "slow": "running", "after": "skipped", "out": "skipped"}
    stopped = wait_node(execution, "slow", ("skipped",), timeout=10)
    assert stopped.skip_reason == "execution stopped"
    assert stopped.error["code"] == "cancelled"
    assert runs(execution)["after"].skip_reason == "cancelled"
    assert ("node.started", "after") not in event_types(execution)
    assert audit_of(execution)[-1] == ("execution.cancelled", "alpha-operator", "wrong input")
    with pytest.raises(Conflict) as refused:
        command(engine, execution, "resume")
    assert refused.value.details == {"state": "cancelled", "available_commands": ["rerun"]}


def failing_and_independent(policy: str, good_ms: int = 400) -> dict[str, Any]:
    """`bad` always fails (not retryable); `good` (a delay of `good_ms`) is independent;
    `after_bad` needs `bad`."""
    return document("Policy " + policy, [
        s.node_input("x", "string"),
        s.node_operator("bad", "template", {"template": "{{ inputs.variables.missing.deeper }}"}),
        s.node_operator("after_bad", "template", {"template": "after {{ inputs.variables }}"}),
        s.node_operator("good", "delay", {"milliseconds": good_ms}),
        s.node_output("bad_out", "string"),
        s.node_output("good_out"),
    ], [
        s.data_edge("e1", "x", "value", "bad", "variables"),
        s.data_edge("e2", "bad", "text", "after_bad", "variables"),
        s.data_edge("e3", "after_bad", "text", "bad_out", "value"),
        s.data_edge("e4", "x", "value", "good", "value"),
        s.data_edge("e5", "good", "value", "good_out", "value"),
    ], error_policy=policy)


def test_policy_stop_fails_the_execution_and_skips_what_is_left(engine) -> None:
    # `good` waits a minute (within its node timeout), so it is queued or running, never completed,
    # when `bad` fails, however loaded the machine: the stop must skip it or stop it.
    execution = run(engine, failing_and_independent("stop", good_ms=60_000), {"x": "y"})
    assert execution.state == "failed"
    assert execution.error["code"] == "node_failed" and execution.error["node_id"] == "bad"
    assert execution.error["node_error"] == "expression_failed"
    assert execution.outputs == {}
    states = node_states(execution)
    assert states["bad"] == "failed"
    assert states["after_bad"] == states["bad_out"] == states["good_out"] == "skipped"
    assert runs(execution)["after_bad"].skip_reason == "execution stopped"
    # A running `good` is stopped by its worker (it polls the execution's state); a queued one
    # was skipped by the stop itself. Either way it never completes into an output.
    good = wait_node(execution, "good", ("skipped",))
    assert good.skip_reason == "execution stopped"
    assert ("node.completed", "good") not in event_types(execution)
    execution.refresh_from_db()
    assert execution.outputs == {}


def test_policy_continue_runs_independent_branches_and_ends_failed_with_outputs(engine) -> None:
    execution = run(engine, failing_and_independent("continue"), {"x": "y"})
    assert execution.state == "failed"
    assert execution.outputs == {"good_out": "y"}
    assert execution.error["failed_nodes"] == ["bad"]
    done = runs(execution)
    assert (done["after_bad"].skip_reason, done["bad_out"].skip_reason) == ("upstream failed", "upstream skipped")
    assert done["good"].state == "completed"


def flaky(http_server: Any, key: str, times: int, **settings: Any) -> dict[str, Any]:
    return document("Flaky " + key, [
        s.node_input("x", "string"),
        http_node("call", http_server.url(f"/fail/{key}?times={times}")),
        s.node_operator("read", "select", {"path": "ok", "default": None}),
        s.node_output("out"),
    ], [
        s.control_edge("e1", "x", "call"),
        s.data_edge("e2", "call", "body", "read", "value"),
        s.data_edge("e3", "read", "value", "out", "value"),
    ], **settings)


def test_policy_pause_then_retry_node_and_resume(engine, http_server) -> None:
    execution = run(engine, flaky(http_server, "pause-retry", 1, error_policy="pause"), {"x": "y"},
                    until=("paused",))
    assert execution.state_reason.startswith("node call failed: ")
    call = runs(execution)["call"]
    assert (call.state, call.error["code"], call.edges_settled) == ("failed", "http_error", False)
    assert node_states(execution)["read"] == "pending"
    assert command(engine, execution, "retry_node", node_id="call", reason="server fixed").state == "paused"
    assert node_states(execution)["call"] == "queued"
    command(engine, execution, "resume")
    done = wait_for(execution)
    assert (done.state, done.outputs) == ("completed", {"out": True})
    assert runs(done)["call"].attempt == 1  # attempts were reset
    assert [entry[0] for entry in audit_of(done)] == [
        "execution.started", "execution.paused", "execution.node_retried", "execution.resumed",
        "execution.completed"]
    assert audit_of(done)[1][1] == "engine"


def test_policy_pause_then_skip_node_with_a_substitute_output(engine, http_server) -> None:
    execution = run(engine, flaky(http_server, "pause-skip", 99, error_policy="pause"), {"x": "y"},
                    until=("paused",))
    with pytest.raises(ValidationFailed):
        command(engine, execution, "skip_node", node_id="call", output={"nonsense": 1})
    assert node_states(execution)["call"] == "failed"  # the refused command changed nothing
    command(engine, execution, "skip_node", node_id="call",
            output={"status": 200, "headers": {}, "body": {"ok": "substitute"}})
    skipped = runs(execution)["call"]
    assert (skipped.state, skipped.skip_reason) == ("skipped", "skipped by alpha-operator")
    command(engine, execution, "resume")
    done = wait_for(execution)
    assert (done.state, done.outputs) == ("completed", {"out": "substitute"})


def test_resume_without_resolving_a_held_failure_gives_up_that_branch(engine, http_server) -> None:
    execution = run(engine, flaky(http_server, "give-up", 99, error_policy="pause"), {"x": "y"},
                    until=("paused",))
    command(engine, execution, "resume")
    done = wait_for(execution)
    assert done.state == "failed"
    assert runs(done)["read"].skip_reason == "upstream failed"


def test_retries_back_off_and_then_succeed(engine, http_server) -> None:
    built = flaky(http_server, "backoff", 2)
    built["nodes"][1]["retry"] = {"max_attempts": 3, "delay_ms": 100, "backoff_multiplier": 2.0}
    execution = run(engine, built, {"x": "y"})
    assert (execution.state, execution.outputs) == ("completed", {"out": True})
    assert runs(execution)["call"].attempt == 3
    retrying = [event.data for event in ExecutionEvent.objects.filter(execution=execution, type="node.retrying")
                .order_by("seq")]
    assert [(data["attempt"], data["delay_s"], data["error"]["code"]) for data in retrying] == [
        (1, 0.1, "http_error"), (2, 0.2, "http_error")]
    assert http_server.failures["backoff"] == 3


def test_a_long_backoff_waits_in_the_database_for_the_reaper(engine, http_server) -> None:
    built = flaky(http_server, "long-backoff", 1)
    built["nodes"][1]["retry"] = {"max_attempts": 2, "delay_ms": 1500, "backoff_multiplier": 1.0}
    execution = start(engine, store(engine, built), {"x": "y"})
    waiting = wait_until(lambda: NodeRun.objects.filter(execution=execution, node_id="call", state="queued",
                                                        attempt=1).first(), what="the retry to be queued")
    assert waiting.dispatched_at is None and waiting.due_at is not None  # no broker countdown
    deadline = time.monotonic() + 20
    while Execution.objects.get(pk=execution.pk).state == "running" and time.monotonic() < deadline:
        reaper.reap()
        time.sleep(0.1)
    done = Execution.objects.get(pk=execution.pk)
    assert (done.state, runs(done)["call"].attempt) == ("completed", 2)
    started = [event.at for event in ExecutionEvent.objects.filter(execution=execution, node_id="call",
                                                                     type__in=["node.retrying", "node.started"]).order_by("seq")]
    assert (started[-1] - started[-2]).total_seconds() >= 1.4  # not before its due time


def test_provide_input_answers_an_interactive_input(engine) -> None:
    built = document("Ask", [
        s.node_input("topic", "string", interactive=True, prompt="Which topic?"),
        s.node_input("fixed", "string"),
        s.node_operator("write", "template", {"template": "Topic: {{ inputs.variables }}"}),
        s.node_output("note", "string"),
        s.node_output("echo", "string"),
    ], [
        s.data_edge("e1", "topic", "value", "write", "variables"),
        s.data_edge("e2", "write", "text", "note", "value"),
        s.data_edge("e3", "fixed", "value", "echo", "value"),
    ])
    execution = run(engine, built, {"fixed": "given"}, until=("waiting_for_input",))
    topic = runs(execution)["topic"]
    assert (topic.state, topic.awaiting_input, topic.message) == ("pending", True, "Which topic?")
    with pytest.raises(ValidationFailed):
        command(engine, execution, "provide_input", node_id="topic", value=42)
    with pytest.raises(Conflict) as refused:
        command(engine, execution, "provide_input", node_id="fixed", value="x")
    assert refused.value.details["node_id"] == "fixed"
    assert refused.value.details["available_commands"] == ["cancel", "skip_node", "provide_input"]
    answered = command(engine, execution, "provide_input", node_id="topic", value="bees")
    assert answered.state == "running" and answered.inputs == {"fixed": "given", "topic": "bees"}
    done = wait_for(execution)
    assert (done.state, done.outputs) == ("completed", {"note": "Topic: bees", "echo": "given"})
    provided = AuditEntry.objects.get(execution_id=execution.pk, event_type="execution.input_provided")
    assert provided.details == {"command": "provide_input", "node_id": "topic", "value_type": "str"}
    assert "bees" not in str(provided.details)


def test_rerun_reuses_completed_outputs_and_runs_the_rest(engine, http_server) -> None:
    built = document("Rerun", [
        s.node_input("x", "string"),
        s.node_operator("first", "template", {"template": "first {{ inputs.variables }}"}),
        http_node("call", http_server.url("/fail/rerun?times=1")),
        s.node_operator("join_text", "template", {"template": "{{ inputs.variables }}"}),
        s.node_output("out"),
    ], [
        s.data_edge("e1", "x", "value", "first", "variables"),
        s.control_edge("e2", "first", "call"),
        s.data_edge("e3", "first", "text", "join_text", "variables"),
        s.control_edge("e4", "call", "join_text"),
        s.data_edge("e5", "join_text", "text", "out", "value"),
    ])
    original = run(engine, built, {"x": "y"})
    assert original.state == "failed"
    again = command(engine, original, "rerun", reason="server is back")
    assert again.pk != original.pk and again.trigger == "rerun" and again.rerun_of_id == original.pk
    done = wait_for(again)
    assert (done.state, done.outputs) == ("completed", {"out": "first y"})
    reran = runs(done)
    assert (reran["x"].reused_from_id, reran["first"].reused_from_id) == (original.pk, original.pk)
    assert reran["first"].output == {"text": "first y"}
    assert reran["call"].reused_from_id is None and reran["call"].attempt == 1
    assert not ExecutionEvent.objects.filter(execution=done, node_id="first", type="node.started").exists()
    assert Execution.objects.get(pk=original.pk).state == "failed"  # the original is untouched
    assert audit_of(original)[-1] == ("execution.rerun", "alpha-operator", "server is back")
    with pytest.raises(Conflict):
        command(engine, done, "rerun")


def test_the_reaper_fails_an_execution_past_its_deadline(engine) -> None:
    execution = start(engine, store(engine, slow_chain(300, timeout_s=2)), {"x": "y"})
    wait_node(execution, "slow", ("running",))
    command(engine, execution, "pause")
    deadline = time.monotonic() + 15
    while Execution.objects.get(pk=execution.pk).state == "paused" and time.monotonic() < deadline:
        reaper.reap()
        time.sleep(0.1)
    done = Execution.objects.get(pk=execution.pk)
    assert done.state == "failed"
    assert done.error == {"code": "execution_timeout", "message": "The execution ran longer than its timeout of 2 s.",
                          "timeout_s": 2.0}
    assert node_states(done)["after"] == "skipped"
    assert audit_of(done)[-1][:2] == ("execution.failed", "reaper")


def test_a_node_longer_than_its_timeout_fails_with_timeout(engine) -> None:
    built = slow_chain(3000)
    built["nodes"][1]["timeout_s"] = 0.5
    execution = run(engine, built, {"x": "y"})
    assert execution.state == "failed"
    assert runs(execution)["slow"].error["code"] == "timeout"
