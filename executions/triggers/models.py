"""Triggers and limits: schedules, webhooks and their deliveries, "run after" rules, team
limits, the concurrency queue, follow-up work and what started each triggered execution.

Persistence only; every write goes through `executions.triggers.services`. What must
always hold is a database constraint too: one execution per schedule due time, one
accepted delivery per idempotency key, one follow-up per finished execution and rule,
no rule that starts its own workflow.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from executions.triggers.domain.cron import CatchUp

CATCH_UP_CHOICES = [(policy.value, policy.value.capitalize()) for policy in CatchUp]
ON_LIMIT_CHOICES = [("queue", "Queue"), ("cancel", "Cancel"), ("fail", "Fail")]


class Schedule(models.Model):
    """Run a workflow at the due times of a cron expression in a time zone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="schedules")
    name = models.CharField(max_length=200, blank=True, default="")
    cron = models.CharField(max_length=120)
    timezone = models.CharField(max_length=64, default="UTC")
    inputs = models.JSONField(default=dict, blank=True)
    catch_up = models.CharField(max_length=8, choices=CATCH_UP_CHOICES, default=CatchUp.SKIP.value)
    enabled = models.BooleanField(default=True)
    # The next due time nobody has claimed yet; null while disabled. Claiming it is a
    # conditional UPDATE comparing this column (services/schedules.py).
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_due_at = models.DateTimeField(null=True, blank=True)
    last_execution = models.ForeignKey("executions.Execution", on_delete=models.SET_NULL, null=True,
                                       blank=True, related_name="+")
    # Why the last due time started nothing (invalid inputs, archived workflow, a limit).
    last_error = models.CharField(max_length=1000, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(catch_up__in=[policy.value for policy in CatchUp]),
                                   name="schedule_catch_up_valid"),
            models.CheckConstraint(condition=Q(enabled=False) | Q(next_run_at__isnull=False),
                                   name="schedule_enabled_has_next_run"),
        ]
        indexes = [
            # The tick: enabled schedules whose next run came.
            models.Index(fields=["next_run_at"], name="schedule_due", condition=Q(enabled=True)),
            models.Index(fields=["workflow", "created_at"], name="schedule_workflow"),
        ]

    def __str__(self) -> str:
        return f"schedule {self.cron} ({self.timezone})"


class Webhook(models.Model):
    """A secret URL that starts a workflow. The URL's token is stored as a SHA-256 digest;
    the signing secret is derived from the server's key and `signing_salt`, never stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=200, blank=True, default="")
    token_digest = models.CharField(max_length=64, unique=True)
    # The token's first characters, so people can tell hooks apart; not enough to call one.
    token_hint = models.CharField(max_length=8)
    signing_salt = models.CharField(max_length=64)
    signature_required = models.BooleanField(default=False)
    signature_header = models.CharField(max_length=100, default="X-Symphony-Signature")
    signature_algorithm = models.CharField(max_length=16, default="sha256")
    timestamp_header = models.CharField(max_length=100, default="X-Symphony-Timestamp")
    tolerance_s = models.PositiveIntegerField(default=300)
    # Input node id → JSON path or expression; null: the body is the inputs object.
    input_mapping = models.JSONField(null=True, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(default=600)
    max_body_bytes = models.PositiveIntegerField(default=256 * 1024)
    enabled = models.BooleanField(default=True)
    bad_signature_count = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField()
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(signature_algorithm__in=["sha256", "sha384", "sha512"]),
                                   name="webhook_algorithm_valid"),
            models.CheckConstraint(condition=Q(rate_limit_per_minute__gte=1) & Q(max_body_bytes__gte=1),
                                   name="webhook_limits_positive"),
        ]
        indexes = [models.Index(fields=["workflow", "created_at"], name="webhook_workflow")]

    def __str__(self) -> str:
        return f"webhook {self.token_hint}…"


class DeliveryStatus(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    # The same idempotency key again: answered with the first delivery's execution.
    REPLAYED = "replayed", "Replayed"
    REJECTED = "rejected", "Rejected"


class WebhookDelivery(models.Model):
    """One call of a webhook's URL, whatever came of it."""

    id = models.BigAutoField(primary_key=True)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    http_status = models.PositiveSmallIntegerField()
    # A stable code for a refusal (`invalid_signature`, `rate_limited`, …) and its message.
    reason_code = models.CharField(max_length=64, blank=True, default="")
    reason = models.CharField(max_length=500, blank=True, default="")
    idempotency_key = models.CharField(max_length=200, blank=True, default="")
    execution = models.ForeignKey("executions.Execution", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    body_bytes = models.PositiveIntegerField(default=0)
    remote_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"),
            # A retried delivery does not start a second run: one accepted delivery per key.
            models.UniqueConstraint(fields=["webhook", "idempotency_key"], name="delivery_idempotency_key",
                                    condition=Q(status="accepted") & ~Q(idempotency_key="")),
        ]
        indexes = [models.Index(fields=["webhook", "-received_at", "-id"], name="delivery_webhook_recent")]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.status})"


class RunAfter(models.Model):
    """When `upstream` ends (completed, or failed), start `downstream` with upstream's outputs
    as inputs: `input_mapping` maps downstream input node ids to upstream output node ids."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    upstream = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="+")
    downstream = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="+")
    on_completed = models.BooleanField(default=True)
    on_failed = models.BooleanField(default=False)
    input_mapping = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["upstream", "downstream"], name="run_after_one_per_pair"),
            models.CheckConstraint(condition=~Q(upstream=models.F("downstream")), name="run_after_not_itself"),
            models.CheckConstraint(condition=Q(on_completed=True) | Q(on_failed=True),
                                   name="run_after_on_some_end"),
        ]
        indexes = [models.Index(fields=["upstream"], name="run_after_upstream", condition=Q(enabled=True))]

    def __str__(self) -> str:
        return f"run {self.downstream_id} after {self.upstream_id}"


class TeamLimit(models.Model):
    """A team's concurrency limit: at most `limit` of its executions run at once."""

    team = models.OneToOneField("teams.Team", on_delete=models.CASCADE, primary_key=True, related_name="+")
    limit = models.PositiveIntegerField()
    on_limit = models.CharField(max_length=8, choices=ON_LIMIT_CHOICES, default="queue")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(limit__gte=1), name="team_limit_positive"),
            models.CheckConstraint(condition=Q(on_limit__in=["queue", "cancel", "fail"]),
                                   name="team_limit_on_limit_valid"),
        ]

    def __str__(self) -> str:
        return f"limit {self.limit} ({self.on_limit})"


class QueuedStart(models.Model):
    """A pending execution waiting for a concurrency slot. `id` grows in admission order
    (admissions of a team are serialised by its lock), which is the queue's order."""

    id = models.BigAutoField(primary_key=True)
    execution = models.OneToOneField("executions.Execution", on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="+")
    # Which limit held it back: "workflow" or "team".
    held_by = models.CharField(max_length=8)
    queued_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["team", "id"], name="queued_start_team"),
            models.Index(fields=["workflow", "id"], name="queued_start_workflow"),
        ]

    def __str__(self) -> str:
        return f"queued {self.execution_id}"


class FollowUpKind(models.TextChoices):
    RUN_AFTER = "run_after", "Run after"
    RETRY = "retry", "Retry"


class FollowUpState(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class FollowUp(models.Model):
    """Work an execution's end asks for, written in the transaction that ended it: start a
    "run after" rule's workflow, or retry the execution once `due_at` comes. Taken with a
    row lock (`FOR UPDATE SKIP LOCKED`) in the transaction that starts the new execution."""

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=10, choices=FollowUpKind.choices)
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey("executions.Execution", on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(RunAfter, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    due_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=FollowUpState.choices, default=FollowUpState.PENDING)
    result = models.ForeignKey("executions.Execution", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    error = models.CharField(max_length=1000, blank=True, default="")
    created_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=FollowUpKind.values), name="follow_up_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=FollowUpState.values), name="follow_up_state_valid"),
            # The end of an execution is handled once per rule (and retried once).
            models.UniqueConstraint(fields=["source", "kind", "rule"], name="follow_up_once",
                                    nulls_distinct=False),
        ]
        indexes = [models.Index(fields=["due_at"], name="follow_up_due", condition=Q(state="pending"))]

    def __str__(self) -> str:
        return f"{self.kind} of {self.source_id} ({self.state})"


class TriggeredBy(models.Model):
    """What started a triggered execution, and the counters carried along chains of them."""

    execution = models.OneToOneField("executions.Execution", on_delete=models.CASCADE, primary_key=True,
                                     related_name="triggered_by")
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    schedule = models.ForeignKey(Schedule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    scheduled_for = models.DateTimeField(null=True, blank=True)
    webhook = models.ForeignKey(Webhook, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    rule = models.ForeignKey(RunAfter, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    upstream = models.ForeignKey("executions.Execution", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    # How many "run after" steps led here (0 for a run nothing else started).
    chain_depth = models.PositiveSmallIntegerField(default=0)
    # 1 for a first run; n for the n-th automatic attempt of a workflow-level retry.
    attempt = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [
            # Exactly one execution per schedule due time, whatever claims it.
            models.UniqueConstraint(fields=["schedule", "scheduled_for"], name="triggered_once_per_due_time",
                                    condition=Q(schedule__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"trigger of {self.execution_id}"
