"""What every API request skips that pages keep (symphony_site/api/middleware.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from symphony_site.api.middleware import MessageMiddleware


def _through_middleware(path: str) -> tuple[HttpRequest, HttpResponse]:
    seen: dict[str, Any] = {}

    def view(request: HttpRequest) -> HttpResponse:
        seen["request"] = request
        if not path.startswith("/api/"):
            messages.success(request, "Saved.")
        return HttpResponse("ok")

    stack = SessionMiddleware(MessageMiddleware(view))
    response = stack(RequestFactory().get(path))
    return seen["request"], response


def test_api_requests_build_no_message_storage(db) -> None:
    request, response = _through_middleware("/api/v1/me/")
    assert not hasattr(request, "_messages")
    assert response.status_code == 200
    assert "messages" not in response.cookies


def test_pages_keep_their_flash_messages(db) -> None:
    request, response = _through_middleware("/workflows/")
    assert hasattr(request, "_messages")
    # The message was stored for the next page (in the cookie, Django's fallback storage's first choice).
    assert "messages" in response.cookies and response.cookies["messages"].value
