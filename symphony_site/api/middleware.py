"""Refuse oversized and empty API bodies before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from symphony_site.api.errors import ApiError, error_response, is_api_path
from symphony_site.api.parsers import load_body

# Methods whose JSON body DRF reads; an empty one it would silently read as `{}`.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _declares_json(request: HttpRequest) -> bool:
    media_type = (request.META.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    return media_type == "application/json"


class ApiBodyLimitMiddleware:
    """A declared length past the limit is 413; a declared JSON body that is empty is 400.

    DRF answers an empty body with `{}` without asking the parser, so a PATCH of
    nothing would pass as a valid edit. The strict loader refuses empty text as
    truncated; the same refusal is answered here, where the emptiness is known.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_path(request.path):
            raw_length = request.META.get("CONTENT_LENGTH") or "0"
            # Digits only: int() would also take "-5", " 12" and "1_000".
            if not (raw_length.isascii() and raw_length.isdigit()):
                return error_response("bad_request", "Content-Length is not a number of bytes.", 400,
                                      [{"content_length": raw_length[:40]}])
            length = int(raw_length)
            limit = settings.API_MAX_BODY_BYTES
            if length > limit:
                return error_response(
                    "too_large",
                    f"The request body is {length} bytes; the limit is {limit} bytes.",
                    413,
                    [{"limit_bytes": limit, "received_bytes": length}],
                )
            if length == 0 and request.method in BODY_METHODS and _declares_json(request):
                try:
                    load_body(b"")
                except ApiError as refused:
                    return error_response(refused.error_code, refused.message, refused.status_code,
                                          refused.details)
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
