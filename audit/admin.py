"""Read-only admin for the audit log: entries can be searched and read, never added, changed or removed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

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


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    list_display = ["chain", "team", "last_sequence", "last_occurred_at", "last_hash"]


@admin.register(AuditPolicy)
class AuditPolicyAdmin(ReadOnlyAdmin):
    """Shown for reference; owners change retention and legal hold through `policy_update`."""

    list_display = ["team", "retention_days", "legal_hold", "updated_at"]
    list_filter = ["legal_hold"]
