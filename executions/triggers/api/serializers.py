"""Shapes of the triggers and limits API (api.md, "Triggers"; docs/triggers.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from executions.models import RunAfter, Schedule, Webhook, WebhookDelivery
from executions.triggers.domain.cron import CatchUp
from executions.triggers.domain.signatures import ALGORITHMS, HEADER_NAME
from executions.triggers.services.limits import MAX_LIMIT
from symphony_site.api.serializers import ObjectField, StrictSerializer

CATCH_UP = [policy.value for policy in CatchUp]
ON_LIMIT = ["queue", "cancel", "fail"]


@extend_schema_field({"type": "string", "pattern": f"^{HEADER_NAME.pattern}$", "maxLength": 100})
class HeaderNameField(serializers.CharField):
    """A header name; the service checks the pattern and says which field broke it."""


class ScheduleSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    workflow = serializers.UUIDField(source="workflow_id")
    catch_up = serializers.ChoiceField(choices=CATCH_UP)
    inputs = ObjectField(help_text="Inputs of every run, keyed by input node id.")
    next_run_at = serializers.DateTimeField(allow_null=True, help_text="The next due time (UTC); null while "
                                                                       "disabled.")
    last_execution = serializers.UUIDField(source="last_execution_id", allow_null=True)
    last_error = serializers.CharField(help_text="Why the last due time started nothing; empty when it did.")

    class Meta:
        model = Schedule
        fields = ["id", "workflow", "name", "cron", "timezone", "inputs", "catch_up", "enabled", "next_run_at",
                  "last_due_at", "last_execution", "last_error", "created_at", "updated_at"]


class ScheduleWriteSerializer(StrictSerializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    cron = serializers.CharField(max_length=200, help_text="Five fields (minute hour day month weekday), or "
                                                           "six with the seconds first; @hourly, @daily, ….")
    timezone = serializers.CharField(required=False, max_length=64, help_text="An IANA zone; default UTC.")
    inputs = ObjectField(required=False, help_text="Inputs of every run, keyed by input node id.")
    catch_up = serializers.ChoiceField(choices=CATCH_UP, required=False,
                                       help_text="After downtime: skip missed runs, run once, or run each.")
    enabled = serializers.BooleanField(required=False)


class SignatureSerializer(StrictSerializer):
    header = HeaderNameField(required=False, max_length=100, default="X-Symphony-Signature")
    algorithm = serializers.ChoiceField(choices=list(ALGORITHMS), required=False, default="sha256")
    timestamp_header = HeaderNameField(required=False, max_length=100, default="X-Symphony-Timestamp")
    tolerance_s = serializers.IntegerField(required=False, min_value=1, max_value=3600, default=300)


class WebhookSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    workflow = serializers.UUIDField(source="workflow_id")
    url_hint = serializers.SerializerMethodField(help_text="The URL's start; the whole URL is shown once.")
    signature = serializers.SerializerMethodField()
    input_mapping = ObjectField(allow_null=True, help_text="Input node id → JSON path ($.a.b) or expression; "
                                                           "null: the body is the inputs.")

    class Meta:
        model = Webhook
        fields = ["id", "workflow", "name", "url_hint", "signature", "input_mapping", "rate_limit_per_minute",
                  "max_body_bytes", "enabled", "bad_signature_count", "created_at", "rotated_at"]

    def get_url_hint(self, webhook: Webhook) -> str:
        return f"/hooks/{webhook.token_hint}…/"

    def get_signature(self, webhook: Webhook) -> dict[str, Any] | None:
        if not webhook.signature_required:
            return None
        return {"header": webhook.signature_header, "algorithm": webhook.signature_algorithm,
                "timestamp_header": webhook.timestamp_header, "tolerance_s": webhook.tolerance_s}


class IssuedWebhookSerializer(WebhookSerializer):
    """A hook as created or rotated: the only time its URL and signing secret are shown."""

    url = serializers.SerializerMethodField(help_text="The delivery URL; shown only now.")
    signing_secret = serializers.SerializerMethodField(help_text="The HMAC key for signatures; shown only now.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "url", "signing_secret"]

    def get_url(self, webhook: Webhook) -> str:
        return str(self.context["url"])

    def get_signing_secret(self, webhook: Webhook) -> str:
        return str(self.context["signing_secret"])


class WebhookWriteSerializer(StrictSerializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    signature = SignatureSerializer(required=False, allow_null=True,
                                    help_text="null: unsigned deliveries run; else each must be signed.")
    input_mapping = ObjectField(required=False, allow_null=True)
    # Bounds read once, for the schema; the service checks them against the settings in force.
    rate_limit_per_minute = serializers.IntegerField(required=False, min_value=1,
                                                     max_value=settings.TRIGGER_WEBHOOK_RATE_LIMIT_PER_MINUTE)
    max_body_bytes = serializers.IntegerField(required=False, min_value=1,
                                              max_value=settings.TRIGGER_WEBHOOK_MAX_BODY_BYTES)
    enabled = serializers.BooleanField(required=False)


class NoBodySerializer(StrictSerializer):
    """An operation that takes no body: none, or an empty object; anything else is refused."""


class DeliverySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    execution = serializers.UUIDField(source="execution_id", allow_null=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "received_at", "status", "http_status", "reason_code", "reason", "idempotency_key",
                  "execution", "body_bytes", "remote_address"]


class RunAfterSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    workflow = serializers.UUIDField(source="downstream_id", help_text="The workflow this rule starts.")
    workflow_name = serializers.CharField(source="downstream.name")
    after = serializers.UUIDField(source="upstream_id", help_text="The workflow whose end starts it.")
    after_name = serializers.CharField(source="upstream.name")
    input_mapping = ObjectField(help_text="Input node id of `workflow` → output node id of `after`.")

    class Meta:
        model = RunAfter
        fields = ["id", "workflow", "workflow_name", "after", "after_name", "on_completed", "on_failed",
                  "input_mapping", "enabled", "created_at", "updated_at"]


class RunAfterCreateSerializer(StrictSerializer):
    after = serializers.UUIDField(help_text="The workflow (same team) whose end starts this one.")
    on_completed = serializers.BooleanField(required=False, default=True)
    on_failed = serializers.BooleanField(required=False, default=False)
    input_mapping = ObjectField(required=False, default=dict)
    enabled = serializers.BooleanField(required=False, default=True)


class RunAfterUpdateSerializer(StrictSerializer):
    on_completed = serializers.BooleanField(required=False)
    on_failed = serializers.BooleanField(required=False)
    input_mapping = ObjectField(required=False)
    enabled = serializers.BooleanField(required=False)


class LimitSerializer(StrictSerializer):
    # The bound is the service's, stated in the schema too, and the object is closed: the long
    # Schemathesis form sent 21-digit integers as the limit and under keys of its own, both
    # valid under a schema that said only "minimum 1" and left the object open.
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT)
    on_limit = serializers.ChoiceField(choices=ON_LIMIT)


class TeamLimitWriteSerializer(StrictSerializer):
    concurrency = LimitSerializer(allow_null=True, help_text="null removes the team's limit.")


class OccupancySerializer(serializers.Serializer):  # type: ignore[type-arg]
    concurrency = LimitSerializer(allow_null=True)
    running = serializers.IntegerField(help_text="Running, paused or waiting for input now.")
    queued = serializers.IntegerField()


class QueuedExecutionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    execution = serializers.UUIDField(source="execution_id")
    workflow = serializers.UUIDField(source="workflow_id")
    workflow_name = serializers.CharField()
    trigger = serializers.CharField()
    queued_at = serializers.DateTimeField()
    held_by = serializers.ChoiceField(choices=["workflow", "team"])
    position = serializers.IntegerField(help_text="1-based place among the workflow's queued executions.")
    team_position = serializers.IntegerField(help_text="1-based place in the team's queue.")


class QueueSerializer(OccupancySerializer):
    executions = QueuedExecutionSerializer(many=True, help_text="In the order they will start.")


class DeliveryAcceptedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    execution = serializers.UUIDField()


def occupancy_body(occupancy: Any, entries: list[Any] | None = None) -> dict[str, Any]:
    limit = occupancy.limit
    body: dict[str, Any] = {"concurrency": None if limit is None else {"limit": limit.limit,
                                                                       "on_limit": str(limit.on_limit)},
                            "running": occupancy.running, "queued": occupancy.queued}
    if entries is not None:
        body["executions"] = QueuedExecutionSerializer(entries, many=True).data
    return body
