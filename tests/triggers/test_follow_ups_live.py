"""Runs that follow runs and workflow-level retries, with a real worker: B starts with A's
outputs when A completes; a loop of rules is refused; a chain that got past the check stops
at its depth limit; a failed execution is retried, reusing completed outputs, each attempt
linked to the one before, until the attempts run out."""

from __future__ import annotations

import time
from typing import Any

import pytest

from executions.models import Execution, FollowUp, NodeRun, RunAfter, TriggeredBy
from executions.services import execution_start
from executions.triggers.services import run_after
from symphony_site.actors import Actor
from symphony_site.api.errors import Conflict
from workflows import samples as s

from .conftest import ORIGIN, editor, store

TERMINAL = ("completed", "failed", "cancelled")


def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def shouting(name: str) -> dict[str, Any]:
    """input `text` → template → output `loud`."""
    return s.workflow(name, [
        s.node_input("text", "string"),
        s.node_operator("shout", "template", {"template": "{{ inputs.variables | upper }}!"}),
        s.node_output("loud", "string"),
    ], [s.data_edge("e1", "text", "value", "shout", "variables"), s.data_edge("e2", "shout", "text", "loud", "value")])


def parsing(name: str, **settings: Any) -> dict[str, Any]:
    """input `text` → template (completes) → json_parse (fails on non-JSON) → output."""
    built = s.workflow(name, [
        s.node_input("text", "string"),
        s.node_operator("wrap", "template", {"template": "[{{ inputs.variables }}]"}),
        s.node_operator("parse", "json_parse", {}),
        s.node_output("parsed", "json"),
    ], [s.data_edge("e1", "text", "value", "wrap", "variables"), s.data_edge("e2", "wrap", "text", "parse", "text"),
        s.data_edge("e3", "parse", "value", "parsed", "value")])
    built["settings"] = settings
    return built


@pytest.fixture
def worked(celery_worker: str, transactional_db: Any, personas: Any) -> Any:
    return personas


def test_b_runs_after_a_completes_with_a_s_outputs_as_inputs(worked) -> None:
    personas = worked
    first, second = store(personas, shouting("A")), store(personas, shouting("B"))
    rule = run_after.run_after_create(actor=editor(personas), origin=ORIGIN, downstream=second, upstream=first,
                                      input_mapping={"text": "loud"})
    upstream = execution_start(actor=Actor.of(personas.users["operator"]), origin=ORIGIN, workflow=first,
                               inputs={"text": "hi"})
    follow = wait_until(lambda: Execution.objects.filter(workflow=second, state__in=TERMINAL).first(), 30,
                        "B to run")
    assert (follow.state, follow.trigger, follow.inputs, follow.outputs) == (
        "completed", "run_after", {"text": "HI!"}, {"loud": "HI!!"})
    assert TriggeredBy.objects.filter(execution=follow).values_list("rule_id", "upstream_id", "chain_depth").get() == (
        rule.pk, upstream.pk, 1)
    assert FollowUp.objects.filter(source=upstream).values_list("kind", "state", "result_id").get() == (
        "run_after", "done", follow.pk)


def test_a_loop_of_rules_is_refused_and_a_chain_past_the_check_stops_at_its_depth(worked, settings) -> None:
    personas = worked
    a, b, c = (store(personas, shouting(name)) for name in "ABC")
    run_after.run_after_create(actor=editor(personas), origin=ORIGIN, downstream=b, upstream=a,
                               input_mapping={"text": "loud"})
    run_after.run_after_create(actor=editor(personas), origin=ORIGIN, downstream=c, upstream=b,
                               input_mapping={"text": "loud"})
    with pytest.raises(Conflict) as refused:
        run_after.run_after_create(actor=editor(personas), origin=ORIGIN, downstream=a, upstream=c)
    assert refused.value.error_code == "trigger_loop"
    assert refused.value.message == "This rule would close a loop of triggers: C → A → B → C."
    assert RunAfter.objects.count() == 2
    with pytest.raises(Conflict):
        run_after.run_after_create(actor=editor(personas), origin=ORIGIN, downstream=a, upstream=a)
    # A loop that got past the check (written straight into the table): the chain counter stops it.
    RunAfter.objects.create(team=personas.team, upstream=c, downstream=a, input_mapping={"text": "loud"},
                            created_at=a.created_at, updated_at=a.created_at)
    # The limit is the one setting the worker and this process share (the default, 10): the
    # worker acts on every follow-up, so a value changed only here would not be the one applied.
    assert settings.TRIGGER_MAX_CHAIN_DEPTH == 10
    start = execution_start(actor=Actor.of(personas.users["operator"]), origin=ORIGIN, workflow=a,
                            inputs={"text": "x"})
    stopped = wait_until(lambda: FollowUp.objects.filter(state="failed").first(), 120, "the chain to stop")
    depths = sorted(TriggeredBy.objects.values_list("chain_depth", flat=True))
    assert depths == list(range(1, 11))
    assert stopped.error == ('Not started: this would be step 11 of a chain of "run after" rules; the limit is 10 '
                             "(TRIGGER_MAX_CHAIN_DEPTH).")
    assert FollowUp.objects.filter(kind="run_after").exclude(state="done").count() == 1
    assert Execution.objects.count() == 11 and start.pk in set(Execution.objects.values_list("pk", flat=True))


def test_a_failed_execution_is_retried_reusing_outputs_until_its_attempts_run_out(worked) -> None:
    personas = worked
    workflow = store(personas, parsing("Retried", retry_workflow={"max_attempts": 3, "backoff_s": 0.2}))
    first = execution_start(actor=Actor.of(personas.users["operator"]), origin=ORIGIN, workflow=workflow,
                            inputs={"text": "not json"})
    wait_until(lambda: Execution.objects.filter(workflow=workflow, state="failed").count() == 3, 60,
               "three failed attempts")
    time.sleep(0.5)
    attempts = list(Execution.objects.filter(workflow=workflow).order_by("created_at"))
    assert attempts[0].pk == first.pk
    assert [(execution.trigger, execution.state) for execution in attempts] == [
        ("manual", "failed"), ("retry", "failed"), ("retry", "failed")]
    assert [execution.rerun_of_id for execution in attempts] == [None, attempts[0].pk, attempts[1].pk]
    assert [TriggeredBy.objects.filter(execution=execution).values_list("attempt", flat=True).first()
            for execution in attempts] == [None, 2, 3]
    # The template node's output was reused from the attempt before, never run again.
    wraps = [NodeRun.objects.get(execution=execution, node_id="wrap") for execution in attempts]
    assert [(run.state, run.reused_from_id) for run in wraps] == [
        ("completed", None), ("completed", attempts[0].pk), ("completed", attempts[1].pk)]
    retries = list(FollowUp.objects.filter(kind="retry").order_by("id").values_list("source_id", "state", "result_id"))
    assert retries == [(attempts[0].pk, "done", attempts[1].pk), (attempts[1].pk, "done", attempts[2].pk)]
