"""Teams, members and tokens API: thin adapters over services and access helpers."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from symphony_site.actors import Actor
from symphony_site.api.errors import ApiError, NotFound
from symphony_site.api.pagination import CURSOR_PARAMETERS, paginated_response
from symphony_site.api.serializers import ErrorSerializer, page_of
from symphony_site.origins import actor_from_request, api_origin
from teams import selectors, services
from teams.access import access_team
from teams.api import serializers as s
from teams.login_limits import LoginGuard, LoginLimited
from teams.models import ApiToken, Membership, Team
from teams.roles import Role

User = get_user_model()
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer,
          409: ErrorSerializer}


def _team_response(user: Any, team: Team, status_code: int = 200) -> Response:
    annotated = selectors.teams_with_my_role(user).get(pk=team.pk)
    return Response(s.TeamSerializer(annotated).data, status=status_code)


class TokenObtainView(APIView):
    """Exchange a username and password for a new API token."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    # Counted per address, per account and address, and per account, atomically in Redis
    # (teams/login_limits.py) instead of DRF's throttles, whose history is read and written back.
    throttle_classes: list[Any] = []

    @extend_schema(request=s.TokenRequestSerializer, responses={201: s.NewTokenSerializer, **ERRORS},
                   auth=[], tags=["auth"])
    def post(self, request: Request) -> Response:
        body = s.TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        username = body.validated_data["username"]
        origin = api_origin(request)
        guard = LoginGuard(address=origin.ip_address or "unknown", username=username)
        try:
            guard.check()
        except LoginLimited as limited:
            raise Throttled(wait=limited.wait, detail=str(limited)) from None
        user = authenticate(request._request, username=username, password=body.validated_data["password"])
        if user is None:
            guard.failed()
            services.login_failed(actor=Actor.anonymous(), origin=origin, username=username, method="api_token")
            raise ApiError("The username or password is wrong.", code="authentication_failed",
                           status_code=status.HTTP_401_UNAUTHORIZED)
        guard.succeeded()
        services.login_succeeded(actor=Actor.of(user), origin=origin, method="api_token")
        name = body.validated_data.get("name") or f"api {ApiToken.objects.filter(user=user).count() + 1}"
        token, key = services.token_create(actor=Actor.of(user), origin=origin, name=name)
        return Response(s.NewTokenSerializer(token, context={"key": key}).data, status=201)


class TokenListView(APIView):
    @extend_schema(parameters=CURSOR_PARAMETERS, responses={200: page_of(s.ApiTokenSerializer, "ApiTokenPage"), **ERRORS},
                   tags=["auth"])
    def get(self, request: Request) -> Response:
        return paginated_response(request, ApiToken.objects.filter(user=request.user), ("-created_at", "-id"),
                          s.ApiTokenSerializer)

    @extend_schema(request=s.TokenCreateSerializer, responses={201: s.NewTokenSerializer, **ERRORS},
                   tags=["auth"])
    def post(self, request: Request) -> Response:
        body = s.TokenCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, key = services.token_create(actor=actor_from_request(request), origin=api_origin(request),
                                           name=body.validated_data["name"])
        return Response(s.NewTokenSerializer(token, context={"key": key}).data, status=201)


class TokenDetailView(APIView):
    @extend_schema(responses={200: s.ApiTokenSerializer, **ERRORS}, tags=["auth"])
    def delete(self, request: Request, token_id: Any) -> Response:
        token = ApiToken.objects.filter(pk=token_id, user=request.user).first()
        if token is None:
            raise NotFound("Token not found.")
        token = services.token_revoke(actor=actor_from_request(request), origin=api_origin(request),
                                      token=token)
        return Response(s.ApiTokenSerializer(token).data)


class MeView(APIView):
    # The token's statement reads the user's teams too: one statement for the whole request
    # (teams/authentication.py).
    token_reads_teams = True

    @extend_schema(responses={200: s.MeSerializer, **ERRORS}, tags=["auth"])
    def get(self, request: Request) -> Response:
        return Response(s.me(request.user))


class TeamListView(APIView):
    @extend_schema(parameters=CURSOR_PARAMETERS, responses={200: page_of(s.TeamSerializer, "TeamPage"), **ERRORS},
                   tags=["teams"], operation_id="teams_list")
    def get(self, request: Request) -> Response:
        return paginated_response(request, selectors.teams_with_my_role(request.user), ("name", "id"), s.TeamSerializer)

    @extend_schema(request=s.TeamCreateSerializer, responses={201: s.TeamSerializer, **ERRORS}, tags=["teams"])
    def post(self, request: Request) -> Response:
        body = s.TeamCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        team = services.team_create(actor=actor_from_request(request), origin=api_origin(request),
                                    **body.validated_data)
        return _team_response(request.user, team, 201)


class TeamDetailView(APIView):
    @extend_schema(responses={200: s.TeamSerializer, **ERRORS}, tags=["teams"])
    def get(self, request: Request, team_id: Any) -> Response:
        team = access_team(request.user, team_id)
        return _team_response(request.user, team)

    @extend_schema(request=s.TeamUpdateSerializer, responses={200: s.TeamSerializer, **ERRORS}, tags=["teams"])
    def patch(self, request: Request, team_id: Any) -> Response:
        team = access_team(request.user, team_id)
        body = s.TeamUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        team = services.team_update(actor=actor_from_request(request), origin=api_origin(request),
                                    team=team, **body.validated_data)
        return _team_response(request.user, team)


def _member_user(user_id: Any) -> Any:
    # ASCII digits: str.isdigit() alone takes a superscript two (the lookup then raises) and an Arabic-Indic one (read as 1).
    text = str(user_id)
    user = User.objects.filter(pk=int(text)).first() if text.isascii() and text.isdigit() else None
    if user is None:
        raise NotFound("Member not found.")
    return user


class MemberListView(APIView):
    @extend_schema(parameters=CURSOR_PARAMETERS, responses={200: page_of(s.MemberSerializer, "MemberPage"), **ERRORS},
                   tags=["teams"])
    def get(self, request: Request, team_id: Any) -> Response:
        team = access_team(request.user, team_id)
        members = Membership.objects.filter(team=team).select_related("user")
        return paginated_response(request, members, ("user__username", "id"), s.MemberSerializer)

    @extend_schema(request=s.MemberAddSerializer, responses={201: s.MemberSerializer, **ERRORS}, tags=["teams"])
    def post(self, request: Request, team_id: Any) -> Response:
        team = access_team(request.user, team_id, Role.ADMIN, action="add members")
        body = s.MemberAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = User.objects.filter(username=body.validated_data["username"], is_active=True).first()
        if user is None:
            raise NotFound(f"No user named {body.validated_data['username']!r}; they must sign up first.")
        membership = services.member_add(actor=actor_from_request(request), origin=api_origin(request),
                                         team=team, user=user,
                                         role=body.validated_data["role"])
        return Response(s.MemberSerializer(membership).data, status=201)


class MemberDetailView(APIView):
    @extend_schema(request=s.MemberUpdateSerializer, responses={200: s.MemberSerializer, **ERRORS},
                   tags=["teams"])
    def patch(self, request: Request, team_id: Any, user_id: Any) -> Response:
        team = access_team(request.user, team_id, Role.ADMIN, action="change roles")
        body = s.MemberUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        membership = services.member_change_role(actor=actor_from_request(request), origin=api_origin(request),
                                                 team=team, user=_member_user(user_id),
                                                 role=body.validated_data["role"])
        return Response(s.MemberSerializer(membership).data)

    @extend_schema(responses={204: None, **ERRORS}, tags=["teams"])
    def delete(self, request: Request, team_id: Any, user_id: Any) -> Response:
        team = access_team(request.user, team_id)
        services.member_remove(actor=actor_from_request(request), origin=api_origin(request),
                               team=team, user=_member_user(user_id))
        return Response(status=204)
