"""The execution pages for each role, an outsider (404) and anonymous (sent to log in): the list
with its filters and pages, one execution's page, the Run page, the progress JSON, and every
control command as a form post. A denied or refused command changes nothing and audits nothing.

Executions here are real: started through the service and stepped in this process by the step
task function (`executions.demo.step_in_process`), so no worker is needed and states are exact.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry
from executions.demo import step_in_process
from executions.models import Execution, NodeRun
from symphony_site.actors import Actor
from workflows import samples as s
from workflows import services as workflow_services

from .conftest import ORIGIN, command, document, start, store

ROLES = ["owner", "admin", "editor", "operator", "viewer"]
OPERATORS = ["owner", "admin", "editor", "operator"]


def browser(personas: Any, who: str | None, **options: Any) -> Client:
    client = Client(**options)
    if who is not None:
        client.force_login(personas.users[who])
    return client


def greeting() -> dict[str, Any]:
    return document("Greet", [
        s.node_input("name", "string"),
        s.node_operator("hello", "template", {"template": "Hello {{ inputs.variables }}!"}),
        s.node_operator("note", "log", {"level": "warning", "message": "greeted {{ inputs.value }}"}),
        s.node_output("out", "string"),
    ], [s.data_edge("e1", "name", "value", "hello", "variables"),
        s.data_edge("e2", "hello", "text", "note", "value"),
        s.data_edge("e3", "note", "value", "out", "value")])


def typed_inputs() -> dict[str, Any]:
    return document("Typed", [
        s.node_input("count", "integer", name="How many"),
        {**s.node_input("label", "string", name="Label", required=False), "default": "plain"},
        s.node_input("tags", "array<string>", name="Tags", required=False),
        s.node_input("topic", "string", name="Topic", interactive=True, prompt="Which topic?"),
        s.node_operator("say", "template", {"template": "{{ inputs.variables }}"}),
        s.node_output("out", "string"),
    ], [s.data_edge("e1", "topic", "value", "say", "variables"),
        s.data_edge("e2", "say", "text", "out", "value")])


def asking() -> dict[str, Any]:
    return document("Ask", [
        s.node_input("count", "integer", name="Count", interactive=True, prompt="How many copies?"),
        s.node_operator("say", "template", {"template": "{{ inputs.variables }} copies"}),
        s.node_output("out", "string"),
    ], [s.data_edge("e1", "count", "value", "say", "variables"),
        s.data_edge("e2", "say", "text", "out", "value")])


def parsing(policy: str = "stop") -> dict[str, Any]:
    return document("Parse", [
        s.node_input("text", "string"),
        s.node_operator("parse", "json_parse", {}),
        s.node_output("out"),
    ], [s.data_edge("e1", "text", "value", "parse", "text"),
        s.data_edge("e2", "parse", "value", "out", "value")], error_policy=policy)


def run_now(personas: Any, built: dict[str, Any], inputs: dict[str, Any] | None = None,
            who: str = "operator") -> Execution:
    return step_in_process(start(personas, store(personas, built), inputs, who=who))


@pytest.fixture
def completed(personas) -> Execution:
    return run_now(personas, greeting(), {"name": "Ada"})


@pytest.fixture
def waiting(personas) -> Execution:
    return run_now(personas, asking())


@pytest.fixture
def paused_failure(personas) -> Execution:
    return run_now(personas, parsing("pause"), {"text": "{not json"})


def audit_types(execution: Execution) -> list[str]:
    return list(AuditEntry.objects.filter(execution_id=execution.pk).order_by("sequence")
                .values_list("event_type", flat=True))


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


# --- the list ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_list_shows_each_member_the_team_runs(personas, completed, who) -> None:
    response = browser(personas, who).get("/executions/")
    html = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r'data-execution-row="([^"]+)" data-state="([^"]+)"', html) == [
        (str(completed.pk), "completed")]
    assert f'data-team-live data-team-id="{personas.team.pk}"' in html
    assert 'value="100.0"' in html  # the progress bar
    assert ">Greet</a>" in html and "alpha-operator" in html


def test_list_for_an_outsider_shows_only_their_own_team(personas, completed) -> None:
    html = browser(personas, "outsider").get("/executions/").content.decode()
    assert "data-execution-row=" not in html
    assert str(completed.pk) not in html and "Nothing has run yet" in html


def test_anonymous_is_sent_to_log_in(personas, completed) -> None:
    for path in ["/executions/", f"/executions/{completed.pk}/", f"/executions/{completed.pk}/progress/",
                 f"/executions/run/{completed.workflow_id}/"]:
        response = Client().get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/"), path
    response = Client().post(f"/executions/{completed.pk}/commands/", {"command": "rerun"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert Execution.objects.count() == 1


def test_list_empty_state_points_to_running_a_workflow(personas) -> None:
    html = browser(personas, "operator").get("/executions/").content.decode()
    assert "Nothing has run yet" in html and "press <strong>Run</strong>" in html
    assert 'href="/workflows/">Choose a workflow to run</a>' in html
    viewer = browser(personas, "viewer").get("/executions/").content.decode()
    assert "Running workflows needs the operator role or higher" in viewer
    assert "Choose a workflow to run" not in viewer


def test_list_filters(personas, completed, waiting) -> None:
    failed = run_now(personas, parsing(), {"text": "nope"}, who="editor")
    client = browser(personas, "viewer")

    def shown(query: str) -> list[str]:
        html = client.get(f"/executions/?{query}").content.decode()
        return re.findall(r'data-execution-row="([^"]+)"', html)

    assert shown("") == [str(failed.pk), str(waiting.pk), str(completed.pk)]
    assert shown("state=failed") == [str(failed.pk)]
    assert shown("state=completed&state=waiting_for_input") == [str(waiting.pk), str(completed.pk)]
    assert shown(f"workflow={waiting.workflow_id}") == [str(waiting.pk)]
    assert shown("started_by=alpha-editor") == [str(failed.pk)]
    today = timezone.localdate()
    assert shown(f"started_after={today}&started_before={today}") == [str(failed.pk), str(waiting.pk),
                                                                      str(completed.pk)]
    assert shown(f"started_before={today - dt.timedelta(days=1)}") == []
    assert shown(f"started_after={today + dt.timedelta(days=1)}") == []
    # Unknown values are ignored, not errors; a workflow of another team is not a filter.
    assert shown("state=exploded&started_by=nobody") == [str(failed.pk), str(waiting.pk), str(completed.pk)]
    other = workflow_services.workflow_create(actor=Actor.of(personas.users["outsider"]), origin=ORIGIN,
                                              team=personas.other_team, document=greeting())
    assert shown(f"workflow={other.pk}") == [str(failed.pk), str(waiting.pk), str(completed.pk)]
    html = client.get("/executions/?state=cancelled").content.decode()
    assert "No execution matches" in html


def test_list_pages_by_keyset(personas, monkeypatch) -> None:
    from executions.views import pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    workflow = store(personas, asking())
    made = [start(personas, workflow, start=False) for _ in range(5)]
    client = browser(personas, "viewer")
    seen: list[str] = []
    url = "/executions/?state=pending"
    while url:
        html = client.get(url).content.decode()
        seen.extend(re.findall(r'data-execution-row="([^"]+)"', html))
        found = re.search(r'href="(\?[^"]*cursor=[^"]+)">Next page', html)
        url = f"/executions/{found.group(1).replace('&amp;', '&')}" if found else ""
        if url:
            assert "state=pending" in url  # filters travel with the cursor
    assert seen == [str(execution.pk) for execution in reversed(made)]
    # An edited cursor starts again at the first page instead of failing.
    assert client.get("/executions/?cursor=garbage").status_code == 200


def test_list_query_count(personas, django_assert_max_num_queries) -> None:
    workflow = store(personas, asking())
    for _ in range(10):
        start(personas, workflow)
    client = browser(personas, "viewer")
    # session, user, team, role, the team switcher, workflows, people, executions, node counts
    with django_assert_max_num_queries(11):
        response = client.get("/executions/")
    assert response.content.decode().count("data-execution-row=") == 10


# --- one execution ------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [*((role, 200) for role in ROLES), ("outsider", 404)])
def test_execution_page_for_each_persona(personas, completed, who, status) -> None:
    response = browser(personas, who).get(f"/executions/{completed.pk}/")
    assert response.status_code == status
    progress = browser(personas, who).get(f"/executions/{completed.pk}/progress/")
    assert progress.status_code == status
    if status == 404:
        assert str(completed.pk) not in response.content.decode()
        return
    assert progress.json() == {"state": "completed", "progress": {
        "total": 4, "completed": 4, "failed": 0, "running": 0, "queued": 0, "pending": 0, "skipped": 0,
        "percentage": 100.0, "estimated_remaining_s": 0.0, "estimate_basis": "finished"}}


def test_execution_page_follows_the_live_contract(personas, completed) -> None:
    html = browser(personas, "viewer").get(f"/executions/{completed.pk}/").content.decode()
    completed.refresh_from_db()
    assert (f'data-execution-live data-execution-id="{completed.pk}" data-last-seq="{completed.event_seq}" '
            f'data-progress-url="/executions/{completed.pk}/progress/"') in html
    assert 'data-execution-state data-state="completed">completed</span>' in html
    # The graph's nodes carry their state, as do the node-run rows.
    assert re.findall(r'<g class="([^"]*)" data-node-id="([^"]+)" data-state="([^"]+)"', html) == [
        ("node kind-input state-completed", "name", "completed"),
        ("node kind-operator state-completed", "hello", "completed"),
        ("node kind-operator state-completed", "note", "completed"),
        ("node kind-output state-completed", "out", "completed")]
    assert re.findall(r'data-node-run="([^"]+)" data-state="([^"]+)"', html) == [
        ("name", "completed"), ("hello", "completed"), ("note", "completed"), ("out", "completed")]
    for field in ["state", "attempt", "duration_ms", "progress", "message"]:
        assert html.count(f'data-field="{field}"') == 4
    assert '<progress data-progress-bar max="100" value="100"' in html
    assert "<span data-progress-text>4 of 4 nodes</span>" in html
    assert re.findall(r'<li data-level="([^"]+)" data-seq="\d+">([^<]*)</li>', html) == [
        ("warning", "note: greeted Hello Ada!")]
    assert '<script type="module" src="/static/executions/execution-live.js">' in html
    # Outputs are shown compactly; the history names who and why.
    assert "&quot;Hello Ada!&quot;" in html
    assert re.findall(r'data-state="([a-z_]+)">[a-z ]+</span></td>\s*<td>([^<]+)</td>', html) == [
        ("pending", "alpha-operator"), ("running", "alpha-operator"), ("completed", "engine")]


def test_execution_page_shows_an_estimate_or_why_there_is_none(personas) -> None:
    execution = start(personas, store(personas, asking()))  # waits for input at once
    html = browser(personas, "viewer").get(f"/executions/{execution.pk}/").content.decode()
    assert "<span data-eta>No time estimate yet: no history yet for node types: input, output, template.</span>" in html
    # With history for every node type left, the estimate has a number.
    for _ in range(2):
        step_in_process(command(personas, start(personas, execution.workflow), "provide_input",
                                node_id="count", value=1))
    html = browser(personas, "viewer").get(f"/executions/{execution.pk}/").content.decode()
    assert re.search(r'<span data-eta data-eta-seconds="[0-9.]+" title="median duration of each node type', html)


def test_failed_execution_shows_its_error_and_offers_a_rerun(personas) -> None:
    failed = run_now(personas, parsing(), {"text": "{not json"})
    html = browser(personas, "operator").get(f"/executions/{failed.pk}/").content.decode()
    run = NodeRun.objects.get(execution=failed, node_id="parse")
    assert failed.state == "failed" and run.state == "failed"
    assert run.error["message"] in html.replace("&#x27;", "'").replace("&quot;", '"')
    assert f"<code class=\"small\">{run.error['code']}</code>" in html
    assert re.findall(r'name="command" value="([a-z_]+)"', html) == ["rerun"]
    assert "reusing the 1 node that completed" in html
    skipped = NodeRun.objects.get(execution=failed, node_id="out")
    assert skipped.state == "skipped" and f'<span data-field="message">{skipped.skip_reason}</span>' in html


def test_controls_follow_the_state_and_the_role(personas, waiting) -> None:
    operator = browser(personas, "operator").get(f"/executions/{waiting.pk}/").content.decode()
    assert re.findall(r'name="command" value="([a-z_]+)"', operator) == ["cancel", "provide_input"]
    assert 'data-confirm="Cancel this run of Ask?' in operator
    assert "How many copies?" in operator and 'name="param__count"' in operator
    viewer = browser(personas, "viewer").get(f"/executions/{waiting.pk}/").content.decode()
    assert re.findall(r'name="command" value="([a-z_]+)"', viewer) == ["cancel"]
    assert 'data-command="cancel" disabled aria-describedby="refusal"' in viewer
    assert ("Your role in Alpha is viewer; running and controlling executions needs operator or higher."
            in viewer)
    assert 'name="param__count"' not in viewer


# --- commands ----------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("outsider", 404)])
def test_a_denied_command_changes_nothing_and_audits_nothing(personas, waiting, who, status) -> None:
    before = audit_types(waiting)
    seq = Execution.objects.get(pk=waiting.pk).event_seq
    for data in [{"command": "cancel", "reason": "no"},
                 {"command": "provide_input", "node_id": "count", "param__count": "3"}]:
        response = browser(personas, who).post(f"/executions/{waiting.pk}/commands/", data)
        assert response.status_code == status
    fresh = Execution.objects.get(pk=waiting.pk)
    assert (fresh.state, fresh.inputs, fresh.event_seq) == ("waiting_for_input", {}, seq)
    assert audit_types(waiting) == before
    assert NodeRun.objects.get(execution=waiting, node_id="count").awaiting_input is True


def test_a_refused_command_is_a_message_and_changes_nothing(personas, completed) -> None:
    before = audit_types(completed)
    response = browser(personas, "operator").post(f"/executions/{completed.pk}/commands/", {"command": "pause"},
                                                  follow=True)
    assert response.redirect_chain == [(f"/executions/{completed.pk}/", 302)]
    assert messages_of(response) == [
        "Not done: The execution is completed; pause is not allowed now. Available commands: none."]
    assert Execution.objects.get(pk=completed.pk).state == "completed"
    assert audit_types(completed) == before


def test_commands_need_the_csrf_token(personas, waiting) -> None:
    client = browser(personas, "operator", enforce_csrf_checks=True)
    response = client.post(f"/executions/{waiting.pk}/commands/", {"command": "cancel"})
    assert response.status_code == 403
    assert Execution.objects.get(pk=waiting.pk).state == "waiting_for_input"


def test_cancel_with_a_reason_is_in_the_history(personas, waiting) -> None:
    response = browser(personas, "operator").post(f"/executions/{waiting.pk}/commands/",
                                                  {"command": "cancel", "reason": "wrong input"}, follow=True)
    assert messages_of(response) == ["Cancelled."]
    fresh = Execution.objects.get(pk=waiting.pk)
    assert (fresh.state, fresh.state_reason) == ("cancelled", "wrong input")
    last = fresh.transitions.order_by("id").last()
    assert (last.to_state, last.actor_name, last.reason) == ("cancelled", "alpha-operator", "wrong input")
    assert "<td class=\"small\">wrong input</td>" in response.content.decode()
    assert audit_types(waiting)[-1] == "execution.cancelled"


def test_pause_and_resume(personas) -> None:
    execution = start(personas, store(personas, greeting()), {"name": "Bo"})  # running, nothing stepped
    client = browser(personas, "operator")
    response = client.post(f"/executions/{execution.pk}/commands/", {"command": "pause"}, follow=True)
    assert messages_of(response) == ["Paused: no new node starts; running nodes finish."]
    assert Execution.objects.get(pk=execution.pk).state == "paused"
    assert 'name="command" value="resume"' in response.content.decode()
    client.post(f"/executions/{execution.pk}/commands/", {"command": "resume"})
    assert step_in_process(execution).state == "completed"
    assert audit_types(execution) == ["execution.started", "execution.paused", "execution.resumed",
                                      "execution.completed"]


def test_provide_input_answers_and_the_run_goes_on(personas, waiting) -> None:
    response = browser(personas, "operator").post(
        f"/executions/{waiting.pk}/commands/", {"command": "provide_input", "node_id": "count", "param__count": "3"})
    assert response.status_code == 302
    done = step_in_process(waiting)
    assert (done.state, done.inputs, done.outputs) == ("completed", {"count": 3}, {"out": "3 copies"})
    assert "execution.input_provided" in audit_types(waiting)


@pytest.mark.parametrize(("posted", "error"), [
    ("", "provide_input needs a value for input 'count'."),
    ("many", "Input 'count' expects integer, but got string ('many')."),
])
def test_a_bad_answer_is_shown_at_its_field_and_changes_nothing(personas, waiting, posted, error) -> None:
    before = audit_types(waiting)
    response = browser(personas, "operator").post(
        f"/executions/{waiting.pk}/commands/", {"command": "provide_input", "node_id": "count", "param__count": posted})
    html = response.content.decode()
    assert response.status_code == 400
    assert f'<p class="error small field-error">Count: {error}</p>'.replace("'", "&#x27;") in html
    assert 'aria-invalid="true"' in html and f'value="{posted}"' in html
    fresh = Execution.objects.get(pk=waiting.pk)
    assert (fresh.state, fresh.inputs) == ("waiting_for_input", {})
    assert audit_types(waiting) == before


def test_retry_and_skip_a_held_failure(personas, paused_failure) -> None:
    assert paused_failure.state == "paused"
    client = browser(personas, "operator")
    html = client.get(f"/executions/{paused_failure.pk}/").content.decode()
    assert re.findall(r'name="command" value="([a-z_]+)"><input type="hidden" name="node_id" value="([a-z]+)"',
                      html) == [("retry_node", "parse"), ("skip_node", "parse")]
    assert 'data-confirm="Skip parse?' in html
    viewer = browser(personas, "viewer").get(f"/executions/{paused_failure.pk}/").content.decode()
    assert 'value="retry_node"' not in viewer
    response = client.post(f"/executions/{paused_failure.pk}/commands/", {"command": "retry_node", "node_id": "parse"},
                           follow=True)
    assert messages_of(response) == ["Node parse queued again; it runs when you resume the execution."]
    parse = NodeRun.objects.get(execution=paused_failure, node_id="parse")
    assert (parse.state, parse.attempt) == ("queued", 0)
    client.post(f"/executions/{paused_failure.pk}/commands/", {"command": "resume"})
    assert step_in_process(paused_failure).state == "paused"  # the same text fails again
    client.post(f"/executions/{paused_failure.pk}/commands/", {"command": "skip_node", "node_id": "parse"})
    parse.refresh_from_db()
    assert (parse.state, parse.skip_reason) == ("skipped", "skipped by alpha-operator")
    assert audit_types(paused_failure) == [
        "execution.started", "execution.paused", "execution.node_retried", "execution.resumed",
        "execution.paused", "execution.node_skipped"]


def test_rerun_opens_the_new_execution(personas) -> None:
    failed = run_now(personas, parsing(), {"text": "{not json"})
    response = browser(personas, "operator").post(f"/executions/{failed.pk}/commands/", {"command": "rerun"})
    rerun = Execution.objects.exclude(pk=failed.pk).get()
    assert response.status_code == 302 and response["Location"] == f"/executions/{rerun.pk}/"
    assert (rerun.rerun_of_id, rerun.trigger) == (failed.pk, "rerun")
    assert NodeRun.objects.get(execution=rerun, node_id="text").reused_from_id == failed.pk
    html = browser(personas, "viewer").get(f"/executions/{rerun.pk}/").content.decode()
    assert f'href="/executions/{failed.pk}/"' in html and ">reused</a>" in html


# --- the Run page -------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [*((role, 200) for role in OPERATORS), ("viewer", 403),
                                             ("outsider", 404)])
def test_run_page_for_each_persona(personas, who, status) -> None:
    workflow = store(personas, typed_inputs())
    response = browser(personas, who).get(f"/executions/run/{workflow.pk}/")
    assert response.status_code == status
    if status == 403:
        assert "to run workflows you need operator or higher" in response.content.decode()
    post = browser(personas, who).post(f"/executions/run/{workflow.pk}/", {"param__count": "2", "param__topic": "x"})
    assert post.status_code == (302 if status == 200 else status)
    assert Execution.objects.count() == (1 if status == 200 else 0)


def test_run_form_is_built_from_the_input_nodes(personas) -> None:
    workflow = store(personas, typed_inputs())
    html = browser(personas, "operator").get(f"/executions/run/{workflow.pk}/").content.decode()
    assert re.findall(r'<input id="f-param__(\w+)" type="(\w+)"', html) == [
        ("count", "number"), ("label", "text"), ("tags", "text"), ("topic", "text")]
    assert re.search(r'id="f-param__count" type="number" name="param__count" value="" placeholder="" step="1"\s+required', html)
    assert 'value="plain"' in html and "Left empty, the default <code>plain</code> is used." in html
    assert "Which topic? Type: string. Leave it empty to be asked while the workflow runs." in html
    assert "Separate values with commas." in html


def test_running_from_the_form_starts_with_typed_inputs(personas) -> None:
    workflow = store(personas, typed_inputs())
    response = browser(personas, "operator").post(f"/executions/run/{workflow.pk}/", {
        "param__count": "2", "param__label": "", "param__tags": "a, b", "param__topic": "", "version": "1.0.0"},
        follow=True)
    execution = Execution.objects.get()
    assert response.redirect_chain == [(f"/executions/{execution.pk}/", 302)]
    assert messages_of(response) == ["Started a run of Typed (version 1.0.0)."]
    assert (execution.inputs, execution.state, execution.started_by_name) == (
        {"count": 2, "tags": ["a", "b"]}, "waiting_for_input", "alpha-operator")
    assert AuditEntry.objects.filter(event_type="execution.started", target_id=str(execution.pk)).count() == 1


def test_bad_input_is_shown_at_its_field_and_starts_nothing(personas) -> None:
    workflow = store(personas, typed_inputs())
    response = browser(personas, "operator").post(f"/executions/run/{workflow.pk}/",
                                                  {"param__count": "two", "param__tags": "a"})
    html = response.content.decode()
    assert response.status_code == 400
    assert ('<p class="error small field-error">How many: Input &#x27;count&#x27; expects integer, but got '
            'string (&#x27;two&#x27;).</p>') in html
    assert '<a href="#f-param__count">How many:' in html and 'aria-invalid="true"' in html
    assert 'value="two"' in html and 'value="a"' in html  # what was typed stays
    assert Execution.objects.count() == 0
    assert not AuditEntry.objects.filter(event_type__startswith="execution.").exists()
    missing = browser(personas, "operator").post(f"/executions/run/{workflow.pk}/", {})
    assert missing.status_code == 400
    assert "How many: Input &#x27;count&#x27; is required and was not given" in missing.content.decode()


def test_an_archived_workflow_does_not_run(personas) -> None:
    workflow = store(personas, greeting())
    workflow_services.workflow_archive(actor=Actor.of(personas.users["editor"]), origin=ORIGIN, workflow=workflow)
    response = browser(personas, "operator").post(f"/executions/run/{workflow.pk}/", {"param__name": "x"},
                                                  follow=True)
    assert messages_of(response) == ["This workflow is archived; archived workflows cannot run."]
    assert Execution.objects.count() == 0


# --- the workflow page ----------------------------------------------------------------------


def test_workflow_page_shows_the_last_run_and_the_run_button(personas, completed) -> None:
    html = browser(personas, "operator").get(f"/workflows/{completed.workflow_id}/").content.decode()
    assert (f'<a href="/executions/{completed.pk}/" class="badge state-badge" '
            f'data-last-run-workflow="{completed.workflow_id}" data-state="completed"') in html
    assert f'href="/executions/?workflow={completed.workflow_id}">all runs of this workflow</a>' in html
    assert f'<a class="button primary" href="/executions/run/{completed.workflow_id}/">Run</a>' in html
    viewer = browser(personas, "viewer").get(f"/workflows/{completed.workflow_id}/").content.decode()
    assert '<button class="button primary" type="button" disabled aria-describedby="run-refusal">Run</button>' in viewer
    assert "Your role in Alpha is viewer; running workflows needs operator or higher." in viewer
    never = store(personas, asking())
    html = browser(personas, "viewer").get(f"/workflows/{never.pk}/").content.decode()
    assert f'data-last-run-workflow="{never.pk}" data-state="">never</span>' in html


# --- demo data ------------------------------------------------------------------------------


def test_seed_demo_runs_a_completed_a_failed_and_a_waiting_execution_once(db) -> None:
    import io

    from django.core.management import call_command

    call_command("seed_demo", "--allow-production", stdout=io.StringIO())
    executions = {execution.workflow.name: execution for execution in Execution.objects.select_related("workflow")}
    assert {name: execution.state for name, execution in executions.items()} == {
        "Greet a guest (offline)": "completed", "Parse an order (offline)": "failed",
        "Approve a headline (offline)": "waiting_for_input"}
    greet = executions["Greet a guest (offline)"]
    assert greet.outputs == {"greeting": "Write a warm one-line welcome for Ada Lovelace."}
    assert dict(NodeRun.objects.filter(execution=greet).values_list("node_id", "state")) == {
        "name": "completed", "compose": "completed", "reply": "completed", "long_name": "completed",
        "shorten": "skipped", "note": "completed", "greeting": "completed"}
    failed = executions["Parse an order (offline)"]
    parse = NodeRun.objects.get(execution=failed, node_id="parse")
    assert (parse.state, failed.error["failed_nodes"]) == ("failed", ["parse"])
    assert parse.error["code"] == "invalid_input" and "is not valid JSON" in parse.error["message"]
    assert parse.error["message"] in failed.error["message"]
    waiting = executions["Approve a headline (offline)"]
    assert NodeRun.objects.get(execution=waiting, node_id="headline").message == (
        "Which headline should this draft be published under?")
    assert {execution.started_by_name for execution in executions.values()} == {"owner"}
    assert AuditEntry.objects.filter(event_type="execution.started").count() == 3
    call_command("seed_demo", "--allow-production", stdout=io.StringIO())
    assert Execution.objects.count() == 3
    assert AuditEntry.objects.filter(event_type="execution.started").count() == 3
