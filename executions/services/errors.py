"""The API errors the execution services raise for refused and malformed commands."""

from __future__ import annotations

from typing import Any

from executions.domain import CommandInvalid, CommandRefused, InvalidTransition
from symphony_site.api.errors import ApiError, Conflict, ValidationFailed


def refused(error: Exception, execution: Any = None) -> ApiError:
    """409 naming the current state and the commands available now, or 400 for a bad command."""
    if isinstance(error, CommandInvalid):
        return ValidationFailed(error.message, details=[{"field": error.field, "code": "invalid",
                                                         "message": error.message}])
    if isinstance(error, CommandRefused):
        details: dict[str, Any] = {"state": error.state.value,
                                   "available_commands": [command.value for command in error.available]}
        if error.node_id is not None:
            details["node_id"] = error.node_id
            details["node_state"] = error.node_state.value if error.node_state is not None else None
        return Conflict(error.message, code="command_not_allowed", details=details)
    if isinstance(error, InvalidTransition):
        return Conflict(str(error), code="invalid_transition",
                        details={"state": str(error.current), "available_commands": []})
    raise error
