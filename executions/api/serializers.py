"""Shapes of the executions API (execution-semantics.md, "How executions look in the API")."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from executions.domain import Command, ExecutionState, NodeRunState
from executions.models import Execution, ExecutionTransition, NodeRun
from symphony_site.api.serializers import ObjectField, StrictSerializer

EXECUTION_STATES = [state.value for state in ExecutionState]
NODE_RUN_STATES = [state.value for state in NodeRunState]
COMMANDS = [command.value for command in Command]


class ProgressSerializer(serializers.Serializer):  # type: ignore[type-arg]
    total = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    running = serializers.IntegerField()
    queued = serializers.IntegerField()
    pending = serializers.IntegerField()
    skipped = serializers.IntegerField()
    percentage = serializers.FloatField(help_text="Settled nodes (completed, failed, skipped) over all, 0 to 100.")
    estimated_remaining_s = serializers.FloatField(
        allow_null=True, help_text="Seconds left along the remaining critical path, from the typical "
                                   "durations of the same node types on this platform; null without history.")
    estimate_basis = serializers.CharField(help_text="What the estimate rests on, or why there is none.")


class NodeRunSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    state = serializers.ChoiceField(choices=NODE_RUN_STATES)
    duration_ms = serializers.FloatField(allow_null=True)
    output = serializers.JSONField(allow_null=True, help_text="Outputs by port name.")
    error = serializers.JSONField(allow_null=True, help_text="{code, message, retryable, details?} of the "
                                                             "last failed attempt.")
    usage = serializers.JSONField(help_text="Model nodes: {model, model_version, provider, tokens_in, "
                                            "tokens_out, cost, currency, priced, estimated, duration_ms, "
                                            "cached, saved?} (docs/instruments.md).")
    reused_from = serializers.UUIDField(source="reused_from_id", allow_null=True,
                                        help_text="The execution whose completed output a re-run took over.")
    skip_reason = serializers.SerializerMethodField()
    message = serializers.CharField(help_text="The node's latest progress message, or an interactive "
                                              "input's prompt while it waits.")

    class Meta:
        model = NodeRun
        fields = ["node_id", "node_kind", "node_type", "state", "attempt", "max_attempts", "started_at",
                  "finished_at", "duration_ms", "output", "error", "progress", "message", "skip_reason",
                  "awaiting_input", "reused_from", "cached", "usage"]

    def get_skip_reason(self, run: NodeRun) -> str | None:
        return run.skip_reason or None


class TransitionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    from_state = serializers.ChoiceField(choices=EXECUTION_STATES, allow_null=True)
    to_state = serializers.ChoiceField(choices=EXECUTION_STATES)
    actor = serializers.CharField(source="actor_name")

    class Meta:
        model = ExecutionTransition
        fields = ["from_state", "to_state", "actor", "reason", "at"]


class ExecutionSummarySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """An execution in a list: no node runs or history; progress without the estimate."""

    team = serializers.UUIDField(source="team_id")
    workflow = serializers.UUIDField(source="workflow_id")
    workflow_name = serializers.CharField(source="workflow.name")
    version = serializers.CharField(source="workflow_version.version")
    state = serializers.ChoiceField(choices=EXECUTION_STATES)
    error = serializers.JSONField(allow_null=True)
    started_by = serializers.SerializerMethodField()
    rerun_of = serializers.UUIDField(source="rerun_of_id", allow_null=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Execution
        fields = ["id", "team", "workflow", "workflow_name", "version", "state", "state_reason", "error",
                  "progress", "trigger", "started_by", "rerun_of", "created_at", "started_at", "finished_at"]

    def get_started_by(self, execution: Execution) -> str | None:
        return execution.started_by_name or None

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, execution: Execution) -> dict[str, Any]:
        return self.context["progress"][execution.pk]


class ExecutionSerializer(ExecutionSummarySerializer):
    """One execution in full."""

    inputs = serializers.JSONField(help_text="Keyed by input node id (answers to provide_input included).")
    outputs = serializers.JSONField(help_text="Keyed by output node id.")
    node_runs = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()
    available_commands = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField(
        help_text="Model usage: {total: {calls, cached, tokens_in, tokens_out, cost, saved, currency}, "
                  "by_node: {node_id: usage}}; nodes a re-run took over are not in the total.")

    class Meta(ExecutionSummarySerializer.Meta):
        fields = ["id", "team", "workflow", "workflow_name", "version", "state", "state_reason", "inputs",
                  "outputs", "error", "progress", "node_runs", "history", "available_commands", "trigger",
                  "started_by", "rerun_of", "created_at", "started_at", "finished_at", "usage"]

    @extend_schema_field(serializers.JSONField())
    def get_usage(self, execution: Execution) -> dict[str, Any]:
        from instruments.selectors import execution_usage

        return execution_usage([{"node_id": run.node_id, "usage": run.usage, "cached": run.cached,
                                 "reused_from": run.reused_from_id}
                                for run in self.context["node_runs"]])

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, execution: Execution) -> dict[str, Any]:
        return self.context["progress"]

    @extend_schema_field(NodeRunSerializer(many=True))
    def get_node_runs(self, execution: Execution) -> list[dict[str, Any]]:
        return NodeRunSerializer(self.context["node_runs"], many=True).data  # type: ignore[return-value]

    @extend_schema_field(TransitionSerializer(many=True))
    def get_history(self, execution: Execution) -> list[dict[str, Any]]:
        return TransitionSerializer(self.context["history"], many=True).data  # type: ignore[return-value]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=COMMANDS)))
    def get_available_commands(self, execution: Execution) -> list[str]:
        return [command.value for command in self.context["available_commands"]]


class ExecutionCreateSerializer(StrictSerializer):
    workflow = serializers.UUIDField()
    version = serializers.CharField(max_length=32, required=False, allow_null=True,
                                    help_text="A version number of the workflow; default: its current version.")
    inputs = ObjectField(required=False, default=dict, help_text="Values keyed by input node id.")


class CommandSerializer(StrictSerializer):
    command = serializers.ChoiceField(choices=COMMANDS)
    node_id = serializers.CharField(required=False, allow_null=True, max_length=10_000,
                                    help_text="retry_node, skip_node, provide_input: the node.")
    value = serializers.JSONField(required=False, allow_null=True, help_text="provide_input: the input's value.")
    output = serializers.JSONField(required=False, allow_null=True,
                                   help_text="skip_node: a substitute output, by port name.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class RerunSerializer(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


def page_of(item_serializer: type[serializers.Serializer], name: str) -> serializers.Serializer:  # type: ignore[type-arg]
    return inline_serializer(name=name, fields={
        "results": item_serializer(many=True),
        "next": serializers.CharField(allow_null=True, help_text="Cursor of the next page."),
    })


class CommandRefusedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """409: the state forbids the command."""

    class Body(serializers.Serializer):  # type: ignore[type-arg]
        class Details(serializers.Serializer):  # type: ignore[type-arg]
            state = serializers.ChoiceField(choices=EXECUTION_STATES)
            available_commands = serializers.ListField(child=serializers.ChoiceField(choices=COMMANDS))
            node_id = serializers.CharField(required=False)
            node_state = serializers.ChoiceField(choices=NODE_RUN_STATES, required=False)

        code = serializers.CharField()
        message = serializers.CharField()
        details = Details()

    error = Body()
