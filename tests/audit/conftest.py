"""Audit test fixtures: personas of one team (each role), an outsider, staff; Hypothesis profiles."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, settings

from tests.conftest import Personas, create_personas, make_user

# Applied per test (not loaded globally, so other areas keep their own defaults):
# fast by default, 1,500 examples with HYPOTHESIS_PROFILE=thorough.
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
hypothesis_settings = settings(
    max_examples=1500 if THOROUGH else 60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Audit personas: team Acme with one user per role, the owner of Globex as outsider,
# and "staff" (in no team), who alone may read the platform chain.
AuditPersonas = Personas


@pytest.fixture
def people(db: Any) -> Personas:
    people = create_personas("Acme", "Globex")
    people.users["staff"] = make_user("staff", is_staff=True)
    return people


def run_sql(sql: str, params: list[Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.rowcount


@pytest.fixture
def tamper() -> Any:
    """Run SQL against the audit table with its append-only trigger disabled (this test only)."""

    def apply(sql: str, params: list[Any] | None = None) -> int:
        # ALTER TABLE refuses to run while deferred foreign-key checks are pending.
        run_sql("SET CONSTRAINTS ALL IMMEDIATE")
        run_sql("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_append_only")
        try:
            return run_sql(sql, params)
        finally:
            run_sql("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_entry_append_only")

    return apply
