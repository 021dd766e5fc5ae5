"""Executions API: thin adapters over `executions.services`, `selectors` and `access` (api.md,
"Executions"; the event stream's endpoints belong to the live-events issue)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from executions import services
from executions.access import access_execution
from executions.api import rows
from executions.api import serializers as s
from executions.services.commands import MISSING
from symphony_site.api.errors import ValidationFailed
from symphony_site.api.pagination import CURSOR_PARAMETERS
from symphony_site.api.serializers import ErrorSerializer
from symphony_site.instants import NotAMoment, parse_moment
from symphony_site.origins import actor_from_request, api_origin
from teams.access import team_key
from workflows.access import access_workflow

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
TAGS = ["executions"]


def _detail(user: Any, execution_id: Any, status_code: int = 200) -> Response:
    """The full execution shape: node runs, history, progress with its estimate, commands now —
    `ExecutionSerializer`'s shape, read by one statement (executions/api/rows.py)."""
    return Response(rows.detail_of(user, execution_id), status=status_code)


def _time(raw: str | None, name: str) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        return parse_moment(raw)  # an empty value is refused like any other that is not a time
    except NotAMoment as problem:
        raise ValidationFailed(f"{name} is an ISO 8601 time, e.g. 2026-01-31T12:00:00Z.",
                               details=[{"field": name, "code": "invalid", "message": str(problem)}]) from None


LIST_PARAMETERS = [
    OpenApiParameter("team", OpenApiTypes.UUID, description="Only this team's executions."),
    OpenApiParameter("workflow", OpenApiTypes.UUID, description="Only executions of this workflow."),
    OpenApiParameter("state", str, many=True, enum=s.EXECUTION_STATES, description="Repeatable."),
    OpenApiParameter("started_by", str, description="The username of who started them."),
    OpenApiParameter("started_after", OpenApiTypes.DATETIME, description="Started at or after this time."),
    OpenApiParameter("started_before", OpenApiTypes.DATETIME, description="Started before this time."),
    *CURSOR_PARAMETERS,
]


class ExecutionListView(APIView):
    @extend_schema(parameters=LIST_PARAMETERS,
                   responses={200: s.page_of(s.ExecutionSummarySerializer, "ExecutionPage"), **ERRORS},
                   tags=TAGS, operation_id="executions_list",
                   description="Newest first. Progress here has counts and percentage; the estimate is "
                               "on each execution's own page.")
    def get(self, request: Request) -> Response:
        params = request.query_params
        team = params.get("team") or None
        if team:  # the page's statement checks the membership (teams.access.in_team)
            team = team_key(team)
        workflow = params.get("workflow") or None
        if workflow:
            workflow = access_workflow(request.user, workflow).pk
        states = params.getlist("state")
        unknown = sorted(set(states) - set(s.EXECUTION_STATES))
        if unknown:
            raise ValidationFailed(f"Unknown state {unknown[0]!r}; states are {', '.join(s.EXECUTION_STATES)}.",
                                   details=[{"field": "state", "code": "invalid", "message": f"unknown {state!r}"}
                                            for state in unknown])
        return rows.list_page(
            request, team=team, workflow=workflow, states=states,
            started_by=params.get("started_by", "")[:150],
            started_after=_time(params.get("started_after"), "started_after"),
            started_before=_time(params.get("started_before"), "started_before"))

    @extend_schema(request=s.ExecutionCreateSerializer,
                   responses={201: s.ExecutionSerializer, **ERRORS, 409: ErrorSerializer, 413: ErrorSerializer},
                   tags=TAGS, description="Start an execution of a workflow (operator role or above). "
                                          "Answers 201 with the execution, already running.")
    def post(self, request: Request) -> Response:
        body = s.ExecutionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        workflow = access_workflow(request.user, body.validated_data["workflow"])
        execution = services.execution_start(
            actor=actor_from_request(request), origin=api_origin(request), workflow=workflow,
            version=body.validated_data.get("version"), inputs=body.validated_data.get("inputs"))
        return _detail(request.user, execution.pk, 201)


class ExecutionDetailView(APIView):
    @extend_schema(responses={200: s.ExecutionSerializer, **ERRORS}, tags=TAGS)
    def get(self, request: Request, execution_id: Any) -> Response:
        return _detail(request.user, execution_id)


class ExecutionCommandView(APIView):
    @extend_schema(
        request=s.CommandSerializer,
        responses={200: s.ExecutionSerializer, 201: s.ExecutionSerializer, **ERRORS,
                   409: s.CommandRefusedSerializer},
        tags=TAGS,
        description="Control an execution (operator role or above): start, pause, resume, cancel "
                    "{reason}, retry_node {node_id}, skip_node {node_id, output?}, provide_input "
                    "{node_id, value}, rerun. Answers the execution as it is now (201 with the new "
                    "execution for rerun). 409 when its state forbids the command, naming the state "
                    "and the commands available now.")
    def post(self, request: Request, execution_id: Any) -> Response:
        execution = access_execution(request.user, execution_id)
        body = s.CommandSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = services.execution_command(
            actor=actor_from_request(request), origin=api_origin(request), execution=execution,
            command=data["command"], node_id=data.get("node_id"), value=data.get("value", MISSING),
            output=data.get("output", MISSING), reason=data.get("reason", ""))
        return _detail(request.user, result.pk, 201 if result.pk != execution.pk else 200)


class ExecutionRerunView(APIView):
    @extend_schema(request=s.RerunSerializer,
                   responses={201: s.ExecutionSerializer, **ERRORS, 409: s.CommandRefusedSerializer},
                   tags=TAGS, description="A new execution of the same version and inputs that reuses "
                                          "the outputs of every node that completed (failed or cancelled "
                                          "executions; operator role or above).")
    def post(self, request: Request, execution_id: Any) -> Response:
        execution = access_execution(request.user, execution_id)
        body = s.RerunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rerun = services.execution_rerun(actor=actor_from_request(request), origin=api_origin(request),
                                         execution=execution, reason=body.validated_data.get("reason", ""))
        return _detail(request.user, rerun.pk, 201)
