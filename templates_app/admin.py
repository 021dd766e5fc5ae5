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
from django.utils.html import format_html, format_html_join

from symphony_site.api.errors import ApiError
from symphony_site.origins import actor_from_request, admin_origin
from templates_app import services
from templates_app.models import Instantiation, Rating, Template, TemplateVersion
from workflows.serialization import pretty


def _collapsed(summary: str, text: str) -> str:
    """Long text folded behind its summary: no walls of JSON on the page."""
    return format_html('<details><summary>{}</summary><pre class="folded">{}</pre></details>', summary, text)


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
           queryset: QuerySet[Template], service: Any, done: str, **options: Any) -> None:
    """Run a template service on each selected template, as the staff member, from the admin."""
    actor, origin = actor_from_request(request), admin_origin(request)
    changed = 0
    for template in queryset.select_related("team"):
        try:
            service(actor=actor, origin=origin, template=template, **options)
        except ApiError as error:
            modeladmin.message_user(request, f"{template.name}: {error.message}", messages.ERROR)
        else:
            changed += 1
    if changed:
        modeladmin.message_user(request, f"{changed} template{'s' if changed != 1 else ''} {done}.",
                                messages.SUCCESS)


@admin.register(Template)
class TemplateAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    # The curation columns come first: they must be visible without scrolling sideways.
    list_display = ["name", "verified", "featured", "deprecated", "team", "category", "shown_to", "rating",
                    "usage_count", "latest_version"]
    list_display_links = ["name"]
    list_select_related = ["team"]
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

    @admin.display(description="Visibility", ordering="visibility")
    def shown_to(self, template: Template) -> str:
        return str(template.visibility)  # the short value; the long labels wrap the column

    @admin.display(description="Rating", ordering="rating_average")
    def rating(self, template: Template) -> str:
        return f"{template.rating_average:.1f} ({template.rating_count})"

    @admin.action(description="Verify selected templates")
    def verify(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        _apply(self, request, queryset, services.template_set_verified, "verified", verified=True)

    @admin.action(description="Remove verification")
    def unverify(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        _apply(self, request, queryset, services.template_set_verified, "no longer verified", verified=False)

    @admin.action(description="Feature selected templates")
    def feature(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        _apply(self, request, queryset, services.template_set_featured, "featured", featured=True)

    @admin.action(description="Stop featuring")
    def unfeature(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        _apply(self, request, queryset, services.template_set_featured, "no longer featured", featured=False)

    @admin.action(description="Deprecate selected templates")
    def deprecate(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        _apply(self, request, queryset, services.template_deprecate, "deprecated", deprecated=True,
               reason="Deprecated by staff in the admin")

    @admin.action(description="Undo deprecation")
    def undeprecate(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        _apply(self, request, queryset, services.template_deprecate, "no longer deprecated", deprecated=False)


@admin.register(TemplateVersion)
class TemplateVersionAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["template", "version", "created_by", "created_at"]
    search_fields = ["template__name", "template__slug", "version"]
    fields = ["template", "version", "changelog", "created_by", "created_at", "pretty_parameters",
              "pretty_examples", "pretty_document"]
    readonly_fields = fields

    @admin.display(description="Parameters")
    def pretty_parameters(self, obj: TemplateVersion) -> str:
        rows = format_html_join("", "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                                ((item.get("name", ""), item.get("type", ""), "yes" if item.get("required") else "no",
                                  json.dumps(item["default"]) if "default" in item else "—")
                                 for item in obj.parameters if isinstance(item, dict)))
        return format_html("<table><thead><tr><th>Name</th><th>Type</th><th>Required</th><th>Default</th></tr>"
                           "</thead><tbody>{}</tbody></table>", rows) if obj.parameters else "—"

    @admin.display(description="Examples")
    def pretty_examples(self, obj: TemplateVersion) -> str:
        return _collapsed(f"{len(obj.examples)} example(s)", json.dumps(obj.examples, indent=2)) if obj.examples else "—"

    @admin.display(description="Document")
    def pretty_document(self, obj: TemplateVersion) -> str:
        workflow = obj.document.get("workflow", obj.document) if isinstance(obj.document, dict) else {}
        summary = f"{len(workflow.get('nodes') or [])} nodes, {len(workflow.get('edges') or [])} edges — show the tree"
        try:
            text = pretty(obj.document if "workflow" in obj.document else {"schema_version": "1.0.0", "workflow": workflow},
                          show_metadata=False, color=False)
        except Exception as error:  # a display helper must never break the admin page
            text = f"(cannot pretty-print this document: {type(error).__name__})"
        return _collapsed(summary, text)


@admin.register(Rating)
class RatingAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["template", "user", "stars", "updated_at"]
    search_fields = ["template__name", "user__username"]


@admin.register(Instantiation)
class InstantiationAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["template_version", "workflow", "team", "created_by", "created_at"]
    search_fields = ["template_version__template__name", "workflow__name"]
