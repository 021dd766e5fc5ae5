"""How a user reaches one workflow: only through its team, with a role high enough for the action."""

from __future__ import annotations

from typing import Any

from teams.access import access_object
from teams.roles import Role
from workflows.models import Workflow


def access_workflow(user: Any, workflow_id: Any, minimum: Role = Role.VIEWER, *,
                    action: str = "do this", with_origin: bool = True) -> Workflow:
    """One workflow of the user's teams (archived ones included): 404 for others, 403 below `minimum`.

    `with_origin=False` leaves out the template it was made from: the API's detail does not name
    it, and its three joins made PostgreSQL plan the statement for several milliseconds on
    every request (docs/operations.md, "Sixth session")."""
    related = ["team", "created_by", "current_version", "current_version__created_by"]
    if with_origin:
        # The template a workflow was made from (templates_app's reverse one-to-one) comes in
        # the same query: the workflow page names its origin.
        related.append("template_origin__template_version__template")
    queryset = Workflow.objects.select_related(*related)
    return access_object(queryset, user, workflow_id, minimum, action=action, label="Workflow")
