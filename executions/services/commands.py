"""Control commands: start, pause, resume, cancel, retry_node, skip_node, provide_input, rerun.

One service, `execution_command`. Concurrent commands on one execution queue
behind its row lock (taken first, then everything is read fresh), so each is
checked against the state the previous one left. A refused command raises
409 naming the state and the commands available now, and changes nothing.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.db import transaction

from executions.domain import (
    Command,
    CommandInvalid,
    CommandRefused,
    ExecutionState,
    NodeRunState,
    NodeView,
    check_command,
    parse_command,
)
from executions.engine import events as ev
from executions.engine.books import Books
from executions.models import Execution, NodeRun
from executions.runtime.contract import NodeFailure
from executions.runtime.flow import Settled, check_outputs, input_node_value, settle_outgoing
from executions.services.availability import node_views
from executions.services.errors import refused
from executions.services.starting import begin, execution_rerun
from executions.triggers import concurrency
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import Conflict, ValidationFailed
from teams.access import require_role
from teams.roles import Role
from workflows.domain import InputNode
from workflows.models import Workflow

# Marks an argument the caller did not give (None is a valid substitute output or input value).
MISSING: Any = object()


def execution_command(*, actor: Actor, origin: Origin, execution: Execution, command: str,
                      node_id: str | None = None, value: Any = MISSING, output: Any = MISSING,
                      reason: str = "") -> Execution:
    """Apply one command; answer the execution as it is now (a re-run answers the new one)."""
    try:
        parsed = parse_command(command)
    except CommandInvalid as error:
        raise refused(error) from None
    if parsed is Command.RERUN:
        return execution_rerun(actor=actor, origin=origin, execution=execution, reason=reason)
    require_role(actor.user, execution.team, Role.OPERATOR, action="control executions")
    reason = (reason or "").strip()[:1000]
    with transaction.atomic():
        books = Books.open(execution.pk, actor=actor, origin=origin)
        if books is None:
            raise ValidationFailed("This execution no longer exists.")
        target = _target_view(books, parsed, node_id)
        try:
            check_command(books.state, target, parsed, node_id,
                          all_views=lambda: node_views(execution.pk))
        except (CommandRefused, CommandInvalid) as error:
            raise refused(error) from None
        _APPLY[parsed](books, node_id=node_id, value=value, output=output, reason=reason, actor=actor)
        books.close()
    return Execution.objects.get(pk=execution.pk)


def _target_view(books: Books, command: Command, node_id: str | None) -> dict[str, NodeView]:
    if not node_id:
        return {}
    row = (NodeRun.objects.filter(execution_id=books.execution.pk, node_id=node_id)
           .values_list("state", "awaiting_input", "edges_settled").first())
    if row is None:
        return {}
    return {node_id: NodeView(state=NodeRunState(row[0]), awaiting_input=row[1], edges_settled=row[2])}


def _who(actor: Actor) -> str:
    return actor.name or "system"


def _start(books: Books, *, reason: str, actor: Actor, **_: Any) -> None:
    if concurrency.is_queued(books.execution.pk):
        raise Conflict("This execution waits in its concurrency queue; it starts when a slot frees "
                       "(or cancel it).", code="command_not_allowed",
                       details={"state": books.state.value, "available_commands": ["cancel"]})
    workflow = Workflow.objects.get(pk=books.execution.workflow_id)
    concurrency.settle_admission(books, concurrency.admission_for(workflow=workflow), begin=lambda: begin(
        books, reason=reason or f"started by {_who(actor)}", details={"command": "start"}))


def _pause(books: Books, *, reason: str, actor: Actor, **_: Any) -> None:
    books.move(ExecutionState.PAUSED, reason=reason or f"paused by {_who(actor)}",
               audit_type="execution.paused", details={"command": "pause"})


def _resume(books: Books, *, reason: str, actor: Actor, **_: Any) -> None:
    books.move(ExecutionState.RUNNING, reason=reason or f"resumed by {_who(actor)}",
               audit_type="execution.resumed", details={"command": "resume"})
    # Failures held for an operator who resumed without retrying or skipping them: that branch
    # is given up, as under `continue` (its descendants are skipped).
    held = list(NodeRun.objects.filter(execution_id=books.execution.pk, state=NodeRunState.FAILED.value,
                                       edges_settled=False).values_list("node_id", flat=True))
    if held:
        books.settle((node_id, settle_outgoing(books.graph.index, node_id, state=Settled.FAILED))
                     for node_id in held)
    _carry_on(books)


def _carry_on(books: Books) -> None:
    """Back to running: wait again if an input still has no value, finish if nothing is left,
    and send every queued run (messages refused while not running are gone)."""
    if books.gate() is ExecutionState.RUNNING and not books.finish_if_done():
        books.redispatch_all_queued()


def _cancel(books: Books, *, reason: str, actor: Actor, **_: Any) -> None:
    books.stop_execution(ExecutionState.CANCELLED, reason=reason or f"cancelled by {_who(actor)}",
                         skip_reason="cancelled", audit_type="execution.cancelled",
                         details={"command": "cancel"})


def _retry_node(books: Books, *, node_id: str, reason: str, actor: Actor, **_: Any) -> None:
    facts = books.graph.facts[node_id]
    books._update_runs(
        "UPDATE executions_noderun SET state = 'queued', attempt = 0, max_attempts = %s, lost_leases = 0, "
        "queued_at = now(), dispatched_at = NULL, due_at = NULL, finished_at = NULL "
        "WHERE execution_id = %s AND node_id = %s AND state = 'failed' AND NOT edges_settled",
        [facts.max_attempts, books.execution.pk, node_id])
    books.event(ev.NODE_QUEUED, node_id, retried_by=_who(actor))
    books.audit(actor=actor, origin=books.origin,
                event_type="execution.node_retried", reason=reason,
                workflow_name=books.workflow_name(),
                details={"command": "retry_node", "node_id": node_id, "state": books.state.value})
    books.dispatch()


def _skip_node(books: Books, *, node_id: str, output: Any, reason: str, actor: Actor, **_: Any) -> None:
    node = books.graph.facts[node_id].node
    substitute: dict[str, Any] = {}
    if output is not MISSING and output is not None:
        if not isinstance(output, dict):
            raise ValidationFailed("output is the node's outputs by port name (an object).",
                                   details=[{"field": "output", "code": "invalid", "message": "expected an object"}])
        try:
            substitute = check_outputs(node, output)
        except NodeFailure as failure:
            raise ValidationFailed(failure.message, details=[{"field": "output", "code": failure.code,
                                                              "message": failure.message}]) from None
    try:
        settlements = settle_outgoing(books.graph.index, node_id, state=Settled.COMPLETED, outputs=substitute)
    except NodeFailure as failure:
        raise ValidationFailed(f"The substitute output cannot be routed: {failure.message}",
                               details=[{"field": "output", "code": failure.code, "message": failure.message}]) from None
    books._update_runs(
        "UPDATE executions_noderun SET state = 'skipped', output = %s::jsonb, skip_reason = %s, "
        "awaiting_input = false, message = '', finished_at = now(), dispatched_at = NULL, due_at = NULL "
        "WHERE execution_id = %s AND node_id = %s AND state IN ('failed', 'pending')",
        [orjson.dumps(substitute).decode(), f"skipped by {_who(actor)}"[:200], books.execution.pk, node_id])
    books.event(ev.NODE_SKIPPED, node_id, reason=f"skipped by {_who(actor)}", substitute_output=bool(substitute))
    books.audit(actor=actor, origin=books.origin,
                event_type="execution.node_skipped", reason=reason,
                workflow_name=books.workflow_name(),
                details={"command": "skip_node", "node_id": node_id,
                         "substitute_ports": sorted(substitute), "state": books.state.value})
    # Downstream proceeds as if the node had completed with the substitute output.
    books.settle([(node_id, settlements)])
    _after_node_command(books, actor)


def _provide_input(books: Books, *, node_id: str, value: Any, reason: str, actor: Actor, **_: Any) -> None:
    node = books.graph.facts[node_id].node
    assert isinstance(node, InputNode)
    if value is MISSING or value is None:
        raise ValidationFailed(f"provide_input needs a value for input {node_id!r}.",
                               details=[{"field": "value", "code": "required", "message": "required"}])
    try:
        input_node_value(node, {node_id: value})
    except NodeFailure as failure:
        raise ValidationFailed(failure.message, details=[{"field": "value", "code": failure.code,
                                                          "message": failure.message}]) from None
    inputs = books.inputs()
    inputs[node_id] = value
    books.set(inputs=inputs)
    NodeRun.objects.filter(execution_id=books.execution.pk, node_id=node_id).update(awaiting_input=False,
                                                                                   message="")
    books.audit(actor=actor, origin=books.origin,
                event_type="execution.input_provided", reason=reason,
                workflow_name=books.workflow_name(),
                details={"command": "provide_input", "node_id": node_id,
                         "value_type": type(value).__name__})
    books.queue_ready([node_id])
    _after_node_command(books, actor)


def _after_node_command(books: Books, actor: Actor) -> None:
    if books.state is ExecutionState.WAITING_FOR_INPUT and not NodeRun.objects.filter(
            execution_id=books.execution.pk, state=NodeRunState.PENDING.value, awaiting_input=True).exists():
        books.move(ExecutionState.RUNNING, reason="every interactive input has its value",
                   audit_type="execution.resumed", details={"command": "provide_input"})
        _carry_on(books)
        return
    if books.state is ExecutionState.RUNNING and not books.finish_if_done():
        books.dispatch()


_APPLY = {
    Command.START: _start,
    Command.PAUSE: _pause,
    Command.RESUME: _resume,
    Command.CANCEL: _cancel,
    Command.RETRY_NODE: _retry_node,
    Command.SKIP_NODE: _skip_node,
    Command.PROVIDE_INPUT: _provide_input,
}
