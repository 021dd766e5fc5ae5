"""Headless Chromium for browser tests (Debian's package, driven by Playwright)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@contextmanager
def browser_page(width: int = 1280, height: int = 800, *, extra_args: tuple[str, ...] = (),
                 console_errors: list[str] | None = None) -> Iterator[Any]:
    """A page in a browser of its own. A console error (a script, style or connection the
    Content-Security-Policy refused is one) fails the test, as in `Session`; a caller that
    expects some passes `console_errors` and checks the list itself."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    caller_checks = console_errors is not None
    console_errors = [] if console_errors is None else console_errors
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=[*CHROMIUM_ARGS, *extra_args])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(15000)
            watch_console(page, console_errors)
            yield page
            # Closed before the server can go, so a live page's WebSocket ends cleanly.
            page.close()
        finally:
            browser.close()
    assert caller_checks or console_errors == [], console_errors


def watch_console(page: Any, errors: list[str]) -> None:
    page.on("console", lambda message: errors.append(f"{page.url}: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))


def log_in(page: Any, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("domcontentloaded")


# --- One browser for the whole session -------------------------------------------------------
# Launching Chromium costs about a second; tests share one and open a fresh context each.

ARTEFACTS = os.environ.get("BROWSER_ARTEFACTS", "var/browser-artefacts")  # screenshots (gitignored)


def launch_shared() -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; Django's async-safety check
    # would then refuse the ORM calls the tests make between page actions.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


class Session:
    """Pages signed in as a persona, each in its own context; console errors are collected."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[Any] = []
        self.console_errors: list[str] = []

    def page(self, user: Any = None, *, width: int = 1300, height: int = 900) -> Any:
        from django.test import Client

        context = self.browser.new_context(viewport={"width": width, "height": height})
        if user is not None:
            client = Client()
            client.force_login(user)
            context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                                  "url": self.base_url}])
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        watch_console(page, self.console_errors)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def screenshot(page: Any, name: str) -> None:
    """Keep a full-page screenshot as a test artefact (var/ is not committed)."""
    os.makedirs(ARTEFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTEFACTS, f"{name}.png"), full_page=True)
