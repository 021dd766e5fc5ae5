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
    """Outside the API, a view's not-found or forbidden answer is the site's styled error page —
    rendered here, so it looks the same with DEBUG on as in production (Django's debug pages
    are for errors, not for a viewer opening an edit page)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.core.exceptions import PermissionDenied
        from django.http import Http404

        from symphony_site import views
        from symphony_site.api.errors import ApiError

        if is_api_path(request.path):
            return None
        if (isinstance(exception, ApiError) and exception.status_code == 404) or isinstance(exception, Http404):
            return views.not_found(request, exception)
        if isinstance(exception, ApiError) and exception.status_code == 403:
            return views.forbidden(request, PermissionDenied(exception.message))
        if isinstance(exception, PermissionDenied):
            return views.forbidden(request, exception)
        return None
