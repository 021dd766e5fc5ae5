"""Helpers for the engine tests: workflows of team Alpha, starting them, waiting on the database."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from executions.models import Execution, ExecutionEvent, NodeRun
from executions.services import execution_command, execution_start
from symphony_site.actors import Actor, Origin
from tests.conftest import Personas
from workflows import samples, services

TERMINAL = ("completed", "failed", "cancelled")
ORIGIN = Origin.command()


def document(name: str, nodes: list[dict[str, Any]], edges: list[dict[str, Any]],
             **settings: Any) -> dict[str, Any]:
    built = samples.workflow(name, nodes, edges)
    if settings:
        built["settings"] = settings
    return built


def store(personas: Personas, built: dict[str, Any]) -> Any:
    """The workflow stored by team Alpha's editor (validated like any other)."""
    return services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=ORIGIN,
                                    team=personas.team, document=built)


def start(personas: Personas, workflow: Any, inputs: dict[str, Any] | None = None,
          who: str = "operator", **options: Any) -> Execution:
    return execution_start(actor=Actor.of(personas.users[who]), origin=ORIGIN, workflow=workflow,
                           inputs=inputs or {}, **options)


def command(personas: Personas, execution: Execution, name: str, who: str = "operator",
            **arguments: Any) -> Execution:
    return execution_command(actor=Actor.of(personas.users[who]), origin=ORIGIN, execution=execution,
                             command=name, **arguments)


def run(personas: Personas, built: dict[str, Any], inputs: dict[str, Any] | None = None,
        until: tuple[str, ...] = TERMINAL, timeout: float = 30) -> Execution:
    execution = start(personas, store(personas, built), inputs)
    return wait_for(execution, until, timeout=timeout)


def wait_until(check: Callable[[], Any], *, timeout: float = 30, what: str = "the condition") -> Any:
    """Poll the database until `check()` answers something truthy (fails after `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


def wait_for(execution: Execution, states: tuple[str, ...] = TERMINAL, *, timeout: float = 30) -> Execution:
    def reached() -> Execution | None:
        fresh = Execution.objects.get(pk=execution.pk)
        return fresh if fresh.state in states else None

    return wait_until(reached, timeout=timeout, what=f"execution {execution.pk} to be {'/'.join(states)}")


def wait_node(execution: Execution, node_id: str, states: tuple[str, ...], *, timeout: float = 30) -> NodeRun:
    def reached() -> NodeRun | None:
        run_ = NodeRun.objects.get(execution=execution, node_id=node_id)
        return run_ if run_.state in states else None

    return wait_until(reached, timeout=timeout, what=f"node {node_id} to be {'/'.join(states)}")


def node_states(execution: Execution) -> dict[str, str]:
    return dict(NodeRun.objects.filter(execution=execution).values_list("node_id", "state"))


def runs(execution: Execution) -> dict[str, NodeRun]:
    return {run_.node_id: run_ for run_ in NodeRun.objects.filter(execution=execution)}


def event_types(execution: Execution, *, node_id: str | None = None) -> list[tuple[str, str | None]]:
    events = ExecutionEvent.objects.filter(execution=execution).order_by("seq")
    if node_id is not None:
        events = events.filter(node_id=node_id)
    return [(event.type, event.node_id) for event in events]


def history(execution: Execution) -> list[tuple[str | None, str, str]]:
    return [(row.from_state, row.to_state, row.actor_name)
            for row in execution.transitions.order_by("id")]


@pytest.fixture
def engine(celery_worker: str, transactional_db: Any, personas: Personas) -> Personas:
    """A running worker, committed data it can see, and team Alpha's personas."""
    return personas
