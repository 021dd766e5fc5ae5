"""Admin: workflows and versions, read-only (writes go through services), documents pretty-printed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from workflows.models import Workflow, WorkflowVersion
from workflows.serialization import pretty


def _pretty_document(document: Any) -> str:
    try:
        text = pretty(document, show_metadata=True, color=False)
    except Exception as error:  # a display helper must never break the admin page
        text = f"(cannot pretty-print this document: {type(error).__name__})"
    return format_html('<details><summary>Show the document tree</summary><pre class="folded tall">'
                       '{}</pre></details>', text)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VersionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = WorkflowVersion
    fields = ["version", "change_message", "node_count", "edge_count", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-major", "-minor", "-patch"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Workflow)
class WorkflowAdmin(ReadOnlyAdmin):
    list_display = ["name", "team", "current_version", "category", "archived_at", "updated_at"]
    list_filter = ["team", "archived_at"]
    search_fields = ["name", "description", "tags"]
    list_select_related = ["team", "current_version"]
    readonly_fields = ["id", "team", "name", "description", "tags", "category", "current_version", "created_by",
                       "created_at", "updated_at", "archived_at", "current_document"]
    fields = readonly_fields
    inlines = [VersionInline]

    @admin.display(description="Current document")
    def current_document(self, workflow: Workflow) -> str:
        if workflow.current_version is None:
            return "—"
        return _pretty_document(workflow.current_version.document)


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(ReadOnlyAdmin):
    list_display = ["workflow", "version", "schema_version", "node_count", "edge_count", "created_by", "created_at"]
    list_select_related = ["workflow", "created_by"]
    search_fields = ["workflow__name", "version", "checksum"]
    readonly_fields = ["id", "workflow", "version", "schema_version", "checksum", "node_count", "edge_count",
                       "change_message", "created_by", "created_at", "pretty_document"]
    fields = readonly_fields

    @admin.display(description="Document")
    def pretty_document(self, version: WorkflowVersion) -> str:
        return _pretty_document(version.document)
