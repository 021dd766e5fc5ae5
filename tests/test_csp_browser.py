"""The Content-Security-Policy without 'unsafe-inline' for styles, in headless Chromium: the pages
the other browser suites do not open (the admin's, the API docs, the triggers page that shows a new
webhook's secret, a team page with usage bars, the template pages with rated stars) raise no `securitypolicyviolation` event and log no console error.

The main pages of every role are opened under the same policy by tests/test_pages_browser.py,
the live execution page by tests/live/test_browser_live.py and tests/executions/test_browser_pages.py,
the editor's gestures (its wire and marquee) by tests/workflows/test_editor_browser.py: each fails
on a console error, which a refused style is."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.utils import timezone

from instruments.models import ModelCall
from symphony_site.actors import Actor, Origin
from templates_app.models import Template
from templates_app.services import template_rate
from tests.conftest import make_user
from tests.test_pages_browser import site  # noqa: F401 (a fixture: the team, its workflow, runs and templates)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every violation the page reports, kept on the window (an init script runs before the page's own).
WATCH = ("window.cspViolations = []; document.addEventListener('securitypolicyviolation', (event) =>"
         " window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`));")


def watched_page(browser_session: Any, user: Any) -> Any:
    page = browser_session.page(user)
    page.add_init_script(WATCH)
    return page


def open_page(page: Any, base_url: str, path: str) -> list[str]:
    """The violations `path` reports once loaded."""
    answer = page.goto(f"{base_url}{path}", wait_until="load")
    assert answer.status == 200, path
    return violations(page)


def violations(page: Any) -> list[str]:
    page.wait_for_timeout(100)  # the events are dispatched as tasks after the refusal
    return list(page.evaluate("() => window.cspViolations"))


def test_admin_pages_satisfy_the_policy(browser_session, personas, site) -> None:  # noqa: F811
    staff = make_user("curator-admin", is_staff=True, is_superuser=True)
    page = watched_page(browser_session, staff)
    found: dict[str, list[str]] = {}
    paths = ["/admin/"]
    for model in admin.site._registry:
        meta = model._meta
        paths.append(f"/admin/{meta.app_label}/{meta.model_name}/")
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            paths.append(f"/admin/{meta.app_label}/{meta.model_name}/{first.pk}/change/")
    assert len(paths) > 10
    folded: list[str] = []  # white-space of the admin helpers' folded JSON, styled by admin.css
    for path in paths:
        found[path] = open_page(page, browser_session.base_url, path)
        folded += page.locator("pre.folded").evaluate_all("(all) => all.map((pre) => getComputedStyle(pre).whiteSpace)")
    assert {path: items for path, items in found.items() if items} == {}
    assert folded and set(folded) == {"pre-wrap"}


def test_the_api_docs_satisfy_the_policy(browser_session, personas) -> None:
    page = watched_page(browser_session, personas.users["viewer"])
    page.goto(f"{browser_session.base_url}/api/docs/", wait_until="load")
    page.wait_for_selector(".opblock")
    page.locator(".opblock-summary").first.click()
    page.wait_for_selector(".opblock-body")
    assert page.evaluate("() => getComputedStyle(document.body).margin") == "0px"  # api-docs.css applies
    assert violations(page) == []


def test_template_stars_team_usage_and_a_new_webhook_satisfy_the_policy(browser_session, personas, site) -> None:  # noqa: F811
    template = Template.objects.get(slug="triage-support-tickets")
    for stars, who in [(4, "viewer"), (5, "operator"), (4, "editor")]:  # 4.3 stars: 17 quarters
        template_rate(actor=Actor.of(personas.users[who]), origin=Origin.command(), template=template, stars=stars)
    ModelCall.objects.all().delete()  # the site's demo runs' calls: the bars below are these two days alone
    ModelCall.objects.bulk_create([
        ModelCall(team=personas.team, model_id="openai/gpt-4o-mini", provider="openai", tokens_in=tokens,
                  tokens_out=10, cost=Decimal("0.0001"), created_at=timezone.now() - dt.timedelta(days=day))
        for day, tokens in [(0, 290), (1, 80)]])  # 300 and 90 tokens: bars of 100 % and 30 %
    page = watched_page(browser_session, personas.users["owner"])
    base = browser_session.base_url
    assert open_page(page, base, "/templates/") == []
    page.wait_for_selector(".tpl-card .stars-fill", state="attached")
    assert open_page(page, base, f"/templates/{template.slug}/") == []
    assert page.locator(".stars-fill").first.get_attribute("data-quarters") == "17"
    assert open_page(page, base, "/team/") == []
    widths = page.locator(".usage-bar rect").evaluate_all("(rects) => rects.map((rect) => rect.getAttribute('width'))")
    assert sorted(widths) == ["100", "30"]
    assert open_page(page, base, f"/workflows/{site['workflow'].pk}/triggers/") == []
    page.locator("summary", has_text="Add a webhook").click()
    page.fill("#webhook-name", "CRM")
    page.locator("button[value=webhook-create]").click()
    page.wait_for_selector("#issued-secret")
    assert violations(page) == []
