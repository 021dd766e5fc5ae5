"""The workflow pages in headless Chromium: the graph is drawn, errors are highlighted, the editor
validates as you type, and a 200-node graph opens at a readable zoom."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from bench.workflows.generate import layered_document
from symphony_site.actors import Actor, Origin
from workflows import samples, services
from workflows.models import Workflow, WorkflowVersion
from workflows.versioning import checksum

from .conftest import invalid_document

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = os.environ.get("WORKFLOW_SCREENSHOTS")  # a folder, to look at the pages yourself


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; Django's async-safety check
    # would then refuse the ORM calls the tests make between page actions.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page_as(chromium: Any, live_server: Any, personas: Any) -> Iterator[Any]:
    contexts = []

    def open_page(who: str) -> Any:
        client = Client()
        client.force_login(personas.users[who])
        context = chromium.new_context(viewport={"width": 1300, "height": 900})
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                              "url": live_server.url}])
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def shoot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_graph_is_drawn_with_every_node(page_as, live_server, personas) -> None:
    workflow = services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team,
                                        document=samples.parallel_join())
    page = page_as("viewer")
    page.goto(f"{live_server.url}/workflows/{workflow.pk}/")
    graph = page.locator("svg.graph")
    assert graph.is_visible()
    assert page.locator("svg.graph g.node").count() == 8
    assert page.locator("svg.graph g.edge").count() == 12
    assert page.locator("svg.graph g.node.kind-control").count() == 2
    box = graph.bounding_box()
    assert box["width"] > 600 and box["height"] > 150
    # The critical-path toggle works in place (no reload) and dims the other nodes.
    page.locator("[data-toggle-critical]").click()
    assert page.locator(".graph-frame.show-critical").count() == 1
    assert page.locator("[data-toggle-critical]").get_attribute("aria-pressed") == "true"
    shoot(page, "detail")
    view_before = graph.get_attribute("viewBox")
    page.locator("[data-zoom=in]").click()
    assert graph.get_attribute("viewBox") != view_before


def test_errors_of_an_invalid_version_are_listed_and_highlighted(page_as, live_server, personas) -> None:
    workflow = services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team,
                                        document=samples.linear())
    # A version saved under an older catalog can become invalid; stored directly to stand for one.
    envelope = {"schema_version": "1.0.0", "created_with": "test", "workflow": invalid_document()}
    version = WorkflowVersion.objects.create(workflow=workflow, version="1.1.0", major=1, minor=1, patch=0,
                                             schema_version="1.0.0", document=envelope,
                                             checksum=checksum(envelope), node_count=5, edge_count=5)
    Workflow.objects.filter(pk=workflow.pk).update(current_version=version)
    page = page_as("viewer")
    page.goto(f"{live_server.url}/workflows/{workflow.pk}/")
    assert page.locator(".validation-panel .issue.error").count() == 5
    assert page.locator("svg.graph g.node.has-error").count() == 3  # mystery, prompt (config), answer (cycle)
    assert page.locator("svg.graph g.edge.has-error").count() == 2
    mystery = page.locator('svg.graph g.node[data-node-id="mystery"]')
    assert mystery.is_visible()
    stroke = mystery.locator("rect").evaluate("element => getComputedStyle(element).stroke")
    assert stroke == "rgb(220, 38, 38)"
    page.locator('.issue[data-node-id="mystery"]').first.hover()
    assert "focus" in mystery.get_attribute("class")
    shoot(page, "invalid")


def test_editor_validates_live(page_as, live_server, personas) -> None:
    page = page_as("editor")
    page.goto(f"{live_server.url}/workflows/new/")
    status = page.locator("#live-status")
    page.locator("#document").fill(json.dumps(invalid_document(), indent=2))
    page.wait_for_function("document.querySelector('#live-status').textContent.includes('error(s)')")
    assert status.inner_text().startswith("5 error(s): Node 'mystery'")
    page.wait_for_selector("#graph-preview svg.graph g.node.has-error")
    assert page.locator("#graph-preview .issue.error").count() == 5
    shoot(page, "editor-invalid")
    page.locator("#document").fill(json.dumps(samples.branching(), indent=2))
    page.wait_for_function("document.querySelector('#live-status').textContent.startsWith('Valid')")
    page.wait_for_function("document.querySelectorAll('#graph-preview svg.graph g.node').length === 7")
    assert page.locator("#graph-preview svg.graph g.node.has-error").count() == 0
    # The connect form now offers the ports of the typed document.
    page.wait_for_function("[...document.querySelectorAll('#target option')].some(o => o.value === 'route|value')")
    page.locator("#document").fill("{ not json")
    page.wait_for_function("document.querySelector('#live-status').textContent.startsWith('Not valid JSON')")
    assert Workflow.objects.count() == 0  # validating stores nothing


def test_editor_form_adds_a_node_and_saves(page_as, live_server, personas) -> None:
    page = page_as("editor")
    page.goto(f"{live_server.url}/workflows/new/")
    page.locator("#node_type").select_option("operator:log")
    page.locator("#node_name").fill("Note")
    page.locator("button[value=add_node]").click()
    page.wait_for_selector('svg.graph g.node[data-node-id="note"]')
    page.locator("#source").select_option("input|value")
    page.locator("#target").select_option("note|value")
    page.locator("button[value=connect]").click()
    page.wait_for_selector('svg.graph g.edge[data-edge-id="e2"]')
    page.locator("button[value=save]").click()
    page.wait_for_url(f"{live_server.url}/workflows/*/")
    workflow = Workflow.objects.get()
    nodes = [node["id"] for node in workflow.current_version.document["workflow"]["nodes"]]
    assert nodes == ["input", "output", "note"]
    assert page.locator("svg.graph g.node").count() == 3


def test_a_200_node_graph_opens_readable(page_as, live_server, personas) -> None:
    document = layered_document(200, width=19, seed=3)
    workflow = services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team, document=document)
    page = page_as("viewer")
    page.goto(f"{live_server.url}/workflows/{workflow.pk}/")
    assert page.locator("svg.graph g.node").count() == 200
    # Node labels are drawn at 13px in graph units; at the opening zoom they stay legible on screen.
    width_on_screen = page.locator('svg.graph g.node[data-node-id="n00010"] rect').bounding_box()["width"]
    assert width_on_screen >= 100
    shoot(page, "large")
