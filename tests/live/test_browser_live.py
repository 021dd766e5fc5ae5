"""Headless Chromium on a real daphne and a real worker, on the execution page users see: node
colours and the progress bar change without a reload, the connection drops (the web server
restarts) and the page resumes where it left off, with nothing missed or repeated."""

from __future__ import annotations

import pytest

from executions.models import NodeRun
from tests.browser import browser_page, log_in
from tests.conftest import PASSWORD
from tests.executions.conftest import command, start, store, wait_for
from workflows import samples as s

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("close_stray_connections")]


def two_waits() -> dict:
    return s.workflow("Two waits", [
        s.node_input("value"),
        s.node_operator("first", "delay", {"milliseconds": 1500}),
        s.node_operator("second", "delay", {"milliseconds": 4000}),
        s.node_operator("say", "log", {"level": "warning", "message": "said {{ inputs.value }}"}),
        s.node_output("out"),
    ], [
        s.data_edge("e1", "value", "value", "first", "value"),
        s.data_edge("e2", "first", "value", "second", "value"),
        s.data_edge("e3", "second", "value", "say", "value"),
        s.data_edge("e4", "say", "value", "out", "value"),
    ])


def fill(page, selector: str) -> str:
    return page.eval_on_selector(selector, "element => getComputedStyle(element).fill")


def test_the_page_follows_the_run_and_resumes_after_the_server_restarts(engine, daphne, monkeypatch) -> None:
    # Playwright's sync API keeps an event loop in this thread; the ORM calls here are plain
    # blocking calls between browser steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    workflow = store(engine, two_waits())
    console_errors: list[str] = []
    with browser_page(console_errors=console_errors) as page:
        log_in(page, daphne.url, engine.users["viewer"].username, PASSWORD)
        # Created pending and started once the page is live: a loaded machine can take longer
        # to open the page than the first wait lasts, and the page must see it running.
        execution = start(engine, workflow, {"value": "hi"}, start=False)
        page.goto(f"{daphne.url}/executions/{execution.pk}/")
        page.evaluate("window.loadedOnce = true")
        page.wait_for_selector("[data-live-status][data-live-state=live]")
        command(engine, execution, "start")

        page.wait_for_selector('[data-node-id="first"][data-state="running"]')
        running_fill = fill(page, '[data-node-id="first"] rect')
        page.wait_for_selector('[data-node-id="first"][data-state="completed"]')
        assert fill(page, '[data-node-id="first"] rect') != running_fill
        page.wait_for_function("() => document.querySelector('[data-progress-bar]').value > 0")
        assert page.text_content('[data-node-run="first"] [data-field="state"]') == "completed"

        # The web server goes away while the second wait runs, and comes back.
        page.wait_for_selector('[data-node-id="second"][data-state="running"]')
        assert console_errors == []
        daphne.stop()
        page.wait_for_selector("[data-live-status][data-live-state=reconnecting]")
        daphne.start()
        page.wait_for_selector("[data-live-status][data-live-state=live]", timeout=30000)
        # The outage's own messages, and nothing else: each reconnection attempt the stopped
        # server refused.
        refused = (f"{daphne.url}/executions/{execution.pk}/: WebSocket connection to "
                   f"'{daphne.url.replace('http', 'ws')}/ws/executions/{execution.pk}/?after_seq=")
        outage, console_errors[:] = list(console_errors), []
        assert outage and all(error.startswith(refused) and error.endswith(
            "' failed: Error in connection establishment: net::ERR_CONNECTION_REFUSED") for error in outage), outage

        page.wait_for_selector('[data-execution-state][data-state="completed"]', timeout=30000)
        finished = wait_for(execution)
        assert finished.state == "completed"
        assert page.evaluate("window.loadedOnce") is True  # never reloaded
        assert page.get_attribute("[data-execution-live]", "data-last-seq") == str(finished.event_seq)
        assert page.eval_on_selector("[data-progress-bar]", "bar => bar.value") == 100
        states = dict(NodeRun.objects.filter(execution=execution).values_list("node_id", "state"))
        shown = page.eval_on_selector_all(
            "[data-node-run]", "rows => Object.fromEntries(rows.map(row => [row.dataset.nodeRun, row.dataset.state]))")
        assert shown == states == {"value": "completed", "first": "completed", "second": "completed",
                                   "say": "completed", "out": "completed"}
        assert page.eval_on_selector_all("[data-log-tail] li", "items => items.map(item => item.textContent)") == [
            "say: said hi"]
    assert console_errors == []
