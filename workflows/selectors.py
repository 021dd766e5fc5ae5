"""Team-scoped reads of workflows and versions."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Func, OuterRef, Q, QuerySet, Subquery

from teams.access import access_object, scoped
from teams.roles import Role
from workflows.models import Workflow, WorkflowVersion

LIST_ORDERING = ("-updated_at", "-id")
VERSION_ORDERING = ("-major", "-minor", "-patch")


def workflows_for_user(user: Any, *, team: Any = None, query: str = "", tag: str = "",
                       archived: bool = False) -> QuerySet[Workflow]:
    """The workflows of the user's teams, filtered; rows carry their current version's summary
    (the document itself is deferred: lists never need it)."""
    workflows = scoped(Workflow.objects.all(), user).select_related(
        "team", "created_by", "current_version", "current_version__created_by")
    workflows = workflows.defer("current_version__document")
    workflows = workflows.filter(archived_at__isnull=not archived)
    if team:
        workflows = workflows.filter(team_id=team)
    query = query.strip()
    if query:
        workflows = workflows.filter(Q(name__icontains=query) | Q(description__icontains=query))
    if tag:
        workflows = workflows.filter(tags__contains=[tag])
    return with_last_run(workflows)


def with_last_run(workflows: QuerySet[Workflow]) -> QuerySet[Workflow]:
    """Each workflow's latest execution state as `last_run_state` (one correlated subquery,
    served by the executions' (workflow, -created_at) index).

    The executions app owns the relation (its foreign key's reverse accessor, `executions`);
    following it through the model's meta keeps `workflows` from importing that app, which the
    import rules forbid (executions builds on workflows, never the other way)."""
    executions = Workflow._meta.get_field("executions").related_model
    latest = (executions._default_manager.filter(workflow=OuterRef("pk")).order_by("-created_at")
              .values("state")[:1])
    return workflows.annotate(last_run_state=Subquery(latest))


def last_run_available() -> bool:
    return True


def last_run_of(workflow: Workflow) -> dict[str, Any] | None:
    state = getattr(workflow, "last_run_state", None)
    return {"state": state} if state else None


def access_workflow(user: Any, workflow_id: Any, minimum: Role = Role.VIEWER, *,
                    action: str = "do this") -> Workflow:
    """One workflow of the user's teams (archived ones included): 404 for others, 403 below `minimum`."""
    # The template a workflow was made from (templates_app's reverse one-to-one) comes in
    # the same query: the workflow page names its origin.
    queryset = Workflow.objects.select_related("team", "created_by", "current_version",
                                               "current_version__created_by",
                                               "template_origin__template_version__template")
    return access_object(queryset, user, workflow_id, minimum, action=action, label="Workflow")


def versions_of(workflow: Workflow) -> QuerySet[WorkflowVersion]:
    return (WorkflowVersion.objects.filter(workflow=workflow).select_related("created_by")
            .defer("document").order_by(*VERSION_ORDERING))


def all_tags(user: Any, team: Any = None) -> list[str]:
    """Every tag in use by the user's (or one team's) active workflows, for the tag filter."""
    workflows = scoped(Workflow.objects.filter(archived_at__isnull=True), user)
    if team:
        workflows = workflows.filter(team_id=team)
    tags = workflows.annotate(tag=Func(F("tags"), function="unnest")).values_list("tag", flat=True)
    return sorted(set(tags.order_by()))
