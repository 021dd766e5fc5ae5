"""The lists and details answer exactly what the DRF serializers (the schema's shapes) do.

The workflows and executions lists and the workflow detail are read by statements whose rows
PostgreSQL shapes as JSON (symphony_site/api/statements.py); the template search and the
execution detail shape rows with plain functions (symphony_site/api/rows.py). Here each is
run over the same rows as its serializer — archived and active, with and without a creator,
tags, last runs, errors, re-runs, times unset, unicode, every filter, every page — and must
agree byte for byte.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from executions import selectors as execution_selectors
from executions.api import rows as execution_rows
from executions.api.serializers import ExecutionSummarySerializer
from executions.models import Execution, NodeRun
from symphony_site.actors import Actor, Origin
from symphony_site.api.pagination import CURSOR_SALT, paginate_queryset
from teams.models import Membership, Team
from tests.api.conftest import error_of
from workflows import samples as s
from workflows import selectors as workflow_selectors
from workflows import services as workflow_services
from workflows.access import access_workflow
from workflows.api import rows as workflow_rows
from workflows.api.serializers import WorkflowDetailSerializer, WorkflowSerializer
from workflows.models import Workflow

ORIGIN = Origin.command()


def _workflow(personas: Any, name: str, *, team: Any = None, **fields: Any) -> Workflow:
    actor = personas.users["editor"] if team is None else personas.users["outsider"]
    workflow = workflow_services.workflow_create(
        actor=Actor.of(actor), origin=ORIGIN, team=team or personas.team,
        document=s.workflow(name, [s.node_input("a"), s.node_output("b")],
                            [s.data_edge("e1", "a", "value", "b", "value")]))
    if fields:
        Workflow.objects.filter(pk=workflow.pk).update(**fields)
    return workflow


def _same(plain: list[dict[str, Any]], serialized: Any) -> None:
    assert plain == serialized
    assert JSONRenderer().render(plain) == JSONRenderer().render(serialized)


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _cursor_values(cursor: str | None, scope: str) -> Any:
    """A cursor's ordering values (the signature carries a time, so two cursors of one position
    made a second apart differ as text)."""
    return None if cursor is None else signing.loads(cursor, salt=f"{CURSOR_SALT}:{scope}")


def _walk(client: APIClient, path: str, limit: int) -> list[dict[str, Any]]:
    """Every page of a list, following `next`; each page's value, and its bytes under "content"."""
    pages, cursor = [], None
    while True:
        query = f"&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(path + ("&" if "?" in path else "?") + query.lstrip("&"))
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "application/json"
        pages.append({**response.json(), "content": response.content})
        cursor = pages[-1]["next"]
        if cursor is None:
            return pages


def _workflow_pages(personas: Any, user: Any, *, limit: int, **filters: Any) -> list[dict[str, Any]]:
    """The pages `paginate_queryset` and `WorkflowSerializer` make of `workflows_for_user` (main's way)."""
    queryset = workflow_selectors.workflows_for_user(user, **filters)
    pages, cursor = [], None
    while True:
        found, cursor = paginate_queryset(queryset, workflow_selectors.LIST_ORDERING, limit=limit, cursor=cursor)
        pages.append({"results": WorkflowSerializer(found, many=True).data, "next": cursor})
        if cursor is None:
            return pages


def _same_pages(served: list[dict[str, Any]], expected: list[dict[str, Any]], scope: str) -> None:
    """Byte for byte: each served page is what JSONRenderer writes of the serializer's page with the
    served cursor (a cursor's signature carries the time it was made), whose position is the same."""
    assert len(served) == len(expected)
    for page, wanted in zip(served, expected, strict=True):
        assert page["content"] == JSONRenderer().render({"results": wanted["results"], "next": page["next"]})
        assert _cursor_values(page["next"], scope) == _cursor_values(wanted["next"], scope)


def test_workflow_list_and_detail_answer_what_the_serializers_do(personas: Any) -> None:
    """The served pages and details against the serializers over the ORM's rows: nulls (no creator,
    never archived, never run), unicode, tags, time zones, filters, every page of a walk, the
    last page and an empty one; another team's workflow is 404."""
    plain = _workflow(personas, "Plain")
    _workflow(personas, "Tagged ünïcode 🎼", tags=["alpha", "β"], category="ops", description="Line\nnext \"quoted\" \\ 50%_off")
    _workflow(personas, "No creator", created_by=None)
    # Every character PostgreSQL and Python might escape differently (JSONRenderer escapes U+2028
    # and U+2029 too; PostgreSQL does not, the page does).
    _workflow(personas, "Escapes", description="".join(chr(code) for code in range(1, 128)) + "\u2028\u2029\ufeff",
              tags=["\u2028", "\x7f\x1f"])
    ran = _workflow(personas, "Ran")
    for index in range(4):
        _workflow(personas, f"Filler {index}", tags=["alpha"] if index % 2 else [])
    # A time with no microseconds (strftime's %f and to_char's US both write six zeros).
    Workflow.objects.filter(pk=plain.pk).update(updated_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    _workflow(personas, "Elsewhere", team=personas.other_team)
    now = timezone.now()
    Execution.objects.create(team=personas.team, workflow=ran, workflow_version=ran.current_version,
                             state="failed", node_count=2, created_at=now, updated_at=now, max_parallel=4)
    Execution.objects.create(team=personas.team, workflow=ran, workflow_version=ran.current_version,
                             state="completed", node_count=2, created_at=now + dt.timedelta(seconds=1), updated_at=now, max_parallel=4)
    viewer = personas.users["viewer"]
    client = _api(viewer)
    scope = f"workflows.Workflow:{','.join(workflow_selectors.LIST_ORDERING)}"
    cases = [
        ("", {}), (f"?team={personas.team.pk}", {"team": personas.team.pk}),
        ("?q=%C3%BCn%C3%AFcode", {"query": "ünïcode"}), ("?q=50%25_off", {"query": "50%_off"}),
        ("?q=FILLER", {"query": "FILLER"}), ("?q=nothing+like+it", {"query": "nothing like it"}),
        ("?tag=alpha", {"tag": "alpha"}), ("?tag=%CE%B2", {"tag": "β"}), ("?archived=true", {"archived": True}),
    ]
    for limit in (2, 3, 50):
        for query, filters in cases:
            served = _walk(client, f"/api/v1/workflows/{query}", limit)
            _same_pages(served, _workflow_pages(personas, viewer, limit=limit, **filters), scope)
    assert [row["name"] for row in _walk(client, "/api/v1/workflows/?q=nothing", 50)[0]["results"]] == []
    everything = [row for page in _walk(client, "/api/v1/workflows/", 3) for row in page["results"]]
    assert len(everything) == 9 and "Elsewhere" not in {row["name"] for row in everything}
    by_name = {row["name"]: row for row in everything}
    assert by_name["Ran"]["last_run"] == {"state": "completed"}
    assert by_name["No creator"]["created_by"] is None and by_name["Plain"]["last_run"] is None
    assert by_name["Plain"]["updated_at"] == "2026-01-02T03:04:05.000000Z"
    assert by_name["Tagged ünïcode 🎼"]["tags"] == ["alpha", "β"]

    assert by_name["Escapes"]["description"].endswith("\x7f\u2028\u2029\ufeff")
    assert b"\\u2028" in _walk(client, "/api/v1/workflows/", 50)[0]["content"]
    # Another accepted media type (JSON with an indent) is rendered by DRF from the same value.
    indented = client.get("/api/v1/workflows/", HTTP_ACCEPT="application/json; indent=2")
    assert indented.status_code == 200
    assert indented.content == JSONRenderer().render(
        {"results": [row for page in _walk(client, "/api/v1/workflows/", 50) for row in page["results"]], "next": None},
        "application/json; indent=2")
    assert indented.content.startswith(b'{\n  "results": [')

    Workflow.objects.filter(pk=plain.pk).update(archived_at=now)
    archived = _walk(client, "/api/v1/workflows/?archived=true", 50)
    _same_pages(archived, _workflow_pages(personas, viewer, limit=50, archived=True), scope)
    assert [(row["name"], row["archived"]) for row in archived[0]["results"]] == [("Plain", True)]

    for workflow in Workflow.objects.all():
        response = client.get(f"/api/v1/workflows/{workflow.pk}/")
        if workflow.team_id != personas.team.pk:
            assert response.status_code == 404
            assert response.json() == {"error": {"code": "not_found", "message": "Workflow not found.", "details": []}}
            continue
        expected = WorkflowDetailSerializer(access_workflow(viewer, workflow.pk)).data
        assert response.status_code == 200
        assert response.content == JSONRenderer().render(expected)
        assert response.json()["document"]["workflow"]["name"] == workflow.name
        # In another current time zone both write the local time (the format's Z notwithstanding).
        with timezone.override("Asia/Kolkata"):
            local = WorkflowDetailSerializer(access_workflow(viewer, workflow.pk)).data
            assert JSONRenderer().render(workflow_rows.detail_of(viewer, workflow.pk)) == JSONRenderer().render(local)


def _execution_pages(user: Any, *, limit: int, **filters: Any) -> list[dict[str, Any]]:
    """The pages `paginate_queryset` and `ExecutionSummarySerializer` make of `executions_for_user`."""
    queryset = execution_selectors.executions_for_user(user, **filters)
    pages, cursor = [], None
    while True:
        found, cursor = paginate_queryset(queryset, execution_selectors.LIST_ORDERING, limit=limit, cursor=cursor)
        counts = execution_selectors.state_counts([row.pk for row in found])
        progress = {row.pk: execution_selectors.list_progress(row, counts.get(row.pk, {})) for row in found}
        pages.append({"results": ExecutionSummarySerializer(found, many=True, context={"progress": progress}).data,
                      "next": cursor})
        if cursor is None:
            return pages


def test_execution_list_answers_what_the_serializer_does(personas: Any) -> None:
    """The served pages against the serializer over the ORM's rows: errors, re-runs, unset times,
    no starter, every filter, every page of a walk, an empty page; another team's rows never."""
    workflow = _workflow(personas, "Runs")
    other = _workflow(personas, "Other runs")
    now = timezone.now()
    first = Execution.objects.create(
        team=personas.team, workflow=workflow, workflow_version=workflow.current_version, state="failed",
        node_count=3, created_at=now, updated_at=now, max_parallel=4, started_at=now, finished_at=now + dt.timedelta(milliseconds=1500),
        started_by=personas.users["operator"], started_by_name="alpha-operator", state_reason="node b failed — ünïcode",
        error={"code": "node_failed", "message": "b failed \u2028", "details": [{"node_id": "b", "ratio": 1.0, "big": 10**20}]})
    NodeRun.objects.bulk_create([
        NodeRun(execution=first, node_id="a", node_kind="input", node_type="input", state="completed"),
        NodeRun(execution=first, node_id="b", node_kind="output", node_type="output", state="failed"),
        NodeRun(execution=first, node_id="c", node_kind="output", node_type="output", state="skipped"),
    ])
    Execution.objects.create(team=personas.team, workflow=workflow, workflow_version=workflow.current_version,
                             state="pending", node_count=3, trigger="schedule", rerun_of=first,
                             created_at=now + dt.timedelta(seconds=1), updated_at=now, max_parallel=4)
    # Sixteen nodes, one settled: 6.25 %, which rounds to 6.2 (Python's round, as the domain does).
    sixteen = Execution.objects.create(
        team=personas.team, workflow=other, workflow_version=other.current_version, state="running",
        node_count=16, created_at=now + dt.timedelta(seconds=2), updated_at=now, max_parallel=4,
        started_at=now + dt.timedelta(seconds=2), started_by=personas.users["owner"], started_by_name="alpha-owner")
    NodeRun.objects.create(execution=sixteen, node_id="a", node_kind="input", node_type="input", state="completed")
    for index in range(3):  # the same moment: the id breaks the tie, across pages
        Execution.objects.create(team=personas.team, workflow=other, workflow_version=other.current_version,
                                 state="completed", node_count=0, created_at=now + dt.timedelta(seconds=3),
                                 updated_at=now, max_parallel=4, started_at=now + dt.timedelta(seconds=index))
    elsewhere = _workflow(personas, "Elsewhere", team=personas.other_team)
    Execution.objects.create(team=personas.other_team, workflow=elsewhere, workflow_version=elsewhere.current_version,
                             state="completed", node_count=0, created_at=now, updated_at=now, max_parallel=4)
    viewer = personas.users["viewer"]
    client = _api(viewer)
    scope = f"executions.Execution:{','.join(execution_selectors.LIST_ORDERING)}"
    after, before = now + dt.timedelta(seconds=1), now + dt.timedelta(seconds=2)
    cases = [
        ("", {}), (f"?team={personas.team.pk}", {"team": personas.team.pk}),
        (f"?workflow={other.pk}", {"workflow": other.pk}), ("?state=failed&state=running", {"states": ["failed", "running"]}),
        ("?started_by=alpha-owner", {"started_by": "alpha-owner"}), ("?started_by=nobody", {"started_by": "nobody"}),
        (f"?started_after={after.isoformat().replace('+00:00', 'Z')}", {"started_after": after}),
        (f"?started_before={before.isoformat().replace('+00:00', 'Z')}", {"started_before": before}),
    ]
    for limit in (1, 2, 50):
        for query, filters in cases:
            served = _walk(client, f"/api/v1/executions/{query}", limit)
            _same_pages(served, _execution_pages(viewer, limit=limit, **filters), scope)
    rows = _walk(client, "/api/v1/executions/", 50)[0]["results"]
    assert len(rows) == 6 and {row["workflow_name"] for row in rows} == {"Runs", "Other runs"}
    by_id = {row["id"]: row for row in rows}
    assert by_id[str(sixteen.pk)]["progress"]["percentage"] == 6.2
    assert by_id[str(first.pk)]["progress"] == {
        "total": 3, "completed": 1, "failed": 1, "running": 0, "queued": 0, "pending": 0, "skipped": 1,
        "percentage": 100.0, "estimated_remaining_s": None, "estimate_basis": "estimated on the execution's own page"}
    assert by_id[str(first.pk)]["error"]["details"][0] == {"node_id": "b", "ratio": 1.0, "big": 10**20}
    assert [row["rerun_of"] for row in rows if row["trigger"] == "schedule"] == [str(first.pk)]
    assert by_id[str(first.pk)]["finished_at"] == (now + dt.timedelta(milliseconds=1500)).astimezone(dt.UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
    assert _walk(client, "/api/v1/executions/?started_by=nobody", 50) == [
        {"results": [], "next": None, "content": b'{"results":[],"next":null}'}]


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
        NodeRun(execution=earlier, node_id="c ✓", node_kind="output", node_type="output", state="skipped",
                started_at=now, finished_at=now + dt.timedelta(microseconds=1234567), skip_reason="branch not taken",
                progress=0.1, output={"ratio": 1.0, "nested": {"z": 1, "a": [None, "ü"]}}),
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
    viewer = personas.users["viewer"]
    client = _api(viewer)
    details = {}
    for execution_id in (earlier.pk, running.pk):
        execution = access_execution(viewer, execution_id)
        runs = execution_selectors.node_runs_of(execution)
        history = execution_selectors.history_of(execution)
        progress = execution_selectors.progress_for(execution, runs).to_dict()
        commands = commands_available(execution)
        assert commands_available_from(execution, runs) == commands
        serialized = ExecutionSerializer(execution, context={
            "node_runs": runs, "history": history, "progress": progress, "available_commands": commands}).data
        response = client.get(f"/api/v1/executions/{execution_id}/")
        assert response.status_code == 200
        assert response.content == JSONRenderer().render(serialized)
        plain = response.json()
        assert list(plain) == list(serialized)
        details[execution_id] = plain
        # In another current time zone both write the local time (the format's Z notwithstanding).
        with timezone.override("America/St_Johns"):
            local = ExecutionSerializer(execution, context={
                "node_runs": runs, "history": history, "progress": progress, "available_commands": commands}).data
            assert (JSONRenderer().render(execution_rows.detail_of(viewer, execution_id))
                    == JSONRenderer().render(local))
    elsewhere = _workflow(personas, "Elsewhere", team=personas.other_team)
    hidden = Execution.objects.create(team=personas.other_team, workflow=elsewhere, workflow_version=elsewhere.current_version,
                                      state="completed", node_count=0, created_at=now, updated_at=now, max_parallel=4)
    response = client.get(f"/api/v1/executions/{hidden.pk}/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Execution not found.", "details": []}}
    failed, rerun = details[earlier.pk], details[running.pk]
    assert [(row["from_state"], row["to_state"]) for row in failed["history"]] == [
        (None, "pending"), ("pending", "running"), ("running", "failed")]
    assert failed["node_runs"][0]["duration_ms"] == 2500.0
    assert failed["node_runs"][2]["duration_ms"] == 1234.567 and failed["node_runs"][2]["skip_reason"] == "branch not taken"
    assert failed["node_runs"][1]["duration_ms"] is None and failed["node_runs"][1]["skip_reason"] is None
    assert failed["usage"]["total"]["calls"] == 1 and failed["usage"]["total"]["cached"] == 0
    assert failed["available_commands"] == ["rerun"]
    assert rerun["available_commands"] == ["pause", "cancel"]
    assert rerun["rerun_of"] == str(earlier.pk) and rerun["started_by"] is None
    assert rerun["node_runs"][0]["reused_from"] == str(earlier.pk)
    assert rerun["node_runs"][1]["progress"] == 0.25
    # A re-used node is listed but spent nothing in this execution.
    assert rerun["usage"]["total"]["calls"] == 0 and list(rerun["usage"]["by_node"]) == ["a"]


def test_a_lists_team_is_checked_by_its_page_statement(personas: Any) -> None:
    """`?team=` on the two lists: the membership is checked in the page's own statement
    (teams.access.in_team). Every role's own team answers its page (an empty one too); another
    team, a team that does not exist and a malformed id are 404 in the one error shape, as
    `access_team` answered, and nothing of another team is ever listed."""
    empty = Team.objects.create(name="Empty", slug="empty")
    Membership.objects.create(team=empty, user=personas.users["viewer"], role="viewer")
    ran = _workflow(personas, "Ran")
    now = timezone.now()
    Execution.objects.create(team=personas.team, workflow=ran, workflow_version=ran.current_version,
                             state="completed", node_count=0, created_at=now, updated_at=now, max_parallel=4)
    elsewhere = _workflow(personas, "Elsewhere", team=personas.other_team)
    Execution.objects.create(team=personas.other_team, workflow=elsewhere, workflow_version=elsewhere.current_version,
                             state="completed", node_count=0, created_at=now, updated_at=now, max_parallel=4)
    for path in ("/api/v1/workflows/", "/api/v1/executions/"):
        for role in ("viewer", "operator", "editor", "admin", "owner"):
            client = _api(personas.users[role])
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"{path}?team={personas.team.pk}")
            assert response.status_code == 200
            assert [row["team"] for row in response.json()["results"]] == [str(personas.team.pk)]
            # The team check and the page are one statement (force_authenticate: no token lookup).
            assert len(queries.captured_queries) == 1
        viewer = _api(personas.users["viewer"])
        assert viewer.get(f"{path}?team={empty.pk}").content == b'{"results":[],"next":null}'
        for team in (personas.other_team.pk, "00000000-0000-0000-0000-000000000000", "not-a-uuid"):
            for limit in ("", "&limit=1"):
                response = viewer.get(f"{path}?team={team}{limit}")
                assert response.status_code == 404
                assert error_of(response) == {"code": "not_found", "message": "Team not found.", "details": []}
        outsider = _api(personas.users["outsider"])
        assert outsider.get(f"{path}?team={personas.team.pk}").status_code == 404
        [row] = outsider.get(f"{path}?team={personas.other_team.pk}").json()["results"]
        assert row["team"] == str(personas.other_team.pk)
