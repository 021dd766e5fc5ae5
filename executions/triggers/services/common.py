"""What the trigger services share: starting a triggered execution, and auditing a trigger."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.services import record_event
from executions.models import Execution, TriggeredBy
from executions.services import execution_start
from symphony_site.actors import Actor, Origin


def start_triggered(*, actor: Actor, origin: Origin, workflow: Any, inputs: Any, trigger: str,
                    context: Mapping[str, Any]) -> Execution:
    """Start (or queue) an execution for a trigger and record what started it, in the caller's
    transaction. The engine's own start checks the inputs and the concurrency limits."""
    execution = execution_start(actor=actor, origin=origin, workflow=workflow, inputs=inputs, trigger=trigger)
    TriggeredBy.objects.create(execution=execution, team_id=workflow.team_id, **context)
    return execution


def audit_trigger(*, actor: Actor, origin: Origin, team_id: Any, event_type: str, target_type: str,
                  target_id: Any, workflow_name: str, details: Mapping[str, Any] | None = None,
                  reason: str = "") -> None:
    record_event(team=team_id, actor=actor, origin=origin, event_type=event_type, target_type=target_type,
                 target_id=str(target_id), target_name=workflow_name[:200], reason=reason,
                 details=dict(details or {}))
