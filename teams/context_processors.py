from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from teams.access import team_role, teams_for_user


def current_team(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    team = getattr(request, "team", None)
    team = team if team else None
    return {
        "current_team": team,
        "current_role": team_role(user, team) if team else None,
        "user_teams": list(teams_for_user(user).order_by("name")),
    }
