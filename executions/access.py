"""The one way a user reaches an execution: through its team (another team's is "not found")."""

from __future__ import annotations

from typing import Any

from executions.models import Execution
from teams.access import access_object
from teams.roles import Role


def access_execution(user: Any, execution_id: Any, minimum: Role = Role.VIEWER, *,
                     action: str = "do this") -> Execution:
    """One execution of the user's teams: 404 for others, 403 below `minimum`."""
    return access_object(
        Execution.objects.select_related("team", "workflow", "workflow_version", "started_by"),
        user, execution_id, minimum, action=action, label="Execution")
