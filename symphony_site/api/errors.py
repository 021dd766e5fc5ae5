"""The API's one error shape: {"error": {"code", "message", "details"}}.

Every error on an API path answers this shape with the right status, whether
it came from DRF, a service, Django's URL resolver or an unhandled exception.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


class ApiError(exceptions.APIException):
    """An error raised by a service or view, carried to the client as-is."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"
    default_detail = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: list[Any] | dict[str, Any] | None = None,
        status_code: int | None = None,
    ) -> None:
        self.message = message or self.default_detail
        self.error_code = code or self.default_code
        self.details = details if details is not None else []
        if status_code is not None:
            self.status_code = status_code
        super().__init__(detail=self.message, code=self.error_code)


class ValidationFailed(ApiError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "validation_failed"
    default_detail = "The request is invalid."


class NotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"
    default_detail = "Not found."


class Forbidden(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "permission_denied"
    default_detail = "Your role does not allow this action."


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The object's current state does not allow this action."


class TooLarge(ApiError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The request is too large."


# Codes for DRF's own exceptions, by class.
_DRF_CODES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.ParseError, "parse_error"),
    (exceptions.ValidationError, "validation_failed"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "authentication_failed"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "throttled"),
]


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details if details is not None else []}}


def error_response(code: str, message: str, status_code: int, details: Any = None) -> JsonResponse:
    """A plain Django response in the error shape, for paths outside DRF."""
    return JsonResponse(error_body(code, message, details), status=status_code)


def _flatten_validation(detail: Any, path: str = "") -> list[dict[str, str]]:
    """DRF's nested validation errors as a flat list of {field, message, code}."""
    if isinstance(detail, dict):
        items: list[dict[str, str]] = []
        for key, value in detail.items():
            field = key if not path else f"{path}.{key}"
            if key == "non_field_errors":
                field = path
            items.extend(_flatten_validation(value, field))
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                items.extend(_flatten_validation(value, f"{path}[{index}]" if path else str(index)))
            else:
                items.extend(_flatten_validation(value, path))
        return items
    code = getattr(detail, "code", "invalid")
    return [{"field": path, "message": str(detail), "code": str(code)}]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES when imported, and
    # the parser (symphony_site/api/parsers.py) raises this module's ApiError.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, ApiError):
        return Response(error_body(exc.error_code, exc.message, exc.details), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        exc = TooLarge("The request body is larger than the configured limit.")
        return Response(error_body(exc.error_code, exc.message), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in API view", exc_info=exc)
        return Response(
            error_body("server_error", "Something went wrong on our side; it has been logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    code = next((name for cls, name in _DRF_CODES if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        details = _flatten_validation(exc.detail)
        message = "The request is invalid: " + "; ".join(
            f"{item['field']}: {item['message']}" if item["field"] else item["message"]
            for item in details[:5]
        )
        body = error_body(code, message, details)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        message = str(detail) if not isinstance(detail, dict | list) else "Request failed."
        details = []
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            details = [{"retry_after_seconds": int(exc.wait)}]
        body = error_body(code, message, details)
    response.data = body
    return response


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)
