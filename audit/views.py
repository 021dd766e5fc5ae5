"""The audit page: filters, keyset paging, export links and the chain's verification status."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from audit import access, event_types, selectors
from audit.filters import FILTER_NAMES, parse_filters
from symphony_site.api.errors import ValidationFailed
from symphony_site.api.pagination import paginate_queryset
from teams.access import team_role
from teams.roles import Role

PAGE_SIZE = 50
ORDERING = ("-occurred_at", "-sequence")


@login_required
def index(request: HttpRequest) -> HttpResponse:
    team = request.team  # type: ignore[attr-defined]
    context: dict[str, Any] = {"team": team, "event_types": event_types.EVENT_TYPES, "formats": ["csv", "json", "ndjson"]}
    if not team:
        return render(request, "audit/index.html", {**context, "problem": "no_team"})
    role = team_role(request.user, team)
    if role is None or not role.includes(access.READ_ROLE):
        context.update(problem="role", role=role.value if role else "")
        return render(request, "audit/index.html", context, status=403)

    chain = selectors.Chain(team=team)
    raw = {name: request.GET.get(name, "") for name in FILTER_NAMES}
    context["filters"] = raw
    active = {name: value for name, value in raw.items() if value}
    context["export_query"] = urlencode({"team": str(team.pk), **active})
    try:
        filters = parse_filters(raw)
        rows, next_cursor = paginate_queryset(
            filters.apply(selectors.entries(chain)), ORDERING, limit=PAGE_SIZE, cursor=request.GET.get("cursor")
        )
    except ValidationFailed as error:
        context["error"] = error.message
        rows, next_cursor = [], None
    for row in rows:
        row.details_text = json.dumps(row.details, sort_keys=True, ensure_ascii=False) if row.details else ""
    context["entries"] = rows
    if next_cursor:
        context["next_query"] = urlencode({**active, "cursor": next_cursor})
    context["first_page_query"] = urlencode(active)
    context["is_later_page"] = bool(request.GET.get("cursor"))
    if request.GET.get("verify"):
        context["verification"] = selectors.verify(chain)
    context["verify_query"] = urlencode({**active, "verify": "1"})
    context["role"] = role.value
    context["can_read"] = role.includes(Role.ADMIN)
    return render(request, "audit/index.html", context)
