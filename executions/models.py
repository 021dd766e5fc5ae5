"""Executions, node runs, their history and their event stream. Persistence only.

Every write goes through `executions.engine` (stepping, the reaper) or
`executions.services` (commands); states change only along the tables of
`executions.domain.states`, with conditional updates or a short row lock on
the execution. What must always hold is also a database constraint: one node
run per node and execution, known state values, one event per sequence number.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from executions.domain import ExecutionState, NodeRunState

EXECUTION_STATES = [(state.value, state.value.replace("_", " ").capitalize()) for state in ExecutionState]
NODE_RUN_STATES = [(state.value, state.value.capitalize()) for state in NodeRunState]
ACTIVE_STATES = [ExecutionState.RUNNING.value, ExecutionState.PAUSED.value,
                 ExecutionState.WAITING_FOR_INPUT.value]
UNSETTLED_STATES = [NodeRunState.PENDING.value, NodeRunState.QUEUED.value, NodeRunState.RUNNING.value]


class Trigger(models.TextChoices):
    MANUAL = "manual", "Manual"
    RERUN = "rerun", "Re-run"
    SCHEDULE = "schedule", "Schedule"
    WEBHOOK = "webhook", "Webhook"
    # Started because another workflow ended ("run after"), and a workflow-level retry.
    RUN_AFTER = "run_after", "Run after"
    RETRY = "retry", "Retry"


class ErrorPolicyChoice(models.TextChoices):
    STOP = "stop", "Stop"
    CONTINUE = "continue", "Continue"
    PAUSE = "pause", "Pause"


class Execution(models.Model):
    """One run of one pinned workflow version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="executions")
    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.PROTECT, related_name="executions")
    workflow_version = models.ForeignKey("workflows.WorkflowVersion", on_delete=models.PROTECT,
                                         related_name="executions")
    state = models.CharField(max_length=20, choices=EXECUTION_STATES, default=ExecutionState.PENDING.value)
    # Keyed by input node id; answers to provide_input are added here.
    inputs = models.JSONField(default=dict, blank=True)
    # Keyed by output node id: the value of every output node that completed.
    outputs = models.JSONField(default=dict, blank=True)
    error = models.JSONField(null=True, blank=True)
    # Why the execution is in its current state (a pause, cancel or failure reason).
    state_reason = models.CharField(max_length=1000, blank=True, default="")
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    # A copy of the name, so history reads the same after the user is deleted.
    started_by_name = models.CharField(max_length=150, blank=True, default="")
    rerun_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="reruns")
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()
    # Bumped by every execution-level change: conditional updates compare it.
    version = models.PositiveIntegerField(default=0)
    # The last event sequence number handed out (events carry 1, 2, 3, …).
    event_seq = models.BigIntegerField(default=0)
    # The settings it runs with, copied from the version's `settings` at creation.
    error_policy = models.CharField(max_length=16, choices=ErrorPolicyChoice.choices,
                                    default=ErrorPolicyChoice.STOP)
    max_parallel = models.PositiveIntegerField()
    timeout_s = models.FloatField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    node_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(state__in=[state.value for state in ExecutionState]),
                                   name="execution_state_valid"),
            models.CheckConstraint(condition=Q(max_parallel__gte=1), name="execution_max_parallel_positive"),
            models.CheckConstraint(condition=Q(error_policy__in=ErrorPolicyChoice.values),
                                   name="execution_error_policy_valid"),
            models.CheckConstraint(condition=Q(trigger__in=Trigger.values), name="execution_trigger_valid"),
            models.CheckConstraint(condition=Q(event_seq__gte=0), name="execution_event_counter_positive"),
        ]
        indexes = [
            models.Index(fields=["team", "-created_at", "-id"], name="execution_team_list"),
            models.Index(fields=["team", "state", "-created_at"], name="execution_team_state"),
            models.Index(fields=["workflow", "-created_at"], name="execution_workflow_list"),
            models.Index(fields=["started_by", "-created_at"], name="execution_started_by"),
            # Concurrency limits count a workflow's running executions (executions/triggers/).
            models.Index(fields=["workflow"], name="execution_workflow_active",
                         condition=Q(state__in=ACTIVE_STATES)),
            # The reaper enforces deadlines of active executions.
            models.Index(fields=["deadline_at"], name="execution_deadline_active",
                         condition=Q(state__in=ACTIVE_STATES, deadline_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"execution {self.pk} ({self.state})"

    @property
    def execution_state(self) -> ExecutionState:
        return ExecutionState(self.state)


class NodeRun(models.Model):
    """One node of one execution: its state, attempts, lease, inputs, output and timing."""

    id = models.BigAutoField(primary_key=True)
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="node_runs")
    node_id = models.TextField()
    # input, output, operator, instrument or control; and the catalog type (operator name,
    # control type or model id) whose history estimates durations.
    node_kind = models.CharField(max_length=16)
    node_type = models.CharField(max_length=200)
    queue = models.CharField(max_length=16, default="steps")
    state = models.CharField(max_length=16, choices=NODE_RUN_STATES, default=NodeRunState.PENDING.value)
    # Attempts started so far; retry_node resets it. A lost lease grants one more attempt.
    attempt = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=1)
    lost_leases = models.PositiveSmallIntegerField(default=0)
    lease_owner = models.CharField(max_length=200, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Not before this time (retry backoff); the reaper dispatches due retries.
    due_at = models.DateTimeField(null=True, blank=True)
    # When its step message was last sent; None while queued but not dispatched.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Incoming edges still unsettled, taken and dead; a node is decided once pending allows.
    pending_inputs = models.PositiveIntegerField(default=0)
    taken_inputs = models.PositiveIntegerField(default=0)
    dead_inputs = models.PositiveIntegerField(default=0)
    # Taken incoming edges in order of arrival (a merge takes the first), and the nodes their
    # data comes from (so claiming a node reads its inputs' outputs in the same statement).
    arrived_edges = ArrayField(models.TextField(), default=list, blank=True)
    input_sources = ArrayField(models.TextField(), default=list, blank=True)
    dead_reason = models.CharField(max_length=100, blank=True, default="")
    # Whether its outgoing edges were settled; a failed node with unsettled edges is held
    # for an operator (error policy `pause`).
    edges_settled = models.BooleanField(default=False)
    # An interactive input node waiting for provide_input.
    awaiting_input = models.BooleanField(default=False)
    inputs = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    skip_reason = models.CharField(max_length=200, blank=True, default="")
    progress = models.FloatField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True, default="")
    log_lines = models.PositiveIntegerField(default=0)
    reused_from = models.ForeignKey(Execution, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    cached = models.BooleanField(default=False)
    usage = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["execution", "node_id"], name="node_run_one_per_node"),
            models.CheckConstraint(condition=Q(state__in=[state.value for state in NodeRunState]),
                                   name="node_run_state_valid"),
            models.CheckConstraint(condition=Q(attempt__lte=models.F("max_attempts")),
                                   name="node_run_attempts_within_budget"),
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="node_run_max_attempts_positive"),
            # A running node run always has a lease; nothing else holds one.
            models.CheckConstraint(
                condition=(Q(state=NodeRunState.RUNNING.value, lease_expires_at__isnull=False)
                           | (~Q(state=NodeRunState.RUNNING.value) & Q(lease_expires_at__isnull=True))),
                name="node_run_lease_iff_running"),
        ]
        indexes = [
            # The reaper: expired leases, lost messages and due retries.
            models.Index(fields=["lease_expires_at"], name="node_run_leases",
                         condition=Q(state=NodeRunState.RUNNING.value)),
            models.Index(fields=["dispatched_at"], name="node_run_queued_dispatch",
                         condition=Q(state=NodeRunState.QUEUED.value)),
            # "Is anything left to settle?", per execution.
            models.Index(fields=["execution", "state"], name="node_run_unsettled",
                         condition=Q(state__in=UNSETTLED_STATES)),
            # Dispatch: what is in flight (running, or sent and not yet claimed) against
            # max_parallel, and the backlog of queued runs not yet sent, oldest first.
            models.Index(fields=["execution"], name="node_run_in_flight",
                         condition=(Q(state=NodeRunState.RUNNING.value)
                                    | Q(state=NodeRunState.QUEUED.value, dispatched_at__isnull=False))),
            models.Index(fields=["execution", "queued_at", "id"], name="node_run_backlog",
                         condition=Q(state=NodeRunState.QUEUED.value, dispatched_at__isnull=True)),
            # "Did a node fail?", per execution: asked by every record (its flags) and when an
            # execution finishes; without it the question reads every run of the execution, so a
            # chain's steps grew with its length.
            models.Index(fields=["execution"], name="node_run_failed",
                         condition=Q(state=NodeRunState.FAILED.value)),
            # Duration history of each node type for estimates.
            models.Index(fields=["node_type", "-finished_at"], name="node_run_type_history",
                         condition=Q(state=NodeRunState.COMPLETED.value, reused_from__isnull=True,
                                     cached=False)),
        ]

    def __str__(self) -> str:
        return f"{self.node_id} ({self.state})"

    @property
    def run_state(self) -> NodeRunState:
        return NodeRunState(self.state)

    @property
    def duration_ms(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds() * 1000, 3)


class ExecutionTransition(models.Model):
    """One execution state change: from, to, who, why, when."""

    id = models.BigAutoField(primary_key=True)
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="transitions")
    # Null for the record of creation: there was no state before it.
    from_state = models.CharField(max_length=20, choices=EXECUTION_STATES, null=True, blank=True)  # noqa: DJ001
    to_state = models.CharField(max_length=20, choices=EXECUTION_STATES)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    actor_name = models.CharField(max_length=150)
    reason = models.CharField(max_length=1000, blank=True, default="")
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(to_state__in=[state.value for state in ExecutionState]),
                                   name="execution_transition_state_valid"),
        ]
        indexes = [models.Index(fields=["execution", "id"], name="execution_transition_order")]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class ExecutionEvent(models.Model):
    """One entry of an execution's event stream, written with the change it describes.

    `seq` is strictly increasing per execution and hands out in commit order (the
    execution's row lock is held from taking a number to commit), so a reader that has
    seen `seq` N never later finds a smaller one appearing.
    """

    id = models.BigAutoField(primary_key=True)
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="events")
    seq = models.BigIntegerField()
    type = models.CharField(max_length=40)
    # Null for execution-level events (the spec's `node_id?`: absent, not empty).
    node_id = models.TextField(null=True, blank=True)  # noqa: DJ001
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["execution", "seq"], name="execution_event_seq_unique"),
            models.CheckConstraint(condition=Q(seq__gte=1), name="execution_event_seq_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.seq} {self.type}"

    def as_message(self) -> dict[str, Any]:
        return event_message(execution_id=str(self.execution_id), seq=self.seq, event_type=self.type,
                             node_id=self.node_id, at=self.at, data=self.data)


def event_message(*, execution_id: str, seq: int, event_type: str, node_id: str | None, at: Any,
                  data: Any) -> dict[str, Any]:
    """The spec's event shape: {seq, type, execution_id, node_id?, at, data}."""
    message: dict[str, Any] = {"seq": seq, "type": event_type, "execution_id": execution_id,
                               "at": at.isoformat().replace("+00:00", "Z") if hasattr(at, "isoformat") else at,
                               "data": data}
    if node_id is not None:
        message["node_id"] = node_id
    return message


# Triggers and limits keep their tables in this app, in their own module.
from executions.triggers.models import (  # noqa: E402, F401
    FollowUp,
    QueuedStart,
    RunAfter,
    Schedule,
    TeamLimit,
    TriggeredBy,
    Webhook,
    WebhookDelivery,
)
