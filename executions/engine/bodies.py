"""Loop bodies: a loop's `body` names another workflow of the same team, by id or by name."""

from __future__ import annotations

import uuid
from typing import Any

from executions.engine.graphs import compiled
from executions.runtime.contract import NodeFailure
from workflows.domain import Workflow
from workflows.models import Workflow as StoredWorkflow


def resolve_body(team_id: Any, reference: str) -> Workflow:
    """The current version of the team's workflow with this id or (case-insensitive) name."""
    workflows = StoredWorkflow.objects.filter(team_id=team_id, archived_at__isnull=True,
                                              current_version__isnull=False)
    found = None
    try:
        found = workflows.filter(pk=uuid.UUID(str(reference))).first()
    except ValueError:
        found = None
    if found is None:
        matches = list(workflows.filter(name__iexact=str(reference)).order_by("-updated_at")[:2])
        found = matches[0] if matches else None
    if found is None or found.current_version_id is None:
        raise NodeFailure(
            f"The loop body {reference!r} names no workflow of this team (give a workflow id or name).",
            code="unknown_workflow", retryable=False, details={"body": reference})
    return compiled(found.current_version_id).workflow
