"""Workflows API: thin adapters over services and selectors (api.md, "Workflows")."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from symphony_site.api.errors import ApiError, NotFound, ValidationFailed
from symphony_site.api.pagination import CURSOR_PARAMETERS, paginated_response
from symphony_site.api.query import query_boolean
from symphony_site.api.serializers import ErrorSerializer
from symphony_site.origins import actor_from_request, api_origin
from teams.access import access_team, team_key
from teams.roles import Role
from workflows import documents, graphs, selectors, services
from workflows.access import access_workflow
from workflows.api import rows
from workflows.api import serializers as s
from workflows.catalog import catalog_entries
from workflows.serialization import workflow_json_schema
from workflows.versioning import diff_documents

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
WRITE_ERRORS = {**ERRORS, 409: ErrorSerializer, 413: ErrorSerializer}
TAGS = ["workflows"]
# A version number as the query names it: any text, looked up (404 when no version has it).
VERSION_TEXT = {"type": "string", "minLength": 1}
VERSION_PARAMETER = OpenApiParameter("version", str, description="A version number; default: the current one.")

EXPORT_TYPES = services.EXPORT_FILES
IMPORT_MEDIA_TYPES = ("application/json", "application/msgpack", "application/x-msgpack",
                      "application/octet-stream", "application/zstd", "application/x-lz4")


def _workflow_response(workflow_id: Any, user: Any, status_code: int = 200) -> Response:
    return Response(rows.detail_of(user, workflow_id), status=status_code)


class WorkflowListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("team", OpenApiTypes.UUID, description="Only this team's workflows."),
                    OpenApiParameter("q", str, description="Words in the name or description."),
                    OpenApiParameter("tag", str, description="Only workflows with this tag."),
                    OpenApiParameter("archived", bool, description="List archived workflows instead."),
                    *CURSOR_PARAMETERS],
        responses={200: s.page_of(s.WorkflowSerializer, "WorkflowPage"), **ERRORS}, tags=TAGS,
        operation_id="workflows_list")
    def get(self, request: Request) -> Response:
        params = request.query_params
        team = params.get("team") or None
        if team:  # the page's statement checks the membership (teams.access.in_team)
            team = team_key(team)
        return rows.list_page(
            request, team=team, query=params.get("q", "")[:200], tag=params.get("tag", "")[:50],
            archived=bool(query_boolean(params.get("archived"), "archived")))

    @extend_schema(request=s.WorkflowCreateSerializer, responses={201: s.WorkflowDetailSerializer, **WRITE_ERRORS},
                   tags=TAGS)
    def post(self, request: Request) -> Response:
        body = s.WorkflowCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        team = access_team(request.user, body.validated_data["team"])
        workflow = services.workflow_create(actor=actor_from_request(request), origin=api_origin(request),
                                            team=team,
                                            document=body.validated_data["document"],
                                            change_message=body.validated_data["change_message"])
        return _workflow_response(workflow.pk, request.user, 201)


class WorkflowDetailView(APIView):
    @extend_schema(responses={200: s.WorkflowDetailSerializer, **ERRORS}, tags=TAGS)
    def get(self, request: Request, workflow_id: Any) -> Response:
        return _workflow_response(workflow_id, request.user)

    @extend_schema(request=s.WorkflowUpdateSerializer, responses={200: s.WorkflowDetailSerializer, **WRITE_ERRORS},
                   tags=TAGS, description="A new document, name, description, tags or category saves a new "
                                          "immutable version; an edit that changes nothing saves nothing.")
    def patch(self, request: Request, workflow_id: Any) -> Response:
        workflow = access_workflow(request.user, workflow_id, Role.EDITOR, action="edit workflows")
        body = s.WorkflowUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.workflow_update(actor=actor_from_request(request), origin=api_origin(request),
                                 workflow=workflow, **body.validated_data)
        return _workflow_response(workflow.pk, request.user)

    @extend_schema(responses={204: None, **WRITE_ERRORS}, tags=TAGS,
                   description="Archives the workflow (workflows are never deleted; versions stay readable).")
    def delete(self, request: Request, workflow_id: Any) -> Response:
        workflow = access_workflow(request.user, workflow_id, Role.EDITOR, action="archive workflows")
        services.workflow_archive(actor=actor_from_request(request), origin=api_origin(request),
                                  workflow=workflow)
        return Response(status=204)


class VersionListView(APIView):
    @extend_schema(parameters=CURSOR_PARAMETERS, responses={200: s.page_of(s.VersionSummarySerializer, "WorkflowVersionPage"), **ERRORS},
                   tags=TAGS, operation_id="workflows_versions_list")
    def get(self, request: Request, workflow_id: Any) -> Response:
        workflow = access_workflow(request.user, workflow_id)
        return paginated_response(request, selectors.versions_of(workflow), selectors.VERSION_ORDERING,
                                  s.VersionSummarySerializer)


class VersionDetailView(APIView):
    @extend_schema(responses={200: s.VersionDetailSerializer, **ERRORS}, tags=TAGS)
    def get(self, request: Request, workflow_id: Any, version: str) -> Response:
        workflow = access_workflow(request.user, workflow_id)
        return Response(s.VersionDetailSerializer(selectors.version_of(workflow, version)).data)


class DiffView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("from", VERSION_TEXT, required=True, description="The older version."),
                    OpenApiParameter("to", VERSION_TEXT, required=True, description="The newer version.")],
        responses={200: s.DiffSerializer, **ERRORS}, tags=TAGS)
    def get(self, request: Request, workflow_id: Any) -> Response:
        workflow = access_workflow(request.user, workflow_id)
        missing = [name for name in ("from", "to") if not request.query_params.get(name)]
        if missing:
            raise ValidationFailed("Give the two versions to compare as ?from=&to=.",
                                   details=[{"field": name, "code": "required", "message": "required"}
                                            for name in missing])
        old = selectors.version_of(workflow, request.query_params["from"])
        new = selectors.version_of(workflow, request.query_params["to"])
        diff = diff_documents(old.workflow_document, new.workflow_document)
        return Response({"from": old.version, "to": new.version, **diff})


class ValidateView(APIView):
    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: s.ValidationResultSerializer, **WRITE_ERRORS},
                   tags=TAGS, description="Validate a document (envelope or bare workflow object) against "
                                          "the graph core and the node-type catalog. Nothing is stored.")
    def post(self, request: Request) -> Response:
        _, result = documents.validation_of(request.data)
        return Response(result.to_dict())


class WorkflowValidationView(APIView):
    @extend_schema(parameters=[VERSION_PARAMETER], responses={200: s.WorkflowValidationSerializer, **ERRORS},
                   tags=TAGS, description="A stored version validated against today's catalog.")
    def get(self, request: Request, workflow_id: Any) -> Response:
        workflow = access_workflow(request.user, workflow_id)
        version = selectors.version_of(workflow, request.query_params.get("version"))
        result = graphs.analysis(version).validation
        return Response({"version": version.version, **result.to_dict()})


# Above this many ids in all nodes' transitive lists together, the plan leaves them out.
PLAN_TRANSITIVE_LIMIT = 200_000
NODE_PARAMETER = OpenApiParameter(
    "node", str, many=True,
    description="Only these nodes' dependencies (repeatable); their transitive lists are always included.",
)


class PlanView(APIView):
    @extend_schema(parameters=[VERSION_PARAMETER, NODE_PARAMETER], responses={200: s.PlanSerializer, **ERRORS, 409: ErrorSerializer},
                   tags=TAGS)
    def get(self, request: Request, workflow_id: Any) -> Response:
        workflow = access_workflow(request.user, workflow_id)
        version = selectors.version_of(workflow, request.query_params.get("version"))
        try:
            plan = graphs.runnable(version).plan
        except graphs.NotRunnable as refusal:  # a stored version was valid; a newer catalog may disagree
            raise ApiError(f"This version cannot be planned: {refusal}", code="not_plannable", status_code=409,
                           details=[issue.to_dict() for issue in refusal.analysis.validation.errors]) from None
        nodes = request.query_params.getlist("node") or None
        unknown = sorted(set(nodes or ()) - set(plan.topological_order))
        if unknown:  # a node id names something in the version, as the version number does: 404
            raise NotFound(
                f"No node {unknown[0]!r} in version {version.version}.",
                details=[{"field": "node", "message": f"unknown node {node_id!r}", "code": "not_found"}
                         for node_id in unknown],
            )
        return Response({"version": version.version,
                         **plan.to_dict(nodes=nodes, transitive_limit=PLAN_TRANSITIVE_LIMIT)})


class ExportView(APIView):
    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # `?format=` names the export format here, not DRF's renderer override; errors stay JSON.
        renderer = self.get_renderers()[0]
        return renderer, renderer.media_type

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=list(EXPORT_TYPES), description="Default json."),
                    VERSION_PARAMETER],
        responses={(200, "application/json"): OpenApiTypes.OBJECT,
                   **{(200, content_type): OpenApiTypes.BINARY
                      for content_type, _ in EXPORT_TYPES.values() if content_type != "application/json"},
                   **ERRORS},
        tags=TAGS, description="The version's envelope as a file: JSON, compact MessagePack, or MessagePack "
                               "compressed with zstd or lz4.")
    def get(self, request: Request, workflow_id: Any) -> HttpResponse:
        workflow = access_workflow(request.user, workflow_id)
        export_format = request.query_params.get("format", "json")
        version = selectors.version_of(workflow, request.query_params.get("version"))
        data = services.workflow_export(actor=actor_from_request(request), origin=api_origin(request),
                                        workflow=workflow, version=version.version,
                                        format=export_format)
        content_type, extension = EXPORT_TYPES[export_format]
        filename = f"{slugify(workflow.name) or 'workflow'}-{version.version}.{extension}"
        response = HttpResponse(data, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class RawBodyParser(BaseParser):
    """Import bodies are read as bytes by the service; this only admits the media types."""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> bytes:
        return stream.read() if stream is not None else b""


class ImportView(APIView):
    parser_classes = [RawBodyParser]

    @extend_schema(
        parameters=[OpenApiParameter("team", OpenApiTypes.UUID, required=True, description="The team to import into.")],
        request={media: OpenApiTypes.BINARY for media in IMPORT_MEDIA_TYPES},
        responses={201: s.WorkflowDetailSerializer, **WRITE_ERRORS, 415: ErrorSerializer}, tags=TAGS,
        description="The raw body of an exported file in any format (detected from its bytes). A document "
                    "of an older schema is migrated; a newer one is refused.")
    def post(self, request: Request) -> Response:
        team_id = request.query_params.get("team")
        if not team_id:
            raise ValidationFailed("Name the team to import into with ?team=.",
                                   details=[{"field": "team", "code": "required", "message": "required"}])
        team = access_team(request.user, team_id)
        media_type = (request.content_type or "").split(";")[0].strip().lower()
        if media_type and media_type not in IMPORT_MEDIA_TYPES:
            raise ApiError(f"Unsupported media type {media_type!r}; send one of {', '.join(IMPORT_MEDIA_TYPES)}.",
                           code="unsupported_media_type", status_code=415)
        workflow = services.workflow_import(actor=actor_from_request(request), origin=api_origin(request),
                                            team=team, data=request.body)
        return _workflow_response(workflow.pk, request.user, 201)


class NodeTypeListView(APIView):
    @extend_schema(parameters=[OpenApiParameter("kind", str, enum=["control", "operator", "instrument"])],
                   responses={200: s.page_of(s.NodeTypeSerializer, "NodeTypePage"), **ERRORS}, tags=TAGS,
                   operation_id="node_types_list")
    def get(self, request: Request) -> Response:
        kind = request.query_params.get("kind")  # "kind=" is not a kind: 400, like any other
        if kind not in (None, "control", "operator", "instrument"):
            raise ValidationFailed("kind is control, operator or instrument.",
                                   details=[{"field": "kind", "code": "invalid", "message": "unknown kind"}])
        return Response({"results": catalog_entries(kind), "next": None})


class SchemaView(APIView):
    @extend_schema(responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="A JSON Schema (2020-12)."),
                              **ERRORS}, tags=TAGS)
    def get(self, request: Request) -> Response:
        return Response(workflow_json_schema())

