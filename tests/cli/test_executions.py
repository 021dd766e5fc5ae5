"""`symphony run --follow` and the executions commands against a live daphne and a real worker."""

from __future__ import annotations

import json

import httpx
import pytest

from audit.models import AuditEntry
from executions.demo import count_down, greet_a_guest, parse_an_order
from executions.models import Execution, ExecutionTransition
from tests.executions.conftest import store, wait_for, wait_node

pytestmark = [pytest.mark.usefixtures("close_stray_connections")]


def api_answer(cli, path: str):
    return httpx.get(f"{cli.url}/api/v1{path}", headers={"Authorization": f"Token {cli.token}"}).json()


def test_run_follow_watches_a_demo_workflow_complete(engine, cli_as) -> None:
    store(engine, greet_a_guest())
    operator = cli_as(engine.users["operator"])
    result = operator("run", "Greet a guest (offline)", "--input", "name=Ada", "--follow")
    execution = Execution.objects.get()
    assert result.exit_code == 0, result.stderr
    assert execution.state == "completed"
    assert result.stdout == (f"Execution {execution.pk} completed.\n"
                             f"outputs {json.dumps(execution.outputs, sort_keys=True, ensure_ascii=False)}\n")
    lines = result.stderr.splitlines()
    assert lines[0] == f"Following execution {execution.pk} of Greet a guest (offline) v1.0.0 (7 nodes)."
    # One line per settled node, counted up to all seven, whatever order parallel nodes took.
    settled = [line for line in lines if line.startswith("[")]
    assert [line.split("]")[0] + "]" for line in settled] == [f"[{count}/7]" for count in range(1, 8)]
    assert sorted(line.split("] ")[1] for line in settled) == sorted([
        "compose completed", "greeting completed", "long_name completed", "name completed", "note completed",
        "reply completed", "shorten skipped (branch not taken)"])
    assert "log note info: Greeted Ada" in lines
    assert lines[-1] == "execution completed (every node settled)"

    as_json = operator("executions", "show", str(execution.pk), "--json")
    assert json.loads(as_json.stdout) == api_answer(operator, f"/executions/{execution.pk}/")
    listed = operator("executions", "list", "--json")
    assert [row["id"] for row in json.loads(listed.stdout)] == [str(execution.pk)]
    table = operator("executions", "list").stdout.splitlines()
    assert table[0].split() == ["id", "state", "progress", "started", "workflow"]
    assert table[1].split()[:3] == [str(execution.pk), "completed", "100%"]


def test_run_without_follow_and_a_failing_run_followed(engine, cli_as) -> None:
    store(engine, parse_an_order())
    operator = cli_as(engine.users["operator"])
    started = operator("run", "Parse an order (offline)", "--input", "order=not json")
    execution = Execution.objects.get()
    assert (started.exit_code, started.stdout) == (
        0, f"Started execution {execution.pk} of Parse an order (offline) v1.0.0: running.\n")
    followed = operator("executions", "show", str(execution.pk), "--follow")
    execution.refresh_from_db()
    assert execution.state == "failed"
    assert followed.exit_code == 5
    assert f"state      failed ({execution.state_reason})" in followed.stdout.splitlines()

    watched = operator("run", "Parse an order (offline)", "--input", "order=[1", "--follow")
    second = Execution.objects.exclude(pk=execution.pk).get()
    assert (watched.exit_code, second.state) == (5, "failed")
    assert watched.stdout == (f"Execution {second.pk} failed.\n"
                              f"error {second.error['code']}: {second.error['message']}\n")
    assert "[2/4] parse failed (invalid_input)" in watched.stderr.splitlines()
    assert watched.stderr.splitlines()[-1] == f"execution failed ({second.state_reason})"
    second.delete()

    rerun = operator("executions", "retry", str(execution.pk))
    again = Execution.objects.exclude(pk=execution.pk).get()
    # The answer's state is the one the API saw: a worker may already have failed the re-run
    # (the same bad input) by the time the 201 was written.
    started = f"Started execution {again.pk} (a re-run of {execution.pk}): "
    assert rerun.exit_code == 0
    assert rerun.stdout in {f"{started}running.\n", f"{started}failed.\n"}
    assert again.rerun_of_id == execution.pk


def test_pause_resume_cancel_and_a_viewer_denied(engine, cli_as) -> None:
    store(engine, count_down())
    operator = cli_as(engine.users["operator"])
    viewer = cli_as(engine.users["viewer"])
    assert operator("run", "Count down slowly (offline)", "--input", "start:=3").exit_code == 0
    execution = Execution.objects.get()
    wait_node(execution, "three", ("running",))

    transitions, audited = ExecutionTransition.objects.count(), AuditEntry.objects.count()
    denied = viewer("executions", "cancel", str(execution.pk), "--reason", "not mine")
    assert (denied.exit_code, denied.stdout) == (1, "")
    assert denied.stderr.splitlines()[0].endswith("[permission_denied, HTTP 403]")
    assert denied.stderr.splitlines()[1:] == ["  - required_role=operator, your_role=viewer"]
    execution.refresh_from_db()
    assert execution.state == "running"
    assert (ExecutionTransition.objects.count(), AuditEntry.objects.count()) == (transitions, audited)

    paused = operator("executions", "pause", str(execution.pk))
    assert (paused.exit_code, paused.stdout) == (0, f"Execution {execution.pk} is paused.\n")
    again = operator("executions", "pause", str(execution.pk))
    assert again.exit_code == 1
    assert again.stderr == ("error: The execution is paused; pause is not allowed now. Available commands: resume, "
                            "cancel, skip_node. [command_not_allowed, HTTP 409]\n")
    assert operator("executions", "resume", str(execution.pk)).stdout == f"Execution {execution.pk} is running.\n"
    cancelled = operator("executions", "cancel", str(execution.pk), "--reason", "enough", "--json")
    assert cancelled.exit_code == 0
    assert json.loads(cancelled.stdout)["state"] == "cancelled"
    assert wait_for(execution).state == "cancelled"
    last = execution.transitions.order_by("id").last()
    assert (last.to_state, last.reason, last.actor_name) == ("cancelled", "enough", "alpha-operator")
