"""Audit test fixtures: personas of one team (each role), an outsider, staff; Hypothesis profiles."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient

from teams.models import Membership, Team
from teams.roles import Role

# Applied per test (not loaded globally, so other areas keep their own defaults):
# fast by default, 1,500 examples with HYPOTHESIS_PROFILE=thorough.
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
hypothesis_settings = settings(
    max_examples=1500 if THOROUGH else 60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

ROLES = ("owner", "admin", "editor", "operator", "viewer")


@dataclass
class AuditPersonas:
    team: Team
    other_team: Team
    users: dict[str, Any]  # each role, "outsider" (owner of other_team), "staff" (in no team)

    def client(self, who: str | None) -> APIClient:
        client = APIClient()
        if who is not None:
            client.force_authenticate(self.users[who])
        return client


def make_user(username: str, **extra: Any) -> Any:
    return get_user_model().objects.create_user(username=username, password="pw-not-used-0123", **extra)


@pytest.fixture
def people(db: Any) -> AuditPersonas:
    team = Team.objects.create(name="Acme", slug="acme")
    other = Team.objects.create(name="Globex", slug="globex")
    users: dict[str, Any] = {}
    for role in ROLES:
        users[role] = make_user(f"acme-{role}")
        Membership.objects.create(team=team, user=users[role], role=Role(role))
    users["outsider"] = make_user("globex-owner")
    Membership.objects.create(team=other, user=users["outsider"], role=Role.OWNER)
    users["staff"] = make_user("staff", is_staff=True)
    return AuditPersonas(team=team, other_team=other, users=users)


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
