"""The marketplace in headless Chromium: instant search, typo tolerance, facets, Use template."""

from __future__ import annotations

import os

import pytest

from symphony_site.actors import Actor, Origin
from tests.browser import browser_page, log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = os.environ.get("SCREENSHOT_DIR", "")


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_marketplace_search_facets_and_use_template(personas, live_server) -> None:
    from symphony_site.management.commands.seed_demo import seed_teams
    from templates_app.catalog import ENTRIES
    from templates_app.demo import seed_templates
    from workflows.models import Workflow

    seed_templates(seed_teams())
    with browser_page() as page:
        log_in(page, live_server.url, personas.users["editor"].username, PASSWORD)
        page.goto(f"{live_server.url}/templates/")
        assert page.locator("[data-results] .tpl-card").count() == 24
        assert page.locator("text=More templates").count() == 1
        assert page.locator(".tpl-facets li").first.inner_text().split()[-1].isdigit()
        _shot(page, "marketplace")

        # Instant results: typing fetches the API, no submit.
        page.fill("#tpl-q", "translat")
        page.wait_for_function("() => document.querySelectorAll('[data-results] .tpl-card').length < 10")
        names = page.locator("[data-results] .tpl-card h3").all_inner_texts()
        assert names[0] == "Translate text"
        assert set(names) == {"Translate text", "Localize UI strings", "Translate and check the translation",
                              "Detect the language of a text"}
        assert "q=translat" in page.url

        # A typo still finds the template, and says so.
        page.fill("#tpl-q", "invoce")
        page.wait_for_selector("[data-typo-note]")
        assert page.locator("[data-typo-note]").inner_text() == (
            "No exact match for “invoce”; showing results for “invoice”.")
        assert page.locator("[data-results] .tpl-card h3").first.inner_text() == "Extract invoice data"
        _shot(page, "typo")

        # Facets narrow the results (a plain link, it works without JavaScript too).
        page.fill("#tpl-q", "")
        page.wait_for_function("() => document.querySelectorAll('[data-results] .tpl-card').length == 24")
        page.click(".tpl-facets a:text-is('approvals')")
        page.wait_for_load_state("domcontentloaded")
        assert sorted(page.locator("[data-results] .tpl-card h3").all_inner_texts()) == sorted(
            entry["name"] for entry in ENTRIES if entry["category"] == "approvals")

        # The template page: graph, generated form, Use template.
        page.goto(f"{live_server.url}/templates/summarize-document/")
        assert page.locator("svg.graph .node").count() == 4
        assert page.locator(".tpl-group legend").all_inner_texts() == ["Style", "Model", "New workflow"]
        page.select_option("select[name=param__model]", "local/echo")
        page.check("input[name=param__bullets]")
        page.fill("#use-name", "Board summaries")
        _shot(page, "template")
        page.click("button:text('Use template')")
        page.wait_for_url(f"{live_server.url}/workflows/*/")
        landed = page.url
        assert "Created Board summaries in Alpha" in page.locator(".messages").inner_text()
    # The ORM refuses to run inside Playwright's event loop: check the database afterwards.
    workflow = Workflow.objects.get(name="Board summaries")
    assert landed == f"{live_server.url}/workflows/{workflow.pk}/"
    assert workflow.team == personas.team
    assert workflow.template_origin.parameters["bullets"] is True


def test_marketplace_and_template_page_fit_a_phone(personas, live_server) -> None:
    from templates_app import services
    from tests.templates_app.conftest import summary_version

    services.template_publish(actor=Actor.of(personas.users["admin"]), origin=Origin.command(),
                              team=personas.team, name="Summarize a text",
                              description="Summaries.", category="summarization", tags=["summarization"],
                              visibility="public", version=summary_version())
    with browser_page(width=390, height=800) as page:
        log_in(page, live_server.url, personas.users["editor"].username, PASSWORD)
        for path in ["/templates/", "/templates/summarize-a-text/"]:
            page.goto(f"{live_server.url}{path}")
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow == 0, path
            _shot(page, "phone" + path.replace("/", "-"))
