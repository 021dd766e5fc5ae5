"""Bulk control over the API: the preview lists exactly what a command would change and why it
skips the rest; a real run changes exactly that, audited with the operation's id; roles are
checked per execution's team; the cap and bad input change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from audit.models import AuditEntry
from executions.models import Execution
from executions.services import execution_start
from symphony_site.actors import Actor
from tests.conftest import Personas, request_free
from workflows import samples as s
from workflows import services as workflow_services

from .conftest import ORIGIN, command, document, start, store

URL = "/api/v1/executions/bulk/"


def chain(name: str = "Bulk chain") -> dict[str, Any]:
    return document(name, [
        s.node_input("x", "string"),
        s.node_operator("slow", "delay", {"milliseconds": 5000}),
        s.node_output("out", "string"),
    ], [
        s.data_edge("e1", "x", "value", "slow", "value"),
        s.data_edge("e2", "slow", "value", "out", "value"),
    ])


class Fleet:
    """Team Alpha's executions in each state a bulk command cares about, and one of team Beta."""

    def __init__(self, personas: Personas) -> None:
        self.personas = personas
        self.workflow = store(personas, chain())
        self.other_workflow = store(personas, chain("Other workflow"))
        self.running = [start(personas, self.workflow, {"x": "a"}), start(personas, self.workflow, {"x": "b"})]
        self.paused = command(personas, start(personas, self.workflow, {"x": "c"}), "pause")
        self.pending = start(personas, self.workflow, {"x": "d"}, start=False)
        self.cancelled = command(personas, start(personas, self.workflow, {"x": "e"}), "cancel")
        self.elsewhere = start(personas, self.other_workflow, {"x": "f"})
        beta_workflow = workflow_services.workflow_create(
            actor=Actor.of(personas.users["outsider"]), origin=ORIGIN, team=personas.other_team,
            document=chain("Beta's"))
        self.beta = execution_start(actor=Actor.of(personas.users["outsider"]), origin=ORIGIN,
                                    workflow=beta_workflow, inputs={"x": "g"})

    def states(self) -> dict[str, str]:
        return {str(pk): state for pk, state in Execution.objects.values_list("pk", "state")}


@pytest.fixture
def fleet(personas: Personas) -> Fleet:
    return Fleet(personas)


def ids(*executions: Execution) -> list[str]:
    return [str(execution.pk) for execution in executions]


def post(personas: Personas, who: str | None, body: dict[str, Any]) -> Any:
    return personas.client(who).post(URL, body, format="json")


def audit_count() -> int:
    return AuditEntry.objects.count()


def test_the_preview_lists_what_would_change_and_why_the_rest_is_skipped_and_changes_nothing(fleet) -> None:
    before, entries = fleet.states(), audit_count()
    answer = post(fleet.personas, "operator", {"command": "pause", "filter": {"workflow": str(fleet.workflow.pk)}})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    newest_first = [fleet.cancelled, fleet.pending, fleet.paused, fleet.running[1], fleet.running[0]]
    assert body["dry_run"] is True and body["operation"] is None and body["command"] == "pause"
    assert body["matched"] == ids(*newest_first)
    assert body["would_change"] == ids(fleet.running[1], fleet.running[0])
    assert body["changed"] == []
    assert body["skipped"] == [
        {"id": str(fleet.cancelled.pk), "state": "cancelled",
         "reason": "it is cancelled; pause is not allowed now (it allows rerun)"},
        {"id": str(fleet.pending.pk), "state": "pending",
         "reason": "it is pending; pause is not allowed now (it allows cancel)"},
        {"id": str(fleet.paused.pk), "state": "paused",
         "reason": "it is paused; pause is not allowed now (it allows resume, cancel)"},
    ]
    assert body["filter"] == {"workflow": str(fleet.workflow.pk)}
    assert fleet.states() == before and audit_count() == entries


def test_a_filter_by_state_and_team_never_reaches_another_teams_executions(fleet) -> None:
    body = post(fleet.personas, "operator", {"command": "cancel", "filter": {"state": ["running"]}}).json()
    assert body["matched"] == ids(fleet.elsewhere, fleet.running[1], fleet.running[0])
    assert str(fleet.beta.pk) not in body["matched"]
    team_only = post(fleet.personas, "operator", {"command": "cancel", "filter": {
        "state": ["running"], "team": str(fleet.personas.team.pk)}}).json()
    assert team_only["matched"] == body["matched"]
    other = post(fleet.personas, "operator", {"command": "cancel", "filter": {"team": str(fleet.personas.other_team.pk)}})
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"


def test_a_real_cancel_changes_exactly_the_preview_and_audits_each_change_with_the_operation(fleet) -> None:
    request = {"command": "cancel", "filter": {"state": ["running", "paused"], "workflow": str(fleet.workflow.pk)},
               "reason": "maintenance window"}
    preview = post(fleet.personas, "operator", request).json()
    before = fleet.states()
    entries = audit_count()
    answer = post(fleet.personas, "operator", {**request, "dry_run": False})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    operation = body["operation"]
    assert body["dry_run"] is False and body["changed"] == preview["would_change"] == ids(
        fleet.paused, fleet.running[1], fleet.running[0])
    assert body["skipped"] == [] and body["would_change"] == []
    assert [outcome["new_state"] for outcome in body["outcomes"]] == ["cancelled"] * 3
    after = fleet.states()
    assert {pk for pk in after if after[pk] != before[pk]} == set(body["changed"])
    assert all(after[pk] == "cancelled" for pk in body["changed"])
    assert Execution.objects.get(pk=fleet.paused.pk).state_reason == "maintenance window"
    new_entries = list(AuditEntry.objects.filter(details__bulk_operation=operation).order_by("sequence")
                       .values_list("event_type", "execution_id", "reason"))
    assert audit_count() == entries + 4
    assert sorted((kind, str(pk)) for kind, pk, _ in new_entries if kind == "execution.cancelled") == sorted(
        ("execution.cancelled", pk) for pk in body["changed"])
    summary = AuditEntry.objects.get(event_type="execution.bulk_command")
    assert summary.team_id == fleet.personas.team.pk and summary.target_id == operation
    assert request_free(summary.details) == {"bulk_operation": operation, "command": "cancel", "changed": body["changed"],
                               "skipped": 0, "filter": {"state": ["running", "paused"],
                                                        "workflow": str(fleet.workflow.pk)}}
    assert summary.actor_name == "alpha-operator"


def test_a_viewer_changes_nothing_and_audits_nothing(fleet) -> None:
    before, entries = fleet.states(), audit_count()
    answer = post(fleet.personas, "viewer", {"command": "cancel", "filter": {"state": ["running"]}, "dry_run": False})
    assert answer.status_code == 200
    body = answer.json()
    assert body["changed"] == [] and body["matched"] == ids(fleet.elsewhere, fleet.running[1], fleet.running[0])
    assert {skip["reason"] for skip in body["skipped"]} == {
        "your role in Alpha is viewer; cancel needs operator or higher"}
    assert fleet.states() == before and audit_count() == entries


def test_an_outsider_sees_only_their_own_team_and_anonymous_is_refused(fleet) -> None:
    body = post(fleet.personas, "outsider", {"command": "cancel", "filter": {}, "dry_run": False}).json()
    assert body["matched"] == body["changed"] == ids(fleet.beta)
    assert Execution.objects.get(pk=fleet.running[0].pk).state == "running"
    anonymous = post(fleet.personas, None, {"command": "cancel", "filter": {}, "dry_run": False})
    assert anonymous.status_code in (401, 403) and "error" in anonymous.json()


def test_confirming_with_ids_changes_exactly_those_and_skips_the_ones_that_moved(fleet) -> None:
    request = {"command": "cancel", "filter": {"state": ["running"], "workflow": str(fleet.workflow.pk)}}
    preview = post(fleet.personas, "operator", request).json()
    assert preview["would_change"] == ids(fleet.running[1], fleet.running[0])
    # Meanwhile: one of them is paused, and a new running execution appears.
    command(fleet.personas, fleet.running[1], "pause")
    newcomer = start(fleet.personas, fleet.workflow, {"x": "new"})
    entries = audit_count()
    body = post(fleet.personas, "operator", {**request, "dry_run": False, "ids": preview["would_change"]}).json()
    assert body["matched"] == preview["would_change"]
    assert body["changed"] == ids(fleet.running[0])
    assert body["skipped"] == [{"id": str(fleet.running[1].pk), "state": "paused",
                                "reason": "it no longer matches the filter (it is paused now)"}]
    states = fleet.states()
    assert states[str(newcomer.pk)] == "running" and states[str(fleet.running[1].pk)] == "paused"
    assert states[str(fleet.running[0].pk)] == "cancelled"
    assert audit_count() == entries + 2  # the cancel and the operation's summary


def test_unknown_or_foreign_ids_are_skipped_as_not_found(fleet) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    before = fleet.states()
    body = post(fleet.personas, "operator", {"command": "cancel", "filter": {}, "dry_run": False,
                                             "ids": [unknown, str(fleet.beta.pk)]}).json()
    assert body["changed"] == []
    assert body["skipped"] == [{"id": unknown, "state": "", "reason": "not found"},
                               {"id": str(fleet.beta.pk), "state": "", "reason": "not found"}]
    assert fleet.states() == before


def test_bulk_rerun_starts_new_executions_linked_to_the_originals(fleet) -> None:
    body = post(fleet.personas, "operator", {"command": "rerun", "filter": {"state": ["cancelled"]},
                                             "dry_run": False}).json()
    assert body["changed"] == ids(fleet.cancelled)
    rerun = Execution.objects.get(pk=body["outcomes"][0]["rerun"])
    assert rerun.rerun_of_id == fleet.cancelled.pk and rerun.state == body["outcomes"][0]["new_state"] == "running"
    assert AuditEntry.objects.get(event_type="execution.rerun").details["bulk_operation"] == body["operation"]


@override_settings(EXECUTION_BULK_MAX=2)
def test_more_than_the_cap_is_refused_with_a_clear_error_and_nothing_changes(fleet) -> None:
    before, entries = fleet.states(), audit_count()
    answer = post(fleet.personas, "operator", {"command": "cancel", "filter": {"state": ["running"]},
                                               "dry_run": False})
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "code": "too_many_executions",
        "message": "3 executions match this filter; one bulk request may touch at most 2. Narrow the filter "
                   "(state, workflow, team, started between, error text) and run it in parts.",
        "details": {"matched": 3, "limit": 2}}
    by_ids = post(fleet.personas, "operator", {"command": "cancel", "filter": {}, "dry_run": False,
                                               "ids": ids(*fleet.running, fleet.paused)})
    assert by_ids.status_code == 400 and by_ids.json()["error"]["details"] == {"matched": 3, "limit": 2}
    assert fleet.states() == before and audit_count() == entries


@pytest.mark.parametrize("body, field", [
    ({"command": "retry_node", "filter": {}}, "command"),
    ({"command": "start", "filter": {}}, "command"),
    ({"command": "cancel"}, "filter"),
    ({"command": "cancel", "filter": {"colour": "red"}}, "filter.colour"),
    ({"command": "cancel", "filter": {"state": ["asleep"]}}, "filter.state.0"),
    ({"command": "cancel", "filter": {"started_after": "yesterday"}}, "filter.started_after"),
    ({"command": "cancel", "filter": {}, "ids": ["not-a-uuid"]}, "ids.0"),
    ({"command": "cancel", "filter": {}, "dry_run": "maybe"}, "dry_run"),
])
def test_bad_requests_name_the_field_and_change_nothing(fleet, body, field) -> None:
    before, entries = fleet.states(), audit_count()
    answer = post(fleet.personas, "operator", {**body, "dry_run": body.get("dry_run", False)})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "validation_failed"
    assert field in [detail["field"] for detail in error["details"]], error
    assert fleet.states() == before and audit_count() == entries


def test_started_between_selects_by_start_time(fleet) -> None:
    middle = Execution.objects.get(pk=fleet.paused.pk).started_at
    body = post(fleet.personas, "operator", {"command": "cancel", "filter": {
        "workflow": str(fleet.workflow.pk), "started_after": middle.isoformat()}}).json()
    assert body["matched"] == ids(fleet.cancelled, fleet.paused)
    body = post(fleet.personas, "operator", {"command": "cancel", "filter": {
        "workflow": str(fleet.workflow.pk), "started_before": middle.isoformat()}}).json()
    assert body["matched"] == ids(fleet.running[1], fleet.running[0])


# --- the list page's bulk bar --------------------------------------------------------------


def browser(personas: Personas, who: str, **options: Any) -> Any:
    from django.test import Client

    client = Client(**options)
    client.force_login(personas.users[who])
    return client


def test_the_bulk_bar_is_offered_to_operators_with_the_lists_filters(fleet) -> None:
    page = browser(fleet.personas, "operator").get("/executions/", {"state": "running",
                                                                     "workflow": str(fleet.workflow.pk)})
    html = page.content.decode()
    assert 'action="/executions/bulk/"' in html
    assert '<input type="hidden" name="state" value="running">' in html
    assert f'<input type="hidden" name="workflow" value="{fleet.workflow.pk}">' in html
    nothing = browser(fleet.personas, "operator").get("/executions/", {"error": "boom"}).content.decode()
    assert 'action="/executions/bulk/"' not in nothing and 'value="boom"' in nothing
    viewer = browser(fleet.personas, "viewer").get("/executions/").content.decode()
    assert 'action="/executions/bulk/"' not in viewer


def test_preview_then_confirm_in_the_ui_changes_exactly_what_the_preview_listed(fleet) -> None:
    client = browser(fleet.personas, "operator", enforce_csrf_checks=True)
    before, entries = fleet.states(), audit_count()
    preview = client.get("/executions/bulk/", {"command": "cancel", "state": ["running", "paused"],
                                                "workflow": str(fleet.workflow.pk), "reason": "tidy up"})
    assert preview.status_code == 200
    html = preview.content.decode()
    listed = [pk for pk in ids(fleet.paused, fleet.running[1], fleet.running[0])
              if f'name="ids" value="{pk}"' in html]
    assert listed == ids(fleet.paused, fleet.running[1], fleet.running[0])
    assert f'name="ids" value="{fleet.elsewhere.pk}"' not in html
    assert fleet.states() == before and audit_count() == entries
    # Meanwhile another running execution of the workflow starts: the confirmation leaves it alone.
    newcomer = start(fleet.personas, fleet.workflow, {"x": "late"})
    form = {"command": "cancel", "reason": "tidy up", "state": ["running", "paused"],
            "workflow": str(fleet.workflow.pk), "ids": listed}
    refused = client.post("/executions/bulk/", form)
    assert refused.status_code == 403  # no CSRF token
    assert fleet.states()[str(fleet.paused.pk)] == "paused"
    token = client.get("/executions/").cookies["csrftoken"].value
    done = client.post("/executions/bulk/", {**form, "csrfmiddlewaretoken": token})
    assert done.status_code == 200
    assert "3 changed" in done.content.decode()
    states = fleet.states()
    assert [states[pk] for pk in listed] == ["cancelled"] * 3
    assert states[str(newcomer.pk)] == "running" and states[str(fleet.elsewhere.pk)] == "running"
    assert Execution.objects.get(pk=fleet.paused.pk).state_reason == "tidy up"


def test_a_viewer_posting_a_confirmation_changes_nothing(fleet) -> None:
    before, entries = fleet.states(), audit_count()
    answer = browser(fleet.personas, "viewer").post("/executions/bulk/", {
        "command": "cancel", "ids": ids(*fleet.running)})
    assert answer.status_code == 200
    assert "your role in Alpha is viewer; cancel needs operator or higher" in answer.content.decode()
    assert fleet.states() == before and audit_count() == entries


def test_error_text_selects_failed_executions_by_their_message_through_a_real_worker(engine) -> None:
    from .conftest import run as run_to_end
    from .test_control import failing_and_independent

    failed = run_to_end(engine, failing_and_independent("stop"), {"x": "y"})
    fine = run_to_end(engine, document("Fine", [s.node_input("x", "string"), s.node_output("out", "string")],
                                       [s.data_edge("e1", "x", "value", "out", "value")]), {"x": "y"})
    assert (failed.state, fine.state) == ("failed", "completed")
    message = failed.error["message"]
    assert message
    fragment = message[len(message) // 4: len(message) // 4 + 12].swapcase()
    preview = post(engine, "operator", {"command": "rerun", "filter": {"error": fragment}}).json()
    assert preview["matched"] == preview["would_change"] == ids(failed)
    completed = post(engine, "operator", {"command": "rerun", "filter": {"state": ["completed"]}}).json()
    assert completed["skipped"] == [{"id": str(fine.pk), "state": "completed",
                                     "reason": "it is completed; rerun is not allowed now"}]
