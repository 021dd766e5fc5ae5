"""The whole product in headless Chromium, as two real users use it (issue 15, "Browser end to end").

A conductor of team Orchestra signs in through the sign-in page, finds a template in the
marketplace by a name with a typo, fills its form and makes a workflow of it, runs it and watches
it complete without a reload; pauses and resumes a slow run; answers a run waiting for a person;
retries a node whose service failed once; exports the audit log and verifies the file with the
audit chain's own verifier. Then a member of another team signs in, in a fresh browser context,
and sees none of it: no name on the workflows, executions or audit pages, and 404 for the first
team's workflow, execution and template.

Everything is real: the session's daphne (HTTP and WebSockets), its Celery worker, Redis and
PostgreSQL. The seed goes through the services (team_create, template_publish, workflow_create),
as an administrator's script would. On a failure the `browser_session` fixture keeps screenshots
of every open page and the console log in var/browser-artefacts/<test name>/; a console error
anywhere fails the test.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from playwright.sync_api import expect

from audit import domain as audit_domain
from audit.models import AuditEntry
from executions.models import Execution, NodeRun
from symphony_site.actors import Actor, Origin
from teams.services import team_create
from templates_app.services import template_publish
from tests.conftest import PASSWORD, make_user
from tests.executions.conftest import ScriptedServer, http_node
from workflows import samples as s
from workflows.models import Workflow
from workflows.services import workflow_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("celery_worker", "close_stray_connections")]

SEED = Origin.command()

# live.css: the fill of a graph node's shape in each state.
FILL = {"running": "rgb(254, 243, 199)", "completed": "rgb(209, 250, 229)", "failed": "rgb(254, 226, 226)"}


# --------------------------------------------------------------------------- the seed


def welcome_template() -> dict[str, Any]:
    """The template the conductor finds: a greeting (text), a sign-off (a choice) and a pause (an
    integer) fill its placeholders; the pause is long enough to see the run's node running."""
    document = s.workflow("Welcome a colleague", [
        s.node_input("name", name="Colleague"),
        s.node_operator("compose", "template",
                        {"template": "{{ params.greeting }}, {{ inputs.variables }}! {{ params.sign_off }}."},
                        name="Compose"),
        s.node_operator("settle", "delay", {"milliseconds": "{{ params.pause_ms }}"}, name="Settle"),
        s.node_operator("note", "log", {"level": "info", "message": "Welcomed: {{ inputs.value }}"}, name="Note"),
        s.node_output("welcome", "string", name="Welcome"),
    ], [
        s.data_edge("e1", "name", "value", "compose", "variables"),
        s.data_edge("e2", "compose", "text", "settle", "value"),
        s.data_edge("e3", "settle", "value", "note", "value"),
        s.data_edge("e4", "note", "value", "welcome", "value"),
    ], description="A warm welcome, sent after a short pause.", tags=("people",), category="onboarding")
    parameters = [
        {"name": "greeting", "display_name": "Greeting", "type": "string", "default": "Hello",
         "ui": {"group": "Message", "order": 1}},
        {"name": "sign_off", "display_name": "Sign-off", "type": "enum", "choices": ["Cheers", "Best wishes"],
         "default": "Cheers", "ui": {"group": "Message", "order": 2}},
        {"name": "pause_ms", "display_name": "Pause (milliseconds)", "type": "integer", "default": 1000,
         "constraints": {"min_value": 500, "max_value": 5000}, "ui": {"group": "Timing", "order": 3}},
    ]
    return {"version": "1.0.0", "document": document, "parameters": parameters, "examples": [],
            "changelog": "First version."}


def plain_template(name: str, word: str) -> dict[str, Any]:
    document = s.workflow(name, [
        s.node_input("text"),
        s.node_operator("say", "template", {"template": f"{word}: {{{{ inputs.variables }}}}"}),
        s.node_output("out", "string"),
    ], [s.data_edge("e1", "text", "value", "say", "variables"), s.data_edge("e2", "say", "text", "out", "value")])
    return {"version": "1.0.0", "document": document, "parameters": [], "examples": [], "changelog": "First."}


CATALOG = [
    # name, description, category, tags, version
    ("Welcome a colleague", "A warm welcome, sent after a short pause.", "onboarding", ["people"], welcome_template()),
    ("Summarize meeting notes", "Short notes of a long meeting.", "summarization", ["meetings"],
     plain_template("Summarize meeting notes", "Notes")),
    ("Translate a product description", "Any description, in another language.", "translation", ["products"],
     plain_template("Translate a product description", "Translated")),
    ("Classify support tickets", "Sort tickets by topic.", "classification", ["support"],
     plain_template("Classify support tickets", "Topic")),
]


def count_down() -> dict[str, Any]:
    return s.workflow("Orchestra countdown", [
        s.node_input("start", "integer", name="Start from"),
        # Long enough for the Pause to land while it runs, even on a loaded machine.
        s.node_operator("three", "delay", {"milliseconds": 3000}, name="Three"),
        s.node_operator("two", "delay", {"milliseconds": 1000}, name="Two"),
        s.node_operator("one", "delay", {"milliseconds": 1000}, name="One"),
        s.node_output("result", "integer", name="Result"),
    ], [
        s.data_edge("e1", "start", "value", "three", "value"),
        s.data_edge("e2", "three", "value", "two", "value"),
        s.data_edge("e3", "two", "value", "one", "value"),
        s.data_edge("e4", "one", "value", "result", "value"),
    ])


def headline_approval() -> dict[str, Any]:
    return s.workflow("Orchestra headline approval", [
        s.node_input("draft", name="Draft"),
        s.node_input("headline", name="Headline", interactive=True, prompt="Which headline should it carry?"),
        s.node_control("both", "join", name="Both ready"),
        s.node_operator("combine", "template", {"template": "{{ inputs.variables[1] }}: {{ inputs.variables[0] }}"},
                        name="Combine"),
        s.node_output("article", "string", name="Article"),
    ], [
        s.data_edge("e1", "draft", "value", "both", "value"),
        s.data_edge("e2", "headline", "value", "both", "value"),
        s.data_edge("e3", "both", "value", "combine", "variables"),
        s.data_edge("e4", "combine", "text", "article", "value"),
    ])


def flaky_call(server: ScriptedServer) -> dict[str, Any]:
    """A call to a service that answers 500 once, then 200; under error policy `pause` the run
    stops at the failure for a person to retry the node."""
    built = s.workflow("Orchestra flaky call", [
        s.node_input("x", name="Anything"),
        # Long enough for the page to be drawn while the run is still running, even on a loaded
        # machine: the Retry button must then come without a reload.
        s.node_operator("warm", "delay", {"milliseconds": 3000}, name="Warm up"),
        http_node("call", server.url("/fail/end-to-end?times=1")),
        s.node_operator("read", "select", {"path": "ok", "default": None}, name="Read"),
        s.node_output("out", name="Out"),
    ], [
        s.data_edge("e0", "x", "value", "warm", "value"),
        s.control_edge("e1", "warm", "call"),
        s.data_edge("e2", "call", "body", "read", "value"),
        s.data_edge("e3", "read", "value", "out", "value"),
    ])
    built["settings"] = {"error_policy": "pause"}
    return built


@pytest.fixture(autouse=True)
def patient_expectations() -> Any:
    """The machine is a loaded two-core box: expectations wait up to 30 s before they fail (they
    return as soon as they hold). Playwright's option is global; other modules keep the default."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=None)


@pytest.fixture
def scripted_server() -> Any:
    server = ScriptedServer()
    yield server
    server.close()


# --------------------------------------------------------------------------- page helpers


def sign_in(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base_url}/")


def live(page: Any) -> None:
    """Wait until the execution page's stream is open (leaving a page whose socket is still
    connecting makes Chromium log a console error)."""
    expect(page.locator("[data-live-status]")).to_have_attribute("data-live-state", "live")


def submit(page: Any, button: Any) -> None:
    """Press a button that posts its form and wait for the execution page it leads to to be live."""
    if page.locator("[data-live-status]").count():
        live(page)
    with page.expect_navigation():
        button.click()
    live(page)


def execution_state(page: Any, state: str) -> None:
    expect(page.locator("[data-execution-state]")).to_have_attribute("data-state", state)


def node_state(page: Any, node_id: str, state: str) -> None:
    expect(page.locator(f'svg.graph [data-node-id="{node_id}"]')).to_have_attribute("data-state", state)


def shown_node_states(page: Any) -> dict[str, str]:
    return page.eval_on_selector_all(
        "[data-node-run]", "rows => Object.fromEntries(rows.map(row => [row.dataset.nodeRun, row.dataset.state]))")


def graph_fill(page: Any, node_id: str) -> str:
    page.wait_for_function("() => document.getAnimations().length === 0")  # colour transitions done
    return page.eval_on_selector(f'svg.graph [data-node-id="{node_id}"] rect',
                                 "shape => getComputedStyle(shape).fill")


def execution_of(page: Any) -> Execution:
    return Execution.objects.get(pk=page.url.rstrip("/").rsplit("/", 1)[-1])


def stored_node_states(execution: Execution) -> dict[str, str]:
    return dict(NodeRun.objects.filter(execution=execution).values_list("node_id", "state"))


def run_from_the_list(page: Any, base_url: str, workflow_name: str, inputs: dict[str, str]) -> Execution:
    """Workflows list → the workflow's page → Run → fill the inputs → Run: the execution page."""
    page.goto(f"{base_url}/workflows/")
    page.get_by_role("link", name=workflow_name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(workflow_name)
    page.get_by_role("link", name="Run", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Run {workflow_name}")
    for name, value in inputs.items():
        page.fill(f"#f-param__{name}", value)
    submit(page, page.get_by_role("button", name="Run", exact=True))
    return execution_of(page)


# --------------------------------------------------------------------------- the flow


def test_two_teams_walk_the_whole_product(browser_session: Any, live_server: Any, scripted_server: Any) -> None:
    base = live_server.url
    conductor = make_user("e2e-conductor")
    orchestra = team_create(actor=Actor.of(conductor), origin=SEED, name="Orchestra")
    outsider = make_user("e2e-soloist")
    quartet = team_create(actor=Actor.of(outsider), origin=SEED, name="Quartet")
    templates = {name: template_publish(actor=Actor.of(conductor), origin=SEED, team=orchestra, name=name,
                                        description=description, category=category, tags=tags,
                                        visibility="team", version=version)
                 for name, description, category, tags, version in CATALOG}
    for built in (count_down(), headline_approval(), flaky_call(scripted_server)):
        workflow_create(actor=Actor.of(conductor), origin=SEED, team=orchestra, document=built)

    # 1. Sign in through the sign-in page.
    page = browser_session.page()
    sign_in(page, base, "e2e-conductor")
    expect(page.locator("body")).to_contain_text("e2e-conductor")

    # 2. The marketplace finds the template by a name typed with a letter missing.
    page.goto(f"{base}/templates/")
    expect(page.locator("[data-results] .tpl-card")).to_have_count(4)
    page.fill("#tpl-q", "welcme")
    expect(page.locator("[data-typo-note]")).to_have_text(
        "No exact match for “welcme”; showing results for “welcome”.")
    expect(page.locator("[data-results] .tpl-card h3")).to_have_text(["Welcome a colleague"])
    assert "q=welcme" in page.url

    # 3. Its form: every parameter, filled in; Use template makes the workflow in Orchestra.
    page.get_by_role("link", name="Welcome a colleague").click()
    expect(page).to_have_url(f"{base}/templates/{templates['Welcome a colleague'].slug}/")
    expect(page.locator(".tpl-group legend")).to_have_text(["Message", "Timing", "New workflow"])
    page.get_by_label("Greeting").fill("Good morning")
    page.get_by_label("Sign-off").select_option("Best wishes")
    page.get_by_label("Pause (milliseconds)").fill("3000")
    page.get_by_label("Name").fill("Orchestra welcome")
    page.get_by_role("button", name="Use template").click()
    expect(page.locator(".messages")).to_contain_text("Created Orchestra welcome in Orchestra")
    made = Workflow.objects.get(name="Orchestra welcome")
    expect(page).to_have_url(f"{base}/workflows/{made.pk}/")
    assert made.team_id == orchestra.pk
    assert made.template_origin.parameters == {"greeting": "Good morning", "sign_off": "Best wishes",
                                               "pause_ms": 3000}
    compose = next(node for node in made.current_version.workflow_document["nodes"] if node["id"] == "compose")
    settle = next(node for node in made.current_version.workflow_document["nodes"] if node["id"] == "settle")
    assert compose["config"]["template"] == "Good morning, {{ inputs.variables }}! Best wishes."
    assert settle["config"] == {"milliseconds": 3000}

    # 4. Run it from its page and watch it complete: the graph's colours, the counts and the
    # progress bar follow the run without a reload.
    page.get_by_role("link", name="Run", exact=True).click()
    page.fill("#f-param__name", "Clara")
    submit(page, page.get_by_role("button", name="Run", exact=True))
    welcome_run = execution_of(page)
    page.evaluate("window.notReloaded = true")
    node_state(page, "settle", "running")
    assert graph_fill(page, "settle") == FILL["running"]
    progress_while_running = page.eval_on_selector("[data-progress-bar]", "bar => bar.value")
    assert 0 < progress_while_running < 100
    execution_state(page, "completed")
    expect(page.locator("[data-progress-bar]")).to_have_js_property("value", 100)
    node_state(page, "welcome", "completed")
    assert graph_fill(page, "settle") == FILL["completed"]
    assert page.evaluate("window.notReloaded") is True
    every_completed = {"name": "completed", "compose": "completed", "settle": "completed", "note": "completed",
                       "welcome": "completed"}
    assert shown_node_states(page) == stored_node_states(welcome_run) == every_completed
    assert " ".join(page.text_content(".progress-words").split()) == (
        "5 completed · 0 running · 0 queued · 0 pending · 0 failed · 0 skipped")
    expect(page.locator("[data-log-tail] li")).to_have_text(["note: Welcomed: Good morning, Clara! Best wishes."])
    welcome_run.refresh_from_db()
    assert (welcome_run.state, welcome_run.outputs) == ("completed", {"welcome": "Good morning, Clara! Best wishes."})

    # 5. Pause a slow run while its first wait runs, see it paused, resume it, see it complete.
    countdown = run_from_the_list(page, base, "Orchestra countdown", {"start": "3"})
    node_state(page, "three", "running")
    submit(page, page.get_by_role("button", name="Pause"))
    execution_state(page, "paused")
    expect(page.locator(".messages")).to_contain_text("Paused: no new node starts; running nodes finish.")
    # The wait that was running finishes; the next one stays queued while the run is paused.
    node_state(page, "three", "completed")
    expect(page.locator('[data-count="running"]')).to_have_text("0")
    assert Execution.objects.get(pk=countdown.pk).state == "paused"
    assert stored_node_states(countdown) == {"start": "completed", "three": "completed", "two": "queued",
                                             "one": "pending", "result": "pending"}
    submit(page, page.get_by_role("button", name="Resume"))
    execution_state(page, "completed")
    expect(page.locator("[data-progress-bar]")).to_have_js_property("value", 100)
    countdown.refresh_from_db()
    assert (countdown.state, countdown.outputs) == ("completed", {"result": 3})
    assert list(countdown.transitions.order_by("id").values_list("to_state", "actor_name")) == [
        ("pending", "e2e-conductor"), ("running", "e2e-conductor"), ("paused", "e2e-conductor"),
        ("running", "e2e-conductor"), ("completed", "engine")]

    # 6. A run that waits for a person: the page asks, the conductor answers through its form.
    approval = run_from_the_list(page, base, "Orchestra headline approval", {"draft": "The season opens."})
    execution_state(page, "waiting_for_input")
    expect(page.locator("#answer-headline")).to_have_text("Waiting for Headline")
    page.fill("#f-param__headline", "Encore")
    submit(page, page.get_by_role("button", name="Send the answer"))
    execution_state(page, "completed")
    approval.refresh_from_db()
    assert (approval.state, approval.outputs) == ("completed", {"article": "Encore: The season opens."})

    # 7. The service fails once: the run pauses at the failed node; Retry, then Resume, completes it.
    flaky = run_from_the_list(page, base, "Orchestra flaky call", {"x": "go"})
    page.evaluate("window.notReloaded = true")
    node_state(page, "warm", "running")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()  # drawn for a running execution
    expect(page.get_by_role("button", name="Retry call")).to_have_count(0)
    execution_state(page, "paused")
    node_state(page, "call", "failed")
    assert graph_fill(page, "call") == FILL["failed"]
    # The page was drawn for a running execution; its controls follow the run without a reload:
    # Pause gives way to Resume, and the failed node offers Retry and Skip.
    expect(page.get_by_role("button", name="Retry call")).to_be_visible()
    expect(page.get_by_role("button", name="Skip call")).to_be_visible()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    expect(page.locator("[data-state-moved]")).to_be_hidden()
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator('[data-node-run="call"] [data-field=message]')).to_contain_text(
        'answered 500. {"error":"try again"}')
    submit(page, page.get_by_role("button", name="Retry call"))
    expect(page.locator(".messages")).to_contain_text(
        "Node call queued again; it runs when you resume the execution.")
    submit(page, page.get_by_role("button", name="Resume"))
    execution_state(page, "completed")
    flaky.refresh_from_db()
    assert (flaky.state, flaky.outputs) == ("completed", {"out": True})
    assert scripted_server.failures == {"end-to-end": 2}  # one refusal, one success

    # Every run shows on the executions page, completed.
    page.goto(f"{base}/executions/")
    expect(page.locator("[data-execution-row]")).to_have_count(4)
    expect(page.locator('[data-execution-row][data-state="completed"]')).to_have_count(4)

    # 8. Export the audit log from its page and verify the file with the chain's own verifier.
    page.goto(f"{base}/audit/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export NDJSON").click()
    download = download_info.value
    with open(download.path(), "rb") as exported:
        lines = [orjson.loads(line) for line in exported if line.strip()]
    verified = audit_domain.verify_chain([audit_domain.verification_row(line) for line in lines])
    assert (verified.valid, verified.checked, verified.first_break) == (True, len(lines), None)
    stored = list(AuditEntry.objects.filter(team=orchestra).order_by("sequence")
                  .values_list("sequence", "event_type"))
    assert [(line["sequence"], line["event_type"]) for line in lines] == stored[:len(lines)]
    events = [(line["event_type"], line["actor_name"], line["target_name"]) for line in lines]
    assert events == [
        ("team.created", "e2e-conductor", "Orchestra"),
        *[("template.published", "e2e-conductor", name) for name, *_ in CATALOG],
        ("workflow.created", "e2e-conductor", "Orchestra countdown"),
        ("workflow.created", "e2e-conductor", "Orchestra headline approval"),
        ("workflow.created", "e2e-conductor", "Orchestra flaky call"),
        ("workflow.created", "e2e-conductor", "Orchestra welcome"),
        ("template.instantiated", "e2e-conductor", "Orchestra welcome"),
        ("execution.started", "e2e-conductor", "Orchestra welcome"),
        ("execution.completed", "engine", "Orchestra welcome"),
        ("execution.started", "e2e-conductor", "Orchestra countdown"),
        ("execution.paused", "e2e-conductor", "Orchestra countdown"),
        ("execution.resumed", "e2e-conductor", "Orchestra countdown"),
        ("execution.completed", "engine", "Orchestra countdown"),
        ("execution.started", "e2e-conductor", "Orchestra headline approval"),
        ("execution.waiting_for_input", "engine", "Orchestra headline approval"),
        ("execution.input_provided", "e2e-conductor", "Orchestra headline approval"),
        ("execution.resumed", "e2e-conductor", "Orchestra headline approval"),
        ("execution.completed", "engine", "Orchestra headline approval"),
        ("execution.started", "e2e-conductor", "Orchestra flaky call"),
        ("execution.paused", "engine", "Orchestra flaky call"),
        ("execution.node_retried", "e2e-conductor", "Orchestra flaky call"),
        ("execution.resumed", "e2e-conductor", "Orchestra flaky call"),
        ("execution.completed", "engine", "Orchestra flaky call"),
    ]
    # The export itself is recorded (after the entries it covers), and the page's own check agrees.
    assert stored[len(lines):] == [(len(lines) + 1, "audit.exported")]
    page.get_by_role("link", name="Verify chain").click()
    expect(page.locator("#verification")).to_have_text(f"Chain intact: {len(lines) + 1} entries verified.")

    # 9. A member of another team, in a fresh browser context, sees none of it.
    other = browser_session.page()
    sign_in(other, base, "e2e-soloist")
    first_team_names = ["Orchestra", "e2e-conductor", "Welcome a colleague", "countdown", "headline approval",
                        "flaky call", "Clara", "Encore"]
    for path, heading in [("/workflows/", "Workflows"), ("/executions/", "Executions"), ("/audit/", "Audit log")]:
        other.goto(f"{base}{path}")
        expect(other.get_by_role("heading", level=1)).to_have_text(heading)
        text = other.locator("main").inner_text()
        assert "Quartet" in text, path
        assert [name for name in first_team_names if name in text] == [], path
    other.goto(f"{base}/audit/")
    # Quartet's own log: its creation (sign-ins go to the platform's chain).
    expect(other.locator("tbody tr")).to_have_count(1)
    assert other.locator("tbody td:nth-child(4)").all_inner_texts() == ["team.created"]
    denied = [f"/workflows/{made.pk}/", f"/executions/{countdown.pk}/", f"/executions/{flaky.pk}/controls/",
              f"/templates/{templates['Welcome a colleague'].slug}/"]
    for path in denied:
        assert other.goto(f"{base}{path}").status == 404, path
        expect(other.get_by_role("heading", level=1)).to_have_text("We couldn't find that page")
        assert [name for name in first_team_names if name in other.locator("main").inner_text()] == [], path
    # Each refused page is reported by the browser as a failed load, and nothing else is.
    refused = [f"{base}{path}: Failed to load resource: the server responded with a status of 404 (Not Found)"
               for path in denied]
    assert browser_session.console_errors == refused
    browser_session.console_errors.clear()
    assert list(AuditEntry.objects.filter(team=quartet).values_list("event_type", "target_name")) == [
        ("team.created", "Quartet")]
