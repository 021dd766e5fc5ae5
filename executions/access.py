"""Access helpers for executions: another team's execution, or one that does not exist, is "not found"."""

from __future__ import annotations

from typing import Any

from executions.models import Execution
from teams.access import access_object
from teams.roles import Role


def access_execution(user: Any, execution_id: Any, minimum: Role = Role.VIEWER, *,
                     action: str = "do this") -> Execution:
    """An execution of one of the user's teams (with at least `minimum` role), or NotFound."""
    return access_object(Execution.objects.select_related("team"), user, execution_id, minimum,
                         action=action, label="Execution")
