"""Every demo workflow of workflows/samples.py end to end through a real worker.

As shipped, the demos call remote models of providers team Alpha has not configured: starting
one is refused (409 `model_unavailable`, naming every such node, issue 13). A test copy of each with `local/echo`
in place of every remote model (the runtime tests' substitution) runs to the end and agrees
with the reference executor. `http_request` to api.example.com fails as it does offline.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from executions.engine.graphs import compiled
from tests.runtime.test_samples import with_echo_models
from workflows import samples

from .conftest import command, node_states, run, runs, store, wait_for, wait_until
from .oracle import assert_agrees, reference

INPUTS = {
    "linear": {"question": "Why is the sky blue?"},
    "branching": {"ticket": json.dumps({"confidence": 0.9, "subject": "refund"})},
    "parallel_join": {"document": "Short text"},
    "loop_over_list": {"articles": ["  short  ", "  The first long article about bees.  ",
                                    "The second long article, about wasps."]},
    "interactive_input": {},
}


def summarise_article() -> dict[str, Any]:
    """The loop body the demo names, stored in the team as `summarise-article`."""
    built = samples.workflow("summarise-article", [
        samples.node_input("article"),
        samples.node_operator("prompt", "template", {"template": "Summary: {{ inputs.variables[:12] }}"}),
        samples.node_model("summarise", "local/echo", {}),
        samples.node_output("summary", "string"),
    ], [
        samples.data_edge("e1", "article", "value", "prompt", "variables"),
        samples.data_edge("e2", "prompt", "text", "summarise", "prompt"),
        samples.data_edge("e3", "summarise", "text", "summary", "value"),
    ])
    return built


def test_every_demo_is_covered() -> None:
    assert [factory.__name__ for factory in samples.DEMO_WORKFLOWS] == list(INPUTS)


@pytest.mark.parametrize(("factory", "nodes"), [
    (samples.linear, ["answer"]),
    (samples.branching, ["classify", "draft"]),
    (samples.parallel_join, ["summary", "sentiment", "embedding"]),
])
def test_demos_needing_a_remote_model_are_refused_at_start_as_shipped(engine, factory, nodes) -> None:
    """Without an `openai` provider the team cannot run them: the start says so (409,
    every node named) and nothing is created or queued (issue 13)."""
    from executions.models import Execution
    from symphony_site.api.errors import Conflict

    from .conftest import start, store

    workflow = store(engine, factory())
    with pytest.raises(Conflict) as refused:
        start(engine, workflow, INPUTS[factory.__name__])
    assert refused.value.error_code == "model_unavailable"
    assert [item["node_id"] for item in refused.value.details] == nodes
    assert {item["provider"] for item in refused.value.details} <= {"openai", "anthropic"}
    assert Execution.objects.count() == 0


@pytest.mark.parametrize("factory", [samples.linear, samples.branching, samples.parallel_join],
                         ids=lambda factory: factory.__name__)
def test_demos_with_local_echo_agree_with_the_reference_executor(engine, factory) -> None:
    execution = run(engine, with_echo_models(factory()), INPUTS[factory.__name__])
    assert execution.state == "completed"
    assert_agrees(execution, reference(execution))


def test_the_loop_demo_runs_its_body_per_article(engine) -> None:
    body = store(engine, summarise_article())
    execution = run(engine, with_echo_models(samples.loop_over_list()), INPUTS["loop_over_list"])
    assert execution.state == "completed"
    assert execution.outputs == {"summaries": ["Summary: The first lo", "Summary: The second l"], "how_many": 2}
    body_graph = compiled(body.current_version_id).workflow
    assert_agrees(execution, reference(execution, resolve_workflow=lambda name: body_graph))


def test_the_loop_demo_without_its_body_fails_clearly(engine) -> None:
    execution = run(engine, samples.loop_over_list(), INPUTS["loop_over_list"])
    assert execution.state == "failed"
    assert runs(execution)["each"].error["code"] == "unknown_workflow"


def test_the_interactive_demo_waits_then_fails_offline_at_its_search(engine) -> None:
    execution = run(engine, samples.interactive_input(), {}, until=("waiting_for_input",))
    assert runs(execution)["topic"].message == "Which topic should we research?"
    assert set(node_states(execution).values()) == {"pending"}
    command(engine, execution, "provide_input", node_id="topic", value="bees")
    done = wait_for(execution)
    assert done.state == "failed"
    fetch = runs(done)["fetch"]
    # api.example.com does not resolve here: the request fails like any unreachable host.
    assert (fetch.error["code"], fetch.error["retryable"]) == ("connection_failed", True)
    assert done.error["node_id"] == "fetch"
    # `note` races the failing search (policy stop): it finished (perhaps after the failure, still
    # counted among the outputs), or it was skipped before it started.
    note = wait_until(lambda: runs(done)["note"] if runs(done)["note"].state != "running" else None,
                      what="note to settle")
    done.refresh_from_db()
    assert (note.state, done.outputs) in [("completed", {"note": "Topic: bees"}), ("skipped", {})]
    assert runs(done)["write"].output == {"text": "Topic: bees"}
