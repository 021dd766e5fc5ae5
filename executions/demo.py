"""Demo executions for `manage.py seed_demo`: a completed run, a failed one and one waiting for input.

The three workflows use only built-in operators and the `local/echo` model, so
they run offline. Each run is real: started through `execution_start` (which
checks, audits and writes the execution as any start does) and then stepped
in this process by calling the engine's step task function, `executions.tasks.step`,
for every queued node run until the execution stops running. No worker has to
be running, and no row is written by hand. The step messages the start also
sent to the broker are harmless: when a worker takes them later, the node runs
are no longer queued and the claim does nothing.

Idempotent: a workflow that already has an execution is not run again.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from executions.models import Execution, NodeRun
from executions.services import execution_start
from executions.tasks import step
from symphony_site.actors import Actor, Origin
from workflows import samples
from workflows import services as workflow_services
from workflows.models import Workflow

# A demo run that has not settled by then is left to the workers (it stays visible, running).
STEP_BUDGET_S = 30.0


def greet_a_guest() -> dict[str, Any]:
    """A name, a prompt, the offline echo model, a branch and a log line: completes."""
    return samples.workflow(
        "Greet a guest (offline)", [
            samples.node_input("name", name="Guest name"),
            samples.node_operator("compose", "template",
                                  {"template": "Write a warm one-line welcome for {{ inputs.variables }}."},
                                  name="Compose the request"),
            samples.node_model("reply", "local/echo", {}, name="Echo model"),
            samples.node_control("long_name", "branch", condition="inputs.value | length > 80",
                                 name="Long name?"),
            samples.node_operator("shorten", "template", {"template": "{{ inputs.variables | truncate(80) }}"},
                                  name="Shorten it"),
            samples.node_operator("note", "log", {"level": "info", "message": "Greeted {{ inputs.value }}"},
                                  name="Log the guest"),
            samples.node_output("greeting", "string", name="Greeting"),
        ], [
            samples.data_edge("e1", "name", "value", "compose", "variables"),
            samples.data_edge("e2", "compose", "text", "reply", "prompt"),
            samples.data_edge("e3", "reply", "text", "long_name", "value"),
            samples.conditional_edge("e4", "long_name", "shorten", "inputs.value | length > 80", "too long"),
            samples.data_edge("e5", "reply", "text", "shorten", "variables"),
            samples.data_edge("e6", "name", "value", "note", "value"),
            samples.data_edge("e7", "reply", "text", "greeting", "value"),
        ],
        description="Runs offline: a template, the local echo model, a branch that skips when the reply "
                    "is short, and a log line.",
        tags=("demo", "offline"), category="examples")


def parse_an_order() -> dict[str, Any]:
    """JSON text in, its first item out: fails on text that is not JSON."""
    return samples.workflow(
        "Parse an order (offline)", [
            samples.node_input("order", name="Order (JSON text)"),
            samples.node_operator("parse", "json_parse", {}, name="Parse the order"),
            samples.node_operator("first", "select", {"path": "items.0", "default": None}, name="First item"),
            samples.node_output("item", name="First item"),
        ], [
            samples.data_edge("e1", "order", "value", "parse", "text"),
            samples.data_edge("e2", "parse", "value", "first", "value"),
            samples.data_edge("e3", "first", "value", "item", "value"),
        ],
        description="Runs offline: parses an order given as JSON text and picks its first item; text that "
                    "is not JSON fails the run with the parser's error.",
        tags=("demo", "offline"), category="examples")


def approve_a_headline() -> dict[str, Any]:
    """A draft, then a person's headline asked for while it runs: waits for input."""
    return samples.workflow(
        "Approve a headline (offline)", [
            samples.node_input("draft", name="Draft"),
            samples.node_input("headline", name="Headline", interactive=True,
                               prompt="Which headline should this draft be published under?"),
            samples.node_control("both", "join", name="Both ready"),
            samples.node_operator("combine", "template",
                                  {"template": "{{ inputs.variables[1] }}: {{ inputs.variables[0] }}"},
                                  name="Put them together"),
            samples.node_model("polish", "local/echo", {}, name="Echo model"),
            samples.node_output("article", "string", name="Article"),
        ], [
            samples.data_edge("e1", "draft", "value", "both", "value"),
            samples.data_edge("e2", "headline", "value", "both", "value"),
            samples.data_edge("e3", "both", "value", "combine", "variables"),
            samples.data_edge("e4", "combine", "text", "polish", "prompt"),
            samples.data_edge("e5", "polish", "text", "article", "value"),
        ],
        description="Runs offline: an interactive input asks a person for the headline while the run waits.",
        tags=("demo", "offline", "interactive"), category="examples")


def count_down() -> dict[str, Any]:
    """Three short waits in a row: slow enough to pause, resume or cancel while it runs."""
    return samples.workflow(
        "Count down slowly (offline)", [
            samples.node_input("start", "integer", name="Start from"),
            samples.node_operator("three", "delay", {"milliseconds": 2000}, name="Three"),
            samples.node_operator("two", "delay", {"milliseconds": 2000}, name="Two"),
            samples.node_operator("one", "delay", {"milliseconds": 2000}, name="One"),
            samples.node_operator("done", "log", {"level": "info", "message": "Lift-off after {{ inputs.value }}"},
                                  name="Lift-off"),
            samples.node_output("result", "integer", name="Result"),
        ], [
            samples.data_edge("e1", "start", "value", "three", "value"),
            samples.data_edge("e2", "three", "value", "two", "value"),
            samples.data_edge("e3", "two", "value", "one", "value"),
            samples.data_edge("e4", "one", "value", "done", "value"),
            samples.data_edge("e5", "done", "value", "result", "value"),
        ],
        description="Runs offline: three two-second waits, so there is time to pause, resume or cancel it.",
        tags=("demo", "offline"), category="examples")


# Workflows seeded with a run (its inputs), and ones seeded without one (None).
DEMO_RUNS: tuple[tuple[Any, dict[str, Any] | None], ...] = (
    (greet_a_guest, {"name": "Ada Lovelace"}),
    (parse_an_order, {"order": "{'items': ['tea'"}),
    (approve_a_headline, {"draft": "Symphony now runs workflows offline."}),
    (count_down, None),
)


def step_in_process(execution: Execution, *, budget_s: float = STEP_BUDGET_S) -> Execution:
    """Step `execution` here, through the step task function, until it stops running (completed,
    failed, waiting for input, paused) or nothing it has queued is due within the budget."""
    deadline = time.monotonic() + budget_s
    while time.monotonic() < deadline:
        state = Execution.objects.values_list("state", flat=True).get(pk=execution.pk)
        if state != "running":
            break
        # A retry waits for its due time, as the engine's claim does.
        due = list(NodeRun.objects.filter(execution=execution, state="queued")
                   .filter(Q(due_at__isnull=True) | Q(due_at__lte=timezone.now()))
                   .order_by("queued_at", "id").values_list("id", flat=True))
        if due:
            for run_id in due:
                step(str(execution.pk), run_id)
            continue
        if not NodeRun.objects.filter(execution=execution, state__in=["queued", "running"]).exists():
            break
        time.sleep(min(0.1, settings.EXECUTION_INLINE_BUDGET_MS / 1000))
    execution.refresh_from_db()
    return execution


def seed_executions(seeded: dict[str, Any]) -> list[Execution]:
    """The demo workflows in the Demo team, each seeded run started by the owner and stepped here.
    Run after the rest of the demo data is committed (the engine commits step by step)."""
    team, owner = seeded["demo"], seeded["owner"]
    actor, origin = Actor.of(owner), Origin.command()
    started = []
    for build, inputs in DEMO_RUNS:
        document = build()
        workflow = Workflow.objects.filter(team=team, name=document["name"]).first()
        if workflow is None:
            workflow = workflow_services.workflow_create(actor=actor, origin=origin, team=team, document=document,
                                                         change_message="Demo data")
        if inputs is None or Execution.objects.filter(workflow=workflow).exists():
            continue
        execution = execution_start(actor=actor, origin=origin, workflow=workflow, inputs=inputs)
        started.append(step_in_process(execution))
    return started
