"""Fixtures for the instruments tests."""

from __future__ import annotations

from typing import Any

from audit.models import AuditEntry


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def audit_of(event_type: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(event_type=event_type).order_by("sequence"))


# The engine tests' fixture (a real worker, committed data, team Alpha), shared here.
from tests.executions.conftest import engine  # noqa: E402, F401
