"""Access helpers for instruments: secrets and providers are reached through a team the
user may manage (admin or owner); another team's, or a missing one, is "not found"."""

from __future__ import annotations

from typing import Any

from instruments.models import Provider
from symphony_site.api.errors import NotFound
from teams.access import access_team
from teams.models import Team
from teams.roles import Role


def access_team_for_secrets(user: Any, team_id: Any) -> Team:
    return access_team(user, team_id, Role.ADMIN, action="manage the team's secrets")


def access_team_for_providers(user: Any, team_id: Any) -> Team:
    return access_team(user, team_id, Role.ADMIN, action="manage the team's model providers")


def access_provider(team: Team, name: str) -> Provider:
    provider = Provider.objects.filter(team=team, name=name).first()
    if provider is None:
        raise NotFound(f"The team has no model provider named {name!r}.")
    return provider
