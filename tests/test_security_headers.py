"""Security headers on pages, API answers and errors (docs/security.md): frame options, referrer
policy, nosniff; and no template carries what a strict Content-Security-Policy would refuse
(the header itself is not sent yet: docs/security.md, "Headers").
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

EXPECTED = {"X-Frame-Options": "DENY", "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff"}
PATHS = [("/login/", False), ("/", True), ("/workflows/", True), ("/api/v1/me/", True), ("/api/v1/me/", False),
         ("/no-such-page/", True), ("/api/docs/", True)]


@pytest.mark.parametrize("path,signed_in", PATHS)
def test_every_answer_carries_the_security_headers(personas, path: str, signed_in: bool) -> None:
    client = Client()
    if signed_in:
        client.force_login(personas.users["viewer"])
    response = client.get(path)
    assert {name: response.get(name) for name in EXPECTED} == EXPECTED, (path, response.status_code)


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
