"""Security headers on pages, API answers and errors (docs/security.md): frame options, referrer
policy, nosniff and the Content-Security-Policy; and no template carries what the policy would
refuse. That the UI satisfies the policy is shown by the browser suites, which fail on any
console error (a refused script, style or connection is one).
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import make_user

BASE_HTML = Path(settings.BASE_DIR) / "symphony_site" / "templates" / "base.html"


def has_js_hash() -> str:
    """The hash of base.html's one inline script, computed from the template as it is now."""
    (script,) = re.findall(r"<script>(.*?)</script>", BASE_HTML.read_text())
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


POLICY = {"default-src": ["'self'"], "script-src": ["'self'", has_js_hash()],
          "style-src": ["'self'"], "img-src": ["'self'", "data:"], "object-src": ["'none'"],
          "base-uri": ["'self'"], "frame-ancestors": ["'none'"]}
EXPECTED = {"X-Frame-Options": "DENY", "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff"}


def directives(header: str) -> dict[str, list[str]]:
    return {name: sources for name, *sources in (part.split() for part in header.split(";"))}


# (path, signed in, status): pages, API answers and errors of both kinds.
PATHS = [("/login/", False, 200), ("/", True, 200), ("/workflows/", True, 200), ("/api/docs/", True, 200),
         ("/api/v1/me/", True, 200), ("/api/v1/me/", False, 401), ("/no-such-page/", True, 404),
         ("/api/v1/workflows/00000000-0000-0000-0000-000000000000/", True, 404), ("/", False, 302)]


@pytest.mark.parametrize("path,signed_in,status", PATHS)
def test_every_answer_carries_the_security_headers(personas, path: str, signed_in: bool, status: int) -> None:
    client = Client()
    if signed_in:
        client.force_login(personas.users["viewer"])
    response = client.get(path)
    assert response.status_code == status
    assert {name: response.get(name) for name in EXPECTED} == EXPECTED, path
    assert directives(response["Content-Security-Policy"]) == POLICY, path
    assert "Content-Security-Policy-Report-Only" not in response


def test_the_policy_allows_no_inline_script_but_base_html_s_and_no_eval() -> None:
    """The sent policy (not this file's copy of it): scripts from 'self' and the one hash, no
    'unsafe-inline', 'unsafe-eval', nonce or other host. Editing base.html's line changes the
    hash, and this fails until settings follow."""
    sent = directives(Client().get("/login/")["Content-Security-Policy"])
    assert sent["script-src"] == ["'self'", has_js_hash()]
    assert sent["default-src"] == ["'self'"]


def test_admin_pages_carry_the_same_policy(personas) -> None:
    """No relaxed policy for the admin: its pages have no inline style either (Symphony's own
    admin styles are in symphony/admin.css, linked by templates/admin/base_site.html)."""
    staff = Client()
    staff.force_login(make_user("staff", is_staff=True, is_superuser=True))
    for client, path in [(staff, "/admin/"), (staff, "/admin/audit/auditentry/"),
                         (staff, "/admin/templates_app/template/"), (Client(), "/admin/login/")]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert directives(response["Content-Security-Policy"]) == POLICY, path
        assert re.findall(r"<[a-z][^>]*\sstyle\s*=|<style", response.content.decode()) == [], path


# Markup that the policy's `style-src 'self'` refuses: a style attribute on any tag, a <style> block.
INLINE_STYLE = re.compile(r"<[a-zA-Z][^>]*\sstyle\s*=|<style[\s>]")


def test_no_template_script_or_admin_helper_writes_an_inline_style() -> None:
    """Templates, the scripts' HTML strings and Python that writes HTML (the admin's format_html
    helpers) carry classes instead; a script may still set an element's style object, which the
    policy does not govern."""
    root = Path(settings.BASE_DIR)
    packages = [folder for folder in root.iterdir() if (folder / "__init__.py").exists() and folder.name != "tests"]
    sources = [path for folder in packages for pattern in ["templates/**/*.html", "static/**/*.js", "**/*.py"]
               for path in folder.glob(pattern)]
    assert len(sources) > 100 and any(path.name == "marketplace.js" for path in sources)
    offenders = [f"{path.relative_to(root)}: {match.group(0)[:80]}"
                 for path in sources for match in INLINE_STYLE.finditer(path.read_text())]
    assert offenders == []


def test_no_template_has_an_inline_handler_or_script() -> None:
    """`onclick=` and friends, `javascript:` URLs and inline <script> blocks are refused by the
    policy (JSON data blocks are not scripts and are fine)."""
    offenders = []
    for path in Path(settings.BASE_DIR).glob("*/templates/**/*.html"):
        if ".venv" in path.parts:
            continue
        text = path.read_text()
        if re.search(r"\son[a-z]+\s*=", text) or "javascript:" in text:
            offenders.append(f"{path}: inline handler")
        for attributes in re.findall(r"<script([^>]*)>", text):
            if "src=" not in attributes and "application/json" not in attributes and path.name != "base.html":
                offenders.append(f"{path}: inline script")
    assert offenders == []


def test_the_api_docs_start_from_a_file(personas) -> None:
    client = Client()
    client.force_login(personas.users["viewer"])
    page = client.get("/api/docs/").content.decode()
    sources = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert any("script" in source for source in sources)
    assert re.findall(r"<script(?![^>]*src=)[^>]*>\s*\S", page) == []
