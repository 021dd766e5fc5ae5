"""Each HTTP request's id: made here, answered in `X-Request-ID`, bound to every log line the
request writes, and carried by its `Origin` into the audit entries it makes (details.request_id).
Also writes one log line per request (`http.request`)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse

logger = structlog.get_logger("symphony.request")

# What a proxy's request id may look like to be taken over (REQUEST_ID_FROM_PROXY).
PROXY_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
HEADER = "X-Request-ID"


def _request_id(request: HttpRequest) -> str:
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    if settings.REQUEST_ID_FROM_PROXY and PROXY_REQUEST_ID.fullmatch(given):
        return str(given)
    return uuid.uuid4().hex


def _team(request: HttpRequest) -> str | None:
    """The web UI's current team when the view looked at it (never a query of its own)."""
    team = getattr(request, "team", None)
    wrapped = getattr(team, "_wrapped", None) if team is not None else None
    if wrapped is None or not hasattr(wrapped, "pk"):
        return None
    return str(wrapped.pk)


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = _request_id(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            response = self.get_response(request)
            response[HEADER] = request_id
            match = getattr(request, "resolver_match", None)
            user = getattr(request, "user", None)
            # The URL pattern, not the path: a webhook's path is its secret token.
            logger.info("http.request", method=request.method, route=match.route if match else None,
                        view=match.view_name if match else None, status=response.status_code,
                        duration_ms=round((time.perf_counter() - started) * 1000, 2),
                        user_id=getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None,
                        team=_team(request))
        return response
