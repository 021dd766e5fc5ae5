"""The lists' plain row functions answer exactly what the DRF serializers (the schema's shapes) do.

The workflows and executions lists shape `.values()` rows with plain functions
(symphony_site/api/rows.py); here both are run over the same rows — archived and active,
with and without a creator, tags, last runs, errors, re-runs, times unset — and must agree
value for value, and in JSON byte for byte.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from executions import selectors as execution_selectors
from executions.api import rows as execution_rows
from executions.api.serializers import ExecutionSummarySerializer
from executions.models import Execution, NodeRun
from symphony_site.actors import Actor, Origin
from workflows import samples as s
from workflows import selectors as workflow_selectors
from workflows import services as workflow_services
from workflows.access import access_workflow
from workflows.api import rows as workflow_rows
from workflows.api.serializers import WorkflowDetailSerializer, WorkflowSerializer
from workflows.models import Workflow

ORIGIN = Origin.command()


def _workflow(personas: Any, name: str, **fields: Any) -> Workflow:
    workflow = workflow_services.workflow_create(
        actor=Actor.of(personas.users["editor"]), origin=ORIGIN, team=personas.team,
        document=s.workflow(name, [s.node_input("a"), s.node_output("b")],
                            [s.data_edge("e1", "a", "value", "b", "value")]))
    if fields:
        Workflow.objects.filter(pk=workflow.pk).update(**fields)
    return workflow


def _same(plain: list[dict[str, Any]], serialized: Any) -> None:
    assert plain == serialized
    assert JSONRenderer().render(plain) == JSONRenderer().render(serialized)


def test_workflow_rows_match_the_serializer(personas: Any) -> None:
    plain_workflow = _workflow(personas, "Plain")
    _workflow(personas, "Tagged ünïcode", tags=["alpha", "β"], category="ops", description="Line\nnext")
    _workflow(personas, "No creator", created_by=None)
    ran = _workflow(personas, "Ran")
    now = timezone.now()
    Execution.objects.create(team=personas.team, workflow=ran, workflow_version=ran.current_version,
                             state="failed", node_count=2, created_at=now, updated_at=now, max_parallel=4)
    Execution.objects.create(team=personas.team, workflow=ran, workflow_version=ran.current_version,
                             state="completed", node_count=2, created_at=now + dt.timedelta(seconds=1), updated_at=now, max_parallel=4)
    pages = {}
    for archived in (False, True):
        if archived:
            Workflow.objects.filter(pk=plain_workflow.pk).update(archived_at=now)
        workflows = workflow_selectors.workflows_for_user(personas.users["viewer"], archived=archived)
        ordered = workflows.order_by(*workflow_selectors.LIST_ORDERING)
        pages[archived] = workflow_rows.list_rows(list(workflow_rows.list_values(ordered)))
        _same(pages[archived], WorkflowSerializer(list(ordered), many=True).data)
    assert [row["name"] for row in pages[True]] == ["Plain"]
    assert pages[True][0]["archived"] is True
    by_name = {row["name"]: row for row in pages[False]}
    assert sorted(by_name) == ["No creator", "Plain", "Ran", "Tagged ünïcode"]
    assert by_name["Ran"]["last_run"] == {"state": "completed"}
    assert by_name["No creator"]["created_by"] is None
    assert by_name["Tagged ünïcode"]["tags"] == ["alpha", "β"]
    for workflow in Workflow.objects.all():
        fetched = access_workflow(personas.users["viewer"], workflow.pk)
        detail = workflow_rows.detail(fetched)
        assert detail["document"]["workflow"]["name"] == workflow.name
        _same([detail], [WorkflowDetailSerializer(access_workflow(personas.users["viewer"], workflow.pk)).data])


def test_execution_rows_match_the_serializer(personas: Any) -> None:
    workflow = _workflow(personas, "Runs")
    now = timezone.now()
    first = Execution.objects.create(
        team=personas.team, workflow=workflow, workflow_version=workflow.current_version, state="failed",
        node_count=3, created_at=now, updated_at=now, max_parallel=4, started_at=now, finished_at=now + dt.timedelta(milliseconds=1500),
        started_by=personas.users["operator"], started_by_name="alpha-operator", state_reason="node b failed",
        error={"code": "node_failed", "message": "b failed", "details": [{"node_id": "b"}]})
    NodeRun.objects.bulk_create([
        NodeRun(execution=first, node_id="a", node_kind="input", node_type="input", state="completed"),
        NodeRun(execution=first, node_id="b", node_kind="output", node_type="output", state="failed"),
        NodeRun(execution=first, node_id="c", node_kind="output", node_type="output", state="skipped"),
    ])
    Execution.objects.create(team=personas.team, workflow=workflow, workflow_version=workflow.current_version,
                             state="pending", node_count=3, trigger="schedule", rerun_of=first,
                             created_at=now + dt.timedelta(seconds=1), updated_at=now, max_parallel=4)
    executions = execution_selectors.executions_for_user(personas.users["viewer"])
    ordered = executions.order_by(*execution_selectors.LIST_ORDERING)
    plain = execution_rows.list_rows(list(execution_rows.list_values(ordered)))
    instances = list(ordered)
    counts = execution_selectors.state_counts([row.pk for row in instances])
    progress = {row.pk: execution_selectors.list_progress(row, counts.get(row.pk, {})) for row in instances}
    assert len(plain) == 2
    _same(plain, ExecutionSummarySerializer(instances, many=True, context={"progress": progress}).data)
    assert plain[0]["rerun_of"] == str(first.pk)
    assert plain[1]["progress"]["failed"] == 1
    assert plain[1]["finished_at"] == (now + dt.timedelta(milliseconds=1500)).astimezone(dt.UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def test_template_rows_match_the_serializer(personas: Any) -> None:
    from templates_app import services as template_services
    from templates_app.api import rows as template_rows
    from templates_app.api.serializers import TemplateSerializer
    from templates_app.models import Template
    from tests.templates_app.conftest import summary_version

    for index, (visibility, tags) in enumerate((("team", ["summarization", "llm"]), ("public", []))):
        template_services.template_publish(
            actor=Actor.of(personas.users["admin"]), origin=ORIGIN, team=personas.team,
            name=f"Summarize ünïcode {index}", description="Summaries.", category="summarization", tags=tags,
            visibility=visibility, version=summary_version())
    Template.objects.filter(visibility="public").update(rating_average=3.456789, rating_count=3, verified=True)
    templates = list(Template.objects.select_related("team").order_by("name"))
    plain = template_rows.template_rows(templates)
    assert [row["rating_average"] for row in plain] == [0.0, 3.46]
    _same(plain, TemplateSerializer(templates, many=True).data)


def test_execution_detail_matches_the_serializer(personas: Any) -> None:
    from executions.access import access_execution
    from executions.api.serializers import ExecutionSerializer
    from executions.models import ExecutionTransition
    from executions.services.availability import commands_available, commands_available_from

    workflow = _workflow(personas, "Detail")
    now = timezone.now()
    later = now + dt.timedelta(milliseconds=2500)
    earlier = Execution.objects.create(
        team=personas.team, workflow=workflow, workflow_version=workflow.current_version, state="failed",
        node_count=2, created_at=now, updated_at=now, max_parallel=4, started_at=now, finished_at=later,
        started_by=personas.users["operator"], started_by_name="alpha-operator", state_reason="node b failed",
        inputs={"a": "ünïcode"}, error={"code": "node_failed", "message": "b failed", "details": [{"node_id": "b"}]})
    running = Execution.objects.create(
        team=personas.team, workflow=workflow, workflow_version=workflow.current_version, state="running",
        node_count=2, trigger="rerun", rerun_of=earlier, created_at=later, updated_at=later, max_parallel=4,
        started_at=later, outputs={"b": [1, 2.5, None]})
    usage = {"model": "m", "provider": "p", "tokens_in": 10, "tokens_out": 4, "cost": 0.0012, "currency": "USD",
             "cached": False}
    NodeRun.objects.bulk_create([
        NodeRun(execution=earlier, node_id="a", node_kind="input", node_type="input", state="completed",
                attempt=1, max_attempts=1, started_at=now, finished_at=later, output={"value": "x"}, usage=usage,
                cached=True, progress=1.0, message="done"),
        NodeRun(execution=earlier, node_id="b", node_kind="output", node_type="output", state="failed",
                attempt=2, max_attempts=3, started_at=now, error={"code": "boom", "message": "no", "retryable": True}),
        NodeRun(execution=running, node_id="a", node_kind="input", node_type="input", state="completed",
                attempt=1, started_at=later, finished_at=later, reused_from=earlier, usage=usage,
                output={"value": "x"}),
        NodeRun(execution=running, node_id="b", node_kind="output", node_type="output", state="running",
                attempt=1, started_at=later, lease_expires_at=later + dt.timedelta(seconds=30), progress=0.25,
                message="a quarter", awaiting_input=False),
    ])
    ExecutionTransition.objects.bulk_create([
        ExecutionTransition(execution=earlier, from_state=None, to_state="pending", actor_name="alpha-operator", at=now),
        ExecutionTransition(execution=earlier, from_state="pending", to_state="running", actor_name="system",
                            reason="started", at=now),
        ExecutionTransition(execution=earlier, from_state="running", to_state="failed", actor_name="system",
                            reason="node b failed", at=later),
    ])
    details = {}
    for execution_id in (earlier.pk, running.pk):
        execution = access_execution(personas.users["viewer"], execution_id)
        runs = execution_selectors.node_runs_of(execution)
        history = execution_selectors.history_of(execution)
        progress = execution_selectors.progress_for(execution, runs).to_dict()
        commands = commands_available(execution)
        assert commands_available_from(execution, runs) == commands
        plain = execution_rows.detail(execution, runs=runs, history=history, progress=progress, commands=commands)
        serialized = ExecutionSerializer(execution, context={
            "node_runs": runs, "history": history, "progress": progress, "available_commands": commands}).data
        _same([plain], [serialized])
        assert list(plain) == list(serialized)
        details[execution_id] = plain
    failed, rerun = details[earlier.pk], details[running.pk]
    assert [(row["from_state"], row["to_state"]) for row in failed["history"]] == [
        (None, "pending"), ("pending", "running"), ("running", "failed")]
    assert failed["node_runs"][0]["duration_ms"] == 2500.0
    assert failed["node_runs"][1]["duration_ms"] is None and failed["node_runs"][1]["skip_reason"] is None
    assert failed["usage"]["total"]["calls"] == 1 and failed["usage"]["total"]["cached"] == 0
    assert failed["available_commands"] == ["rerun"]
    assert rerun["available_commands"] == ["pause", "cancel"]
    assert rerun["rerun_of"] == str(earlier.pk) and rerun["started_by"] is None
    assert rerun["node_runs"][0]["reused_from"] == str(earlier.pk)
    assert rerun["node_runs"][1]["progress"] == 0.25
    # A re-used node is listed but spent nothing in this execution.
    assert rerun["usage"]["total"]["calls"] == 0 and list(rerun["usage"]["by_node"]) == ["a"]
