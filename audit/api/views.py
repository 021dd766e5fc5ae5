"""The audit API: query, export, verify. Thin: access, filters and services do the work."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import export, selectors
from audit.api.serializers import AuditEntrySerializer, AuditPageSerializer, VerificationSerializer
from audit.filters import parse_filters
from audit.services import export_recorded
from symphony_site.actors import Channel
from symphony_site.api.errors import ValidationFailed
from symphony_site.api.pagination import (
    CURSOR_PARAMETERS,
    paginated_response,
)
from symphony_site.origins import actor_from_request, origin_from_request

ORDERING = ("-occurred_at", "-sequence")
DEFAULT_LIMIT = 50

TEAM_PARAMETER = OpenApiParameter(
    "team", str,
    description="Team id or slug ('platform' for staff: entries without a team). "
    "May be left out by a member of exactly one team.",
)
FILTER_PARAMETERS = [
    TEAM_PARAMETER,
    OpenApiParameter("actor", str, description="Actor's user id or username, or 'system'."),
    OpenApiParameter("event_type", str, description="An event type, or a prefix such as `workflow.*`."),
    OpenApiParameter("execution", OpenApiTypes.UUID, description="Execution id."),
    OpenApiParameter("target_type", str),
    OpenApiParameter("target_id", str),
    OpenApiParameter("since", OpenApiTypes.DATETIME, description="Inclusive, ISO 8601 (UTC when no offset)."),
    OpenApiParameter("until", OpenApiTypes.DATETIME, description="Exclusive, ISO 8601 (UTC when no offset)."),
]
ERRORS = {
    400: OpenApiResponse(description="Bad filters, in the error shape."),
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="Your role in the team is below admin."),
    404: OpenApiResponse(description="No such team, or you are not a member."),
}


class IgnoreFormatNegotiation(BaseContentNegotiation):
    """`?format=` selects the export format here, not a DRF renderer."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: list[Any], format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


class AuditListView(APIView):
    @extend_schema(
        operation_id="audit_list",
        summary="Audit entries of one team, newest first",
        parameters=[*FILTER_PARAMETERS, *CURSOR_PARAMETERS],
        responses={200: AuditPageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        chain = selectors.access_chain(request.user, request.query_params.get("team"))
        filters = parse_filters(request.query_params)
        return paginated_response(request, filters.apply(selectors.entries(chain)), ORDERING,
                                  AuditEntrySerializer, default_limit=DEFAULT_LIMIT)


class AuditExportView(APIView):
    content_negotiation_class = IgnoreFormatNegotiation

    @extend_schema(
        operation_id="audit_export",
        summary="Stream one team's audit entries (oldest first) as JSON, NDJSON or CSV",
        parameters=[
            OpenApiParameter("format", str, enum=sorted(export.FORMATS), description="Default ndjson."),
            *FILTER_PARAMETERS,
        ],
        responses={
            (200, "application/x-ndjson"): OpenApiTypes.STR,
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/csv"): OpenApiTypes.STR,
            **ERRORS,
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        export_format = (request.query_params.get("format") or "ndjson").strip()
        if export_format not in export.FORMATS:
            raise ValidationFailed(
                f"Unknown export format {export_format!r}; use json, ndjson or csv.",
                details=[{"field": "format", "message": "one of json, ndjson, csv", "code": "invalid_choice"}],
            )
        chain = selectors.access_chain(request.user, request.query_params.get("team"))
        filters = parse_filters(request.query_params)
        recorded = export_recorded(actor=actor_from_request(request),
                                   origin=origin_from_request(request, channel=Channel.API),
                                   team=chain.team, export_format=export_format, filters=filters.as_query())
        # Everything up to the export's own entry: a fixed range, however long streaming takes.
        exported = filters.apply(selectors.entries(chain)).filter(sequence__lt=recorded.sequence)
        response = StreamingHttpResponse(export.stream(exported, export_format), content_type=export.FORMATS[export_format])
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        name = chain.team.slug if chain.team else "platform"
        response["Content-Disposition"] = f'attachment; filename="audit-{name}-{stamp}.{export_format}"'
        response["Cache-Control"] = "no-store"
        return response


class AuditVerifyView(APIView):
    @extend_schema(
        operation_id="audit_verify",
        summary="Recompute one team's hash chain and report its first break",
        parameters=[TEAM_PARAMETER],
        responses={200: VerificationSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        chain = selectors.access_chain(request.user, request.query_params.get("team"))
        return Response(selectors.verify(chain).as_dict())
