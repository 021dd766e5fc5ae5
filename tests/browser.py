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


def watch_console(page: Any, errors: list[str], log: list[str] | None = None) -> None:
    """Collect the page's console errors (and uncaught exceptions) in `errors`, and every console
    message in `log` when given."""
    def on_console(message: Any) -> None:
        if message.type == "error":
            errors.append(f"{page.url}: {message.text}")
        if log is not None:
            log.append(f"{message.type}: {page.url}: {message.text}")

    def on_page_error(error: Any) -> None:
        errors.append(f"{page.url}: {error}")
        if log is not None:
            log.append(f"pageerror: {page.url}: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)


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
        self.console_log: list[str] = []  # every message of every page, kept with a failure

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
        watch_console(page, self.console_errors, self.console_log)
        return page

    def keep_artefacts(self, name: str) -> str:
        """Screenshot every open page and write the console log to ARTEFACTS/<name>/ (after a
        failure, so it can be seen what the browser showed). Returns the folder."""
        folder = os.path.join(ARTEFACTS, "".join(c if c.isalnum() or c in "-_." else "_" for c in name))
        os.makedirs(folder, exist_ok=True)
        pages = [page for context in self.contexts for page in context.pages]
        for number, page in enumerate(pages, start=1):
            try:
                page.screenshot(path=os.path.join(folder, f"page-{number}.png"), full_page=True)
            except Exception as error:  # a crashed or closed page must not hide the test's failure
                self.console_log.append(f"(no screenshot of page {number}: {error})")
        with open(os.path.join(folder, "console.log"), "w") as log:
            log.write("\n".join([*(f"page {n}: {page.url}" for n, page in enumerate(pages, start=1)),
                                  "", *self.console_log, ""]))
        return folder

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def screenshot(page: Any, name: str) -> None:
    """Keep a full-page screenshot as a test artefact (var/ is not committed)."""
    os.makedirs(ARTEFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTEFACTS, f"{name}.png"), full_page=True)
