"""`POST /api/v1/executions/bulk/`: preview, then apply, one command over many executions
(api.md, "Operations"; docs/operations.md, "Bulk control"). A thin adapter over
`executions.services.bulk`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from executions.domain import BULK_COMMANDS
from executions.services.bulk import BulkFilter, execution_bulk_command
from symphony_site.api.serializers import ErrorSerializer, StrictSerializer
from symphony_site.origins import actor_from_request, api_origin
from teams.access import access_team
from workflows.access import access_workflow

from .serializers import EXECUTION_STATES

BULK_COMMAND_NAMES = [command.value for command in BULK_COMMANDS]
BULK_ACTIONS = ["change", "skip"]
# Bounds how much one body makes the server parse; the service's own cap (EXECUTION_BULK_MAX,
# 500 by default) answers a clear error below it.
MAX_IDS = 10_000


class BulkFilterSerializer(StrictSerializer):
    """Which executions: every field given narrows the selection; {} selects all of yours."""

    state = serializers.ListField(child=serializers.ChoiceField(choices=EXECUTION_STATES), required=False,
                                  max_length=len(EXECUTION_STATES), help_text="Any of these states.")
    team = serializers.UUIDField(required=False, allow_null=True, help_text="Only this team's executions.")
    workflow = serializers.UUIDField(required=False, allow_null=True,
                                     help_text="Only executions of this workflow.")
    started_after = serializers.DateTimeField(required=False, allow_null=True,
                                              help_text="Started at or after this time.")
    started_before = serializers.DateTimeField(required=False, allow_null=True,
                                               help_text="Started before this time.")
    error = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                  help_text="Text the execution's error message contains (any case).")
    started_by = serializers.CharField(required=False, allow_blank=True, max_length=150,
                                       help_text="The username of who started them.")


class BulkCommandSerializer(StrictSerializer):
    command = serializers.ChoiceField(choices=BULK_COMMAND_NAMES)
    filter = BulkFilterSerializer()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000,
                                   help_text="Recorded in each execution's history and audit entry.")
    dry_run = serializers.BooleanField(required=False, default=True,
                                       help_text="true (the default): answer the preview and change nothing.")
    ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, allow_null=True, max_length=MAX_IDS,
        help_text="Confirm a preview: change exactly these of the executions the filter selects (those "
                  "the preview listed); any that no longer match or whose state changed are skipped.")


class BulkOutcomeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField()
    team = serializers.CharField(help_text="The execution's team ('' when not found).")
    workflow_name = serializers.CharField()
    state = serializers.CharField(help_text="Its state when the command was decided ('' when not found).")
    action = serializers.ChoiceField(choices=BULK_ACTIONS)
    reason = serializers.CharField(help_text="Why it is skipped ('' for a change).")
    new_state = serializers.CharField(allow_null=True, help_text="After a real run: its state now "
                                                                 "(for rerun, the new execution's).")
    rerun = serializers.UUIDField(allow_null=True, help_text="rerun: the new execution.")


class BulkSkipSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField()
    state = serializers.CharField()
    reason = serializers.CharField()


class BulkResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    operation = serializers.UUIDField(allow_null=True, help_text="The bulk operation's id (null for a dry "
                                                                 "run); every audit entry it made names it.")
    command = serializers.ChoiceField(choices=BULK_COMMAND_NAMES)
    dry_run = serializers.BooleanField()
    filter = serializers.JSONField(help_text="The filter as applied.")
    matched = serializers.ListField(child=serializers.UUIDField(), help_text="Every execution considered.")
    would_change = serializers.ListField(child=serializers.UUIDField(),
                                         help_text="Dry run: the ones the command would change.")
    changed = serializers.ListField(child=serializers.UUIDField(), help_text="Real run: the ones it changed.")
    skipped = BulkSkipSerializer(many=True)
    outcomes = BulkOutcomeSerializer(many=True)


class ExecutionBulkView(APIView):
    @extend_schema(
        request=BulkCommandSerializer,
        responses={200: BulkResultSerializer, 400: ErrorSerializer, 401: ErrorSerializer,
                   403: ErrorSerializer, 404: ErrorSerializer},
        tags=["executions"], operation_id="executions_bulk",
        description="Pause, resume, cancel or re-run the executions a filter selects. With dry_run "
                    "(the default) it answers which ones the command would change and why it would "
                    "skip the others, and changes nothing; then send dry_run false with the ids the "
                    "preview listed to change exactly those. Each change goes through the execution's "
                    "own command (operator role in its team; others are skipped, never changed) and its "
                    "audit entry names the operation. At most EXECUTION_BULK_MAX (500) executions per "
                    "request: more answer 400 too_many_executions.")
    def post(self, request: Request) -> Response:
        body = BulkCommandSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        chosen: dict[str, Any] = data["filter"]
        team = chosen.get("team")
        workflow = chosen.get("workflow")
        selection = BulkFilter(
            states=tuple(dict.fromkeys(chosen.get("state") or [])),
            team=access_team(request.user, team).pk if team else None,
            workflow=access_workflow(request.user, workflow).pk if workflow else None,
            started_after=chosen.get("started_after"), started_before=chosen.get("started_before"),
            error_text=(chosen.get("error") or "").strip(), started_by=chosen.get("started_by") or "")
        ids = data.get("ids")
        result = execution_bulk_command(
            actor=actor_from_request(request), origin=api_origin(request), command=data["command"],
            selection=selection, reason=data.get("reason", ""), dry_run=data["dry_run"],
            ids=[str(pk) for pk in ids] if ids is not None else None)
        return Response(result.to_dict())
