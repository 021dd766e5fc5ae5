"""The executions app's audit entries: one place that calls `audit.services.record_event`.

Every command and every execution state change is appended to the team's audit
chain in the transaction that makes it, with the actor and the reason. Node
steps are not audited one by one: the execution's event stream holds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.services import PendingAppend, pending_event, record_event
from symphony_site.actors import Actor, Origin


def audit_execution(*, execution: Any, actor: Actor, origin: Origin, event_type: str, reason: str = "",
                    details: Mapping[str, Any] | None = None, workflow_name: str = "") -> None:
    """Append one entry about `execution` to its team's chain (inside the caller's transaction)."""
    record_event(
        team=execution.team_id, actor=actor, origin=origin, event_type=event_type,
        target_type="execution", target_id=str(execution.pk), target_name=workflow_name[:200],
        execution_id=execution.pk, reason=reason, details=dict(details or {}),
    )


def pending_execution_audit(*, execution: Any, actor: Actor, origin: Origin, event_type: str, reason: str = "",
                            details: Mapping[str, Any] | None = None, workflow_name: str = "") -> PendingAppend:
    """`audit_execution`'s entry as a statement for the caller's pipeline (the books' closing
    round trip), appended when the caller sends it and `finish`es it with its rows."""
    return pending_event(
        team=execution.team_id, actor=actor, origin=origin, event_type=event_type,
        target_type="execution", target_id=str(execution.pk), target_name=workflow_name[:200],
        execution_id=execution.pk, reason=reason, details=dict(details or {}),
    )


def audit_bulk(*, team: Any, actor: Actor, origin: Origin, command: str, details: Mapping[str, Any]) -> None:
    """Append the summary of one bulk operation in one team (its id is `origin.bulk_operation`)."""
    record_event(team=team, actor=actor, origin=origin, event_type="execution.bulk_command",
                 target_type="bulk_operation", target_id=origin.bulk_operation, target_name=f"bulk {command}",
                 details=dict(details))
