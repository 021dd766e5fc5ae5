"""Triggers and limits API: thin adapters over `executions.triggers` services, selectors and
access helpers. Viewers read; editors change schedules, hooks and rules; admins the team's
limit. Another team's objects answer 404."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from executions.api.serializers import page_of
from executions.triggers import selectors
from executions.triggers.access import access_run_after, access_schedule, access_webhook
from executions.triggers.api import serializers as s
from executions.triggers.services import limits, run_after, schedules, webhooks
from symphony_site.api.pagination import CURSOR_PARAMETERS, paginated_response
from symphony_site.api.serializers import ErrorSerializer
from symphony_site.origins import actor_from_request, api_origin
from teams.access import access_team
from workflows.access import access_workflow

READ_ERRORS = {401: ErrorSerializer, 404: ErrorSerializer}
WRITE_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer,
                409: ErrorSerializer}
TAGS = ["triggers"]


def _issued(request: Request, issued: webhooks.Issued, status_code: int) -> Response:
    context = {"url": request.build_absolute_uri(f"/hooks/{issued.token}/"),
               "signing_secret": issued.signing_secret}
    return Response(s.IssuedWebhookSerializer(issued.webhook, context=context).data, status=status_code)


# --- schedules ------------------------------------------------------------------------------


class WorkflowSchedulesView(APIView):
    @extend_schema(parameters=CURSOR_PARAMETERS, tags=TAGS, operation_id="workflow_schedules_list",
                   responses={200: page_of(s.ScheduleSerializer, "SchedulePage"), **READ_ERRORS})
    def get(self, request: Request, workflow_id: Any) -> Response:
        workflow = access_workflow(request.user, workflow_id)
        return paginated_response(request, selectors.schedules_of(workflow), ("created_at", "id"), s.ScheduleSerializer)

    @extend_schema(request=s.ScheduleWriteSerializer, tags=TAGS, operation_id="workflow_schedules_create",
                   responses={201: s.ScheduleSerializer, **WRITE_ERRORS},
                   description="Run the workflow at the due times of a cron expression in a time zone "
                               "(editor role or above). Answers the schedule with its next_run_at.")
    def post(self, request: Request, workflow_id: Any) -> Response:
        workflow = access_workflow(request.user, workflow_id)
        body = s.ScheduleWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        schedule = schedules.schedule_create(
            actor=actor_from_request(request), origin=api_origin(request), workflow=workflow,
            cron_expression=data["cron"], timezone_name=data.get("timezone", "UTC"), inputs=data.get("inputs"),
            catch_up=data.get("catch_up", "skip"), enabled=data.get("enabled", True), name=data.get("name", ""))
        return Response(s.ScheduleSerializer(schedule).data, status=201)


class ScheduleDetailView(APIView):
    @extend_schema(tags=TAGS, responses={200: s.ScheduleSerializer, **READ_ERRORS})
    def get(self, request: Request, schedule_id: Any) -> Response:
        return Response(s.ScheduleSerializer(access_schedule(request.user, schedule_id)).data)

    @extend_schema(request=s.ScheduleWriteSerializer(partial=True), tags=TAGS,
                   responses={200: s.ScheduleSerializer, **WRITE_ERRORS},
                   description="Change any field; a new cron or time zone, or enabling, counts the next run "
                               "from now.")
    def patch(self, request: Request, schedule_id: Any) -> Response:
        schedule = access_schedule(request.user, schedule_id)
        body = s.ScheduleWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        updated = schedules.schedule_update(actor=actor_from_request(request), origin=api_origin(request),
                                            schedule=schedule, **changes)
        return Response(s.ScheduleSerializer(updated).data)

    @extend_schema(tags=TAGS, responses={204: None, **WRITE_ERRORS})
    def delete(self, request: Request, schedule_id: Any) -> Response:
        schedule = access_schedule(request.user, schedule_id)
        schedules.schedule_delete(actor=actor_from_request(request), origin=api_origin(request), schedule=schedule)
        return Response(status=204)


# --- webhooks -------------------------------------------------------------------------------


class WorkflowWebhooksView(APIView):
    @extend_schema(parameters=CURSOR_PARAMETERS, tags=TAGS, operation_id="workflow_webhooks_list",
                   responses={200: page_of(s.WebhookSerializer, "WebhookPage"), **READ_ERRORS})
    def get(self, request: Request, workflow_id: Any) -> Response:
        workflow = access_workflow(request.user, workflow_id)
        return paginated_response(request, selectors.webhooks_of(workflow), ("created_at", "id"), s.WebhookSerializer)

    @extend_schema(request=s.WebhookWriteSerializer, tags=TAGS, operation_id="workflow_webhooks_create",
                   responses={201: s.IssuedWebhookSerializer, **WRITE_ERRORS},
                   description="A secret URL that starts the workflow (editor role or above). The answer "
                               "holds the URL and the signing secret: they are shown only now.")
    def post(self, request: Request, workflow_id: Any) -> Response:
        workflow = access_workflow(request.user, workflow_id)
        body = s.WebhookWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issued = webhooks.webhook_create(actor=actor_from_request(request), origin=api_origin(request),
                                         workflow=workflow, **body.validated_data)
        return _issued(request, issued, 201)


class WebhookDetailView(APIView):
    @extend_schema(tags=TAGS, responses={200: s.WebhookSerializer, **READ_ERRORS})
    def get(self, request: Request, webhook_id: Any) -> Response:
        return Response(s.WebhookSerializer(access_webhook(request.user, webhook_id)).data)

    @extend_schema(request=s.WebhookWriteSerializer(partial=True), tags=TAGS,
                   responses={200: s.WebhookSerializer, **WRITE_ERRORS})
    def patch(self, request: Request, webhook_id: Any) -> Response:
        webhook = access_webhook(request.user, webhook_id)
        body = s.WebhookWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        updated = webhooks.webhook_update(actor=actor_from_request(request), origin=api_origin(request),
                                          webhook=webhook, **body.validated_data)
        return Response(s.WebhookSerializer(updated).data)

    @extend_schema(tags=TAGS, responses={204: None, **WRITE_ERRORS})
    def delete(self, request: Request, webhook_id: Any) -> Response:
        webhook = access_webhook(request.user, webhook_id)
        webhooks.webhook_delete(actor=actor_from_request(request), origin=api_origin(request), webhook=webhook)
        return Response(status=204)


class WebhookRotateView(APIView):
    @extend_schema(request=None, tags=TAGS, responses={200: s.IssuedWebhookSerializer, **WRITE_ERRORS},
                   description="A new URL token and signing secret (shown only now); the old ones stop "
                               "working at once.")
    def post(self, request: Request, webhook_id: Any) -> Response:
        s.NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        webhook = access_webhook(request.user, webhook_id)
        issued = webhooks.webhook_rotate(actor=actor_from_request(request), origin=api_origin(request),
                                         webhook=webhook)
        return _issued(request, issued, 200)


class WebhookDeliveriesView(APIView):
    @extend_schema(parameters=CURSOR_PARAMETERS, tags=TAGS, operation_id="webhook_deliveries_list",
                   responses={200: page_of(s.DeliverySerializer, "DeliveryPage"), **READ_ERRORS},
                   description="Every call of the hook's URL, newest first: status, time, execution, reason.")
    def get(self, request: Request, webhook_id: Any) -> Response:
        webhook = access_webhook(request.user, webhook_id)
        return paginated_response(request, selectors.deliveries_of(webhook), selectors.DELIVERY_ORDERING, s.DeliverySerializer)


# --- run after ------------------------------------------------------------------------------


class WorkflowRunAfterView(APIView):
    @extend_schema(parameters=CURSOR_PARAMETERS, tags=TAGS, operation_id="workflow_run_after_list",
                   responses={200: page_of(s.RunAfterSerializer, "RunAfterPage"), **READ_ERRORS},
                   description="Rules that start this workflow and rules its end sets off.")
    def get(self, request: Request, workflow_id: Any) -> Response:
        workflow = access_workflow(request.user, workflow_id)
        return paginated_response(request, selectors.rules_of(workflow), ("created_at", "id"), s.RunAfterSerializer)

    @extend_schema(request=s.RunAfterCreateSerializer, tags=TAGS, operation_id="workflow_run_after_create",
                   responses={201: s.RunAfterSerializer, **WRITE_ERRORS},
                   description="Start this workflow when `after` (same team) completes or fails, with its "
                               "outputs as inputs (editor role or above). 409 `trigger_loop` when the rule "
                               "would close a loop of rules.")
    def post(self, request: Request, workflow_id: Any) -> Response:
        workflow = access_workflow(request.user, workflow_id)
        body = s.RunAfterCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        upstream = access_workflow(request.user, data.pop("after"))
        rule = run_after.run_after_create(actor=actor_from_request(request), origin=api_origin(request),
                                          downstream=workflow, upstream=upstream, **data)
        return Response(s.RunAfterSerializer(access_run_after(request.user, rule.pk)).data, status=201)


class RunAfterDetailView(APIView):
    @extend_schema(tags=TAGS, responses={200: s.RunAfterSerializer, **READ_ERRORS})
    def get(self, request: Request, rule_id: Any) -> Response:
        return Response(s.RunAfterSerializer(access_run_after(request.user, rule_id)).data)

    @extend_schema(request=s.RunAfterUpdateSerializer, tags=TAGS,
                   responses={200: s.RunAfterSerializer, **WRITE_ERRORS})
    def patch(self, request: Request, rule_id: Any) -> Response:
        rule = access_run_after(request.user, rule_id)
        body = s.RunAfterUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        updated = run_after.run_after_update(actor=actor_from_request(request), origin=api_origin(request),
                                             rule=rule, **body.validated_data)
        return Response(s.RunAfterSerializer(access_run_after(request.user, updated.pk)).data)

    @extend_schema(tags=TAGS, responses={204: None, **WRITE_ERRORS})
    def delete(self, request: Request, rule_id: Any) -> Response:
        rule = access_run_after(request.user, rule_id)
        run_after.run_after_delete(actor=actor_from_request(request), origin=api_origin(request), rule=rule)
        return Response(status=204)


# --- limits and queues ----------------------------------------------------------------------


class WorkflowQueueView(APIView):
    @extend_schema(tags=TAGS, operation_id="workflow_queue", responses={200: s.QueueSerializer, **READ_ERRORS},
                   description="The workflow's concurrency limit (its document's settings.concurrency), what "
                               "runs now, and its queued executions with their places.")
    def get(self, request: Request, workflow_id: Any) -> Response:
        workflow = access_workflow(request.user, workflow_id)
        entries = selectors.queue_of(team_id=workflow.team_id, workflow_id=workflow.pk)
        return Response(s.occupancy_body(selectors.workflow_occupancy(workflow), entries))


class TeamLimitsView(APIView):
    @extend_schema(tags=TAGS, operation_id="team_limits", responses={200: s.QueueSerializer, **READ_ERRORS},
                   description="The team's concurrency limit, what runs now, and the team's queue.")
    def get(self, request: Request, team_id: Any) -> Response:
        team = access_team(request.user, team_id)
        return Response(s.occupancy_body(selectors.team_occupancy(team.pk), selectors.queue_of(team_id=team.pk)))

    @extend_schema(request=s.TeamLimitWriteSerializer, tags=TAGS, operation_id="team_limits_set",
                   responses={200: s.QueueSerializer, **WRITE_ERRORS},
                   description="Set the team's limit, or null to remove it (admin role or above).")
    def put(self, request: Request, team_id: Any) -> Response:
        team = access_team(request.user, team_id)
        body = s.TeamLimitWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        concurrency = body.validated_data["concurrency"]
        limits.team_limit_set(actor=actor_from_request(request), origin=api_origin(request), team=team,
                              limit=None if concurrency is None else concurrency["limit"],
                              on_limit="queue" if concurrency is None else concurrency["on_limit"])
        return Response(s.occupancy_body(selectors.team_occupancy(team.pk), selectors.queue_of(team_id=team.pk)))
