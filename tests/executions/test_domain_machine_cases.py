"""The reference model case by case, with exact states and history (no database).

`test_domain_machine.py` checks invariants over random runs (known states, terminal states
stay terminal); these cases pin down what the model decides — retries, lost leases, each
error policy, inputs, deadlines, reruns — so a model that broke one rule while keeping the
invariants would fail here (found by mutation testing, docs/testing.md).
"""

from __future__ import annotations

from executions.domain import Command, ErrorPolicy, ExecutionState, NodeRunState
from executions.domain.machine import ExecutionModel, chain_of, summary

E = ExecutionState
N = NodeRunState


def states(model: ExecutionModel) -> dict[str, str]:
    return summary(model)["nodes"]


def moves(model: ExecutionModel) -> list[tuple[str, str, str]]:
    return [(record.from_state, record.to_state, record.actor) for record in model.history]


def run(model: ExecutionModel, node_id: str) -> None:
    assert model.claim(node_id)
    assert model.succeed(node_id)


def test_a_chain_runs_node_by_node_and_completes() -> None:
    model = ExecutionModel(predecessors=chain_of(["a", "b", "c"])).command(Command.START)
    assert summary(model) == {"state": "running", "nodes": {"a": "queued", "b": "pending", "c": "pending"}}
    assert model.claim("a") is True
    assert (model.nodes["a"].state, model.nodes["a"].attempt) == (N.RUNNING, 1)
    assert model.claim("a") is False  # claimed once
    assert model.succeed("a") is True
    assert model.succeed("a") is False  # recorded once
    assert states(model) == {"a": "completed", "b": "queued", "c": "pending"}
    run(model, "b")
    run(model, "c")
    assert summary(model) == {"state": "completed", "nodes": {"a": "completed", "b": "completed", "c": "completed"}}
    assert moves(model) == [("pending", "running", "operator"), ("running", "completed", "engine")]


def test_nothing_is_claimed_while_paused_and_claims_resume_after() -> None:
    model = ExecutionModel(predecessors=chain_of(["a"])).command(Command.START).command(Command.PAUSE)
    assert model.claim("a") is False
    assert model.nodes["a"].state is N.QUEUED and model.nodes["a"].attempt == 0
    model.command(Command.RESUME)
    assert model.claim("a") is True


def test_a_retryable_failure_is_queued_again_until_the_attempts_run_out() -> None:
    model = ExecutionModel(predecessors=chain_of(["a", "b"]), max_attempts={"a": 2}).command(Command.START)
    assert model.claim("a") and model.fail("a", retryable=True)
    assert summary(model) == {"state": "running", "nodes": {"a": "queued", "b": "pending"}}
    assert model.claim("a") and model.fail("a", retryable=True)
    assert model.nodes["a"].attempt == 2
    assert summary(model) == {"state": "failed", "nodes": {"a": "failed", "b": "skipped"}}
    assert model.nodes["b"].skip_reason == "execution failed"
    assert moves(model)[-1] == ("running", "failed", "engine")
    assert model.fail("a") is False  # not running any more


def test_a_failure_that_is_not_retryable_fails_at_once() -> None:
    model = ExecutionModel(predecessors=chain_of(["a"]), max_attempts={"a": 3}).command(Command.START)
    assert model.claim("a") and model.fail("a", retryable=False)
    assert summary(model) == {"state": "failed", "nodes": {"a": "failed"}}
    assert model.nodes["a"].attempt == 1


def test_a_lost_lease_is_queued_again_with_one_more_attempt_then_fails() -> None:
    model = ExecutionModel(predecessors=chain_of(["a"]), lost_lease_retries=1).command(Command.START)
    assert model.lose_lease("a") is False  # queued, nobody holds it
    assert model.claim("a") and model.lose_lease("a")
    node = model.nodes["a"]
    assert (node.state, node.lost_leases, node.max_attempts, node.attempt) == (N.QUEUED, 1, 2, 1)
    assert model.claim("a") and model.lose_lease("a")
    assert (node.state, node.lost_leases, node.max_attempts) == (N.FAILED, 1, 2)
    assert model.state is E.FAILED


def test_a_lost_lease_after_the_end_skips_the_node() -> None:
    model = ExecutionModel(predecessors=chain_of(["a"])).command(Command.START)
    assert model.claim("a")
    model.command(Command.CANCEL)
    assert model.lose_lease("a") is True
    assert (model.nodes["a"].state, model.nodes["a"].skip_reason) == (N.SKIPPED, "execution stopped")


def test_stop_applies_only_to_a_running_node_of_a_finished_execution() -> None:
    model = ExecutionModel(predecessors={"a": [], "b": []}).command(Command.START)
    assert model.claim("a")
    assert model.stop("a") is False  # the execution still runs
    model.command(Command.CANCEL, reason="enough")
    assert states(model) == {"a": "running", "b": "skipped"}
    assert model.nodes["b"].skip_reason == "cancelled"
    assert model.stop("b") is False
    assert model.stop("a") is True
    assert (model.nodes["a"].state, model.nodes["a"].skip_reason) == (N.SKIPPED, "execution stopped")
    assert moves(model)[-1] == ("running", "cancelled", "operator")


def test_a_result_after_the_end_is_recorded_and_changes_nothing_else() -> None:
    model = ExecutionModel(predecessors=chain_of(["a", "b"])).command(Command.START)
    assert model.claim("a")
    model.command(Command.CANCEL)
    assert model.succeed("a") is True
    assert summary(model) == {"state": "cancelled", "nodes": {"a": "completed", "b": "skipped"}}
    other = ExecutionModel(predecessors=chain_of(["a", "b"])).command(Command.START)
    assert other.claim("a")
    other.command(Command.CANCEL)
    assert other.fail("a", retryable=True) is True
    assert summary(other) == {"state": "cancelled", "nodes": {"a": "failed", "b": "skipped"}}


def test_policy_continue_skips_the_descendants_and_runs_the_rest() -> None:
    graph = {"a": [], "b": ["a"], "c": ["b"], "x": []}
    model = ExecutionModel(predecessors=graph, policy=ErrorPolicy.CONTINUE).command(Command.START)
    assert model.claim("a") and model.fail("a")
    assert summary(model) == {"state": "running",
                              "nodes": {"a": "failed", "b": "skipped", "c": "skipped", "x": "queued"}}
    assert model.nodes["b"].skip_reason == model.nodes["c"].skip_reason == "upstream failed"
    run(model, "x")
    assert model.state is E.FAILED
    assert moves(model)[-1] == ("running", "failed", "engine")


def test_policy_pause_holds_the_failure_until_an_operator_acts() -> None:
    model = ExecutionModel(predecessors=chain_of(["a", "b"]), policy=ErrorPolicy.PAUSE).command(Command.START)
    assert model.claim("a") and model.fail("a")
    assert summary(model) == {"state": "paused", "nodes": {"a": "failed", "b": "pending"}}
    assert moves(model)[-1] == ("running", "paused", "engine")
    model.command(Command.RETRY_NODE, "a")
    assert (model.nodes["a"].state, model.nodes["a"].attempt) == (N.QUEUED, 0)
    model.command(Command.RESUME)
    assert model.state is E.RUNNING
    run(model, "a")
    run(model, "b")
    assert model.state is E.COMPLETED


def test_resuming_a_held_failure_gives_up_its_branch() -> None:
    model = ExecutionModel(predecessors=chain_of(["a", "b"]), policy=ErrorPolicy.PAUSE).command(Command.START)
    assert model.claim("a") and model.fail("a")
    model.command(Command.RESUME)
    assert summary(model) == {"state": "failed", "nodes": {"a": "failed", "b": "skipped"}}


def test_skipping_a_held_failure_lets_its_successors_run() -> None:
    model = ExecutionModel(predecessors=chain_of(["a", "b"]), policy=ErrorPolicy.PAUSE).command(Command.START)
    assert model.claim("a") and model.fail("a")
    model.command(Command.SKIP_NODE, "a")
    assert states(model) == {"a": "skipped", "b": "queued"}
    assert model.nodes["a"].skip_reason == "skipped by an operator"
    model.command(Command.RESUME)
    run(model, "b")
    assert model.state is E.COMPLETED


def test_an_interactive_input_waits_for_its_answer() -> None:
    model = ExecutionModel(predecessors={"ask": [], "use": ["ask"]}, interactive=frozenset({"ask"}))
    model.command(Command.START)
    assert summary(model) == {"state": "waiting_for_input", "nodes": {"ask": "pending", "use": "pending"}}
    assert model.nodes["ask"].awaiting_input is True
    model.command(Command.PROVIDE_INPUT, "ask")
    assert summary(model) == {"state": "running", "nodes": {"ask": "queued", "use": "pending"}}
    assert model.nodes["ask"].awaiting_input is False
    assert moves(model) == [("pending", "running", "operator"), ("running", "waiting_for_input", "engine"),
                            ("waiting_for_input", "running", "operator")]
    run(model, "ask")
    run(model, "use")
    assert model.state is E.COMPLETED


def test_an_answer_carries_over_to_a_rerun() -> None:
    model = ExecutionModel(predecessors={"ask": [], "use": ["ask"]}, interactive=frozenset({"ask"}))
    model.command(Command.START).command(Command.PROVIDE_INPUT, "ask").command(Command.CANCEL)
    assert summary(model) == {"state": "cancelled", "nodes": {"ask": "skipped", "use": "skipped"}}
    again = model.command(Command.RERUN)
    # Nobody is asked twice: the rerun runs the answered input at once.
    assert summary(again) == {"state": "running", "nodes": {"ask": "queued", "use": "pending"}}
    assert again.nodes["ask"].awaiting_input is False
    unanswered = ExecutionModel(predecessors={"ask": []}, interactive=frozenset({"ask"}))
    assert unanswered.command(Command.START).command(Command.CANCEL).command(Command.RERUN).state \
        is E.WAITING_FOR_INPUT


def test_the_deadline_fails_an_active_execution_once() -> None:
    model = ExecutionModel(predecessors=chain_of(["a", "b"])).command(Command.START)
    assert model.pass_deadline() is True
    assert summary(model) == {"state": "failed", "nodes": {"a": "skipped", "b": "skipped"}}
    assert model.nodes["a"].skip_reason == "execution timed out"
    assert moves(model)[-1] == ("running", "failed", "reaper")
    assert model.pass_deadline() is False
    assert ExecutionModel(predecessors=chain_of(["a"])).pass_deadline() is False  # never started


def test_a_rerun_reuses_completed_nodes_and_runs_the_rest() -> None:
    model = ExecutionModel(predecessors=chain_of(["a", "b", "c"]), max_attempts={"b": 1}).command(Command.START)
    run(model, "a")
    assert model.claim("b") and model.fail("b")
    assert summary(model) == {"state": "failed", "nodes": {"a": "completed", "b": "failed", "c": "skipped"}}
    again = model.command(Command.RERUN)
    assert again is not model
    assert summary(again) == {"state": "running", "nodes": {"a": "completed", "b": "queued", "c": "pending"}}
    assert moves(again) == [("pending", "running", "operator")]
    run(again, "b")
    run(again, "c")
    assert again.state is E.COMPLETED
    assert model.state is E.FAILED  # the first execution is left as it was


def test_copy_is_deep_and_chain_of_links_each_node_to_the_previous() -> None:
    assert chain_of(["a", "b", "c"]) == {"a": [], "b": ["a"], "c": ["b"]}
    assert chain_of([]) == {}
    model = ExecutionModel(predecessors=chain_of(["a"])).command(Command.START)
    twin = model.copy()
    assert twin.claim("a")
    assert (model.nodes["a"].state, twin.nodes["a"].state) == (N.QUEUED, N.RUNNING)
