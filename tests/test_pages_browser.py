"""Every main page as each role, in headless Chromium: no serious or critical accessibility
violation (axe-core), no console error, no sideways scrolling and a one-line header on a phone;
screenshots at desktop and phone width are kept under var/browser-artefacts/ (not committed)."""

from __future__ import annotations

from typing import Any

import pytest

from symphony_site.actors import Actor, Origin
from tests.browser import screenshot
from tests.conftest import ROLES, make_user
from workflows import samples, services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1300, "height": 900}
PHONE = {"width": 390, "height": 800}
# axe's WCAG 2.1 A/AA rules and its best practices; only serious and critical findings fail.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
               "resultTypes": ["violations"]}
EDITORS = {"owner", "admin", "editor"}
OPERATORS = {"owner", "admin", "editor", "operator"}
AUDIT_READERS = {"owner", "admin"}


@pytest.fixture
def site(personas: Any) -> dict[str, Any]:
    """A team with a workflow in two versions, and a marketplace of four demo templates (two
    featured and verified)."""
    from templates_app import services as template_services
    from templates_app.catalog import ENTRIES

    staff = make_user("curator", is_staff=True)
    for entry in [entry for entry in ENTRIES if entry["featured"]][:2] + [entry for entry in ENTRIES if not entry["verified"]][:2]:
        template = template_services.template_publish(
            actor=Actor.of(personas.users["admin"]), origin=Origin.command(), team=personas.team, name=entry["name"], description=entry["description"],
            category=entry["category"], tags=entry["tags"], visibility="public", version=entry["version"],
            slug=entry["slug"])
        if entry["featured"]:
            template_services.template_set_verified(actor=Actor.of(staff), origin=Origin.command(), template=template, verified=True)
            template_services.template_set_featured(actor=Actor.of(staff), origin=Origin.command(), template=template, featured=True)
    workflow = services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), team=personas.team,
                                        document=samples.branching())
    document = samples.branching() | {"description": "Now with a longer description."}
    services.workflow_update(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), workflow=workflow, document=document)
    # Executions, run here by the engine's step task function: one completed, one waiting for input.
    from executions import demo
    from executions.services import execution_start

    operator = Actor.of(personas.users["operator"])
    runs = {}
    for name, build, inputs in [("completed", demo.greet_a_guest, {"name": "Ada"}),
                                ("waiting", demo.approve_a_headline, {"draft": "Text"})]:
        demo_workflow = services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                                 team=personas.team, document=build())
        runs[name] = demo.step_in_process(execution_start(actor=operator, origin=Origin.command(),
                                                          workflow=demo_workflow, inputs=inputs))
    return {"workflow": workflow, "completed": runs["completed"], "waiting": runs["waiting"]}


def pages_for(role: str, site: dict[str, Any]) -> dict[str, tuple[str, int]]:
    """name → (path, expected status) of every main page, as `role` sees it."""
    wid = site["workflow"].pk
    return {
        "home": ("/", 200),
        "workflows": ("/workflows/", 200),
        "workflow": (f"/workflows/{wid}/", 200),
        "diff": (f"/workflows/{wid}/diff/?from=1.0.0&to=1.0.1", 200),
        "editor": (f"/workflows/{wid}/edit/", 200 if role in EDITORS else 403),
        "new-workflow": ("/workflows/new/", 200 if role in EDITORS else 403),
        "marketplace": ("/templates/", 200),
        "template": ("/templates/triage-support-tickets/", 200),
        "save-as-template": (f"/templates/from-workflow/{wid}/", 200 if role in EDITORS else 403),
        "executions": ("/executions/", 200),
        "execution": (f"/executions/{site['completed'].pk}/", 200),
        "waiting-execution": (f"/executions/{site['waiting'].pk}/", 200),
        "run": (f"/executions/run/{wid}/", 200 if role in OPERATORS else 403),
        "audit": ("/audit/", 200 if role in AUDIT_READERS else 403),
        "team": ("/team/", 200),
        "not-found": ("/workflows/00000000-0000-0000-0000-000000000000/", 404),
    }


def serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS).response
    return [f"{item['id']} ({item['impact']}): {item['help']} — {[node['target'] for node in item['nodes']][:3]}"
            for item in results["violations"] if item["impact"] in {"serious", "critical"}]


def visit(page: Any, base_url: str, path: str, status: int) -> None:
    answer = page.goto(f"{base_url}{path}", wait_until="load")
    assert answer.status == status, path
    if page.locator("#editor-app").count():
        page.wait_for_selector("#editor-app[data-ready]")


def expected_errors(base_url: str, path: str, status: int) -> list[str]:
    """The one console message a refused or missing page produces: its own status."""
    if status == 200:
        return []
    reason = {403: "Forbidden", 404: "Not Found"}[status]
    return [f"{base_url}{path}: Failed to load resource: the server responded with a status of {status} ({reason})"]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_accessible_to_each_role(browser_session, personas, site, role) -> None:
    page = browser_session.page(personas.users[role], **DESKTOP)
    problems: dict[str, list[str]] = {}
    for name, (path, status) in pages_for(role, site).items():
        visit(page, browser_session.base_url, path, status)
        found = serious_violations(page)
        if found:
            problems[name] = found
        assert browser_session.console_errors == expected_errors(browser_session.base_url, path, status), name
        browser_session.console_errors.clear()
        if role == "editor" or status != 200 or name == "audit":
            screenshot(page, f"{role}-{name}-desktop")
    assert problems == {}, "\n".join(f"{name}: {item}" for name, items in problems.items() for item in items)


def test_the_login_page_is_accessible(browser_session) -> None:
    page = browser_session.page(None, **DESKTOP)
    visit(page, browser_session.base_url, "/login/", 200)
    assert serious_violations(page) == []
    screenshot(page, "anonymous-login-desktop")


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_every_page_fits_a_phone(browser_session, personas, site, role) -> None:
    page = browser_session.page(personas.users[role], **PHONE)
    for name, (path, status) in pages_for(role, site).items():
        visit(page, browser_session.base_url, path, status)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow == 0, name
        header = page.locator("header.topbar").bounding_box()
        assert header["height"] <= 56, name  # one line: brand and the menu button
        browser_session.console_errors.clear()  # the desktop test checks them, page by page
        screenshot(page, f"{role}-{name}-phone")
    # The menu opens with the navigation and the account.
    page.locator("[data-menu-toggle]").click()
    assert page.locator("nav.mainnav a").all_inner_texts() == ["Workflows", "Templates", "Executions", "Audit"]
    assert page.locator("#team-select").is_visible()


def test_the_marketplace_landing_on_a_phone_shows_a_card_first(browser_session, personas, site) -> None:
    page = browser_session.page(personas.users["editor"], **PHONE)
    visit(page, browser_session.base_url, "/templates/", 200)
    assert page.locator("#curated-title").inner_text() == "Featured and verified"
    first_card = page.locator(".tpl-curated .tpl-card").first.bounding_box()
    assert first_card["y"] < PHONE["height"]  # the facets wait behind "Filters"
    assert not page.locator("#tpl-facets").is_visible()
    page.locator("[data-filters-toggle]").click()
    assert page.locator("#tpl-facets").is_visible()
    # The verified badge stays on one line.
    badge = page.locator(".tpl-card .badge.ok").first.bounding_box()
    assert badge["height"] < 24
