"""A real browser signs in as each persona and sees its own team, nothing else."""

from __future__ import annotations

import pytest

from tests.browser import browser_page, log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_each_role_and_the_outsider_can_log_in_and_see_their_team(personas, live_server) -> None:
    expected = {"owner": "Alpha", "admin": "Alpha", "editor": "Alpha", "operator": "Alpha",
                "viewer": "Alpha", "outsider": "Beta"}
    with browser_page() as page:
        for who, team in expected.items():
            username = personas.users[who].username
            log_in(page, live_server.url, username, PASSWORD)
            assert page.url == f"{live_server.url}/"
            assert page.locator("h1").inner_text() == team
            assert page.locator("#team-select option:checked").inner_text() == team
            options = page.locator("#team-select option").all_inner_texts()
            assert options == [team], who
            assert page.locator("nav.mainnav a").all_inner_texts() == ["Workflows", "Templates", "Executions", "Audit"]
            page.click("text=Log out")
            page.wait_for_url(f"{live_server.url}/login/")


def test_wrong_password_shows_an_error_and_stays_out(personas, live_server) -> None:
    with browser_page() as page:
        log_in(page, live_server.url, "alpha-owner", "wrong-password")
        assert page.locator("[role=alert]").inner_text() == (
            "Your username and password didn't match. Please try again.")
        page.goto(f"{live_server.url}/team/")
        assert page.url.startswith(f"{live_server.url}/login/")


def test_layout_fits_a_phone(personas, live_server) -> None:
    with browser_page(width=390, height=800) as page:
        log_in(page, live_server.url, "alpha-admin", PASSWORD)
        page.goto(f"{live_server.url}/team/")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow == 0
