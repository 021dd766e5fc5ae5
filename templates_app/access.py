"""Who may see and change a template.

Visibility (docs/templates.md):

* ``private``: the publishing team's editors, admins and owners — work in
  progress, not yet for the whole team;
* ``team``: every member of the publishing team, whatever their role;
* ``public``: every signed-in user.

Anonymous users see nothing. Changing a template (metadata, new versions,
deprecation) needs editor in the publishing team; making it public needs
admin there; verify and feature are staff actions. A template the user may
not see is "not found"; one they may see but not change is "forbidden".
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from symphony_site.api.errors import Forbidden, NotFound
from teams.access import require_role, team_role
from teams.models import Membership
from teams.roles import Role
from templates_app.models import Instantiation, Template, Visibility
from workflows.access import access_workflow
from workflows.models import Workflow

EDITOR_ROLES = [role.value for role in Role if role.includes(Role.EDITOR)]


def visibility_filter(user: Any) -> Q:
    """The rows of `Template` (or `template__…` prefixed) that `user` may see."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    member_of = Membership.objects.filter(user=user).values("team_id")
    editor_of = Membership.objects.filter(user=user, role__in=EDITOR_ROLES).values("team_id")
    return (
        Q(visibility=Visibility.PUBLIC)
        | Q(visibility=Visibility.TEAM, team_id__in=member_of)
        | Q(visibility=Visibility.PRIVATE, team_id__in=editor_of)
    )


def visible_templates(user: Any) -> QuerySet[Template]:
    return Template.objects.filter(visibility_filter(user))


def can_see(user: Any, template: Template) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if template.visibility == Visibility.PUBLIC:
        return True
    role = team_role(user, template.team_id)
    if role is None:
        return False
    return template.visibility == Visibility.TEAM or role.includes(Role.EDITOR)


def access_template(user: Any, slug: str) -> Template:
    """A template the user may see, by slug; "not found" otherwise."""
    template = Template.objects.select_related("team").filter(slug=slug).first() if slug else None
    if template is None or not can_see(user, template):
        raise NotFound("Template not found.")
    return template


def require_template_editor(user: Any, template: Template, *, action: str) -> None:
    """Editor (or higher) in the publishing team; 403 for anyone else who can see it."""
    if team_role(user, template.team_id) is None:
        raise Forbidden(f"Only members of {template.team.name} can {action}.",
                        details=[{"required_role": Role.EDITOR.value, "your_role": None}])
    require_role(user, template.team, Role.EDITOR, action=action)


def require_staff(user: Any, *, action: str) -> None:
    if not getattr(user, "is_staff", False):
        raise Forbidden(f"Only Symphony staff can {action}.")


def access_origin(user: Any, workflow_id: Any) -> tuple[Workflow, Instantiation]:
    """A workflow of the user's teams and the instantiation that made it, from a template they can see."""
    workflow = access_workflow(user, workflow_id)
    instantiation = (Instantiation.objects.select_related("template_version__template__team", "created_by")
                     .filter(workflow=workflow).first())
    if instantiation is None or not can_see(user, instantiation.template_version.template):
        raise NotFound("This workflow was not made from a template you can see.")
    return workflow, instantiation
