"""Tampering with the table directly (trigger disabled in the test) is caught with seq and reason."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from audit import domain, selectors
from audit.models import AuditEntry
from audit.services import hashed_fields, record_event
from symphony_site.actors import Actor, Origin

from .conftest import AuditPersonas, run_sql

pytestmark = pytest.mark.django_db

Tamper = Callable[..., int]


@pytest.fixture
def eight(people: AuditPersonas) -> list[AuditEntry]:
    owner = people.users["owner"]
    return [
        record_event(team=people.team, actor=Actor.of(owner), origin=Origin.command(), event_type="team.updated", details={"step": step})
        for step in range(1, 9)
    ]


def verify_command(*arguments: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("audit_verify", *arguments, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def broken_by_command(*arguments: str) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("audit_verify", *arguments, stdout=io.StringIO(), stderr=err)
    assert raised.value.returncode == 1
    return err.getvalue()


def test_untouched_chain_verifies_in_command_and_api(people: AuditPersonas, eight: list[AuditEntry]) -> None:
    out, err = verify_command("--team", "acme")
    assert out == f"ok Acme ({people.team.pk}): 8 entries verified\n"
    assert err == ""
    response = people.client("owner").get("/api/v1/audit/verify/", {"team": str(people.team.pk)})
    assert response.status_code == 200
    assert response.json() == {"valid": True, "checked": 8, "first_break": None}


def _shift(tamper: Tamper, team: Any, from_sequence: int, by: int) -> None:
    # Two steps, so the unique (team, sequence) index never sees a collision mid-statement.
    tamper("UPDATE audit_auditentry SET sequence = sequence + 1000 WHERE team_id = %s AND sequence >= %s",
           [team.pk, from_sequence])
    tamper("UPDATE audit_auditentry SET sequence = sequence - 1000 + %s WHERE team_id = %s AND sequence >= 1000",
           [by, team.pk])


def _insert_forged(team: Any, sequence: int, prev_hash: str) -> None:
    forged = AuditEntry(team=team, sequence=sequence, occurred_at=AuditEntry.objects.get(team=team, sequence=sequence - 1).occurred_at,
                        actor_name="mallory", actor_type="user", event_type="member.added", details={},
                        prev_hash=prev_hash)
    forged.hash = domain.entry_hash(prev_hash, hashed_fields(forged))
    AuditEntry.objects.bulk_create([forged])


@pytest.mark.parametrize(
    ("kind", "expected_sequence"),
    [
        pytest.param("edited", 4, id="edited"),
        pytest.param("edited_and_rehashed", 4, id="edited-and-rehashed"),
        pytest.param("deleted", 4, id="deleted"),
        pytest.param("inserted", 5, id="inserted"),
        pytest.param("reordered", 4, id="reordered"),
        pytest.param("backdated", 5, id="backdated"),
        pytest.param("truncated", 7, id="truncated"),
    ],
)
def test_each_kind_of_tampering_is_caught(
    people: AuditPersonas, eight: list[AuditEntry], tamper: Tamper, kind: str, expected_sequence: int
) -> None:
    team = people.team
    if kind == "edited":
        assert tamper("UPDATE audit_auditentry SET actor_name = 'mallory' WHERE team_id = %s AND sequence = 4", [team.pk]) == 1
    elif kind == "edited_and_rehashed":
        entry = AuditEntry.objects.get(team=team, sequence=4)
        entry.reason = "nothing to see"
        new_hash = domain.entry_hash(entry.prev_hash, hashed_fields(entry))
        tamper("UPDATE audit_auditentry SET reason = %s, hash = %s WHERE id = %s", [entry.reason, new_hash, entry.pk])
    elif kind == "deleted":
        assert tamper("DELETE FROM audit_auditentry WHERE team_id = %s AND sequence = 4", [team.pk]) == 1
    elif kind == "inserted":
        _shift(tamper, team, 5, 1)
        _insert_forged(team, 5, eight[3].hash)
    elif kind == "reordered":
        tamper("UPDATE audit_auditentry SET sequence = 1004 WHERE team_id = %s AND sequence = 4", [team.pk])
        tamper("UPDATE audit_auditentry SET sequence = 4 WHERE team_id = %s AND sequence = 5", [team.pk])
        tamper("UPDATE audit_auditentry SET sequence = 5 WHERE team_id = %s AND sequence = 1004", [team.pk])
    elif kind == "backdated":
        tamper("UPDATE audit_auditentry SET occurred_at = occurred_at - interval '1 hour' "
               "WHERE team_id = %s AND sequence = 5", [team.pk])
    elif kind == "truncated":
        assert tamper("DELETE FROM audit_auditentry WHERE team_id = %s AND sequence >= 7", [team.pk]) == 2

    reason = kind.removesuffix("_and_rehashed")
    message = broken_by_command("--team", "acme")
    assert f"first break at seq {expected_sequence}: {reason}" in message
    response = people.client("admin").get("/api/v1/audit/verify/", {"team": "acme"})
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert body["first_break"] == {"seq": expected_sequence, "reason": reason}


def test_truncated_tail_with_rewound_head_is_caught_only_against_an_anchor(
    people: AuditPersonas, eight: list[AuditEntry], tamper: Tamper, tmp_path: Path
) -> None:
    out = io.StringIO()
    call_command("audit_anchor", stdout=out)
    anchor_lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert anchor_lines == [{"chain": str(people.team.pk), "team": "acme", "sequence": 8, "hash": eight[7].hash}]
    anchor_file = tmp_path / "anchors.jsonl"
    anchor_file.write_text(out.getvalue())

    tamper("DELETE FROM audit_auditentry WHERE team_id = %s AND sequence >= 6", [people.team.pk])
    run_sql("UPDATE audit_auditchainhead SET last_sequence = 5, last_hash = %s WHERE chain = %s",
            [eight[4].hash, str(people.team.pk)])

    assert verify_command("--team", "acme")[0] == f"ok Acme ({people.team.pk}): 5 entries verified\n"
    message = broken_by_command("--team", "acme", "--anchor", str(anchor_file))
    assert message == f"BROKEN Acme ({people.team.pk}): first break at seq 6: truncated (5 entries verified before it)\n"
    anchor = domain.ChainPoint(8, eight[7].hash)
    assert selectors.verify(selectors.Chain(people.team), anchor=anchor).first_break == domain.ChainBreak(6, "truncated")


def test_verify_without_team_checks_every_chain_and_names_the_broken_one(
    people: AuditPersonas, eight: list[AuditEntry], tamper: Tamper
) -> None:
    record_event(team=people.other_team, actor=Actor.system("system"), origin=Origin.task(), event_type="team.updated")
    record_event(team=None, actor=Actor.system("system"), origin=Origin.task(), event_type="auth.login_failed")
    tamper("DELETE FROM audit_auditentry WHERE team_id = %s AND sequence = 2", [people.team.pk])
    err = io.StringIO()
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"1 audit chain\(s\) broken"):
        call_command("audit_verify", stdout=out, stderr=err)
    assert out.getvalue().splitlines() == [
        "ok Platform (platform): 1 entries verified",
        f"ok Globex ({people.other_team.pk}): 1 entries verified",
    ]
    assert err.getvalue() == f"BROKEN Acme ({people.team.pk}): first break at seq 2: deleted (1 entries verified before it)\n"


def test_unknown_team_and_bad_anchor_file_are_command_errors(people: AuditPersonas, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No team with slug or id 'nope'"):
        call_command("audit_verify", "--team", "nope")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    with pytest.raises(CommandError, match=r"bad\.jsonl:1: not an audit_anchor line"):
        call_command("audit_verify", "--anchor", str(bad))
