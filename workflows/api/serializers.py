"""Shapes of the workflows API: request bodies (strict) and responses."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from symphony_site.api.serializers import DocumentField, StrictSerializer
from symphony_site.api.serializers import page_of as page_of  # the views name it s.page_of
from workflows import selectors
from workflows.models import Workflow, WorkflowVersion
from workflows.versioning import SEMANTIC_VERSION_PATTERN

DOCUMENT_HELP = ("A workflow document: the envelope {schema_version, created_with, workflow} or the bare "
                 "workflow object (wrapped in the current envelope). See workflow-format.md and "
                 "GET /api/v1/workflows/schema/.")


class VersionSummarySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = WorkflowVersion
        fields = ["version", "schema_version", "checksum", "node_count", "edge_count", "change_message",
                  "created_by", "created_at"]

    def get_created_by(self, version: WorkflowVersion) -> str | None:
        return version.created_by.username if version.created_by else None


class VersionDetailSerializer(VersionSummarySerializer):
    document = serializers.JSONField(help_text="The stored envelope of this version.")

    class Meta(VersionSummarySerializer.Meta):
        fields = [*VersionSummarySerializer.Meta.fields, "document"]


class LastRunSerializer(serializers.Serializer):  # type: ignore[type-arg]
    state = serializers.CharField()


class WorkflowSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    team = serializers.UUIDField(source="team_id")
    team_name = serializers.CharField(source="team.name")
    created_by = serializers.SerializerMethodField()
    archived = serializers.BooleanField(source="is_archived")
    current_version = VersionSummarySerializer()
    last_run = serializers.SerializerMethodField(help_text="The latest execution, once executions exist.")

    class Meta:
        model = Workflow
        fields = ["id", "team", "team_name", "name", "description", "tags", "category", "archived",
                  "archived_at", "created_by", "created_at", "updated_at", "current_version", "last_run"]

    def get_created_by(self, workflow: Workflow) -> str | None:
        return workflow.created_by.username if workflow.created_by else None

    @extend_schema_field(LastRunSerializer(allow_null=True))
    def get_last_run(self, workflow: Workflow) -> dict[str, Any] | None:
        return selectors.last_run_of(workflow)


class WorkflowDetailSerializer(WorkflowSerializer):
    document = serializers.JSONField(source="current_version.document",
                                     help_text="The current version's envelope.")

    class Meta(WorkflowSerializer.Meta):
        fields = [*WorkflowSerializer.Meta.fields, "document"]


class WorkflowCreateSerializer(StrictSerializer):
    team = serializers.UUIDField()
    document = DocumentField(help_text=DOCUMENT_HELP)
    change_message = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


@extend_schema_field({"type": "string", "pattern": SEMANTIC_VERSION_PATTERN, "maxLength": 32})
class VersionNumberField(serializers.CharField):
    """MAJOR.MINOR.PATCH; the service reads it (workflows.versioning.SemanticVersion)."""


class WorkflowUpdateSerializer(StrictSerializer):
    document = DocumentField(required=False, help_text=DOCUMENT_HELP)
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=50)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True)
    version = VersionNumberField(max_length=32, required=False,
                                 help_text="The new version number; must be greater than the current.")
    change_message = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class IssueSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.CharField()
    message = serializers.CharField()
    node_id = serializers.CharField(required=False)
    edge_id = serializers.CharField(required=False)
    port = serializers.CharField(required=False)
    path = serializers.ListField(child=serializers.JSONField(), required=False)
    expected = serializers.CharField(required=False)
    found = serializers.CharField(required=False)
    position = serializers.IntegerField(required=False)


class ValidationResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    valid = serializers.BooleanField()
    errors = IssueSerializer(many=True)
    warnings = IssueSerializer(many=True)


class WorkflowValidationSerializer(ValidationResultSerializer):
    version = serializers.CharField()


class DependenciesSerializer(serializers.Serializer):  # type: ignore[type-arg]
    direct = serializers.ListField(child=serializers.CharField())
    all = serializers.ListField(child=serializers.CharField(), required=False,
                                help_text="Every node this one depends on; absent when the plan omits them.")
    dependents = serializers.ListField(child=serializers.CharField())


class PlanSerializer(serializers.Serializer):  # type: ignore[type-arg]
    version = serializers.CharField()
    topological_order = serializers.ListField(child=serializers.CharField())
    execution_levels = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    critical_path = serializers.ListField(child=serializers.CharField())
    dependencies = serializers.DictField(child=DependenciesSerializer())
    transitive_dependencies = serializers.ChoiceField(
        choices=["included", "omitted"],
        help_text="'omitted' when all nodes' transitive lists together pass 200,000 ids: ask with ?node=.")


class FieldChangeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    field = serializers.CharField()
    to = serializers.JSONField()

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = serializers.JSONField()  # "from" is a Python keyword
        return fields


class ChangedItemSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.CharField()
    fields = FieldChangeSerializer(many=True)


class DiffPartSerializer(serializers.Serializer):  # type: ignore[type-arg]
    added = serializers.ListField(child=serializers.JSONField())
    removed = serializers.ListField(child=serializers.JSONField())
    changed = ChangedItemSerializer(many=True)


class DiffSerializer(serializers.Serializer):  # type: ignore[type-arg]
    to = serializers.CharField()
    nodes = DiffPartSerializer()
    edges = DiffPartSerializer()
    workflow = FieldChangeSerializer(many=True)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = serializers.CharField()
        return fields


class PortSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField()
    data_type = serializers.CharField()
    required = serializers.BooleanField()
    default = serializers.JSONField()
    description = serializers.CharField(required=False)


class NodeTypeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    type = serializers.CharField()
    kind = serializers.ChoiceField(choices=["control", "operator", "instrument"])
    title = serializers.CharField()
    description = serializers.CharField()
    inputs = PortSerializer(many=True)
    outputs = PortSerializer(many=True)
    config_schema = serializers.JSONField()
    example_config = serializers.JSONField()
