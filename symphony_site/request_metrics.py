"""The middleware counting HTTP requests by view, method and status (and timing them)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from symphony_site import metrics


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # The URL pattern's name (bounded), never the path (which carries ids).
        view = (match.view_name or match.route or "unnamed") if match is not None else "unmatched"
        metrics.http_answered(view=view, method=request.method or "", status=response.status_code,
                              seconds=time.perf_counter() - started)
        return response
