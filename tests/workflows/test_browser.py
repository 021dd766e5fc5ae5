"""The workflow page in headless Chromium: the graph is drawn, errors are highlighted, nodes open
their details by click or keyboard, a cycle shows its back edge, and a 200-node graph opens at a
readable zoom. (The canvas editor has its own tests in test_editor_browser.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from bench.workflows.generate import layered_document
from symphony_site.actors import Actor, Origin
from tests.browser import screenshot
from workflows import samples, services
from workflows.models import Workflow, WorkflowVersion
from workflows.versioning import checksum

from .conftest import invalid_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page_as(browser_session: Any, personas: Any) -> Any:
    def open_page(who: str) -> Any:
        return browser_session.page(personas.users[who], width=1300, height=900)

    return open_page


def shoot(page: Any, name: str) -> None:
    screenshot(page, f"graph-{name}")


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


def test_a_200_node_graph_opens_readable(page_as, live_server, personas) -> None:
    document = layered_document(200, width=19, seed=3)
    workflow = services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team, document=document)
    page = page_as("viewer")
    page.goto(f"{live_server.url}/workflows/{workflow.pk}/")
    assert page.locator("svg.graph g.node").count() == 200
    # Node names are 13px and types 12px in graph units; the opening zoom shows them at full size.
    width_on_screen = page.locator('svg.graph g.node[data-node-id="n00010"] rect').bounding_box()["width"]
    assert width_on_screen >= 180
    name_height = page.locator('svg.graph g.node[data-node-id="n00010"] .node-name').bounding_box()["height"]
    assert name_height >= 12
    # A long critical path is summarised: first and last three, a count, and the whole behind a click.
    summary = page.locator("#critical-path-summary").inner_text()
    assert summary.startswith("Critical path (") and "more …" in summary
    assert page.locator("details", has_text="Show all").count() == 1
    shoot(page, "large")


def test_a_node_opens_its_details_by_click_and_by_keyboard(page_as, live_server, personas) -> None:
    workflow = services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team,
                                        document=samples.branching())
    page = page_as("viewer")
    page.goto(f"{live_server.url}/workflows/{workflow.pk}/")
    details = page.locator('[data-node-detail="classify"]')
    assert not details.is_visible()
    page.locator('svg.graph g.node[data-node-id="classify"] .node-name').click()
    assert details.is_visible()
    assert details.locator("h3").inner_text() == "Classify"
    assert '"temperature": 0' in details.locator(".node-settings").inner_text()
    assert details.locator("tbody tr").all_inner_texts() == [
        "in\tprompt\tstring\tfrom Ticket · value", "out\ttext\tstring\tto Read confidence · text",
        "out\tusage\tobject\tnot connected"]
    shoot(page, "node-details")
    details.locator("[data-close-detail]").click()
    assert not details.is_visible()
    # The keyboard: nodes are links in the tab order.
    link = page.locator('[data-node-link="route"]')
    link.focus()
    page.keyboard.press("Enter")
    route = page.locator('[data-node-detail="route"]')
    assert route.is_visible()
    assert "conditional → Draft reply when inputs.value.confidence >= 0.6" in route.inner_text()


def test_a_cycle_is_drawn_with_a_marked_back_edge(page_as, live_server, personas) -> None:
    workflow = services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team,
                                        document=samples.linear())
    document = invalid_document()
    envelope = {"schema_version": "1.0.0", "created_with": "test", "workflow": document}
    version = WorkflowVersion.objects.create(workflow=workflow, version="1.2.0", major=1, minor=2, patch=0,
                                             schema_version="1.0.0", document=envelope,
                                             checksum=checksum(envelope), node_count=5, edge_count=5)
    Workflow.objects.filter(pk=workflow.pk).update(current_version=version)
    page = page_as("viewer")
    page.goto(f"{live_server.url}/workflows/{workflow.pk}/")
    xs = page.evaluate("[...document.querySelectorAll('svg.graph g.node rect')].map(r => +r.getAttribute('x'))")
    assert len(set(xs)) == 4  # the cycle's nodes keep their own columns
    back = page.locator("svg.graph g.edge.back-edge")
    assert back.count() == 1
    assert back.get_attribute("data-edge-id") == "e4"
    assert back.locator(".edge-label").text_content() == "↺ back edge"
    assert back.locator("path").evaluate("element => getComputedStyle(element).stroke") == "rgb(220, 38, 38)"
    shoot(page, "cycle")


def test_archive_asks_first_and_can_be_undone(page_as, live_server, personas) -> None:
    workflow = services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                        team=personas.team, document=samples.linear())
    page = page_as("editor")
    page.goto(f"{live_server.url}/workflows/{workflow.pk}/")
    archive = page.locator(f'form[action="/workflows/{workflow.pk}/archive/"] button')
    archive.click()
    dialog = page.locator("#confirm-dialog")
    assert dialog.is_visible()
    assert page.locator("#confirm-title").inner_text() == "Archive this workflow?"
    shoot(page, "archive-confirm")
    page.keyboard.press("Escape")  # Cancel: nothing happens
    assert not dialog.is_visible()
    workflow.refresh_from_db()
    assert not workflow.is_archived
    archive.click()
    page.locator("#confirm-yes").click()
    page.wait_for_url(f"{live_server.url}/workflows/")
    workflow.refresh_from_db()
    assert workflow.is_archived
    page.locator(".undo-message button", has_text="Undo").click()
    page.wait_for_url(f"{live_server.url}/workflows/{workflow.pk}/")
    workflow.refresh_from_db()
    assert not workflow.is_archived
