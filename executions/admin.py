"""Admin: executions and node runs, read-only.

Executions change only through the engine and the command service, so the
admin offers no add, change, delete or bulk action; it lists, filters,
searches (run id, workflow name, error text) and shows each execution with
its history inline and its JSON folded and indented rather than as walls.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from executions.models import Execution, ExecutionTransition, NodeRun
from teams.models import Team

SHORT_JSON = 60


def readable_json(value: Any, *, summary: str = "") -> str:
    """A JSON value on one short line, or folded behind its summary when longer."""
    if value is None or value == {} or value == []:
        return "—"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) <= SHORT_JSON and not summary:
        return format_html("<code>{}</code>", text)
    pretty = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    return format_html('<details><summary>{}</summary><pre class="folded">{}</pre></details>',
                       summary or text[:SHORT_JSON - 1] + "…", pretty)


def _duration(started: Any, finished: Any) -> str:
    if started is None or finished is None:
        return "—"
    seconds = (finished - started).total_seconds()
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


class ReadOnly:
    """Nothing is added, changed or deleted here; only reading is left."""

    actions = None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TransitionInline(ReadOnly, admin.TabularInline):  # type: ignore[type-arg]
    model = ExecutionTransition
    fields = ["at", "from_state", "to_state", "actor_name", "reason"]
    readonly_fields = fields
    ordering = ["id"]
    extra = 0
    verbose_name = "state change"
    verbose_name_plural = "History (state changes)"


@admin.register(Execution)
class ExecutionAdmin(ReadOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["short_id", "workflow_name", "state", "team", "trigger", "started_by_name", "created_at",
                    "duration", "error_summary"]
    list_display_links = ["short_id"]
    list_filter = ["state", "team", "trigger"]
    list_select_related = ["team", "workflow"]
    search_fields = ["^id", "workflow__name", "error", "state_reason"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    fields = ["id", "team", "workflow", "workflow_version", "state", "state_reason", "error_readable", "trigger",
              "started_by_name", "rerun_of", "created_at", "started_at", "finished_at", "duration",
              "error_policy", "max_parallel", "timeout_s", "deadline_at", "node_count", "node_runs_link",
              "inputs_readable", "outputs_readable", "event_seq", "page_link"]
    readonly_fields = fields
    inlines = [TransitionInline]

    @admin.display(description="Run", ordering="id")
    def short_id(self, execution: Execution) -> str:
        return str(execution.pk)[:8]

    @admin.display(description="Workflow", ordering="workflow__name")
    def workflow_name(self, execution: Execution) -> str:
        return execution.workflow.name

    @admin.display(description="Duration")
    def duration(self, execution: Execution) -> str:
        return _duration(execution.started_at, execution.finished_at)

    @admin.display(description="Error")
    def error_summary(self, execution: Execution) -> str:
        if not execution.error:
            return "—"
        error = execution.error
        message = str(error.get("message", "")) if isinstance(error, dict) else str(error)
        return message if len(message) <= 80 else message[:79] + "…"

    @admin.display(description="Error")
    def error_readable(self, execution: Execution) -> str:
        return readable_json(execution.error, summary=self.error_summary(execution) if execution.error else "")

    @admin.display(description="Inputs")
    def inputs_readable(self, execution: Execution) -> str:
        return readable_json(execution.inputs)

    @admin.display(description="Outputs")
    def outputs_readable(self, execution: Execution) -> str:
        return readable_json(execution.outputs)

    @admin.display(description="Node runs")
    def node_runs_link(self, execution: Execution) -> str:
        url = reverse("admin:executions_noderun_changelist") + "?" + urlencode({"execution__id__exact": execution.pk})
        return format_html('<a href="{}">{} node runs</a>', url, execution.node_count)

    @admin.display(description="In the web UI")
    def page_link(self, execution: Execution) -> str:
        return format_html('<a href="{}">the execution page</a>', reverse("executions:detail", args=[execution.pk]))


class ExecutionTeamFilter(admin.SimpleListFilter):
    """Node runs by their execution's team."""

    title = "team"
    parameter_name = "team"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(pk), name) for pk, name in Team.objects.order_by("name").values_list("pk", "name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[NodeRun]) -> QuerySet[NodeRun]:
        return queryset.filter(execution__team_id=self.value()) if self.value() else queryset


@admin.register(NodeRun)
class NodeRunAdmin(ReadOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["node_id", "execution_link", "workflow_name", "state", "node_type", "attempt", "duration",
                    "error_summary", "finished_at"]
    list_filter = ["state", ExecutionTeamFilter, "node_kind", "cached"]
    list_select_related = ["execution", "execution__workflow"]
    search_fields = ["node_id", "^execution__id", "execution__workflow__name", "error", "skip_reason"]
    ordering = ["-id"]
    show_full_result_count = False
    fields = ["execution", "node_id", "node_kind", "node_type", "queue", "state", "attempt", "max_attempts",
              "lost_leases", "queued_at", "started_at", "finished_at", "duration", "progress", "message",
              "skip_reason", "awaiting_input", "error_readable", "inputs_readable", "output_readable",
              "usage_readable", "reused_from", "cached", "log_lines", "lease_owner", "lease_expires_at", "due_at"]
    readonly_fields = fields

    @admin.display(description="Execution", ordering="execution")
    def execution_link(self, run: NodeRun) -> str:
        url = reverse("admin:executions_execution_change", args=[run.execution_id])
        return format_html('<a href="{}">{}</a>', url, str(run.execution_id)[:8])

    @admin.display(description="Workflow", ordering="execution__workflow__name")
    def workflow_name(self, run: NodeRun) -> str:
        return run.execution.workflow.name

    @admin.display(description="Duration")
    def duration(self, run: NodeRun) -> str:
        return _duration(run.started_at, run.finished_at)

    @admin.display(description="Error")
    def error_summary(self, run: NodeRun) -> str:
        if not run.error:
            return run.skip_reason or "—"
        message = str(run.error.get("message", "")) if isinstance(run.error, dict) else str(run.error)
        return message if len(message) <= 80 else message[:79] + "…"

    @admin.display(description="Error")
    def error_readable(self, run: NodeRun) -> str:
        return readable_json(run.error, summary=self.error_summary(run) if run.error else "")

    @admin.display(description="Inputs")
    def inputs_readable(self, run: NodeRun) -> str:
        return readable_json(run.inputs)

    @admin.display(description="Output")
    def output_readable(self, run: NodeRun) -> str:
        return readable_json(run.output)

    @admin.display(description="Usage")
    def usage_readable(self, run: NodeRun) -> str:
        return readable_json(run.usage)
