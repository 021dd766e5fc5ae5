"""Appending: numbering, hashing, actors, requests, secrets, and immutability in ORM and database."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from audit import domain, selectors
from audit.models import AuditChainHead, AuditEntry, AuditImmutableError
from audit.services import UnknownEventType, hashed_fields, record_event, record_events_batch
from symphony_site.actors import Actor, Channel, Origin
from symphony_site.origins import origin_from_request
from teams.authentication import digest_key
from teams.models import ApiToken

from .conftest import AuditPersonas, run_sql

pytestmark = pytest.mark.django_db


def test_entries_are_numbered_per_team_and_chained(people: AuditPersonas) -> None:
    owner = people.users["owner"]
    first = record_event(team=people.team, actor=Actor.of(owner), origin=Origin.command(),
                         event_type="team.updated", target=people.team)
    second = record_event(team=people.team, actor=Actor.of(owner), origin=Origin.command(),
                          event_type="member.added", target=people.users["viewer"],
                          target_type="user", details={"role": "viewer"})
    other = record_event(team=people.other_team, actor=Actor.system("system"), origin=Origin.task(),
                         event_type="team.updated")

    assert (first.sequence, second.sequence, other.sequence) == (1, 2, 1)
    assert first.prev_hash == domain.GENESIS_HASH
    assert second.prev_hash == first.hash
    assert other.prev_hash == domain.GENESIS_HASH
    stored = AuditEntry.objects.get(pk=second.pk)
    assert domain.entry_hash(stored.prev_hash, hashed_fields(stored)) == stored.hash == second.hash
    assert (stored.actor_id, stored.actor_name, stored.actor_type) == (owner.pk, "acme-owner", "user")
    assert (stored.target_type, stored.target_id, stored.target_name) == (
        "user", str(people.users["viewer"].pk), "acme-viewer")
    assert first.target_type == "teams.team" and first.target_name == "Acme"
    assert first.occurred_at <= second.occurred_at
    head = AuditChainHead.objects.get(chain=str(people.team.pk))
    assert (head.last_sequence, head.last_hash) == (2, second.hash)
    assert selectors.verify(selectors.Chain(people.team)).as_dict() == {
        "valid": True, "checked": 2, "first_break": None}


def test_system_actor_and_platform_chain(people: AuditPersonas) -> None:
    entry = record_event(team=None, actor=Actor.anonymous(), origin=Origin.task(),
                         event_type="auth.login_failed", target_name="nobody",
                         target_type="user", details={"method": "password"})
    assert (entry.team_id, entry.sequence, entry.actor_id, entry.actor_name, entry.actor_type) == (
        None, 1, None, "", "system")
    system = record_event(team=None, actor=Actor.system("system"), origin=Origin.task(),
                          event_type="auth.login_failed")
    assert (system.sequence, system.actor_name, system.actor_type, system.prev_hash) == (2, "system", "system", entry.hash)
    assert AuditChainHead.objects.get(chain="platform").last_sequence == 2
    assert selectors.verify(selectors.Chain(None)).valid


def test_request_supplies_ip_user_agent_and_token_identity(people: AuditPersonas, settings: Any) -> None:
    owner = people.users["owner"]
    token = ApiToken.objects.create(user=owner, name="ci", prefix="sym_abcd", key_digest=digest_key("sym_x"))
    request = RequestFactory().get("/", REMOTE_ADDR="2001:db8:0:0::1", HTTP_USER_AGENT="curl/8 " + "x" * 400,
                                   HTTP_X_FORWARDED_FOR="203.0.113.9")
    request.auth = token
    entry = record_event(team=people.team, actor=Actor.of(owner), origin=origin_from_request(request, channel=Channel.API),
                         event_type="team.updated")
    assert entry.ip_address == "2001:db8::1"
    assert entry.user_agent == ("curl/8 " + "x" * 400)[:300]
    assert entry.actor_type == "token"
    assert entry.details == {"token_id": str(token.pk), "token_name": "ci"}

    settings.AUDIT_TRUST_X_FORWARDED_FOR = True
    plain = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1")
    forwarded = record_event(team=people.team, actor=Actor.of(owner), origin=origin_from_request(plain, channel=Channel.API),
                             event_type="team.updated")
    assert (forwarded.ip_address, forwarded.actor_type, forwarded.details) == ("203.0.113.9", "user", {})
    assert selectors.verify(selectors.Chain(people.team)).valid


def test_secrets_never_reach_the_table(people: AuditPersonas) -> None:
    entry = record_event(
        team=people.team, actor=Actor.system("system"), origin=Origin.task(), event_type="team.updated",
        reason="rotated sym_AbCdEfGhIjKlMnOpQrSt",
        details={"password": "hunter2", "config": {"api_key": "k-123", "headers": {"Authorization": "Token abc"}},
                 "note": "found sym_0123456789abcdefghij leaked", "kept": 1.0},
    )
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.details == {
        "password": "[redacted]", "config": {"api_key": "[redacted]", "headers": {"Authorization": "[redacted]"}},
        "note": "found [redacted] leaked", "kept": 1,
    }
    assert stored.reason == "rotated [redacted]"
    raw = run_sql("SELECT 1 FROM audit_auditentry WHERE details::text LIKE %s OR reason LIKE %s",
                  ["%hunter2%", "%sym_AbCd%"])
    assert raw == 0
    assert selectors.verify(selectors.Chain(people.team)).valid


def test_unknown_event_type_is_refused_and_writes_nothing(people: AuditPersonas) -> None:
    with pytest.raises(UnknownEventType, match=r"'team\.renamed'"):
        record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(),
                     event_type="team.renamed")
    assert AuditEntry.objects.count() == 0
    assert AuditChainHead.objects.count() == 0


def test_entry_rolls_back_with_the_callers_transaction(people: AuditPersonas) -> None:
    record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(),
                 event_type="team.updated")
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(),
                     event_type="team.updated")
        raise RuntimeError("the action failed")
    assert list(AuditEntry.objects.values_list("sequence", flat=True)) == [1]
    assert AuditChainHead.objects.get(chain=str(people.team.pk)).last_sequence == 1
    assert record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(),
                        event_type="team.updated").sequence == 2


def test_batch_appends_one_contiguous_run(people: AuditPersonas) -> None:
    record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(),
                 event_type="team.updated")
    batch = record_events_batch(team=people.team, actor=Actor.of(people.users["owner"]), origin=Origin.command(),
                                events=[
        {"event_type": "member.added", "details": {"n": index}} for index in range(5)])
    assert [entry.sequence for entry in batch] == [2, 3, 4, 5, 6]
    assert AuditEntry.objects.filter(team=people.team).count() == 6
    assert selectors.verify(selectors.Chain(people.team)).as_dict() == {"valid": True, "checked": 6, "first_break": None}


def test_a_batch_is_stamped_with_the_database_clock_not_the_previous_entrys_time(people: AuditPersonas) -> None:
    first = record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(),
                         event_type="team.updated")
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        between = cursor.fetchone()[0]
    batch = record_events_batch(team=people.team, actor=Actor.of(people.users["owner"]), origin=Origin.command(),
                                events=[{"event_type": "member.added", "details": {"n": index}} for index in range(3)])
    assert first.occurred_at < between <= batch[0].occurred_at
    stored = AuditEntry.objects.filter(team=people.team, sequence__gt=1).order_by("sequence")
    assert list(stored.values_list("occurred_at", flat=True)) == [batch[0].occurred_at] * 3


def test_execution_id_is_normalised(people: AuditPersonas) -> None:
    execution = uuid.uuid4()
    entry = record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(),
                         event_type="team.updated",
                         execution_id=str(execution).upper())
    assert AuditEntry.objects.get(pk=entry.pk).execution_id == execution
    assert selectors.verify(selectors.Chain(people.team)).valid


def test_orm_refuses_update_and_delete(people: AuditPersonas) -> None:
    entry = record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(),
                         event_type="team.updated", reason="original")
    entry.reason = "changed"
    with pytest.raises(AuditImmutableError):
        entry.save()
    with pytest.raises(AuditImmutableError):
        entry.delete()
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="changed")
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).reason == "original"


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("UPDATE audit_auditentry SET reason = 'changed'", id="update"),
        pytest.param("DELETE FROM audit_auditentry", id="delete"),
        pytest.param("TRUNCATE audit_auditentry", id="truncate"),
    ],
)
def test_database_trigger_refuses_changes(people: AuditPersonas, statement: str) -> None:
    entry = record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(),
                         event_type="team.updated", reason="original")
    run_sql("SET LOCAL symphony.audit_allow_truncate = 'off'")
    # Check the deferred foreign keys now: TRUNCATE refuses to run while they are pending.
    run_sql("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        run_sql(statement)
    assert AuditEntry.objects.get(pk=entry.pk).reason == "original"


def test_escape_hatch_only_deletes_the_named_chain_up_to_the_named_sequence(people: AuditPersonas) -> None:
    for _ in range(3):
        record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(),
                     event_type="team.updated")
    record_event(team=people.other_team, actor=Actor.system("system"), origin=Origin.task(),
                 event_type="team.updated")
    run_sql("SELECT set_config('symphony.audit_prune', %s, true)", [f"{people.team.pk}:2"])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        run_sql("DELETE FROM audit_auditentry WHERE team_id = %s", [people.team.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        run_sql("DELETE FROM audit_auditentry WHERE team_id = %s", [people.other_team.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        run_sql("UPDATE audit_auditentry SET reason = 'x' WHERE sequence = 1")
    assert run_sql("DELETE FROM audit_auditentry WHERE team_id = %s AND sequence <= 2", [people.team.pk]) == 2
    # Nothing recorded the removal, so verification reports it.
    assert selectors.verify(selectors.Chain(people.team)).as_dict() == {
        "valid": False, "checked": 0, "first_break": {"seq": 1, "reason": "deleted"}}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('quote " backslash \\ slash /', id="escapes"),
        pytest.param("line\nbreak\ttab\r\x1f\x7f", id="control-characters"),
        pytest.param("naïve café — 東京 🎻", id="unicode"),
        pytest.param("", id="empty"),
    ],
)
def test_database_side_hash_matches_the_domain_encoding(people: AuditPersonas, text: str) -> None:
    """The single-statement append hashes in SQL; the pure encoder must agree byte for byte."""
    request = RequestFactory().get("/", REMOTE_ADDR="::ffff:192.0.2.7", HTTP_USER_AGENT=text)
    entry = record_event(
        team=people.team, actor=Actor.of(people.users["owner"]), origin=origin_from_request(request, channel=Channel.API), event_type="team.updated", target_type=text[:64],
        target_id=text[:64], target_name=text, reason=text, execution_id=uuid.uuid4(),
        details={text or "k": [text, 1, 2.5, None, True, {"z": text, "a": -7}], "ünï": {"b": 1, "a": 2}},
    )
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.ip_address == "192.0.2.7"
    assert domain.entry_hash(stored.prev_hash, hashed_fields(stored)) == stored.hash == entry.hash
    assert (stored.sequence, stored.occurred_at) == (entry.sequence, entry.occurred_at)
    assert selectors.verify(selectors.Chain(people.team)).as_dict() == {"valid": True, "checked": 1, "first_break": None}
