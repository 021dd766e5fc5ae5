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


class ServiceErrorPageMiddleware:
    """Outside the API, a service's NotFound or Forbidden becomes the usual error page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.core.exceptions import PermissionDenied
        from django.http import Http404

        from symphony_site.api.errors import ApiError

        if is_api_path(request.path) or not isinstance(exception, ApiError):
            return None
        if exception.status_code == 404:
            raise Http404(exception.message)
        if exception.status_code == 403:
            raise PermissionDenied(exception.message)
        return None
