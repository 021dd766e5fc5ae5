"""Web UI for a team's secrets and model providers: form posts from the team page,
each calling one service and returning to the team page with a message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from instruments import services
from symphony_site.api.errors import ApiError
from symphony_site.origins import actor_from_request, web_origin
from teams.access import access_team


def _team(request: HttpRequest):  # type: ignore[no-untyped-def]
    team = request.team  # type: ignore[attr-defined]
    return access_team(request.user, team.pk) if team else None


@login_required
@require_POST
def team_secret(request: HttpRequest) -> HttpResponse:
    team = _team(request)
    if team is None:
        return redirect("home")
    action = request.POST.get("action")
    name = request.POST.get("name", "").strip()
    value = request.POST.get("value", "")
    actor, origin = actor_from_request(request), web_origin(request)
    try:
        if action == "create":
            services.secret_create(actor=actor, origin=origin, team=team, name=name, value=value)
            messages.success(request, f"Secret {name} saved. Refer to it as "
                                      f"{{{{ secrets.{name} }}}}; its value is not shown again.")
        elif action == "rotate":
            services.secret_rotate(actor=actor, origin=origin, team=team, name=name, value=value)
            messages.success(request, f"Secret {name} has a new value.")
        elif action == "delete":
            services.secret_delete(actor=actor, origin=origin, team=team, name=name)
            messages.success(request, f"Secret {name} deleted.")
        else:
            messages.error(request, "Unknown action.")
    except ApiError as error:
        messages.error(request, error.message)
    return redirect("team-detail")


@login_required
@require_POST
def team_provider(request: HttpRequest) -> HttpResponse:
    team = _team(request)
    if team is None:
        return redirect("home")
    action = request.POST.get("action")
    name = request.POST.get("name", "").strip()
    actor, origin = actor_from_request(request), web_origin(request)
    try:
        if action == "create":
            models = [entry.strip() for entry in request.POST.get("models", "").split(",")
                      if entry.strip()]
            embedding = {entry.strip() for entry in
                         request.POST.get("embedding_models", "").split(",") if entry.strip()}
            listed = [{"name": model, "capability": "chat"} for model in models]
            listed += [{"name": model, "capability": "embedding"} for model in sorted(embedding)]
            services.provider_create(actor=actor, origin=origin, team=team, name=name, fields={
                "base_url": request.POST.get("base_url", "").strip(),
                "api_key_secret": request.POST.get("api_key_secret", "").strip(),
                "models": listed})
            messages.success(request, f"Provider {name} added: its models read {name}/<model>.")
        elif action == "delete":
            services.provider_delete(actor=actor, origin=origin, team=team, name=name)
            messages.success(request, f"Provider {name} removed.")
        else:
            messages.error(request, "Unknown action.")
    except ApiError as error:
        messages.error(request, error.message)
    return redirect("team-detail")
