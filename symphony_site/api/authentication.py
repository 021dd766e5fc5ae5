"""Session authentication for the API whose CSRF refusal is the documented `csrf_failed`.

DRF's SessionAuthentication refuses a session write without its CSRF token with
a PermissionDenied, which answered 403 `permission_denied` — the code a role
check gives — while plain Django views answered `csrf_failed` for the same
mistake (CSRF_FAILURE_VIEW). One mistake, one code.
"""

from __future__ import annotations

from drf_spectacular.authentication import SessionScheme
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from symphony_site.api.errors import ApiError

CSRF_MESSAGE = "CSRF check failed: send the X-CSRFToken header with session auth, or use a token."


class CsrfSessionAuthentication(SessionAuthentication):
    def enforce_csrf(self, request: Request) -> None:
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as refused:
            reason = str(refused.detail).removeprefix("CSRF Failed: ")
            raise ApiError(CSRF_MESSAGE, code="csrf_failed", status_code=403,
                           details=[{"reason": reason}]) from None


class CsrfSessionScheme(SessionScheme):
    """The same `cookieAuth` security scheme as DRF's own session authentication."""

    target_class = CsrfSessionAuthentication
