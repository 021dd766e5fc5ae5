"""Every execution endpoint for each role, an outsider (404) and anonymous (401), with exact
statuses and shapes; a denied write changes nothing and audits nothing.

The workflow here starts by asking for a value (an interactive input), so a started execution
waits for input at once and nothing runs: these tests need no worker and see exact states.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import pytest

from audit.models import AuditEntry
from executions.models import Execution, ExecutionEvent, NodeRun
from symphony_site.actors import Actor
from tests.workflows.conftest import error_of
from workflows import samples as s
from workflows import services as workflow_services

from .conftest import ORIGIN, command, document, start, store

READERS = [("owner", 200), ("admin", 200), ("editor", 200), ("operator", 200), ("viewer", 200),
           ("outsider", 404), (None, 401)]
CONTROLLERS = [("owner", 200), ("admin", 200), ("editor", 200), ("operator", 200), ("viewer", 403),
               ("outsider", 404), (None, 401)]
DENIED_CODES = {403: "permission_denied", 404: "not_found", 401: "not_authenticated"}

EXECUTION_FIELDS = {"id", "team", "workflow", "workflow_name", "version", "state", "state_reason", "inputs",
                    "outputs", "error", "progress", "node_runs", "history", "available_commands", "trigger",
                    "started_by", "rerun_of", "created_at", "started_at", "finished_at", "usage"}
NODE_RUN_FIELDS = {"node_id", "node_kind", "node_type", "state", "attempt", "max_attempts", "started_at",
                   "finished_at", "duration_ms", "output", "error", "progress", "message", "skip_reason",
                   "awaiting_input", "reused_from", "cached", "usage"}


def asking() -> dict[str, Any]:
    return document("Ask first", [
        s.node_input("topic", "string", interactive=True, prompt="Which topic?"),
        s.node_operator("write", "template", {"template": "Topic: {{ inputs.variables }}"}),
        s.node_output("note", "string"),
    ], [s.data_edge("e1", "topic", "value", "write", "variables"),
        s.data_edge("e2", "write", "text", "note", "value")])


@pytest.fixture
def workflow(personas) -> Any:
    return store(personas, asking())


@pytest.fixture
def waiting(personas, workflow) -> Execution:
    return start(personas, workflow)


def audit_count() -> int:
    return AuditEntry.objects.filter(event_type__startswith="execution.").count()


# --- list --------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), READERS)
def test_list_for_each_persona(personas, waiting, who, status) -> None:
    response = personas.client(who).get("/api/v1/executions/")
    assert response.status_code == (401 if who is None else 200)
    if who is None:
        assert error_of(response)["code"] == "not_authenticated"
        return
    rows = response.json()["results"]
    if who == "outsider":
        assert response.json() == {"results": [], "next": None}
        return
    [row] = rows
    assert set(row) == EXECUTION_FIELDS - {"inputs", "outputs", "node_runs", "history", "available_commands",
                                           "usage"}
    assert (row["id"], row["state"], row["workflow"], row["workflow_name"], row["version"], row["trigger"],
            row["started_by"], row["team"]) == (
        str(waiting.pk), "waiting_for_input", str(waiting.workflow_id), "Ask first", "1.0.0", "manual",
        "alpha-operator", str(personas.team.pk))
    assert row["progress"] == {"total": 3, "completed": 0, "failed": 0, "running": 0, "queued": 0,
                               "pending": 3, "skipped": 0, "percentage": 0.0, "estimated_remaining_s": None,
                               "estimate_basis": "estimated on the execution's own page"}


def test_list_filters_and_pages(personas, workflow) -> None:
    first = start(personas, workflow)
    second = start(personas, workflow, who="owner")
    command(personas, first, "cancel", reason="not needed")
    other = store(personas, document("Other", [s.node_input("a", "string", interactive=True),
                                               s.node_output("b")],
                                     [s.data_edge("e1", "a", "value", "b", "value")]))
    third = start(personas, other)
    client = personas.client("viewer")

    def ids(query: str) -> list[str]:
        response = client.get(f"/api/v1/executions/?{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    newest_first = [str(third.pk), str(second.pk), str(first.pk)]
    assert ids("") == newest_first
    assert ids("state=cancelled") == [str(first.pk)]
    assert ids("state=cancelled&state=waiting_for_input") == newest_first
    assert ids(f"workflow={workflow.pk}") == [str(second.pk), str(first.pk)]
    assert ids("started_by=alpha-owner") == [str(second.pk)]
    assert ids(f"team={personas.team.pk}") == newest_first
    middle = Execution.objects.get(pk=second.pk).started_at
    assert ids(f"started_after={quote(middle.isoformat())}") == [str(third.pk), str(second.pk)]
    assert ids(f"started_before={quote(middle.isoformat())}") == [str(first.pk)]
    page = client.get("/api/v1/executions/?limit=2").json()
    assert [row["id"] for row in page["results"]] == newest_first[:2]
    rest = client.get(f"/api/v1/executions/?limit=2&cursor={page['next']}").json()
    assert ([row["id"] for row in rest["results"]], rest["next"]) == (newest_first[2:], None)


@pytest.mark.parametrize("query", ["state=bogus", "started_after=yesterday", "started_after=", "started_before=",
                                   "limit=0", "cursor=%%%"])
def test_bad_list_parameters_get_400(personas, waiting, query) -> None:
    response = personas.client("viewer").get(f"/api/v1/executions/?{query}")
    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_failed"


def test_a_start_time_with_any_iso_offset_is_the_same_moment(personas, workflow) -> None:
    """PostgreSQL refuses offsets past 15:59 that ISO 8601 and Python allow (-20:33 was a 500):
    the filter reads the moment in UTC first."""
    first = start(personas, workflow)
    second = start(personas, workflow)
    middle = Execution.objects.get(pk=second.pk).started_at.astimezone(dt.UTC)
    client = personas.client("viewer")
    for offset in (dt.timedelta(hours=-20, minutes=-33), dt.timedelta(hours=23, minutes=59)):
        shifted = middle.astimezone(dt.timezone(offset)).isoformat()
        for name, expected in (("started_after", [str(second.pk)]), ("started_before", [str(first.pk)])):
            response = client.get(f"/api/v1/executions/?{name}={quote(shifted)}")
            assert response.status_code == 200, (shifted, response.json())
            assert [row["id"] for row in response.json()["results"]] == expected


@pytest.mark.parametrize(("value", "message"), [
    ("6126-02-21T19:48:33.7-20:33", None),  # the Schemathesis finding: a valid moment, in range
    ("0001-01-01T00:00:00+01:00", "outside the years 1 to 9999 once in UTC"),
    ("9999-12-31T23:59:59-01:00", "outside the years 1 to 9999 once in UTC"),
    ("2026-13-01T00:00:00Z", "not an ISO 8601 time"),
    ("2026-02-30T25:00:00Z", "not an ISO 8601 time"),
])
def test_start_times_past_the_years_or_impossible_are_400_naming_the_field(personas, waiting, value,
                                                                            message) -> None:
    response = personas.client("viewer").get(f"/api/v1/executions/?started_after={quote(value)}")
    if message is None:
        assert (response.status_code, response.json()["results"]) == (200, [])
        return
    assert response.status_code == 400
    assert error_of(response)["details"] == [{"field": "started_after", "code": "invalid", "message": message}]


def test_filtering_by_another_teams_team_or_workflow_is_404(personas, workflow) -> None:
    client = personas.client("outsider")
    assert client.get(f"/api/v1/executions/?team={personas.team.pk}").status_code == 404
    assert client.get(f"/api/v1/executions/?workflow={workflow.pk}").status_code == 404


def test_list_query_count_does_not_grow_with_rows(personas, workflow, django_assert_max_num_queries) -> None:
    for _ in range(6):
        start(personas, workflow)
    client = personas.client("viewer")
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/executions/")
    assert len(response.json()["results"]) == 6


# --- detail ------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), READERS)
def test_detail_for_each_persona(personas, waiting, who, status) -> None:
    response = personas.client(who).get(f"/api/v1/executions/{waiting.pk}/")
    assert response.status_code == status
    if status != 200:
        assert error_of(response)["code"] == DENIED_CODES[status]
        return
    body = response.json()
    assert set(body) == EXECUTION_FIELDS
    assert (body["state"], body["inputs"], body["outputs"], body["error"], body["rerun_of"]) == (
        "waiting_for_input", {}, {}, None, None)
    assert body["available_commands"] == ["cancel", "skip_node", "provide_input"]
    assert [(run["node_id"], run["state"], run["awaiting_input"], run["message"]) for run in body["node_runs"]] == [
        ("topic", "pending", True, "Which topic?"), ("write", "pending", False, ""), ("note", "pending", False, "")]
    assert set(body["node_runs"][0]) == NODE_RUN_FIELDS
    assert [(row["from_state"], row["to_state"], row["actor"]) for row in body["history"]] == [
        (None, "pending", "alpha-operator"), ("pending", "running", "alpha-operator"),
        ("running", "waiting_for_input", "engine")]
    assert body["progress"]["estimated_remaining_s"] is None
    assert body["progress"]["estimate_basis"] == "no history yet for node types: input, output, template"


def test_detail_of_an_unknown_execution_is_404(personas) -> None:
    response = personas.client("owner").get("/api/v1/executions/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_detail_query_count_does_not_grow_with_nodes(personas, django_assert_max_num_queries) -> None:
    nodes = [s.node_input("topic", "string", interactive=True)] + [
        s.node_operator(f"n{i}", "log", {"message": "x"}) for i in range(30)]
    edges = [s.control_edge(f"e{i}", "topic", f"n{i}") for i in range(30)]
    execution = start(personas, store(personas, document("Wide", nodes, edges)))
    client = personas.client("viewer")
    client.get(f"/api/v1/executions/{execution.pk}/")  # the version's graph is compiled once per process
    # The execution (with the role), its node runs, its history, the typical durations for the
    # estimate; the available commands come from the node runs already read.
    with django_assert_max_num_queries(4):
        response = client.get(f"/api/v1/executions/{execution.pk}/")
    assert len(response.json()["node_runs"]) == 31


# --- create ------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("owner", 201), ("admin", 201), ("editor", 201), ("operator", 201),
                                             ("viewer", 403), ("outsider", 404), (None, 401)])
def test_create_for_each_persona(personas, workflow, who, status) -> None:
    audits = audit_count()
    response = personas.client(who).post("/api/v1/executions/", {"workflow": str(workflow.pk), "inputs": {}},
                                         format="json")
    assert response.status_code == status
    if status == 201:
        body = response.json()
        assert body["state"] == "waiting_for_input" and body["started_by"] == f"alpha-{who}"
        assert Execution.objects.count() == 1
        assert audit_count() == audits + 2  # started, then waiting for input
        return
    assert error_of(response)["code"] == DENIED_CODES[status]
    assert (Execution.objects.count(), NodeRun.objects.count(), audit_count()) == (0, 0, audits)


@pytest.mark.parametrize(("body", "field"), [
    ({"workflow": "WORKFLOW", "inputs": {"nope": 1}}, "inputs.nope"),
    ({"workflow": "WORKFLOW", "inputs": {"topic": 5}}, "inputs.topic"),
    ({"workflow": "WORKFLOW", "inputs": [1]}, "inputs"),
    ({"workflow": "WORKFLOW", "extra": 1}, "extra"),
    ({"inputs": {}}, "workflow"),
])
def test_create_with_bad_input_is_400_and_writes_nothing(personas, workflow, body, field) -> None:
    payload = {key: (str(workflow.pk) if value == "WORKFLOW" else value) for key, value in body.items()}
    response = personas.client("operator").post("/api/v1/executions/", payload, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert field in [detail.get("field") for detail in error["details"]]
    assert (Execution.objects.count(), audit_count()) == (0, 0)


def test_create_of_an_unknown_version_is_404_and_of_an_archived_workflow_409(personas, workflow) -> None:
    client = personas.client("operator")
    response = client.post("/api/v1/executions/", {"workflow": str(workflow.pk), "version": "9.9.9"}, format="json")
    assert (response.status_code, error_of(response)["code"]) == (404, "not_found")
    workflow_services.workflow_archive(actor=Actor.of(personas.users["editor"]), origin=ORIGIN, workflow=workflow)
    response = client.post("/api/v1/executions/", {"workflow": str(workflow.pk)}, format="json")
    assert (response.status_code, error_of(response)["code"]) == (409, "conflict")
    assert Execution.objects.count() == 0


# --- commands ----------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), CONTROLLERS)
def test_commands_for_each_persona(personas, waiting, who, status) -> None:
    audits, events = audit_count(), ExecutionEvent.objects.count()
    version = Execution.objects.get(pk=waiting.pk).version
    response = personas.client(who).post(f"/api/v1/executions/{waiting.pk}/commands/",
                                         {"command": "cancel", "reason": "stop it"}, format="json")
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert (body["state"], body["state_reason"], body["available_commands"]) == ("cancelled", "stop it", ["rerun"])
        entry = AuditEntry.objects.filter(event_type="execution.cancelled").get()
        assert (entry.actor_name, entry.reason, entry.execution_id) == (f"alpha-{who}", "stop it", waiting.pk)
        return
    assert error_of(response)["code"] == DENIED_CODES[status]
    fresh = Execution.objects.get(pk=waiting.pk)
    assert (fresh.state, fresh.version) == ("waiting_for_input", version)
    assert (audit_count(), ExecutionEvent.objects.count()) == (audits, events)
    assert set(NodeRun.objects.filter(execution=waiting).values_list("state", flat=True)) == {"pending"}


def test_a_refused_command_is_409_naming_the_state_and_what_is_available(personas, waiting) -> None:
    audits = audit_count()
    response = personas.client("operator").post(f"/api/v1/executions/{waiting.pk}/commands/",
                                                {"command": "pause"}, format="json")
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "command_not_allowed"
    assert error["details"] == {"state": "waiting_for_input",
                                "available_commands": ["cancel", "skip_node", "provide_input"]}
    assert error["message"] == ("The execution is waiting_for_input; pause is not allowed now. "
                                "Available commands: cancel, skip_node, provide_input.")
    assert audit_count() == audits


@pytest.mark.parametrize(("body", "field"), [
    ({"command": "fly"}, "command"),
    ({"command": "provide_input"}, "node_id"),
    ({"command": "provide_input", "node_id": "ghost", "value": "x"}, "node_id"),
    ({"command": "provide_input", "node_id": "topic", "value": 7}, "value"),
    ({"command": "cancel", "colour": "red"}, "colour"),
])
def test_malformed_commands_are_400(personas, waiting, body, field) -> None:
    response = personas.client("operator").post(f"/api/v1/executions/{waiting.pk}/commands/", body, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert field in [detail.get("field") for detail in error["details"]]
    assert Execution.objects.get(pk=waiting.pk).state == "waiting_for_input"


def test_provide_input_over_the_api(personas, waiting) -> None:
    response = personas.client("operator").post(
        f"/api/v1/executions/{waiting.pk}/commands/",
        {"command": "provide_input", "node_id": "topic", "value": "bees", "reason": "asked on the phone"},
        format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["inputs"]) == ("running", {"topic": "bees"})
    assert body["node_runs"][0]["state"] == "queued"


# --- rerun -------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("owner", 201), ("admin", 201), ("editor", 201), ("operator", 201),
                                             ("viewer", 403), ("outsider", 404), (None, 401)])
def test_rerun_for_each_persona(personas, waiting, who, status) -> None:
    command(personas, waiting, "cancel")
    before = Execution.objects.count()
    response = personas.client(who).post(f"/api/v1/executions/{waiting.pk}/rerun/", {"reason": "again"},
                                         format="json")
    assert response.status_code == status
    if status == 201:
        body = response.json()
        assert (body["rerun_of"], body["trigger"], body["state"]) == (str(waiting.pk), "rerun", "waiting_for_input")
        assert Execution.objects.count() == before + 1
        return
    assert error_of(response)["code"] == DENIED_CODES[status]
    assert Execution.objects.count() == before
    assert not AuditEntry.objects.filter(event_type="execution.rerun").exists()


def test_rerun_of_an_active_execution_is_409(personas, waiting) -> None:
    response = personas.client("operator").post(f"/api/v1/executions/{waiting.pk}/rerun/", {}, format="json")
    assert response.status_code == 409
    assert error_of(response)["details"]["available_commands"] == ["cancel", "skip_node", "provide_input"]


def test_times_are_iso_utc(personas, waiting) -> None:
    body = personas.client("viewer").get(f"/api/v1/executions/{waiting.pk}/").json()
    parsed = dt.datetime.strptime(body["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert parsed.year >= 2024


def test_the_workflows_list_names_each_workflows_last_run(personas, workflow, waiting) -> None:
    rows = personas.client("viewer").get("/api/v1/workflows/").json()["results"]
    assert [(row["name"], row["last_run"]) for row in rows] == [("Ask first", {"state": "waiting_for_input"})]
    command(personas, waiting, "cancel")
    rows = personas.client("viewer").get("/api/v1/workflows/").json()["results"]
    assert rows[0]["last_run"] == {"state": "cancelled"}
