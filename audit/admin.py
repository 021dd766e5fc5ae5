"""Read-only admin for the audit log: entries can be searched and read, never added, changed or removed."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from audit.models import AuditChainHead, AuditEntry, AuditPolicy


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "team", "sequence", "event_type", "actor_name", "actor_type", "target_type",
                    "target_name"]
    list_filter = ["event_type", "actor_type", "team", "occurred_at"]
    search_fields = ["actor_name", "target_name", "target_id", "event_type", "reason"]
    list_select_related = ["team"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    actions = None
    exclude = ["details"]
    readonly_fields = ["readable_details"]

    @admin.display(description="Details")
    def readable_details(self, entry: AuditEntry) -> str:
        """The details as a short table of keys and values (nested values as compact JSON)."""
        if not entry.details:
            return "—"
        rows = format_html_join("", "<tr><th>{}</th><td><code>{}</code></td></tr>",
                                ((key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
                                 for key, value in sorted(entry.details.items())))
        return format_html("<table>{}</table>", rows)


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    list_display = ["chain", "team", "last_sequence", "last_occurred_at", "last_hash"]


@admin.register(AuditPolicy)
class AuditPolicyAdmin(ReadOnlyAdmin):
    """Shown for reference; owners change retention and legal hold through `policy_update`."""

    list_display = ["team", "retention_days", "legal_hold", "updated_at"]
    list_filter = ["legal_hold"]
