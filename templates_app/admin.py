"""Admin for templates: browse, and verify / feature / deprecate through the services.

Versions are immutable and templates are published through the API or the
web UI, so the admin is read-only apart from its actions, which call the
same services as everything else (permission checks and audit included).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from symphony_site.api.errors import ApiError
from symphony_site.origins import actor_from_request, admin_origin
from templates_app import services
from templates_app.models import Instantiation, Rating, Template, TemplateVersion


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TemplateVersionInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = TemplateVersion
    fields = ["version", "changelog", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True


def _apply(modeladmin: admin.ModelAdmin, request: HttpRequest,  # type: ignore[type-arg]
           queryset: QuerySet[Template], action: Any, done: str) -> None:
    changed = 0
    for template in queryset.select_related("team"):
        try:
            action(template)
        except ApiError as error:
            modeladmin.message_user(request, f"{template.name}: {error.message}", messages.ERROR)
        else:
            changed += 1
    if changed:
        modeladmin.message_user(request, f"{changed} template{'s' if changed != 1 else ''} {done}.",
                                messages.SUCCESS)


@admin.register(Template)
class TemplateAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "slug", "team", "category", "visibility", "verified", "featured", "deprecated",
                    "rating_average", "rating_count", "usage_count", "latest_version", "updated_at"]
    list_filter = ["visibility", "verified", "featured", "deprecated", "category"]
    search_fields = ["name", "slug", "description", "team__name"]
    readonly_fields = ["id", "slug", "team", "name", "description", "category", "tags", "visibility", "verified",
                       "featured", "deprecated", "rating_average", "rating_count", "usage_count", "latest_version",
                       "node_types", "model_ids", "created_by", "created_at", "updated_at"]
    exclude = ["search_vector", "rating_total"]
    inlines = [TemplateVersionInline]
    actions = ["verify", "unverify", "feature", "unfeature", "deprecate", "undeprecate"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The change list must show for actions to run; fields stay read-only.
        return bool(request.user.is_staff) and obj is None

    @admin.action(description="Verify selected templates")
    def verify(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        _apply(self, request, queryset, lambda t: services.template_set_verified(
            actor=actor_from_request(request), origin=admin_origin(request), template=t, verified=True), "verified")

    @admin.action(description="Remove verification")
    def unverify(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        _apply(self, request, queryset, lambda t: services.template_set_verified(
            actor=actor_from_request(request), origin=admin_origin(request), template=t, verified=False), "no longer verified")

    @admin.action(description="Feature selected templates")
    def feature(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        _apply(self, request, queryset, lambda t: services.template_set_featured(
            actor=actor_from_request(request), origin=admin_origin(request), template=t, featured=True), "featured")

    @admin.action(description="Stop featuring")
    def unfeature(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        _apply(self, request, queryset, lambda t: services.template_set_featured(
            actor=actor_from_request(request), origin=admin_origin(request), template=t, featured=False), "no longer featured")

    @admin.action(description="Deprecate selected templates")
    def deprecate(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        _apply(self, request, queryset, lambda t: services.template_deprecate(
            actor=actor_from_request(request), origin=admin_origin(request), template=t, deprecated=True, reason="Deprecated by staff in the admin"), "deprecated")

    @admin.action(description="Undo deprecation")
    def undeprecate(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        _apply(self, request, queryset, lambda t: services.template_deprecate(
            actor=actor_from_request(request), origin=admin_origin(request), template=t, deprecated=False), "no longer deprecated")


@admin.register(TemplateVersion)
class TemplateVersionAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["template", "version", "created_by", "created_at"]
    search_fields = ["template__name", "template__slug", "version"]
    fields = ["template", "version", "changelog", "created_by", "created_at", "pretty_parameters",
              "pretty_examples", "pretty_document"]
    readonly_fields = fields

    @admin.display(description="Parameters")
    def pretty_parameters(self, obj: TemplateVersion) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.parameters, indent=2))

    @admin.display(description="Examples")
    def pretty_examples(self, obj: TemplateVersion) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.examples, indent=2))

    @admin.display(description="Document")
    def pretty_document(self, obj: TemplateVersion) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.document, indent=2))


@admin.register(Rating)
class RatingAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["template", "user", "stars", "updated_at"]
    search_fields = ["template__name", "user__username"]


@admin.register(Instantiation)
class InstantiationAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["template_version", "workflow", "team", "created_by", "created_at"]
    search_fields = ["template_version__template__name", "workflow__name"]
