"""Web UI for executions: the list, one execution's page, the Run page and control commands."""

from executions.views.actions import command, run
from executions.views.bulk import bulk
from executions.views.pages import (
    execution_controls,
    execution_detail,
    execution_list,
    execution_progress,
)

__all__ = ["bulk", "command", "execution_controls", "execution_detail", "execution_list", "execution_progress", "run"]
