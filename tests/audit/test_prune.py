"""Retention: export, delete through the escape hatch, checkpoint; legal hold blocks it."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path

import orjson
import pytest
from django.core.management import CommandError, call_command

from audit import domain, selectors
from audit.models import AuditEntry, AuditPolicy
from audit.services import PruneRefused, prune_chain, record_event, retention_cutoff
from audit.services.policy import policy_update
from symphony_site.actors import Actor, Origin

from .conftest import AuditPersonas

pytestmark = pytest.mark.django_db


@pytest.fixture
def six(people: AuditPersonas) -> list[AuditEntry]:
    return [record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(),
                         event_type="team.updated", details={"n": n})
            for n in range(1, 7)]


def remaining(people: AuditPersonas) -> list[int]:
    return list(AuditEntry.objects.filter(team=people.team).order_by("sequence").values_list("sequence", flat=True))


def test_prune_exports_deletes_and_checkpoints_so_the_chain_still_verifies(
    people: AuditPersonas, six: list[AuditEntry], tmp_path: Path
) -> None:
    export_file = tmp_path / "pruned.ndjson"
    out = io.StringIO()
    call_command("audit_prune", "--team", "acme", "--before", six[3].occurred_at.isoformat(),
                 "--export-to", str(export_file), stdout=out)
    assert out.getvalue() == f"Pruned 3 entries (#1 to #3) of Acme to {export_file}; checkpoint #7.\n"
    assert remaining(people) == [4, 5, 6, 7]

    lines = [orjson.loads(line) for line in export_file.read_bytes().splitlines()]
    assert [line["sequence"] for line in lines] == [1, 2, 3]
    rows = [domain.verification_row(line) for line in lines]
    assert domain.verify_chain(rows).as_dict() == {"valid": True, "checked": 3, "first_break": None}

    checkpoint = AuditEntry.objects.get(team=people.team, sequence=7)
    assert (checkpoint.event_type, checkpoint.actor_type) == ("audit.pruned", "system")
    assert checkpoint.details == {
        "first_sequence": 1, "last_sequence": 3, "count": 3, "last_hash": six[2].hash,
        "before": domain.format_time(six[3].occurred_at), "export_file": "pruned.ndjson",
        "export_sha256": hashlib.sha256(export_file.read_bytes()).hexdigest(),
    }
    assert selectors.verify(selectors.Chain(people.team)).as_dict() == {"valid": True, "checked": 4, "first_break": None}

    # A second prune takes the old checkpoint with it; the new one carries the chain on.
    later = prune_chain(actor=Actor.system("system"), origin=Origin.task(),
                        team=people.team, before=checkpoint.occurred_at + dt.timedelta(seconds=1),
                        export_to=tmp_path / "second.ndjson")
    assert (later.count, later.first_sequence, later.last_sequence, later.last_hash) == (4, 4, 7, checkpoint.hash)
    assert remaining(people) == [8]
    # The new checkpoint records the range this prune removed: from after the old checkpoint's range.
    assert AuditEntry.objects.get(team=people.team, sequence=8).details == {
        "first_sequence": 4, "last_sequence": 7, "count": 4, "last_hash": checkpoint.hash,
        "before": domain.format_time(checkpoint.occurred_at + dt.timedelta(seconds=1)),
        "export_file": "second.ndjson",
        "export_sha256": hashlib.sha256((tmp_path / "second.ndjson").read_bytes()).hexdigest(),
    }
    assert selectors.verify(selectors.Chain(people.team)).as_dict() == {"valid": True, "checked": 1, "first_break": None}
    assert record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(),
                        event_type="team.updated").sequence == 9
    assert selectors.verify(selectors.Chain(people.team)).valid


def test_removing_the_checkpoint_is_caught(
    people: AuditPersonas, six: list[AuditEntry], tmp_path: Path, tamper: object
) -> None:
    result = prune_chain(actor=Actor.system("system"), origin=Origin.task(),
                         team=people.team, before=six[2].occurred_at, export_to=tmp_path / "p.ndjson")
    assert result.count == 2
    tamper("DELETE FROM audit_auditentry WHERE event_type = 'audit.pruned'")  # type: ignore[operator]
    assert selectors.verify(selectors.Chain(people.team)).first_break == domain.ChainBreak(1, "deleted")


def test_nothing_to_prune_changes_nothing(people: AuditPersonas, six: list[AuditEntry], tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("audit_prune", "--team", "acme", "--before", "2000-01-01", "--export-to", str(tmp_path / "x"),
                 stdout=out)
    assert out.getvalue() == "Nothing to prune in Acme before 2000-01-01T00:00:00+00:00.\n"
    assert remaining(people) == [1, 2, 3, 4, 5, 6]


def test_legal_hold_blocks_pruning(people: AuditPersonas, six: list[AuditEntry], tmp_path: Path) -> None:
    policy_update(actor=Actor.of(people.users["owner"]), origin=Origin.command(),
                  team=people.team, retention_days=30, legal_hold=True)
    export_file = tmp_path / "held.ndjson"
    with pytest.raises(CommandError, match="under legal hold"):
        call_command("audit_prune", "--team", "acme", "--before", "2100-01-01", "--export-to", str(export_file))
    assert remaining(people) == [1, 2, 3, 4, 5, 6, 7]  # 7: the policy change itself
    assert not export_file.exists()
    changed = AuditEntry.objects.get(team=people.team, sequence=7)
    assert (changed.event_type, changed.details) == (
        "audit.policy_changed",
        {"from": {"retention_days": None, "legal_hold": False}, "to": {"retention_days": 30, "legal_hold": True}})


def test_broken_chain_is_not_pruned(people: AuditPersonas, six: list[AuditEntry], tmp_path: Path, tamper: object) -> None:
    tamper("DELETE FROM audit_auditentry WHERE sequence = 5")  # type: ignore[operator]
    with pytest.raises(PruneRefused, match=r"broken at #5 \(deleted\)"):
        prune_chain(actor=Actor.system("system"), origin=Origin.task(),
                    team=people.team, before=six[3].occurred_at, export_to=tmp_path / "x")
    assert remaining(people) == [1, 2, 3, 4, 6]


def test_retention_period_sets_the_cutoff(people: AuditPersonas, six: list[AuditEntry], tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)
    assert retention_cutoff(people.team, now=now) is None
    with pytest.raises(CommandError, match="keeps its audit log forever"):
        call_command("audit_prune", "--team", "acme", "--export-to", str(tmp_path / "x"))
    AuditPolicy.objects.create(team=people.team, retention_days=90)
    assert retention_cutoff(people.team, now=now) == now - dt.timedelta(days=90)
    out = io.StringIO()
    call_command("audit_prune", "--team", "acme", "--export-to", str(tmp_path / "x"), stdout=out)
    assert out.getvalue().startswith("Nothing to prune in Acme before ")
    assert remaining(people) == [1, 2, 3, 4, 5, 6]


def test_only_owners_change_the_policy(people: AuditPersonas) -> None:
    from symphony_site.api.errors import Forbidden

    with pytest.raises(Forbidden):
        policy_update(actor=Actor.of(people.users["admin"]), origin=Origin.command(),
                      team=people.team, retention_days=1, legal_hold=False)
    assert not AuditPolicy.objects.exists()
    assert not AuditEntry.objects.filter(event_type="audit.policy_changed").exists()


def test_apply_retention_prunes_teams_with_a_period_and_skips_held_ones(
    people: AuditPersonas, six: list[AuditEntry], tmp_path: Path, settings: object
) -> None:
    from audit.services import apply_retention
    from audit.tasks import apply_retention as apply_retention_task

    record_event(team=people.other_team, actor=Actor.system("system"), origin=Origin.task(),
                 event_type="team.updated")
    AuditPolicy.objects.create(team=people.team, retention_days=1)
    AuditPolicy.objects.create(team=people.other_team, retention_days=1, legal_hold=True)
    later = six[-1].occurred_at + dt.timedelta(days=2)

    assert apply_retention(actor=Actor.system("system"), origin=Origin.task(),
                           now=later, export_dir=tmp_path) == {"acme": 6}
    assert remaining(people) == [7]
    assert AuditEntry.objects.filter(team=people.other_team).count() == 1
    assert [path.name for path in tmp_path.iterdir()] == [f"audit-acme-{later:%Y%m%dT%H%M%SZ}.ndjson"]
    assert selectors.verify(selectors.Chain(people.team)).valid

    # Run again (as a redelivered task would): nothing older remains, nothing changes.
    settings.AUDIT_EXPORT_DIR = str(tmp_path / "task")  # type: ignore[attr-defined]
    assert apply_retention_task.run() == {"acme": 0}
    assert remaining(people) == [7]
