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
from teams.login_limits import LoginGuard, LoginLimited
from teams.middleware import SESSION_KEY
from teams.models import ApiToken, Membership
from teams.roles import Role

User = get_user_model()
UNDO_REMOVE_KEY = "undo_member_remove"  # who was just removed, with their role: "Undo" adds them back


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["demo_hint"] = settings.DEBUG
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The same limits as the token endpoint (teams/login_limits.py), checked before the
        # password is: a refused attempt answers 429 with the form and Retry-After.
        self.guard = LoginGuard(address=web_origin(request).ip_address or "unknown",
                                username=str(request.POST.get("username", ""))[:150])
        try:
            self.guard.check()
        except LoginLimited as limited:
            message = f"Too many sign-in attempts. Try again in {limited.wait} seconds."
            response = self.render_to_response(
                self.get_context_data(form=self.get_form_class()(request), limited=message), status=429)
            response["Retry-After"] = str(limited.wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        self.guard.succeeded()
        services.login_succeeded(actor=Actor.of(form.get_user()), origin=web_origin(self.request))
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        username = str(form.data.get("username", ""))[:150]
        if username:
            self.guard.failed()
            services.login_failed(actor=Actor.anonymous(), origin=web_origin(self.request), username=username)
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            services.logged_out(actor=actor_from_request(request), origin=web_origin(request))
        return super().post(request, *args, **kwargs)


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
        team = services.team_create(actor=actor_from_request(request), origin=web_origin(request),
                                    name=request.POST.get("name", ""))
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
        actor, origin = actor_from_request(request), web_origin(request)
        if action == "add_member":
            username = request.POST.get("username", "")
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                messages.error(request, f"No user named {username!r}.")
            else:
                _run(request, lambda: services.member_add(actor=actor, origin=origin, team=team, user=user,
                                                          role=request.POST.get("role", "")),
                     f"{username} added.")
        elif action in {"change_role", "remove_member"}:
            user = User.objects.filter(pk=request.POST.get("user_id") or 0).first()
            if user is None:
                messages.error(request, "That member no longer exists.")
            elif action == "change_role":
                _run(request, lambda: services.member_change_role(
                    actor=actor, origin=origin, team=team, user=user, role=request.POST.get("role", "")),
                    f"{user.username} is now {request.POST.get('role')}.")
            else:
                previous_role = Membership.objects.filter(team=team, user=user).values_list("role", flat=True).first()
                _run(request, lambda: services.member_remove(actor=actor, origin=origin, team=team, user=user), f"{user.username} removed.")
                if previous_role and not Membership.objects.filter(team=team, user=user).exists():
                    request.session[UNDO_REMOVE_KEY] = {"username": user.username, "role": previous_role}
        elif action == "create_token":
            try:
                token, key = services.token_create(actor=actor, origin=origin, name=request.POST.get("name", ""))
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
                _run(request, lambda: services.token_revoke(actor=actor, origin=origin, token=token),
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
        "undo_remove": request.session.pop(UNDO_REMOVE_KEY, None),
    }
    return render(request, "teams/team_detail.html", context)
