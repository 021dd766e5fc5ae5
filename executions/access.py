"""The one way a user reaches an execution: through its team (another team's is "not found")."""

from __future__ import annotations

from typing import Any

from executions.models import Execution
from teams.access import access_object
from teams.roles import Role


def access_execution(user: Any, execution_id: Any, minimum: Role = Role.VIEWER, *,
                     action: str = "do this", with_document: bool = True) -> Execution:
    """One execution of the user's teams: 404 for others, 403 below `minimum`.

    `with_document=False` leaves its version's document unread (the API's execution detail names
    only the version's number; a document is the workflow's whole JSON, parsed on every read)."""
    executions = Execution.objects.select_related("team", "workflow", "workflow_version", "started_by")
    if not with_document:
        executions = executions.defer("workflow_version__document")
    return access_object(executions, user, execution_id, minimum, action=action, label="Execution")
