"""Remember which of the user's teams the web UI is showing."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from teams.access import teams_for_user

SESSION_KEY = "current_team_id"


def _current_team(request: HttpRequest):  # type: ignore[no-untyped-def]
    user = request.user
    if not user.is_authenticated:
        return None
    teams = teams_for_user(user)
    wanted = request.session.get(SESSION_KEY)
    team = teams.filter(pk=wanted).first() if wanted else None
    return team or teams.order_by("name").first()


class CurrentTeamMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.team = SimpleLazyObject(lambda: _current_team(request))  # type: ignore[attr-defined]
        return self.get_response(request)
