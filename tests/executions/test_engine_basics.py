"""A linear workflow through a real worker: states, outputs, events, history and audit."""

from __future__ import annotations

from audit.models import AuditEntry
from executions.models import ExecutionEvent
from workflows import samples as s

from .conftest import document, event_types, history, node_states, run, runs


def linear() -> dict:
    return document("Greet", [
        s.node_input("name"),
        s.node_operator("greet", "template", {"template": "Hello {{ inputs.variables }}!"}),
        s.node_model("echo", "local/echo", {"max_tokens": 10}),
        s.node_output("out", "string"),
    ], [
        s.data_edge("e1", "name", "value", "greet", "variables"),
        s.data_edge("e2", "greet", "text", "echo", "prompt"),
        s.data_edge("e3", "echo", "text", "out", "value"),
    ])


def test_a_linear_workflow_completes_with_its_outputs(engine) -> None:
    execution = run(engine, linear(), {"name": "Ada"})
    assert execution.state == "completed"
    assert execution.outputs == {"out": "Hello Ada!"}
    assert execution.error is None
    assert node_states(execution) == {"name": "completed", "greet": "completed", "echo": "completed",
                                      "out": "completed"}
    done = runs(execution)
    assert done["greet"].output == {"text": "Hello Ada!"}
    assert done["greet"].inputs == {"variables": "Ada"}
    usage = dict(done["echo"].usage)
    assert isinstance(usage.pop("duration_ms"), int)
    assert usage == {"model": "local/echo", "model_version": "1", "provider": "local", "tokens_in": 2,
                     "tokens_out": 2, "cost": 0.0, "currency": "USD", "priced": True, "estimated": False,
                     "cached": False}
    assert done["echo"].queue == "models" and done["greet"].queue == "steps"
    assert all(run_.attempt == 1 and run_.lease_owner == "" and run_.lease_expires_at is None
               for run_ in done.values())
    assert execution.started_at <= execution.finished_at


def test_every_change_has_its_event_in_order(engine) -> None:
    execution = run(engine, linear(), {"name": "Ada"})
    per_node = [("node.queued", "name"), ("node.started", "name"), ("node.completed", "name")]
    assert event_types(execution, node_id="name") == per_node
    assert event_types(execution)[:3] == [("execution.created", None), ("execution.started", None),
                                          ("execution.state_changed", None)]
    assert event_types(execution)[-2:] == [("execution.state_changed", None), ("execution.completed", None)]
    sequence = list(ExecutionEvent.objects.filter(execution=execution).order_by("seq").values_list("seq", flat=True))
    assert sequence == list(range(1, len(sequence) + 1))
    execution.refresh_from_db()
    assert execution.event_seq == len(sequence) == 3 + 4 * 3 + 2


def test_history_and_audit_name_who_and_why(engine) -> None:
    execution = run(engine, linear(), {"name": "Ada"})
    assert history(execution) == [(None, "pending", "alpha-operator"), ("pending", "running", "alpha-operator"),
                                  ("running", "completed", "engine")]
    entries = list(AuditEntry.objects.filter(execution_id=execution.pk).order_by("sequence")
                   .values_list("event_type", "actor_name", "actor_type"))
    assert entries == [("execution.started", "alpha-operator", "user"),
                       ("execution.completed", "engine", "system")]
