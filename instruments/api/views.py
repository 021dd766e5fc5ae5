"""Models, team secrets, providers and usage API: thin adapters over services and selectors."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from instruments import selectors, services
from instruments.access import (
    access_provider,
    access_team_for_providers,
    access_team_for_secrets,
)
from instruments.api import serializers as s
from symphony_site.api.errors import NotFound, ValidationFailed
from symphony_site.api.pagination import CURSOR_PARAMETERS, paginated_response
from symphony_site.api.serializers import ErrorSerializer, page_of
from symphony_site.origins import actor_from_request, api_origin
from teams.access import access_team, teams_for_user
from teams.models import Team

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer,
          409: ErrorSerializer}
# Documented as required: the server also answers a member of exactly one team who leaves it
# out, but a client cannot know that in general (400 names the field otherwise).
TEAM_PARAMETER = OpenApiParameter("team", OpenApiTypes.UUID, required=True,
                                  description="Team id (a member of exactly one team may leave it "
                                              "out).")


def _requested_team(request: Request) -> Team:
    team_id = request.query_params.get("team")
    if team_id:
        return access_team(request.user, team_id)
    teams = list(teams_for_user(request.user)[:2])
    if len(teams) == 1:
        return teams[0]
    if not teams:
        raise NotFound("You are not a member of any team.")
    raise ValidationFailed("You are a member of several teams: say which with ?team=<id>.",
                           details=[{"field": "team", "message": "required", "code": "required"}])


class ModelListView(APIView):
    @extend_schema(operation_id="models_list", parameters=[TEAM_PARAMETER],
                   summary="The models a team can use now, each with its config JSON Schema",
                   responses={200: s.ModelPageSerializer, **ERRORS}, tags=["models"])
    def get(self, request: Request) -> Response:
        team = _requested_team(request)
        return Response({"results": selectors.available_models(team), "next": None})


class UsageView(APIView):
    @extend_schema(operation_id="team_usage", tags=["models"],
                   parameters=[OpenApiParameter("days", {"type": "integer", "minimum": 1, "maximum": 366},
                                               description="1 to 366; default 30.")],
                   summary="A team's model usage over time: per UTC day and per model",
                   responses={200: s.UsageSerializer, **ERRORS})
    def get(self, request: Request, team_id: Any) -> Response:
        team = access_team(request.user, team_id)
        raw = request.query_params.get("days", "30")
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= selectors.USAGE_DAYS_MAX:
            raise ValidationFailed("days is a whole number from 1 to 366.",
                                   details=[{"field": "days", "message": "1 to 366",
                                             "code": "invalid"}])
        days = int(raw)
        by_model = selectors.usage_by_model(team, days=days)
        return Response({"days": days, "currency": "USD",
                         "by_day": selectors.usage_by_day(team, days=days),
                         "by_model": by_model, "total": s.usage_total(by_model)})


class SecretListView(APIView):
    @extend_schema(operation_id="team_secrets_list", tags=["secrets"],
                   summary="A team's secrets: names and history, never values (admins)",
                   parameters=CURSOR_PARAMETERS,
                   responses={200: page_of(s.SecretSerializer, "SecretPage"), **ERRORS})
    def get(self, request: Request, team_id: Any) -> Response:
        team = access_team_for_secrets(request.user, team_id)
        return paginated_response(request, selectors.secrets_of(team), ("name",),
                                  s.SecretSerializer)

    @extend_schema(operation_id="team_secrets_create", tags=["secrets"],
                   request=s.SecretCreateSerializer,
                   responses={201: s.SecretSerializer, **ERRORS})
    def post(self, request: Request, team_id: Any) -> Response:
        team = access_team_for_secrets(request.user, team_id)
        body = s.SecretCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        secret = services.secret_create(actor=actor_from_request(request),
                                        origin=api_origin(request), team=team,
                                        name=body.validated_data["name"],
                                        value=body.validated_data["value"])
        return Response(s.SecretSerializer(secret).data, status=201)


class SecretDetailView(APIView):
    @extend_schema(operation_id="team_secrets_rotate", tags=["secrets"],
                   summary="Give a secret a new value (admins); the value is not returned",
                   request=s.SecretUpdateSerializer, responses={200: s.SecretSerializer, **ERRORS})
    def patch(self, request: Request, team_id: Any, name: str) -> Response:
        team = access_team_for_secrets(request.user, team_id)
        body = s.SecretUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        secret = services.secret_rotate(actor=actor_from_request(request),
                                        origin=api_origin(request), team=team, name=name,
                                        value=body.validated_data["value"])
        return Response(s.SecretSerializer(secret).data)

    @extend_schema(operation_id="team_secrets_delete", tags=["secrets"],
                   responses={204: None, **ERRORS})
    def delete(self, request: Request, team_id: Any, name: str) -> Response:
        team = access_team_for_secrets(request.user, team_id)
        services.secret_delete(actor=actor_from_request(request), origin=api_origin(request),
                               team=team, name=name)
        return Response(status=204)


def _provider_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in data.items() if name != "name"}


class ProviderListView(APIView):
    @extend_schema(operation_id="team_providers_list", tags=["models"],
                   summary="A team's OpenAI-compatible model providers (admins)",
                   parameters=CURSOR_PARAMETERS,
                   responses={200: page_of(s.ProviderSerializer, "ProviderPage"), **ERRORS})
    def get(self, request: Request, team_id: Any) -> Response:
        team = access_team_for_providers(request.user, team_id)
        return paginated_response(request, selectors.providers_of(team), ("name",),
                                  s.ProviderSerializer)

    @extend_schema(operation_id="team_providers_create", tags=["models"],
                   request=s.ProviderWriteSerializer, responses={201: s.ProviderSerializer, **ERRORS})
    def post(self, request: Request, team_id: Any) -> Response:
        team = access_team_for_providers(request.user, team_id)
        body = s.ProviderWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if "name" not in body.validated_data:
            raise ValidationFailed("A provider needs a name.",
                                   details=[{"field": "name", "message": "required",
                                             "code": "required"}])
        provider = services.provider_create(
            actor=actor_from_request(request), origin=api_origin(request), team=team,
            name=body.validated_data["name"], fields=_provider_fields(body.validated_data))
        return Response(s.ProviderSerializer(provider).data, status=201)


class ProviderDetailView(APIView):
    @extend_schema(operation_id="team_providers_read", tags=["models"],
                   responses={200: s.ProviderSerializer, **ERRORS})
    def get(self, request: Request, team_id: Any, name: str) -> Response:
        team = access_team_for_providers(request.user, team_id)
        return Response(s.ProviderSerializer(access_provider(team, name)).data)

    @extend_schema(operation_id="team_providers_update", tags=["models"],
                   request=s.ProviderUpdateSerializer, responses={200: s.ProviderSerializer, **ERRORS})
    def patch(self, request: Request, team_id: Any, name: str) -> Response:
        team = access_team_for_providers(request.user, team_id)
        body = s.ProviderWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if "name" in body.validated_data:
            raise ValidationFailed("A provider's name cannot change (model ids use it): add a "
                                   "new provider instead.",
                                   details=[{"field": "name", "message": "read-only",
                                             "code": "read_only"}])
        provider = services.provider_update(
            actor=actor_from_request(request), origin=api_origin(request), team=team,
            name=name, fields=body.validated_data)
        return Response(s.ProviderSerializer(provider).data)

    @extend_schema(operation_id="team_providers_delete", tags=["models"],
                   responses={204: None, **ERRORS})
    def delete(self, request: Request, team_id: Any, name: str) -> Response:
        team = access_team_for_providers(request.user, team_id)
        services.provider_delete(actor=actor_from_request(request), origin=api_origin(request),
                                 team=team, name=name)
        return Response(status=204)
