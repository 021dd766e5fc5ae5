"""Template API shapes: requests are strict, responses render models."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from symphony_site.api.serializers import (
    WHITESPACE,
    DocumentField,
    ObjectListField,
    StrictSerializer,
)
from templates_app.domain.versions import CONSTRAINT_PATTERN, MAX_CONSTRAINT_LENGTH, VERSION_PATTERN
from templates_app.models import Template, TemplateVersion, Visibility
from templates_app.services.preparation import MAX_TAGS


class PublisherSerializer(serializers.Serializer):  # type: ignore[type-arg]
    slug = serializers.CharField()
    name = serializers.CharField()


class TemplateSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    publisher = serializers.SerializerMethodField()

    class Meta:
        model = Template
        fields = ["slug", "name", "description", "category", "tags", "publisher", "visibility", "verified",
                  "featured", "deprecated", "rating_average", "rating_count", "usage_count", "latest_version",
                  "node_types", "model_ids", "created_at", "updated_at"]

    def get_publisher(self, template: Template) -> dict[str, str]:
        return {"slug": template.team.slug, "name": template.team.name}

    def to_representation(self, instance: Template) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["rating_average"] = round(instance.rating_average, 2)
        return data


PublisherField = PublisherSerializer  # documented shape of `publisher`


class VersionSummarySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TemplateVersion
        fields = ["version", "changelog", "created_by", "created_at"]


class TemplateDetailSerializer(TemplateSerializer):
    versions = serializers.SerializerMethodField()
    my_rating = serializers.SerializerMethodField()
    can_edit = serializers.SerializerMethodField()

    class Meta(TemplateSerializer.Meta):
        fields = [*TemplateSerializer.Meta.fields, "id", "versions", "my_rating", "can_edit"]

    def get_versions(self, template: Template) -> list[dict[str, Any]]:
        versions = template.versions.select_related("created_by").order_by("-major", "-minor", "-patch")
        return VersionSummarySerializer(versions, many=True).data  # type: ignore[return-value]

    def get_my_rating(self, template: Template) -> int | None:
        user = self.context.get("user")
        rating = template.ratings.filter(user=user).first() if user is not None else None
        return rating.stars if rating else None

    def get_can_edit(self, template: Template) -> bool:
        return bool(self.context.get("can_edit"))


class TemplateVersionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TemplateVersion
        fields = ["version", "document", "parameters", "examples", "changelog", "created_by", "created_at"]


# Tags and categories as templates_app.services.preparation reads them: trimmed, lowercased,
# then a tag matches [a-z0-9][a-z0-9+#.-]{0,39} and a category [a-z0-9][a-z0-9-]{0,59} (or is empty).
@extend_schema_field({"type": "string", "maxLength": 40,
                      "pattern": f"^{WHITESPACE}*[a-zA-Z0-9][a-zA-Z0-9+#.-]{{0,39}}{WHITESPACE}*$"})
class TagField(serializers.CharField):
    """A tag, e.g. "summarization"."""


@extend_schema_field({"type": "string", "maxLength": 60,
                      "pattern": f"^{WHITESPACE}*(?:[a-zA-Z0-9][a-zA-Z0-9-]{{0,59}})?{WHITESPACE}*$"})
class CategoryField(serializers.CharField):
    """A category slug, e.g. "customer-support"."""


@extend_schema_field({"type": "string", "pattern": VERSION_PATTERN, "maxLength": 32})
class VersionNumberField(serializers.CharField):
    """MAJOR.MINOR.PATCH; the services read it (templates_app.domain.versions.Version)."""


@extend_schema_field({"type": "string", "pattern": CONSTRAINT_PATTERN, "maxLength": MAX_CONSTRAINT_LENGTH})
class VersionConstraintField(serializers.CharField):
    """`latest`, `1.2.0`, `^1.2`, `~1.2.3`, `>=1,<2`, alternatives joined by `||`."""


class VersionBodySerializer(StrictSerializer):
    version = VersionNumberField(max_length=32)
    document = DocumentField()
    parameters = ObjectListField(required=False, default=list,
                                 help_text="Parameter definitions; see docs/templates.md.")
    examples = ObjectListField(required=False, default=list, help_text="[{name, description?, parameters}]")
    changelog = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)


class TemplateCreateSerializer(StrictSerializer):
    team = serializers.UUIDField()
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
    category = CategoryField(required=False, allow_blank=True, default="", max_length=60)
    tags = serializers.ListField(child=TagField(max_length=40), required=False, default=list, max_length=MAX_TAGS)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False, default=Visibility.TEAM)
    version = VersionBodySerializer()


class TemplateUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    category = CategoryField(required=False, allow_blank=True, max_length=60)
    tags = serializers.ListField(child=TagField(max_length=40), required=False, max_length=MAX_TAGS)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    deprecated = serializers.BooleanField(required=False, help_text="Publishing team's editors, or staff.")
    verified = serializers.BooleanField(required=False, help_text="Staff only.")
    featured = serializers.BooleanField(required=False, help_text="Staff only.")


class ParametersResponseSerializer(serializers.Serializer):  # type: ignore[type-arg]
    version = serializers.CharField()
    parameters = serializers.JSONField()
    json_schema = serializers.JSONField()


class InstantiateSerializer(StrictSerializer):
    team = serializers.UUIDField()
    version = VersionConstraintField(required=False, default="latest", allow_blank=True,
                                     max_length=MAX_CONSTRAINT_LENGTH)
    parameters = serializers.DictField(required=False, default=dict)
    overrides = serializers.DictField(required=False, default=dict)
    name = serializers.CharField(required=False, max_length=200)


class NoBodySerializer(StrictSerializer):
    """An operation that takes no body: none, or an empty object; anything else is refused."""


class CreatedWorkflowSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField()
    team = serializers.UUIDField(source="team_id")
    name = serializers.CharField()
    description = serializers.CharField()
    version = serializers.CharField(source="current_version.version")
    url = serializers.SerializerMethodField()

    def get_url(self, workflow: Any) -> str:
        return f"/api/v1/workflows/{workflow.pk}/"


class InstantiateResponseSerializer(serializers.Serializer):  # type: ignore[type-arg]
    workflow = CreatedWorkflowSerializer()
    template_version = serializers.CharField()
    warnings = serializers.ListField(child=serializers.DictField())
    applied_defaults = serializers.ListField(child=serializers.DictField())


class RatingRequestSerializer(StrictSerializer):
    stars = serializers.IntegerField(min_value=1, max_value=5)


class RatingResponseSerializer(serializers.Serializer):  # type: ignore[type-arg]
    stars = serializers.IntegerField()
    rating_average = serializers.FloatField()
    rating_count = serializers.IntegerField()


class FacetValueSerializer(serializers.Serializer):  # type: ignore[type-arg]
    value = serializers.CharField()
    count = serializers.IntegerField()


class FacetsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    category = FacetValueSerializer(many=True)
    tag = FacetValueSerializer(many=True)


class SearchResponseSerializer(serializers.Serializer):  # type: ignore[type-arg]
    results = TemplateSerializer(many=True)
    next = serializers.CharField(allow_null=True)
    facets = FacetsSerializer()
    facets_exact = serializers.BooleanField()
    typo_fallback = serializers.BooleanField()
    corrected_query = serializers.CharField(allow_null=True, help_text="The words searched instead, after a typo.")


class FromWorkflowParameterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    path = serializers.CharField(help_text="JSON pointer into the workflow object, e.g. /nodes/@model/config/temperature")
    name = serializers.CharField()


class FromWorkflowSerializer(StrictSerializer):
    workflow = serializers.UUIDField()
    parameters = serializers.ListField(child=serializers.DictField(), help_text=(
        "Each {path, name, …optional definition fields}; the value at path becomes the parameter's default."))
    name = serializers.CharField(required=False, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    category = CategoryField(required=False, allow_blank=True, default="", max_length=60)
    tags = serializers.ListField(child=TagField(max_length=40), required=False, max_length=MAX_TAGS)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False, default=Visibility.TEAM)
    version = VersionNumberField(required=False, default="1.0.0", max_length=32)
    changelog = serializers.CharField(required=False, default="First version, saved from a workflow.")


class NewerVersionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    version = serializers.CharField()
    changelog = serializers.CharField()


class OriginSerializer(serializers.Serializer):  # type: ignore[type-arg]
    template = serializers.CharField(help_text="The template's slug.")
    template_version = serializers.CharField()
    parameters = serializers.DictField()
    overrides = serializers.DictField()
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    newer_version = NewerVersionSerializer(allow_null=True)
