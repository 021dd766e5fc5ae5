"""Refuse oversized API bodies before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from symphony_site.api.errors import error_response, is_api_path


class ApiBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_path(request.path):
            raw_length = request.META.get("CONTENT_LENGTH") or "0"
            try:
                length = int(raw_length)
            except ValueError:
                return error_response("bad_request", "Content-Length is not a number.", 400)
            limit = settings.API_MAX_BODY_BYTES
            if length > limit:
                return error_response(
                    "too_large",
                    f"The request body is {length} bytes; the limit is {limit} bytes.",
                    413,
                    [{"limit_bytes": limit, "received_bytes": length}],
                )
        return self.get_response(request)
