"""The execution pages in headless Chromium on a real daphne and a real Celery worker.

An operator runs a demo workflow from its page and sees it complete without reloading; pauses a
slow one (after a Cancel that the confirmation dialog stops) and resumes it; answers a waiting
input; retries a node that failed under error policy `pause` and resumes. A viewer sees the same
pages with Run and every control disabled and the reason beside them. No console error on any
page. Screenshots at desktop and phone width go to var/browser-artefacts/.
"""

from __future__ import annotations

from typing import Any

import pytest

from executions import demo
from executions.models import Execution, NodeRun
from tests.browser import Session, screenshot
from tests.live.server import daphne  # noqa: F401 (the fixture)
from workflows import samples as s

from .conftest import document, http_node, start, store, wait_for, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("close_stray_connections")]

PHONE = {"width": 390, "height": 800}
# live.css: the fill of a graph node's shape in each state.
FILL = {"pending": "rgb(243, 244, 246)", "queued": "rgb(238, 242, 255)", "running": "rgb(254, 243, 199)",
        "completed": "rgb(209, 250, 229)", "failed": "rgb(254, 226, 226)", "skipped": "rgb(249, 250, 251)"}


def execution_of(page: Any) -> Execution:
    return Execution.objects.get(pk=page.url.rstrip("/").rsplit("/", 1)[-1])


def live(page: Any) -> None:
    """Wait until the page's stream is open. Leaving a page while its socket is still connecting
    makes Chromium log "closed before the connection is established" as a console error."""
    page.wait_for_selector("[data-live-status][data-live-state=live]")


def submit(page: Any, button: Any) -> None:
    """Press a button that posts its form, and wait until the page it leads to is live (an event
    on the old page must not be taken for one on the new, nor a socket left mid-handshake)."""
    if page.locator("[data-live-status]").count():
        live(page)
    with page.expect_navigation():
        button.click()
    live(page)


def state_is(page: Any, state: str, timeout: float = 30000) -> None:
    page.wait_for_selector(f'[data-execution-state][data-state="{state}"]', timeout=timeout)


def graph_states(page: Any) -> dict[str, tuple[str, str]]:
    """node id → (data-state, computed fill of its shape) for every node of the graph, once the
    colour transitions (live.css) have finished."""
    page.wait_for_function("() => document.getAnimations().length === 0")
    found = page.eval_on_selector_all(
        "svg.graph [data-node-id]",
        """nodes => Object.fromEntries(nodes.map(node => [node.dataset.nodeId,
             [node.dataset.state, getComputedStyle(node.querySelector('rect, polygon')).fill]]))""")
    return {node: (state, fill) for node, (state, fill) in found.items()}


def counts(page: Any) -> dict[str, str]:
    return page.eval_on_selector_all(
        "[data-count]", "items => Object.fromEntries(items.map(item => [item.dataset.count, item.textContent]))")


@pytest.fixture
def operator_page(engine, daphne, chromium, monkeypatch) -> Any:  # noqa: F811
    # Playwright's sync API keeps an event loop in this thread; the ORM calls here are plain
    # blocking calls between browser steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    session = Session(chromium, daphne.url)
    page = session.page(engine.users["operator"])
    yield session, page
    session.close()
    assert session.console_errors == []


def test_run_a_demo_workflow_from_its_page_and_watch_it_complete(engine, operator_page) -> None:
    session, page = operator_page
    workflow = store(engine, demo.greet_a_guest())
    page.goto(f"{session.base_url}/workflows/{workflow.pk}/")
    page.wait_for_selector("[data-team-live-status][data-live-state=live]")
    page.get_by_role("link", name="Run", exact=True).click()
    page.wait_for_url(f"**/executions/run/{workflow.pk}/")
    screenshot(page, "operator-run-page-desktop")
    page.fill("#f-param__name", "Grace Hopper")
    submit(page, page.get_by_role("button", name="Run", exact=True))
    execution = execution_of(page)
    assert (execution.workflow_id, execution.trigger, execution.started_by, execution.inputs) == (
        workflow.pk, "manual", engine.users["operator"], {"name": "Grace Hopper"})
    assert page.text_content(".messages").strip() == "Started a run of Greet a guest (offline) (version 1.0.0)."
    state_is(page, "completed")
    page.wait_for_selector('[data-node-id="shorten"][data-state="skipped"]')
    assert page.eval_on_selector("[data-progress-bar]", "bar => bar.value") == 100
    shown = page.eval_on_selector_all(
        "[data-node-run]", "rows => Object.fromEntries(rows.map(row => [row.dataset.nodeRun, row.dataset.state]))")
    stored = dict(NodeRun.objects.filter(execution=execution).values_list("node_id", "state"))
    assert shown == stored == {"name": "completed", "compose": "completed", "reply": "completed",
                               "long_name": "completed", "shorten": "skipped", "note": "completed",
                               "greeting": "completed"}
    # The graph's colours and the counts followed without a reload.
    assert graph_states(page) == {node: (state, FILL[state]) for node, state in stored.items()}
    assert counts(page) == {"completed": "6", "running": "0", "queued": "0", "pending": "0", "failed": "0",
                            "skipped": "1"}
    # Reloading shows the same, now with the outputs and the history.
    page.reload()
    live(page)
    assert page.text_content("[data-execution-state]") == "completed"
    assert "Write a warm one-line welcome for Grace Hopper." in page.text_content("#values-title + .table-wrap")
    assert page.locator(".history-table tbody tr").count() == 3
    screenshot(page, "operator-execution-completed-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "operator-execution-completed-phone")
    page.goto(f"{session.base_url}/executions/")
    page.wait_for_selector("[data-team-live-status][data-live-state=live]")
    assert page.locator(f'[data-execution-row="{execution.pk}"][data-state="completed"]').count() == 1
    screenshot(page, "operator-executions-phone")


def test_pause_and_resume_a_slow_run(engine, operator_page) -> None:
    session, page = operator_page
    # The first wait is longer than the demo's two seconds: the page must load and see "three"
    # running before it ends, and under a loaded suite (two xdist workers, a browser, the engine's
    # workers) the load took longer once and the test waited for a state already gone.
    document = demo.count_down()
    next(node for node in document["nodes"] if node["id"] == "three")["config"]["milliseconds"] = 6000
    workflow = store(engine, document)
    page.goto(f"{session.base_url}/executions/run/{workflow.pk}/")
    page.fill("#f-param__start", "3")
    submit(page, page.get_by_role("button", name="Run", exact=True))
    execution = execution_of(page)
    page.wait_for_selector('[data-node-id="three"][data-state="running"]')
    assert graph_states(page)["three"] == ("running", FILL["running"])
    # Cancel asks first; saying no leaves it running.
    page.get_by_role("button", name="Cancel execution").click()
    page.wait_for_selector("#confirm-dialog[open]")
    assert page.text_content("#confirm-title") == "Cancel this execution?"
    page.locator("#confirm-dialog").get_by_role("button", name="Cancel", exact=True).click()
    assert Execution.objects.get(pk=execution.pk).state == "running"
    submit(page, page.get_by_role("button", name="Pause"))
    state_is(page, "paused")
    assert "Paused: no new node starts; running nodes finish." in page.text_content(".messages")
    # The node that was running finishes; what comes next waits, queued, while paused.
    wait_until(lambda: not NodeRun.objects.filter(execution=execution, state="running").exists(),
               what="the running node to finish")
    states = dict(NodeRun.objects.filter(execution=execution).values_list("node_id", "state"))
    assert Execution.objects.get(pk=execution.pk).state == "paused"
    assert "queued" in states.values() and states["result"] != "completed"
    page.wait_for_selector('[data-node-id="three"][data-state="completed"]')
    assert page.text_content('[data-count="running"]') == "0"
    screenshot(page, "operator-execution-paused-desktop")
    submit(page, page.get_by_role("button", name="Resume"))
    assert page.get_by_role("button", name="Pause").is_visible()
    page.evaluate("window.notReloaded = true")
    state_is(page, "completed")
    # The controls follow the run without a reload: Pause and Cancel give way to Run again.
    page.get_by_role("link", name="Run again").wait_for()
    assert page.get_by_role("button", name="Pause").count() == 0
    assert page.get_by_role("button", name="Cancel execution").count() == 0
    assert " ".join(page.text_content("[data-live-part=controls]").split()) == (
        "Run again This run completed; nothing is left to control.")
    assert page.locator("[data-state-moved]").is_hidden()
    assert page.evaluate("window.notReloaded") is True
    assert page.eval_on_selector_all("[data-log-tail] li", "items => items.map(item => item.textContent)") == [
        "done: Lift-off after 3"]
    assert page.locator(".log-none").is_hidden()
    assert " ".join(page.text_content(".progress-words").split()) == (
        "6 completed · 0 running · 0 queued · 0 pending · 0 failed · 0 skipped")
    screenshot(page, "operator-execution-moved-on-desktop")
    assert wait_for(execution).outputs == {"result": 3}
    assert list(execution.transitions.order_by("id").values_list("to_state", "actor_name")) == [
        ("pending", "alpha-operator"), ("running", "alpha-operator"), ("paused", "alpha-operator"),
        ("running", "alpha-operator"), ("completed", "engine")]


def test_answer_a_waiting_input(engine, operator_page) -> None:
    session, page = operator_page
    workflow = store(engine, demo.approve_a_headline())
    page.goto(f"{session.base_url}/executions/run/{workflow.pk}/")
    page.fill("#f-param__draft", "The engine runs.")
    submit(page, page.get_by_role("button", name="Run", exact=True))
    execution = execution_of(page)
    state_is(page, "waiting_for_input")
    assert page.text_content("#answer-headline") == "Waiting for Headline"
    assert page.get_by_role("button", name="Cancel execution").is_enabled()
    assert page.locator("#refusal").count() == 0
    screenshot(page, "operator-execution-waiting-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "operator-execution-waiting-phone")
    page.fill("#f-param__headline", "Big news")
    submit(page, page.get_by_role("button", name="Send the answer"))
    state_is(page, "completed")
    assert wait_for(execution).outputs == {"article": "Big news: The engine runs."}


def slow_flaky(http_server: Any) -> dict[str, Any]:
    """test_control's flaky call (500 once, then 200; error policy `pause`) after a 3 s wait: long
    enough for the page to be drawn while the run is still running, even on a loaded machine."""
    return document("Flaky browser-retry", [
        s.node_input("x", "string"),
        s.node_operator("warm", "delay", {"milliseconds": 3000}),
        http_node("call", http_server.url("/fail/browser-retry?times=1")),
        s.node_operator("read", "select", {"path": "ok", "default": None}),
        s.node_output("out"),
    ], [
        s.data_edge("e0", "x", "value", "warm", "value"),
        s.control_edge("e1", "warm", "call"),
        s.data_edge("e2", "call", "body", "read", "value"),
        s.data_edge("e3", "read", "value", "out", "value"),
    ], error_policy="pause")


def test_retry_a_failed_node(engine, operator_page, http_server) -> None:
    session, page = operator_page
    workflow = store(engine, slow_flaky(http_server))
    page.goto(f"{session.base_url}/executions/run/{workflow.pk}/")
    page.fill("#f-param__x", "go")
    submit(page, page.get_by_role("button", name="Run", exact=True))
    execution = execution_of(page)
    page.wait_for_selector('[data-node-id="warm"][data-state="running"]')
    assert page.get_by_role("button", name="Pause").is_visible()  # drawn for a running execution
    assert page.get_by_role("button", name="Retry call").count() == 0
    page.evaluate("window.notReloaded = true")
    state_is(page, "paused")
    page.wait_for_selector('[data-node-id="call"][data-state="failed"]')
    # The page was drawn for a running execution; Resume, Retry and Skip come without a reload.
    retry = page.get_by_role("button", name="Retry call")
    retry.wait_for()
    assert page.get_by_role("button", name="Skip call").is_visible()
    assert page.get_by_role("button", name="Resume").is_visible()
    assert page.get_by_role("button", name="Pause").count() == 0
    assert page.locator("[data-state-moved]").is_hidden()
    assert page.evaluate("window.notReloaded") is True
    assert ("Node 'call': GET " in page.text_content('[data-node-run="call"] [data-field=message]')
            and 'answered 500. {"error":"try again"}' in page.text_content('[data-node-run="call"]'))
    screenshot(page, "operator-execution-failed-node-desktop")
    submit(page, retry)
    assert "Node call queued again; it runs when you resume the execution." in page.text_content(".messages")
    submit(page, page.get_by_role("button", name="Resume"))
    state_is(page, "completed")
    done = wait_for(execution)
    assert (done.state, done.outputs) == ("completed", {"out": True})
    assert NodeRun.objects.get(execution=execution, node_id="call").attempt == 1


def test_a_viewer_sees_the_controls_disabled_with_the_reason(engine, daphne, chromium) -> None:  # noqa: F811
    workflow = store(engine, demo.approve_a_headline())
    execution = wait_for(start(engine, workflow, {"draft": "Text"}), ("waiting_for_input",))
    session = Session(chromium, daphne.url)
    page = session.page(engine.users["viewer"])
    try:
        reason = "Your role in Alpha is viewer; running and controlling executions needs operator or higher."
        page.goto(f"{daphne.url}/workflows/{workflow.pk}/")
        page.wait_for_selector("[data-team-live-status][data-live-state=live]")
        assert page.get_by_role("button", name="Run", exact=True).is_disabled()
        assert page.get_by_role("link", name="Run", exact=True).count() == 0
        assert page.text_content("#run-refusal") == (
            "Your role in Alpha is viewer; running workflows needs operator or higher.")
        assert page.goto(f"{daphne.url}/executions/run/{workflow.pk}/").status == 403
        page.goto(f"{daphne.url}/executions/{execution.pk}/")
        live(page)
        cancel = page.get_by_role("button", name="Cancel execution")
        assert cancel.is_disabled() and cancel.get_attribute("aria-describedby") == "refusal"
        assert page.locator("#cancel-reason").is_disabled()
        assert page.text_content("#refusal") == reason
        # The waiting input is shown, without a form to answer it.
        assert page.text_content("#answer-headline") == "Waiting for Headline"
        assert page.locator(".answer-form").count() == 0
        assert page.text_content(".waiting-input .muted") == reason
        screenshot(page, "viewer-execution-waiting-desktop")
    finally:
        session.close()
    # The refused Run page's own status is the one console message.
    assert session.console_errors == [
        f"{daphne.url}/executions/run/{workflow.pk}/: Failed to load resource: the server responded with a status of "
        "403 (Forbidden)"]
    assert Execution.objects.get(pk=execution.pk).state == "waiting_for_input"
