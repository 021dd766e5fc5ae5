"""Every write in teams lands in the audit log, in the same transaction, without secrets."""

from __future__ import annotations

import json

from django.test import Client

from audit.models import AuditEntry
from tests.conftest import PASSWORD, make_user, request_free


def entries(**filters) -> list[tuple]:
    return [(*row[:-1], request_free(row[-1])) for row in
            AuditEntry.objects.filter(**filters).order_by("occurred_at", "sequence")
            .values_list("event_type", "actor_name", "target_type", "target_name", "details")]


def test_web_login_success_and_failure_are_recorded_on_the_platform_chain(personas) -> None:
    client = Client(HTTP_USER_AGENT="pytest-browser")
    client.post("/login/", {"username": "alpha-viewer", "password": "wrong"})
    client.post("/login/", {"username": "nobody-here", "password": "wrong"})
    client.post("/login/", {"username": "alpha-viewer", "password": PASSWORD})
    client.post("/logout/")
    assert entries(team=None) == [
        ("auth.login_failed", "", "user", "alpha-viewer", {"method": "password"}),
        ("auth.login_failed", "", "user", "nobody-here", {"method": "password"}),
        ("auth.login", "alpha-viewer", "user", "alpha-viewer", {"method": "password"}),
        ("auth.logout", "alpha-viewer", "user", "alpha-viewer", {}),
    ]
    assert set(AuditEntry.objects.values_list("user_agent", flat=True)) == {"pytest-browser"}
    assert set(AuditEntry.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_team_and_membership_changes_are_recorded_on_the_team_chain(personas) -> None:
    owner = personas.client("owner")
    newcomer = make_user("newcomer")
    base = f"/api/v1/teams/{personas.team.pk}"
    owner.patch(f"{base}/", {"description": "Research"}, format="json")
    owner.post(f"{base}/members/", {"username": "newcomer", "role": "viewer"}, format="json")
    owner.patch(f"{base}/members/{newcomer.pk}/", {"role": "editor"}, format="json")
    owner.delete(f"{base}/members/{newcomer.pk}/")
    assert entries(team=personas.team) == [
        ("team.updated", "alpha-owner", "teams.team", "Alpha", {"changes": {"description": ["", "Research"]}}),
        ("member.added", "alpha-owner", "user", "newcomer", {"role": "viewer"}),
        ("member.role_changed", "alpha-owner", "user", "newcomer", {"from": "viewer", "to": "editor"}),
        ("member.removed", "alpha-owner", "user", "newcomer", {"role": "editor", "left": False}),
    ]
    created = personas.client("viewer").post("/api/v1/teams/", {"name": "Lab"}, format="json").json()
    assert entries(team_id=created["id"]) == [("team.created", "alpha-viewer", "teams.team", "Lab", {"name": "Lab"})]


def test_denied_writes_leave_no_audit_entry(personas) -> None:
    base = f"/api/v1/teams/{personas.team.pk}"
    personas.client("viewer").patch(f"{base}/", {"description": "x"}, format="json")
    personas.client("admin").patch(f"{base}/members/{personas.users['owner'].pk}/", {"role": "viewer"}, format="json")
    personas.client("outsider").post(f"{base}/members/", {"username": "beta-owner", "role": "owner"}, format="json")
    assert AuditEntry.objects.count() == 0


def test_tokens_are_audited_and_keys_never_stored_in_the_log(personas, api) -> None:
    response = api.post("/api/v1/auth/token/", {"username": "alpha-editor", "password": PASSWORD, "name": "ci"},
                        format="json")
    key = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    token_id = api.get("/api/v1/auth/tokens/").json()["results"][0]["id"]
    api.delete(f"/api/v1/auth/tokens/{token_id}/")
    recorded = list(AuditEntry.objects.filter(team=None).order_by("sequence"))
    assert [(e.event_type, e.actor_type, e.target_name) for e in recorded] == [
        ("auth.login", "user", "alpha-editor"),
        ("auth.token_created", "user", "ci"),
        ("auth.token_revoked", "token", "ci"),
    ]
    everything = json.dumps(list(AuditEntry.objects.values()), default=str)
    assert key not in everything
    assert key[4:] not in everything
