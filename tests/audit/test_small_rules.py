"""The smaller audit rules, each defended by a test that fails when it is broken (issue 10).

Entries are made through the HTTP API (creating teams, changing members),
so these tests do not depend on how services hand their caller to the log.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rest_framework.test import APIClient

from audit.access import access_chain
from audit.models import AuditEntry, AuditImmutableError, AuditPolicy
from audit.services import RETENTION_ACTOR, apply_retention
from symphony_site.actors import Origin
from symphony_site.api.errors import NotFound
from teams.models import Membership, Team
from teams.roles import Role
from tests.audit.conftest import AuditPersonas


def create_team(user: Any, name: str, user_agent: str) -> Team:
    client = APIClient(HTTP_USER_AGENT=user_agent)
    client.force_authenticate(user)
    response = client.post("/api/v1/teams/", {"name": name}, format="json")
    assert response.status_code == 201, response.json()
    return Team.objects.get(pk=response.json()["id"])


def csv_rows(people: AuditPersonas, team: Team) -> list[dict[str, str]]:
    client = APIClient()
    client.force_authenticate(people.users["owner"])
    response = client.get("/api/v1/audit/export/", {"team": str(team.pk), "format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


# --- secrets in the user agent ----------------------------------------------------------------


def test_secrets_in_the_user_agent_are_scrubbed_before_they_are_stored(people: AuditPersonas) -> None:
    agent = "deploy-bot/2.1 (token abcdefghijklmnopqrstuv; key sym_live0123456789abcdef) Bearer ZZZZZZZZZZZZZZZZZZZZ"
    team = create_team(people.users["owner"], "Scrubbed", agent)
    entry = AuditEntry.objects.get(team=team, event_type="team.created")
    assert entry.user_agent == "deploy-bot/2.1 ([redacted]; key [redacted]) [redacted]"
    assert "abcdefghijklmnop" not in entry.user_agent and "sym_live" not in entry.user_agent


# --- the ORM cannot rewrite history -------------------------------------------------------------


def test_the_orm_refuses_bulk_update_and_update_or_create(people: AuditPersonas) -> None:
    team = create_team(people.users["owner"], "Immutable", "test")
    entry = AuditEntry.objects.get(team=team, event_type="team.created")
    original = (entry.reason, entry.hash)
    entry.reason = "rewritten"
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.bulk_update([entry], ["reason"])
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.filter(team=team).bulk_update([entry], ["reason"])
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.update_or_create(pk=entry.pk, defaults={"reason": "rewritten"})
    # update_or_create must not slip an unchained entry in either.
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.update_or_create(team=team, sequence=99, defaults={
            "event_type": "team.updated", "actor_type": "system", "prev_hash": "0" * 64, "hash": "0" * 64})
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.reason, stored.hash) == original
    assert list(AuditEntry.objects.filter(team=team).values_list("sequence", flat=True)) == [1]


# --- CSV cells that a spreadsheet would run -----------------------------------------------------


@pytest.mark.parametrize("agent", ["\t=HYPERLINK(\"http://evil\")", "\r+cmd|' /C calc'!A0"])
def test_csv_export_neutralises_cells_starting_with_tab_or_carriage_return(
        people: AuditPersonas, agent: str) -> None:
    team = create_team(people.users["owner"], "Spreadsheet", agent)
    rows = csv_rows(people, team)
    assert [(row["event_type"], row["user_agent"]) for row in rows] == [("team.created", "'" + agent)]


# --- retention skips a broken chain -------------------------------------------------------------


def test_retention_skips_a_broken_chain_and_prunes_the_others(
        people: AuditPersonas, tmp_path: Path, tamper: Any, caplog: pytest.LogCaptureFixture) -> None:
    owner = people.users["owner"]
    broken = create_team(owner, "Broken", "test")
    healthy = create_team(owner, "Healthy", "test")
    client = APIClient()
    client.force_authenticate(owner)
    for team in (broken, healthy):
        for name in ("One", "Two", "Three"):
            assert client.patch(f"/api/v1/teams/{team.pk}/", {"description": name}, format="json").status_code == 200
        AuditPolicy.objects.create(team=team, retention_days=1)
    tamper("DELETE FROM audit_auditentry WHERE team_id = %s AND sequence = 2", [str(broken.pk)])
    later = AuditEntry.objects.order_by("-occurred_at").first().occurred_at + dt.timedelta(days=2)

    assert apply_retention(actor=RETENTION_ACTOR, origin=Origin.task(), now=later, export_dir=tmp_path) == {
        healthy.slug: 4}
    assert list(AuditEntry.objects.filter(team=broken).order_by("sequence").values_list("sequence", flat=True)) == [
        1, 3, 4]
    assert [path.name for path in tmp_path.iterdir()] == [f"audit-{healthy.slug}-{later:%Y%m%dT%H%M%SZ}.ndjson"]
    assert f"Audit retention skipped {broken.slug}" in caplog.text


# --- a member of two teams names the team ------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/audit/", "/api/v1/audit/export/", "/api/v1/audit/verify/"])
def test_a_member_of_two_teams_must_name_the_team(people: AuditPersonas, path: str) -> None:
    reader = people.users["admin"]
    client = APIClient()
    client.force_authenticate(reader)
    # In one team, the team may be left out.
    assert client.get(path).status_code == 200
    Membership.objects.create(team=people.other_team, user=reader, role=Role.ADMIN)
    response = client.get(path)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"]) == (
        "validation_failed", [{"field": "team", "message": "required", "code": "required"}])
    assert client.get(path, {"team": str(people.other_team.pk)}).status_code == 200


# --- the platform chain is for staff users only ---------------------------------------------


def test_an_object_without_is_staff_does_not_read_the_platform_chain() -> None:
    # Every Django user has `is_staff`; anything else handed to the access helper (a signed-in
    # object of another kind) must count as not staff rather than as staff.
    with pytest.raises(NotFound):
        access_chain(SimpleNamespace(is_authenticated=True), "platform")
    with pytest.raises(NotFound):
        access_chain(SimpleNamespace(is_authenticated=True, is_staff=False), "platform")
    assert access_chain(SimpleNamespace(is_authenticated=True, is_staff=True), "platform").team is None
