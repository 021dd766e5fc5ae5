"""Retention does not hold the chain's lock while it verifies and exports.

Each test pauses a real prune in the middle of its export (a hook around the
export stream) and acts from another thread, on its own database connection,
while the prune waits. The waits are bounded only so that a regression fails
instead of hanging: an append blocked by the lock never signals.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.db import connection, transaction

from audit import domain, export, selectors
from audit.models import AuditEntry, AuditPolicy
from audit.services import PruneRefused, prune_chain, record_event
from symphony_site.actors import Actor, Origin

from .conftest import AuditPersonas

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_stray_connections")]

SYSTEM = Actor.system("system")
ENTRIES = 300
# Only a bound for a regression: an action that is not blocked finishes in milliseconds.
WAIT_SECONDS = 30


def _in_another_connection(action: Callable[[], Any]) -> tuple[threading.Event, list[Any]]:
    """Run `action` on a thread of its own (so its own connection); the event is set when it returns."""
    done, outcome = threading.Event(), []

    def run() -> None:
        try:
            outcome.append(action())
        except BaseException as error:  # handed back to the test, which fails on it
            outcome.append(error)
        finally:
            connection.close()
            done.set()

    threading.Thread(target=run, daemon=True).start()
    return done, outcome


def _pause_export(monkeypatch: pytest.MonkeyPatch, during: Callable[[], None]) -> None:
    """Call `during` once the prune has verified the chain and started writing its export."""
    stream = export.ndjson_stream

    def paused(queryset: Any) -> Iterator[bytes]:
        for index, block in enumerate(stream(queryset)):
            yield block
            if index == 0:
                during()

    monkeypatch.setattr(export, "ndjson_stream", paused)


@pytest.fixture
def old_entries(people: AuditPersonas) -> list[AuditEntry]:
    return [record_event(team=people.team, actor=SYSTEM, origin=Origin.task(), event_type="team.updated",
                         details={"n": n}) for n in range(ENTRIES)]


def remaining(people: AuditPersonas) -> list[int]:
    return list(AuditEntry.objects.filter(team=people.team).order_by("sequence").values_list("sequence", flat=True))


def test_appends_commit_while_a_prune_verifies_and_exports(
    people: AuditPersonas, old_entries: list[AuditEntry], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    appended: list[tuple[bool, list[Any]]] = []

    def append_meanwhile() -> None:
        def append() -> AuditEntry:
            with transaction.atomic():
                return record_event(team=people.team, actor=Actor.of(people.users["owner"]), origin=Origin.command(),
                                    event_type="member.added", details={"during": "prune"})

        done, outcome = _in_another_connection(append)
        appended.append((done.wait(WAIT_SECONDS), outcome))

    _pause_export(monkeypatch, append_meanwhile)
    before = old_entries[-1].occurred_at + dt.timedelta(microseconds=1)
    export_file = tmp_path / "pruned.ndjson"
    result = prune_chain(actor=SYSTEM, origin=Origin.task(), team=people.team, before=before, export_to=export_file)

    [(committed_while_exporting, outcome)] = appended
    assert committed_while_exporting is True, "an append waited for the prune: the lock was held while exporting"
    [concurrent] = outcome
    assert isinstance(concurrent, AuditEntry) and concurrent.sequence == ENTRIES + 1
    assert (result.count, result.first_sequence, result.last_sequence, result.last_hash) == (
        ENTRIES, 1, ENTRIES, old_entries[-1].hash)
    # The append made during the export survives; the checkpoint follows it.
    assert remaining(people) == [ENTRIES + 1, ENTRIES + 2]
    assert result.checkpoint is not None and result.checkpoint.sequence == ENTRIES + 2
    assert selectors.verify(selectors.Chain(people.team)).as_dict() == {"valid": True, "checked": 2, "first_break": None}
    lines = [orjson.loads(line) for line in export_file.read_bytes().splitlines()]
    assert [line["sequence"] for line in lines] == list(range(1, ENTRIES + 1))
    assert domain.verify_chain([domain.verification_row(line) for line in lines]).valid


def test_appends_commit_while_a_prune_deletes_its_range(
    people: AuditPersonas, old_entries: list[AuditEntry], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The range is deleted without the head's lock: only the checkpoint's own append takes it."""
    from audit.services import retention

    appended: list[tuple[bool, list[Any]]] = []
    real_record_event = retention.record_event

    def checkpoint_after_an_append(**event: Any) -> AuditEntry:
        # Here the range is already deleted, in the prune's still open transaction.
        def append() -> AuditEntry:
            with transaction.atomic():
                return record_event(team=people.team, actor=SYSTEM, origin=Origin.task(), event_type="team.updated")

        done, outcome = _in_another_connection(append)
        appended.append((done.wait(WAIT_SECONDS), outcome))
        return real_record_event(**event)

    monkeypatch.setattr(retention, "record_event", checkpoint_after_an_append)
    before = old_entries[-1].occurred_at + dt.timedelta(microseconds=1)
    result = prune_chain(actor=SYSTEM, origin=Origin.task(), team=people.team, before=before,
                         export_to=tmp_path / "pruned.ndjson")

    [(committed_while_deleting, outcome)] = appended
    assert committed_while_deleting is True, "an append waited for the prune's delete"
    assert [entry.sequence for entry in outcome] == [ENTRIES + 1]
    assert result.checkpoint is not None and result.checkpoint.sequence == ENTRIES + 2
    assert remaining(people) == [ENTRIES + 1, ENTRIES + 2]
    assert selectors.verify(selectors.Chain(people.team)).as_dict() == {"valid": True, "checked": 2, "first_break": None}


def _hold(people: AuditPersonas) -> Any:
    return AuditPolicy.objects.update_or_create(team=people.team, defaults={"legal_hold": True})


def _other_prune(people: AuditPersonas, tmp_path: Path, before: dt.datetime) -> Any:
    return prune_chain(actor=SYSTEM, origin=Origin.task(), team=people.team, before=before,
                       export_to=tmp_path / "other.ndjson")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param("legal_hold", "under legal hold", id="a-legal-hold-placed-meanwhile"),
        pytest.param("other_prune", "pruned by someone else meanwhile", id="another-prune-ran-meanwhile"),
    ],
)
def test_a_change_during_the_export_is_caught_under_the_lock(
    people: AuditPersonas, old_entries: list[AuditEntry], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    change: str, message: str,
) -> None:
    before = old_entries[-1].occurred_at + dt.timedelta(microseconds=1)
    changes: list[tuple[bool, list[Any]]] = []

    def change_meanwhile() -> None:
        if changes:
            return  # the other prune exports too, through the same hook
        action = (lambda: _hold(people)) if change == "legal_hold" else (lambda: _other_prune(people, tmp_path, before))
        changes.append((False, []))
        done, outcome = _in_another_connection(action)
        changes[0] = (done.wait(WAIT_SECONDS), outcome)

    _pause_export(monkeypatch, change_meanwhile)
    export_file = tmp_path / "pruned.ndjson"
    with pytest.raises(PruneRefused, match=message):
        prune_chain(actor=SYSTEM, origin=Origin.task(), team=people.team, before=before, export_to=export_file)

    [(finished, outcome)] = changes
    assert finished is True and not isinstance(outcome[0], BaseException), outcome
    assert not export_file.exists()
    if change == "legal_hold":
        assert remaining(people) == list(range(1, ENTRIES + 1))
    else:  # the other prune's work stands: its checkpoint alone remains
        assert remaining(people) == [ENTRIES + 1]
    assert selectors.verify(selectors.Chain(people.team)).valid
