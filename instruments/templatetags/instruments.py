"""The team page's instruments sections: usage for every member; secrets and model
providers for admins and owners."""

from __future__ import annotations

from typing import Any

from django import template

from instruments import selectors
from teams.roles import Role

register = template.Library()
USAGE_DAYS = 30


@register.inclusion_tag("instruments/team_sections.html")
def team_instruments(team: Any, role: Any) -> dict[str, Any]:
    can_manage = role is not None and Role(str(role)).includes(Role.ADMIN)
    by_day = selectors.usage_by_day(team, days=USAGE_DAYS)
    by_model = selectors.usage_by_model(team, days=USAGE_DAYS)
    peak = max((day["tokens_in"] + day["tokens_out"] for day in by_day), default=0)
    for day in by_day:
        tokens = day["tokens_in"] + day["tokens_out"]
        day["bar"] = round(100 * tokens / peak) if peak else 0
    return {
        "team": team, "can_manage": can_manage, "usage_days": USAGE_DAYS,
        "by_day": by_day, "by_model": by_model,
        "total_cost": round(sum(row["cost"] for row in by_model), 6),
        "total_saved": round(sum(row["saved"] for row in by_model), 6),
        "secrets": list(selectors.secrets_of(team)) if can_manage else [],
        "providers": list(selectors.providers_of(team)) if can_manage else [],
        "models": selectors.available_models(team),
    }
