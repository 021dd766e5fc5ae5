"""API requests refused before any view runs: oversized or empty bodies, wrong methods; and what
an API request skips (the pages' flash messages)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.messages import middleware as messages_middleware
from django.http import HttpRequest, HttpResponse

from symphony_site.api.errors import ApiError, error_response, is_api_path
from symphony_site.api.parsers import load_body

# Methods whose JSON body DRF reads; an empty one it would silently read as `{}`.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _declares_json(request: HttpRequest) -> bool:
    media_type = (request.META.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    return media_type == "application/json"


def _fields_with_null_characters(request: HttpRequest) -> list[str]:
    """Query parameters (and "path") holding a NUL: PostgreSQL text cannot, so a lookup would be a 500."""
    fields = ["path"] if "\x00" in request.path else []
    fields += [name for name, values in request.GET.lists()
               if "\x00" in name or any("\x00" in value for value in values)]
    return fields


class ApiBodyLimitMiddleware:
    """A declared length past the limit is 413; a NUL in the path or query, or an empty JSON body, 400.

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
            null_fields = _fields_with_null_characters(request)
            if null_fields:
                return error_response(
                    "validation_failed", "The path or query holds a NUL character, which cannot be stored.",
                    400, [{"field": name, "code": "null_characters_not_allowed",
                           "message": "Null characters are not allowed."} for name in null_fields])
            if length == 0 and request.method in BODY_METHODS and _declares_json(request):
                try:
                    load_body(b"")
                except ApiError as refused:
                    return error_response(refused.error_code, refused.message, refused.status_code,
                                          refused.details)
        return self.get_response(request)


def allowed_methods(view_class: type[Any]) -> list[str]:
    """The methods a class-based view answers, as its dispatch would decide (HEAD with GET)."""
    methods = [name for name in view_class.http_method_names if hasattr(view_class, name)]
    if "get" in methods and "head" not in methods:
        methods.append("head")
    return [name.upper() for name in methods]


class ApiMethodMiddleware:
    """A known API path with a method its view lacks answers 405, before CSRF and authentication.

    DRF looks the handler up only after authenticating, checking permissions and
    throttling, so a wrong method answered 401 to an anonymous client and 403
    `csrf_failed` to a session without a CSRF token. The method says nothing
    about the caller, so it is judged first, the same for every client. Placed
    before CsrfViewMiddleware, whose process_view it pre-empts.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any,
                     view_kwargs: Any) -> HttpResponse | None:
        view_class = getattr(view_func, "view_class", None)
        if not is_api_path(request.path) or view_class is None:
            return None
        allowed = allowed_methods(view_class)
        if (request.method or "").upper() in allowed:
            return None
        response = error_response("method_not_allowed", f'Method "{request.method}" not allowed.', 405,
                                  [{"allowed_methods": allowed}])
        response["Allow"] = ", ".join(allowed)
        return response


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


class MessageMiddleware(messages_middleware.MessageMiddleware):
    """Django's flash messages, for pages only: an API request answers JSON and never shows or
    keeps a message (no API view adds one), so it does not build the message storage (a cookie
    and a session storage per request) nor look at it again on the way out. Django's own
    `process_response` does nothing for a request without storage."""

    def process_request(self, request: HttpRequest) -> None:
        if not is_api_path(request.path):
            super().process_request(request)
