"""Templates API: thin adapters over `templates_app.services` and `selectors`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from symphony_site import metrics
from symphony_site.api.errors import NotFound
from symphony_site.api.pagination import (
    CURSOR_PARAMETERS,
    paginated_response,
    parse_limit,
)
from symphony_site.api.query import query_boolean
from symphony_site.api.serializers import ErrorSerializer, page_of
from symphony_site.origins import actor_from_request, api_origin
from teams.access import access_team, has_role
from teams.roles import Role
from templates_app import selectors, services
from templates_app.access import access_origin, access_template
from templates_app.api import rows
from templates_app.api import serializers as s
from templates_app.domain.parameters import parameters_json_schema, parse_parameters
from templates_app.domain.versions import CONSTRAINT_PATTERN, MAX_CONSTRAINT_LENGTH
from templates_app.models import Template
from workflows.access import access_workflow

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer,
          409: ErrorSerializer}
TAGS = ["templates"]
VERSION_CONSTRAINT = {"type": "string", "pattern": CONSTRAINT_PATTERN, "maxLength": MAX_CONSTRAINT_LENGTH}

SEARCH_PARAMETERS = [
    OpenApiParameter("q", str, description="Words to search for; the last one may be half typed."),
    OpenApiParameter("category", str),
    OpenApiParameter("tag", str),
    OpenApiParameter("author", str, description="Publishing team's slug."),
    OpenApiParameter("node_type", str, description="An operator, control or node kind the template uses."),
    OpenApiParameter("model_id", str, description="A model id the template uses."),
    OpenApiParameter("verified", bool),
    OpenApiParameter("sort", str, enum=list(selectors.SORTS)),
    *CURSOR_PARAMETERS,
]


def _detail(request: Request, template: Template, status_code: int = 200) -> Response:
    template = Template.objects.select_related("team").get(pk=template.pk)
    context = {"user": request.user, "can_edit": has_role(request.user, template.team_id, Role.EDITOR)}
    return Response(s.TemplateDetailSerializer(template, context=context).data, status=status_code)


class TemplateListView(APIView):
    @extend_schema(parameters=SEARCH_PARAMETERS, responses={200: s.SearchResponseSerializer, **ERRORS},
                   tags=TAGS, summary="Search the marketplace, with facets", operation_id="templates_search")
    def get(self, request: Request) -> Response:
        params = request.query_params
        with metrics.Stopwatch() as watch:
            result = selectors.search_templates(
                request.user, query=params.get("q", "")[:200], category=params.get("category", ""),
                tag=params.get("tag", ""), publisher=params.get("author", ""),
                node_type=params.get("node_type", ""), model_id=params.get("model_id", ""),
                verified=query_boolean(params.get("verified"), "verified"), sort=params.get("sort", "relevance"),
                limit=parse_limit(params.get("limit"), 20), cursor=params.get("cursor") or None,
            )
        metrics.template_searched("api", watch.seconds)
        return Response({"results": rows.search_rows(result),
                         "next": result.next_cursor, "facets": result.facets,
                         "facets_exact": result.facets_exact, "typo_fallback": result.typo_fallback,
                         "corrected_query": result.corrected_query})

    @extend_schema(request=s.TemplateCreateSerializer, responses={201: s.TemplateDetailSerializer, **ERRORS},
                   tags=TAGS, summary="Publish a template with its first version", operation_id="templates_publish")
    def post(self, request: Request) -> Response:
        body = s.TemplateCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        team = access_team(request.user, data.pop("team"))
        template = services.template_publish(actor=actor_from_request(request), origin=api_origin(request),
                                             team=team, **data)
        return _detail(request, template, 201)


class TemplateDetailView(APIView):
    @extend_schema(responses={200: s.TemplateDetailSerializer, **ERRORS}, tags=TAGS, operation_id="templates_retrieve")
    def get(self, request: Request, slug: str) -> Response:
        return _detail(request, access_template(request.user, slug))

    @extend_schema(request=s.TemplateUpdateSerializer, responses={200: s.TemplateDetailSerializer, **ERRORS},
                   tags=TAGS, summary="Change metadata; deprecate; verify or feature (staff)", operation_id="templates_update")
    def patch(self, request: Request, slug: str) -> Response:
        template = access_template(request.user, slug)
        body = s.TemplateUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        flags = {name: data.pop(name) for name in ("deprecated", "verified", "featured") if name in data}
        # Permission for every part is checked before anything is written.
        if "verified" in flags or "featured" in flags:
            from templates_app.access import require_staff

            require_staff(request.user, action="verify or feature templates")
        if data:
            template = services.template_update(actor=actor_from_request(request), origin=api_origin(request),
                                                template=template, **data)
        if "deprecated" in flags:
            template = services.template_deprecate(actor=actor_from_request(request), origin=api_origin(request),
                                                   template=template,
                                                   deprecated=flags["deprecated"])
        if "verified" in flags:
            template = services.template_set_verified(actor=actor_from_request(request), origin=api_origin(request),
                                                      template=template,
                                                      verified=flags["verified"])
        if "featured" in flags:
            template = services.template_set_featured(actor=actor_from_request(request), origin=api_origin(request),
                                                      template=template,
                                                      featured=flags["featured"])
        return _detail(request, template)


class TemplateVersionListView(APIView):
    @extend_schema(parameters=CURSOR_PARAMETERS, responses={200: page_of(s.TemplateVersionSerializer, "TemplateVersionPage"), **ERRORS},
                   tags=TAGS, operation_id="templates_versions_list")
    def get(self, request: Request, slug: str) -> Response:
        template = access_template(request.user, slug)
        return paginated_response(request, template.versions.select_related("created_by"),
                                  ("-major", "-minor", "-patch", "id"), s.TemplateVersionSerializer)

    @extend_schema(request=s.VersionBodySerializer, responses={201: s.TemplateVersionSerializer, **ERRORS},
                   tags=TAGS, summary="Publish a new version (greater than the latest, with a changelog)", operation_id="templates_versions_create")
    def post(self, request: Request, slug: str) -> Response:
        template = access_template(request.user, slug)
        body = s.VersionBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = services.template_version_create(actor=actor_from_request(request), origin=api_origin(request),
                                                   template=template,
                                                   version=dict(body.validated_data))
        return Response(s.TemplateVersionSerializer(version).data, status=201)


class TemplateVersionDetailView(APIView):
    @extend_schema(responses={200: s.TemplateVersionSerializer, **ERRORS}, tags=TAGS,
                   operation_id="templates_versions_retrieve")
    def get(self, request: Request, slug: str, version: str) -> Response:
        template = access_template(request.user, slug)
        stored = template.versions.filter(version=version).select_related("created_by").first()
        if stored is None:
            raise NotFound(f"Version {version} of {slug} not found.")
        return Response(s.TemplateVersionSerializer(stored).data)


class TemplateParametersView(APIView):
    @extend_schema(parameters=[OpenApiParameter("version", VERSION_CONSTRAINT,
                                                description="A version constraint; default latest.")],
                   responses={200: s.ParametersResponseSerializer, **ERRORS}, tags=TAGS,
                   summary="Parameter definitions and their JSON Schema (2020-12)", operation_id="templates_parameters")
    def get(self, request: Request, slug: str) -> Response:
        template = access_template(request.user, slug)
        version = selectors.resolve_template_version(template, request.query_params.get("version") or "latest")
        definitions = parse_parameters(version.parameters)
        return Response({"version": version.version, "parameters": version.parameters,
                         "json_schema": parameters_json_schema(definitions, title=template.name)})


class TemplateInstantiateView(APIView):
    @extend_schema(request=s.InstantiateSerializer, responses={201: s.InstantiateResponseSerializer, **ERRORS},
                   tags=TAGS, summary="Create a workflow from the template", operation_id="templates_instantiate")
    def post(self, request: Request, slug: str) -> Response:
        template = access_template(request.user, slug)
        body = s.InstantiateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        team = access_team(request.user, data["team"])
        workflow, warnings, applied = services.template_instantiate(
            actor=actor_from_request(request), origin=api_origin(request), team=team, template=template,
            version_constraint=data["version"], parameters=data["parameters"], overrides=data["overrides"], name=data.get("name"))
        origin = workflow.template_origin
        return Response({"workflow": s.CreatedWorkflowSerializer(workflow).data,
                         "template_version": origin.template_version.version,
                         "warnings": warnings, "applied_defaults": applied}, status=201)


class TemplateRatingView(APIView):
    @extend_schema(request=s.RatingRequestSerializer, responses={200: s.RatingResponseSerializer, **ERRORS},
                   tags=TAGS, summary="Rate 1 to 5 stars; rating again replaces your rating", operation_id="templates_rate")
    def post(self, request: Request, slug: str) -> Response:
        template = access_template(request.user, slug)
        body = s.RatingRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rating = services.template_rate(actor=actor_from_request(request), origin=api_origin(request),
                                        template=template, stars=body.validated_data["stars"])
        template.refresh_from_db()
        return Response({"stars": rating.stars, "rating_average": round(template.rating_average, 2),
                         "rating_count": template.rating_count})


class TemplateFromWorkflowView(APIView):
    @extend_schema(request=s.FromWorkflowSerializer, responses={201: s.TemplateDetailSerializer, **ERRORS},
                   tags=TAGS, summary="Save a workflow as a template, choosing which values become parameters", operation_id="templates_from_workflow")
    def post(self, request: Request) -> Response:
        body = s.FromWorkflowSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        workflow = access_workflow(request.user, data.pop("workflow"))
        template = services.template_from_workflow(actor=actor_from_request(request), origin=api_origin(request),
                                                   workflow=workflow, **data)
        return _detail(request, template, 201)


class TemplateOriginView(APIView):
    @extend_schema(responses={200: s.OriginSerializer, **ERRORS}, tags=TAGS, operation_id="templates_origin",
                   summary="Which template version made a workflow, and any newer compatible version")
    def get(self, request: Request, workflow_id: Any) -> Response:
        _, instantiation = access_origin(request.user, workflow_id)
        newer = selectors.newer_compatible_version(instantiation)
        return Response({
            "template": instantiation.template_version.template.slug,
            "template_version": instantiation.template_version.version,
            "parameters": instantiation.parameters, "overrides": instantiation.overrides,
            "created_by": instantiation.created_by.username if instantiation.created_by else None,
            "created_at": s.OriginSerializer().fields["created_at"].to_representation(instantiation.created_at),
            "newer_version": {"version": newer.version, "changelog": newer.changelog} if newer else None,
        })


class TemplateOriginUpgradeView(APIView):
    @extend_schema(request=None, responses={200: s.InstantiateResponseSerializer, **ERRORS}, tags=TAGS,
                   operation_id="templates_origin_upgrade",
                   summary="Re-instantiate the newest compatible version with the same parameters (a new version "
                           "of the workflow)")
    def post(self, request: Request, workflow_id: Any) -> Response:
        s.NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        workflow, _ = access_origin(request.user, workflow_id)
        workflow, warnings, applied = services.template_upgrade_workflow(
            actor=actor_from_request(request), origin=api_origin(request), workflow=workflow)
        workflow.refresh_from_db()
        return Response({"workflow": s.CreatedWorkflowSerializer(workflow).data,
                         "template_version": workflow.template_origin.template_version.version,
                         "warnings": warnings, "applied_defaults": applied})
