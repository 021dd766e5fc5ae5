"""Web UI for signing in, switching teams, members and API tokens."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from symphony_site.actors import Actor
from symphony_site.api.errors import ApiError
from symphony_site.origins import actor_from_request, web_origin
from teams import services
from teams.access import access_team, team_role
from teams.middleware import SESSION_KEY
from teams.models import ApiToken, Membership
from teams.roles import Role

User = get_user_model()


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["demo_hint"] = settings.DEBUG
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.login_succeeded(actor=Actor.of(form.get_user()), origin=web_origin(self.request))
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        username = str(form.data.get("username", ""))[:150]
        if username:
            services.login_failed(actor=Actor.anonymous(), origin=web_origin(self.request), username=username)
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            services.logged_out(actor=actor_from_request(request), origin=web_origin(request))
        return super().post(request, *args, **kwargs)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.team:  # type: ignore[attr-defined]
        return redirect("workflows:list")
    return render(request, "teams/no_team.html")


@login_required
@require_POST
def team_switch(request: HttpRequest) -> HttpResponse:
    team = access_team(request.user, request.POST.get("team"))
    request.session[SESSION_KEY] = str(team.pk)
    return redirect(request.headers.get("Referer") or "home") if _same_origin_referer(request) else redirect("home")


def _same_origin_referer(request: HttpRequest) -> bool:
    referer = request.headers.get("Referer", "")
    return referer.startswith(f"{request.scheme}://{request.get_host()}/")


def _run(request: HttpRequest, action: Any, success: str) -> None:
    """Run a service call from a form, turning its error into a message."""
    try:
        action()
    except ApiError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)


@login_required
@require_POST
def team_new(request: HttpRequest) -> HttpResponse:
    try:
        team = services.team_create(actor=actor_from_request(request), origin=web_origin(request), name=request.POST.get("name", ""))
    except ApiError as error:
        messages.error(request, error.message)
        return redirect("home")
    request.session[SESSION_KEY] = str(team.pk)
    messages.success(request, f"Team {team.name} created. You are its owner.")
    return redirect("team-detail")


@login_required
def team_detail(request: HttpRequest) -> HttpResponse:
    team = request.team  # type: ignore[attr-defined]
    if not team:
        return redirect("home")
    team = access_team(request.user, team.pk)
    role = team_role(request.user, team)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "add_member":
            username = request.POST.get("username", "")
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                messages.error(request, f"No user named {username!r}.")
            else:
                _run(request, lambda: services.member_add(actor=actor_from_request(request), origin=web_origin(request), team=team, user=user,
                                                          role=request.POST.get("role", "")),
                     f"{username} added.")
        elif action in {"change_role", "remove_member"}:
            user = User.objects.filter(pk=request.POST.get("user_id") or 0).first()
            if user is None:
                messages.error(request, "That member no longer exists.")
            elif action == "change_role":
                _run(request, lambda: services.member_change_role(
                    actor=actor_from_request(request), origin=web_origin(request), team=team, user=user, role=request.POST.get("role", "")), f"{user.username} is now {request.POST.get('role')}.")
            else:
                _run(request, lambda: services.member_remove(actor=actor_from_request(request), origin=web_origin(request), team=team, user=user), f"{user.username} removed.")
        elif action == "create_token":
            try:
                token, key = services.token_create(actor=actor_from_request(request), origin=web_origin(request), name=request.POST.get("name", ""))
            except ApiError as error:
                messages.error(request, error.message)
            else:
                request.session["new_token_key"] = key
                messages.success(request, f"Token {token.name!r} created. Copy it now: it is shown only once.")
        elif action == "revoke_token":
            token = ApiToken.objects.filter(pk=request.POST.get("token_id") or None, user=request.user).first()
            if token is None:
                messages.error(request, "Token not found.")
            else:
                _run(request, lambda: services.token_revoke(actor=actor_from_request(request), origin=web_origin(request), token=token),
                     f"Token {token.name!r} revoked.")
        return redirect("team-detail")
    context = {
        "team": team,
        "role": role,
        "can_manage": bool(role and role.includes(Role.ADMIN)),
        "memberships": Membership.objects.filter(team=team).select_related("user").order_by("user__username"),
        "roles": [r.value for r in sorted(Role, key=lambda r: -r.rank)],
        "tokens": ApiToken.objects.filter(user=request.user).order_by("-created_at")[:50],
        "new_token_key": request.session.pop("new_token_key", None),
    }
    return render(request, "teams/team_detail.html", context)
