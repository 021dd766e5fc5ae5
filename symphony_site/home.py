"""The page after login: what the current team has, and what to do next.

It reads from teams, workflows and templates at once, so it lives in the site layer,
which sits above every app (import rules, docs/architecture.md); the starter templates
come from the `onboarding` template tag.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from teams.access import team_role
from teams.models import Membership
from teams.roles import Role
from templates_app.models import Template
from workflows import selectors as workflow_selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """After login: what the current team has, and what to do next."""
    team = request.team  # type: ignore[attr-defined]
    if not team:
        return render(request, "teams/no_team.html")
    role = team_role(request.user, team)
    workflows = workflow_selectors.workflows_for_user(request.user, team=team.pk)
    recent = list(workflows.order_by(*workflow_selectors.LIST_ORDERING)[:5])
    context = {
        "team": team, "role": role,
        "can_edit": bool(role and role.includes(Role.EDITOR)),
        "can_manage": bool(role and role.includes(Role.ADMIN)),
        "workflow_count": workflows.count() if recent else 0, "recent": recent,
        "template_count": Template.objects.filter(team=team).count(),
        "member_count": Membership.objects.filter(team=team).count(),
            }
    return render(request, "teams/home.html", context)
