"""Who may read which audit chain.

Only a team's owners and admins read its chain; other members get "permission
denied", outsiders "not found". Staff also read the platform chain (entries
without a team, such as failed logins for unknown usernames). Access needs a
role in a team, so this module, like audit's API, pages and policy service,
sits above `teams`; the audit core below it never imports teams.
"""

from __future__ import annotations

import uuid
from typing import Any

from audit.models import PLATFORM_CHAIN
from audit.selectors import Chain
from symphony_site.api.errors import NotFound, ValidationFailed
from teams.access import access_team, teams_for_user
from teams.models import Team
from teams.roles import Role

READ_ROLE = Role.ADMIN


def access_chain(user: Any, raw_team: str | None) -> Chain:
    """The chain `user` asked for with `?team=` (an id or slug, or 'platform').

    Without `team`, a user in exactly one team gets that team; anyone else must say.
    """
    raw = (raw_team or "").strip()
    if raw == PLATFORM_CHAIN:
        if getattr(user, "is_staff", False) and user.is_authenticated:
            return Chain(team=None)
        raise NotFound("Team not found.")
    if not raw:
        teams = list(teams_for_user(user)[:2])
        if len(teams) != 1:
            raise ValidationFailed(
                "Say which team's audit log to read with ?team=<team id>.",
                details=[{"field": "team", "message": "required", "code": "required"}],
            )
        raw = str(teams[0].pk)
    team_id: Any = raw
    try:
        uuid.UUID(raw)
    except ValueError:
        team_id = Team.objects.filter(slug=raw).values_list("pk", flat=True).first()
    return Chain(team=access_team(user, team_id, READ_ROLE, action="read the audit log"))

