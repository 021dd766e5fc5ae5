"""The canvas editor in headless Chromium: a branching workflow built with the mouse only and with
the keyboard only, saved and read back through the API; an incompatible connection refused; undo
and redo; the JSON tab in step with the canvas; an invalid workflow saved only as a draft."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from symphony_site.actors import Actor, Origin
from tests.browser import screenshot
from workflows import documents, samples, services
from workflows.models import Workflow, WorkflowVersion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1700, "height": 1000}


def open_editor(browser_session: Any, personas: Any, path: str = "/workflows/new/", who: str = "editor") -> Any:
    page = browser_session.page(personas.users[who], **WIDE)
    page.goto(f"{browser_session.base_url}{path}")
    page.wait_for_selector("#editor-app[data-ready]")
    return page


def document_of(page: Any) -> dict[str, Any]:
    return page.evaluate("window.symphonyEditor.store.document")


def wait_valid(page: Any) -> None:
    """Until the page says the workflow is valid and offers to save a version."""
    page.wait_for_function("() => document.querySelector('#validation-status').textContent.startsWith('Valid')"
                           " && document.querySelector('#save-button').dataset.mode === 'version'")


def center(locator: Any) -> tuple[float, float]:
    from playwright.sync_api import Error

    # The canvas redraws an element when validation marks it; a redraw mid-measure is retried.
    for _ in range(5):
        try:
            locator.scroll_into_view_if_needed(timeout=3000)
            box = locator.bounding_box(timeout=3000)
        except Error:
            continue
        if box is not None:
            return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    raise AssertionError(f"{locator} kept moving")


def drag(page: Any, source: Any, to: tuple[float, float]) -> None:
    """Press on `source`, move to `to` (measured before the press: the canvas redraws on it)."""
    x, y = center(source)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(*to, steps=8)
    page.mouse.up()


def place(page: Any, palette_selector: str, x: float, y: float) -> str:
    """Drag a palette entry onto the canvas at (x, y) from its corner; the new node's id."""
    before = {node["id"] for node in document_of(page)["nodes"]}
    box = page.locator("#editor-canvas").bounding_box()
    drag(page, page.locator(f".palette-item{palette_selector}"), (box["x"] + x, box["y"] + y))
    added = [node["id"] for node in document_of(page)["nodes"] if node["id"] not in before]
    assert len(added) == 1, palette_selector
    return added[0]


def port(page: Any, node_id: str, side: str, name: str) -> Any:
    return page.locator(f'#editor-canvas .node[data-node-id="{node_id}"] .port.{side}[data-port="{name}"] circle')


def connect(page: Any, source: str, source_port: str, target: str, target_port: str) -> None:
    drag(page, port(page, source, "out", source_port), center(port(page, target, "in", target_port)))


def connect_flow(page: Any, source: str, target: str) -> None:
    drag(page, page.locator(f'#editor-canvas .node[data-node-id="{source}"] .flow-out'),
         center(page.locator(f'#editor-canvas .node[data-node-id="{target}"] .node-name')))


def click_node(page: Any, node_id: str) -> None:
    page.locator(f'#editor-canvas .node[data-node-id="{node_id}"] .node-name').click()
    page.wait_for_function(f"() => document.querySelector('#inspector-title').textContent.startsWith('Node: ')"
                           f" && document.querySelector('#editor-canvas .node.selected')?.dataset.nodeId === {json.dumps(node_id)}")


def click_edge(page: Any, edge_id: str, along: float = 0.5) -> None:
    """Click a point on an edge's line (its box's centre may be off the curve)."""
    point = page.evaluate("""([id, along]) => {
      const path = document.querySelector(`#editor-canvas .edge[data-edge-id="${id}"] .edge-hit`);
      const middle = path.getPointAtLength(path.getTotalLength() * along);
      const screen = middle.matrixTransform(path.getScreenCTM());
      return [screen.x, screen.y];
    }""", [edge_id, along])
    page.mouse.click(*point)
    page.wait_for_function(f"() => document.querySelector('#inspector-title').textContent === 'Edge {edge_id}'")


def settings_field(page: Any, name: str) -> Any:
    locator = page.locator(f"#settings-form [name=param__{name}]")
    locator.wait_for()
    return locator


def edges_by_kind(document: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    return sorted((edge["kind"], edge["source"], edge.get("source_port") or "", edge["target"],
                   edge.get("target_port") or edge.get("condition") or "") for edge in document["edges"])


def stored_through_the_api(personas: Any, workflow: Workflow) -> dict[str, Any]:
    answer = personas.client("viewer").get(f"/api/v1/workflows/{workflow.pk}/")
    assert answer.status_code == 200
    return answer.json()["document"]["workflow"]


def canonical(document: dict[str, Any], workflow: Workflow, version: str) -> dict[str, Any]:
    return {**documents.prepare(document).workflow, "id": str(workflow.pk), "version": version}


def test_mouse_builds_a_branching_workflow_and_the_api_returns_it(browser_session, personas) -> None:
    page = open_editor(browser_session, personas)
    assert page.locator("#canvas-empty").is_visible()
    ticket = place(page, "[data-kind=input]", 40, 40)
    parse = place(page, '[data-type="json_parse"]', 300, 40)
    route = place(page, '[data-type="branch"]', 560, 40)
    draft = place(page, '[data-type="local/echo"]', 820, 20)
    escalate = place(page, '[data-type="log"]', 820, 220)
    result = place(page, "[data-kind=output]", 560, 300)
    assert [ticket, parse, route, draft, escalate, result] == ["input", "parse_json", "branch", "echo_test_model", "log",
                                                               "output"]
    assert not page.locator("#canvas-empty").is_visible()

    connect(page, ticket, "value", parse, "text")
    connect(page, parse, "value", route, "value")
    connect(page, ticket, "value", draft, "prompt")
    connect(page, draft, "text", result, "value")
    connect_flow(page, route, draft)
    connect_flow(page, route, escalate)
    built = document_of(page)
    assert edges_by_kind(built) == [
        ("conditional", "branch", "", "echo_test_model", "inputs.value > 0"),
        ("conditional", "branch", "", "log", "inputs.value > 0"),
        ("data", "echo_test_model", "text", "output", "value"),
        ("data", "input", "value", "echo_test_model", "prompt"),
        ("data", "input", "value", "parse_json", "text"),
        ("data", "parse_json", "value", "branch", "value"),
    ]

    # The settings form: the branch's condition, the log's level, the model's temperature.
    click_node(page, route)
    assert "inputs.value (any; from Parse JSON · value)" in page.locator("#settings-form .expression-hint").inner_text()
    settings_field(page, "condition").fill("inputs.value.confident")
    click_node(page, escalate)
    settings_field(page, "level").select_option("warning")
    click_node(page, draft)
    settings_field(page, "temperature").fill("0.7")
    page.wait_for_function("() => window.symphonyEditor.store.node('echo_test_model').config.temperature === 0.7")
    # The second conditional edge takes the other way.
    click_edge(page, "e6")
    page.locator("#edge-condition").fill("not inputs.value.confident")
    page.locator("#edge-label").fill("unsure")
    # The workflow's own name, with nothing selected.
    page.locator("#editor-canvas").click(position={"x": 20, "y": 460})
    page.locator("#workflow-name").fill("Route tickets")
    wait_valid(page)
    assert page.locator("#save-button").inner_text() == "Create workflow"
    screenshot(page, "editor-branching-desktop")
    built = document_of(page)
    assert built["nodes"][2]["condition"] == "inputs.value.confident"
    assert built["nodes"][4]["config"]["level"] == "warning"
    page.locator("#save-button").click()
    page.wait_for_url(re.compile(r".*/workflows/[0-9a-f-]{36}/$"))

    workflow = Workflow.objects.get()
    assert page.url.endswith(f"/workflows/{workflow.pk}/")
    assert (workflow.name, workflow.team, workflow.current_version.version) == ("Route tickets", personas.team, "1.0.0")
    assert stored_through_the_api(personas, workflow) == canonical(built, workflow, "1.0.0")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('symphony:editor-draft'))") == []


WHERE_IS = """(selector) => {
  const target = document.querySelector(selector);
  const active = document.activeElement;
  if (active === target) return "here";
  const before = active && active !== document.body && (active.compareDocumentPosition(target) & Node.DOCUMENT_POSITION_PRECEDING);
  return before ? "back" : "forward";
}"""


def tab_to(page: Any, selector: str, limit: int = 120) -> None:
    """Press Tab (or Shift+Tab, towards where the element is) until `selector` has the focus."""
    page.wait_for_selector(selector, state="attached")
    for _ in range(limit):
        where = page.evaluate(WHERE_IS, selector)
        if where == "here":
            return
        page.keyboard.press("Shift+Tab" if where == "back" else "Tab")
    raise AssertionError(f"Tab never reached {selector}")


def add_with_keyboard(page: Any, search: str) -> None:
    tab_to(page, "#palette-search")
    page.keyboard.press("Control+A")
    page.keyboard.type(search)
    page.keyboard.press("Enter")  # to the first match
    page.keyboard.press("Enter")  # add it


def open_tab(page: Any, name: str) -> None:
    """Tab to the tab list, then arrow keys to the tab wanted (tabs take one Tab stop)."""
    tab_to(page, "[role=tab][aria-selected=true]")
    for _ in range(3):
        if page.evaluate("document.activeElement.dataset.tab") == name:
            return
        page.keyboard.press("ArrowRight")
    raise AssertionError(f"no {name} tab")


def select_in_outline(page: Any, node_id: str) -> None:
    open_tab(page, "outline")
    tab_to(page, f'.outline-select[data-key="node:{node_id}"]')
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "inspector-title"


def choose(page: Any, selector: str, text: str) -> None:
    """Pick the option of a focused select by typing its first letters, as a keyboard user does."""
    tab_to(page, selector)
    page.keyboard.type(text)


def test_keyboard_alone_builds_a_branching_workflow(browser_session, personas) -> None:
    page = open_editor(browser_session, personas)
    page.keyboard.press("Tab")  # the skip link first: the page starts at the top
    for search in ["input", "branch", "log", "echo", "output"]:
        add_with_keyboard(page, search)
    assert [node["id"] for node in document_of(page)["nodes"]] == ["input", "branch", "log", "echo_test_model", "output"]

    for source, target in [("input", "Branch"), ("input", "Echo"), ("echo_test_model", "Output")]:
        select_in_outline(page, source)
        choose(page, "#connect-to", target)
        tab_to(page, "#connect-ports-button")
        page.keyboard.press("Enter")
    for target, condition in [("Log", "inputs.value == 'help'"), ("Echo", "inputs.value != 'help'")]:
        select_in_outline(page, "branch")
        choose(page, "#flow-to", target)
        tab_to(page, "#flow-condition")
        page.keyboard.press("Control+A")
        page.keyboard.type(condition)
        tab_to(page, "#add-flow-button")
        page.keyboard.press("Enter")
    select_in_outline(page, "branch")
    tab_to(page, "#f-param__condition")
    page.keyboard.press("Control+A")
    page.keyboard.type("inputs.value | length > 0")
    page.wait_for_function("() => window.symphonyEditor.store.node('branch').condition === 'inputs.value | length > 0'")
    wait_valid(page)
    built = document_of(page)
    assert edges_by_kind(built) == [
        ("conditional", "branch", "", "echo_test_model", "inputs.value != 'help'"),
        ("conditional", "branch", "", "log", "inputs.value == 'help'"),
        ("data", "echo_test_model", "text", "output", "value"),
        ("data", "input", "value", "branch", "value"),
        ("data", "input", "value", "echo_test_model", "prompt"),
    ]
    # Arrow keys move the node that has the focus, one undoable step per burst.
    open_tab(page, "canvas")
    tab_to(page, '#editor-canvas .node[data-node-id="log"]')
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    moved = document_of(page)["nodes"][2]["position"]
    assert moved["y"] == built["nodes"][2]["position"]["y"] + 20
    tab_to(page, "#save-button")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/workflows/[0-9a-f-]{36}/$"))
    workflow = Workflow.objects.get()
    assert stored_through_the_api(personas, workflow) == canonical(document_of_saved(built, moved), workflow, "1.0.0")


def document_of_saved(built: dict[str, Any], moved: dict[str, Any]) -> dict[str, Any]:
    saved = json.loads(json.dumps(built))
    saved["nodes"][2]["position"] = moved
    return saved


def test_an_incompatible_connection_is_refused_while_dragging(browser_session, personas) -> None:
    page = open_editor(browser_session, personas)
    embed = place(page, '[data-type="openai/text-embedding-3-small"]', 40, 40)
    model = place(page, '[data-type="local/echo"]', 400, 40)
    source = port(page, embed, "out", "embedding")
    target = port(page, model, "in", "prompt")
    start, end = center(source), center(target)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    # While dragging: the string input is marked refused and the reason is shown.
    refused = page.locator(f'#editor-canvas .node[data-node-id="{model}"] .port.in[data-port="prompt"]')
    assert "refuse" in refused.get_attribute("class")
    assert page.locator("#canvas-hint").inner_text() == (
        "Refused: array<number> cannot flow into string: Echo (test model) · prompt expects string.")
    screenshot(page, "editor-refused-connection")
    page.mouse.up()
    assert document_of(page)["edges"] == []
    assert "refuse" not in refused.get_attribute("class")
    # The keyboard's connect form offers the same port only as disabled.
    click_node(page, embed)
    option = page.locator("#connect-to option", has_text="Echo (test model) · prompt (string)")
    assert option.is_disabled()
    assert option.inner_text() == "Echo (test model) · prompt (string) — incompatible"


def test_undo_and_redo(browser_session, personas) -> None:
    page = open_editor(browser_session, personas)
    first = place(page, "[data-kind=input]", 40, 40)
    second = place(page, "[data-kind=output]", 400, 40)
    connect(page, first, "value", second, "value")
    assert len(document_of(page)["edges"]) == 1
    click_node(page, first)
    page.locator("#delete-button").click()
    assert [node["id"] for node in document_of(page)["nodes"]] == ["output"]
    assert document_of(page)["edges"] == []  # its edge went with it
    assert page.locator("#undo-button").get_attribute("title") == "Undo: Delete 1 node (Ctrl+Z)"
    page.locator("#undo-button").click()
    assert [node["id"] for node in document_of(page)["nodes"]] == ["input", "output"]
    assert len(document_of(page)["edges"]) == 1
    assert page.locator('#editor-canvas .edge[data-edge-id="e1"]').count() == 1
    page.locator("#redo-button").click()
    assert [node["id"] for node in document_of(page)["nodes"]] == ["output"]
    # The keyboard shortcuts do the same, back to the empty canvas and forward again.
    page.locator("#editor-canvas").focus()
    for _ in range(4):
        page.keyboard.press("Control+Z")
    assert document_of(page)["nodes"] == []
    assert page.locator("#undo-button").is_disabled()
    page.keyboard.press("Control+Shift+Z")
    page.keyboard.press("Control+Y")
    assert [node["id"] for node in document_of(page)["nodes"]] == ["input", "output"]
    # Auto-layout places the nodes in layers as one step.
    page.locator("[data-command=layout]").click()
    page.wait_for_function("() => window.symphonyEditor.store.undoLabel === 'Auto-layout'")
    placed = {node["id"]: node["position"] for node in document_of(page)["nodes"]}
    # Unconnected, both are in the first layer: one column, one above the other.
    assert placed["input"]["x"] == placed["output"]["x"] == 40
    assert placed["output"]["y"] > placed["input"]["y"]
    page.locator("#undo-button").click()
    # Copy and paste make fresh ids; undo takes the paste back.
    click_node(page, first)
    page.keyboard.press("Control+C")
    page.keyboard.press("Control+V")
    assert [node["id"] for node in document_of(page)["nodes"]] == ["input", "output", "input_2"]
    page.keyboard.press("Control+Z")
    assert [node["id"] for node in document_of(page)["nodes"]] == ["input", "output"]


def test_the_json_tab_and_the_canvas_stay_in_step(browser_session, personas) -> None:
    page = open_editor(browser_session, personas)
    place(page, "[data-kind=input]", 40, 40)
    page.locator("#tab-button-json").click()
    shown = json.loads(page.locator("#json-text").input_value())
    assert [node["id"] for node in shown["nodes"]] == ["input"]

    # An edit in the JSON shows on the canvas.
    shown["nodes"][0]["name"] = "Question"
    page.locator("#json-text").fill(json.dumps(shown, indent=2))
    page.wait_for_function("() => window.symphonyEditor.store.node('input').name === 'Question'")
    page.locator("#tab-button-canvas").click()
    assert page.locator('#editor-canvas .node[data-node-id="input"] .node-name').text_content() == "Question"

    # Invalid JSON is reported, not applied, and kept as typed — even when the canvas changes.
    page.locator("#tab-button-json").click()
    page.locator("#json-text").fill('{"nodes": [')
    page.wait_for_selector("#json-error:not([hidden])")
    assert page.locator("#json-error").inner_text().startswith("Not applied — the JSON is not valid:")
    assert page.locator("#json-text").get_attribute("aria-invalid") == "true"
    assert document_of(page)["nodes"][0]["name"] == "Question"
    page.locator("#undo-button").click()  # back to "Input"
    assert document_of(page)["nodes"][0]["name"] == "Input"
    assert page.locator("#json-text").input_value() == '{"nodes": ['
    assert page.locator("#json-conflict").is_visible()
    screenshot(page, "editor-json-conflict")
    page.locator("[data-json-discard]").click()
    assert json.loads(page.locator("#json-text").input_value()) == document_of(page)
    assert not page.locator("#json-error").is_visible()


def test_an_invalid_workflow_is_only_a_draft_and_comes_back(browser_session, personas) -> None:
    workflow = services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team, document=samples.branching())
    page = open_editor(browser_session, personas, f"/workflows/{workflow.pk}/edit/")
    # Stored nodes have no place yet: the server's layered layout spreads them out.
    xs = page.evaluate("[...document.querySelectorAll('#editor-canvas .node')].map(n => n.transform.baseVal[0].matrix.e)")
    assert len(set(xs)) == 6  # six layers
    wait_valid(page)
    assert page.locator("#save-button").inner_text() == "Save version"
    click_edge(page, "e1", along=0.85)  # near its end: it leaves the port it shares with e6
    page.keyboard.press("Delete")
    page.wait_for_function("() => document.querySelector('#validation-status').textContent.includes('problem')")
    problem = page.locator("#problem-list .issue.error", has_text="classify").first
    assert page.locator('#editor-canvas .node.has-error[data-node-id="classify"]').count() == 1
    title = page.locator('#editor-canvas .node[data-node-id="classify"] > title').text_content()
    assert "Required input 'prompt' of node 'classify' is not connected" in title
    problem.locator("button").click()
    assert page.locator("#inspector-title").inner_text() == "Node: Classify"
    assert page.locator("#save-button").inner_text() == "Save draft"
    page.locator("#save-button").click()
    page.wait_for_function("() => document.querySelector('#save-status').textContent.startsWith('Draft saved')")
    assert WorkflowVersion.objects.filter(workflow=workflow).count() == 1  # never a version
    screenshot(page, "editor-draft")

    page.reload()
    page.wait_for_selector("#editor-app[data-ready]")
    assert page.locator("#draft-banner").is_visible()
    page.locator("#draft-restore").click()
    assert [edge["id"] for edge in document_of(page)["edges"]] == ["e2", "e3", "e4", "e5", "e6", "e7"]
    page.locator("#undo-button").click()  # back to the saved version, which is valid
    wait_valid(page)
    page.locator("#workflow-name").fill("Triage, reworded")
    wait_valid(page)
    page.locator("#save-button").click()
    page.wait_for_url(f"**/workflows/{workflow.pk}/")
    workflow.refresh_from_db()
    assert (workflow.name, workflow.current_version.version) == ("Triage, reworded", "1.0.1")


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_a_reader_opening_the_editor_gets_the_styled_refusal(browser_session, personas, who) -> None:
    workflow = services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team, document=samples.linear())
    page = browser_session.page(personas.users[who])
    url = f"{browser_session.base_url}/workflows/{workflow.pk}/edit/"
    answer = page.goto(url)
    assert answer.status == 403
    assert browser_session.console_errors == [
        f"{url}: Failed to load resource: the server responded with a status of 403 (Forbidden)"]
    browser_session.console_errors.clear()  # the refusal itself, and nothing else
    assert page.locator("h1").inner_text() == "You can't do this here"
    assert "to edit workflows you need editor or higher" in page.locator("main").inner_text()
    assert page.locator("nav.mainnav").is_visible()  # the site's layout, with a way back
    assert page.locator("main a", has_text="Go to your workflows").count() == 1
