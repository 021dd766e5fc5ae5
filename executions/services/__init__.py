"""Execution use cases: starting, re-running and controlling executions.

Each takes the acting `Actor` and `Origin`, checks the role (operator or above
controls, viewers read), works under the execution's row lock in one
transaction, audits the command and every state change with the actor and
reason, and leaves tasks and events to the door after commit.
"""

from executions.services.commands import execution_command
from executions.services.starting import execution_rerun, execution_start

__all__ = ["execution_command", "execution_rerun", "execution_start"]
