"""Appending to the audit log. With `retention`, the only code that writes audit rows.

`record_event` is called by every other service *inside its own transaction*,
so an action and its audit entry commit or roll back together. It opens its
own `transaction.atomic()` block too, so a lone call (a login view) is still
atomic, but then the entry is not tied to anything else.

Appends to one chain (a team, or the staff-only platform chain for events
without a team) are serialised by a row lock on that chain's `AuditChainHead`,
held until the caller's transaction ends. Two transactions appending to the
same team therefore queue behind each other; keep transactions that audit short,
and append to one chain per transaction where possible (two chains locked in
opposite orders by two transactions deadlock, and PostgreSQL aborts one).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from django.db import connection, transaction

from audit import chain_sql, domain, event_types
from audit.models import PLATFORM_CHAIN, ActorType, AuditEntry
from symphony_site import metrics, prepared
from symphony_site.actors import PERSON_CHANNELS, Actor, Origin, normalize_ip

USER_AGENT_MAX_LENGTH = 300
BATCH_INSERT_ROWS = 500
TARGET_NAME_MAX_LENGTH = 200


class UnknownEventType(ValueError):
    """`record_event` was given a type missing from `audit.event_types`."""


def chain_key(team: Any) -> str:
    """A chain's key: the team's id as text, or 'platform' for team-less entries."""
    if team is None:
        return PLATFORM_CHAIN
    return str(getattr(team, "pk", team))


def record_event(
    *,
    team: Any,
    actor: Actor,
    origin: Origin,
    event_type: str,
    target: Any = None,
    target_type: str = "",
    target_id: str = "",
    target_name: str = "",
    execution_id: Any = None,
    reason: str = "",
    details: Mapping[str, Any] | None = None,
    actor_type: str | None = None,
) -> AuditEntry:
    """Append one entry to `team`'s chain (None: the platform chain) and return it.

    `actor` is a user, the system under a name ("reaper"), or nobody (a failed
    login). `origin` supplies the IP address and user agent, and marks calls
    made with an API token (the entry's actor type is then `token`, and its
    details name the token). `target` fills the target fields from a model
    instance; explicit `target_*` arguments win. Secrets in `details` and
    `reason` are redacted before anything is hashed or stored.
    """
    entry = _prepare(
        team=team, actor=actor, origin=origin, event_type=event_type, target=target, target_type=target_type,
        target_id=target_id, target_name=target_name, execution_id=execution_id, reason=reason,
        details=details, actor_type=actor_type,
    )
    # No savepoint: if the append fails, the caller's whole transaction must roll back.
    with transaction.atomic(savepoint=False):
        sealed = _append_one(entry)
        if sealed is None:
            _create_head(team)
            sealed = _append_one(entry)
    entry.sequence, entry.occurred_at, entry.prev_hash, entry.hash = sealed
    _mark_stored([entry])
    return entry


class PendingAppend:
    """One entry's append as a statement for the caller to send in its own pipeline (the
    executions' books send it last in their closing round trip), then `finish`ed with its rows.
    Exactly `record_event`'s append, one round trip fewer for the caller."""

    __slots__ = ("entry", "params", "sql", "team")

    def __init__(self, entry: AuditEntry, team: Any) -> None:
        self.entry, self.team = entry, team
        self.sql, self.params = _append_one_statement(entry)

    def finish(self, rows: Sequence[tuple[Any, ...]]) -> AuditEntry:
        """The statement's rows: none when the chain had no head row yet (it is created, and the
        entry appended, now)."""
        sealed = rows[0] if rows else None
        if sealed is None:
            _create_head(self.team)
            sealed = _append_one(self.entry)
        entry = self.entry
        entry.sequence, entry.occurred_at, entry.prev_hash, entry.hash = sealed
        _mark_stored([entry])
        return entry


def pending_event(*, team: Any, actor: Actor, origin: Origin, event_type: str, target_type: str = "",
                  target_id: str = "", target_name: str = "", execution_id: Any = None, reason: str = "",
                  details: Mapping[str, Any] | None = None) -> PendingAppend:
    """`record_event`'s entry, not appended yet: the caller sends `sql` with `params` inside its
    transaction (prepared) and hands the rows to `finish`."""
    entry = _prepare(
        team=team, actor=actor, origin=origin, event_type=event_type, target=None, target_type=target_type,
        target_id=target_id, target_name=target_name, execution_id=execution_id, reason=reason,
        details=details, actor_type=None,
    )
    return PendingAppend(entry, team)


def record_events_batch(*, team: Any, actor: Actor, origin: Origin,
                        events: Sequence[Mapping[str, Any]]) -> list[AuditEntry]:
    """Append several entries to one chain under one lock and one INSERT.

    Each item of `events` takes the keyword arguments of `record_event` other
    than `team`, `actor` and `origin` (e.g. `{"event_type": ..., "details": ...}`).
    """
    entries = [_prepare(team=team, actor=actor, origin=origin, **dict(event)) for event in events]
    if not entries:
        return []
    with transaction.atomic(savepoint=False):
        head = _lock_head(team)
        for entry in entries:
            _seal(entry, head)
        for offset in range(0, len(entries), BATCH_INSERT_ROWS):
            _insert(entries[offset : offset + BATCH_INSERT_ROWS], head)
    return entries


def export_recorded(*, actor: Actor, origin: Origin, team: Any, export_format: str,
                    filters: Mapping[str, Any]) -> AuditEntry:
    """Record that `actor` exported `team`'s log; the export covers the entries before this one."""
    with transaction.atomic():
        return record_event(team=team, actor=actor, origin=origin, event_type="audit.exported",
                            details={"format": export_format, "filters": dict(filters)})


# --- Building an entry -------------------------------------------------------------


def _prepare(
    *,
    team: Any,
    actor: Actor,
    origin: Origin,
    event_type: str,
    target: Any = None,
    target_type: str = "",
    target_id: str = "",
    target_name: str = "",
    execution_id: Any = None,
    reason: str = "",
    details: Mapping[str, Any] | None = None,
    actor_type: str | None = None,
) -> AuditEntry:
    if not event_types.is_known(event_type):
        raise UnknownEventType(
            f"Unknown audit event type {event_type!r}: add it to audit/event_types.py "
            "and docs/audit-events.md."
        )
    if not isinstance(actor, Actor) or not isinstance(origin, Origin):
        raise TypeError("record_event takes an Actor and an Origin (symphony_site.actors).")
    entry_details: dict[str, Any] = dict(details or {})
    resolved_type = _actor_type(actor, origin)
    if origin.by_token:
        resolved_type = ActorType.TOKEN
        entry_details["token_id"] = origin.token_id
        entry_details["token_name"] = origin.token_name
    if actor_type is not None:
        resolved_type = ActorType(actor_type)
    if origin.request_id:
        entry_details.setdefault("request_id", origin.request_id)
    if origin.bulk_operation:
        entry_details.setdefault("bulk_operation", origin.bulk_operation)

    if target is not None:
        target_type = target_type or _target_label(target)
        target_id = target_id or str(target.pk)
        target_name = target_name or str(target)

    team_id = uuid.UUID(str(getattr(team, "pk", team))) if team is not None else None
    return AuditEntry(
        team_id=team_id,
        actor_id=actor.user_id,
        actor_name=domain.clean_text(actor.name, 150),
        actor_type=resolved_type.value,
        event_type=event_type,
        target_type=domain.clean_text(target_type, 64),
        target_id=domain.clean_text(target_id, 64),
        target_name=domain.clean_text(target_name, TARGET_NAME_MAX_LENGTH),
        execution_id=uuid.UUID(str(execution_id)) if execution_id is not None else None,
        reason=domain.scrub_text(domain.clean_text(reason)),
        details=domain.normalize_details(domain.scrub_secrets(entry_details)),
        ip_address=normalize_ip(origin.ip_address),
        user_agent=domain.scrub_text(domain.clean_text(origin.user_agent, USER_AGENT_MAX_LENGTH)),
    )


def _actor_type(actor: Actor, origin: Origin) -> ActorType:
    if actor.is_user:
        return ActorType.USER
    if actor.is_system:
        return ActorType.SYSTEM
    # Nobody signed in: a person at a web form (a failed login), or a background job.
    return ActorType.USER if origin.channel in PERSON_CHANNELS else ActorType.SYSTEM


def _target_label(target: Any) -> str:
    meta = getattr(target, "_meta", None)
    return meta.label_lower if meta is not None else type(target).__name__.lower()


# --- The chain head -----------------------------------------------------------------


class _Head:
    __slots__ = ("chain", "clock", "last_hash", "last_occurred_at", "last_sequence", "team_id")

    def __init__(self, chain: str, team_id: Any, last_sequence: int, last_hash: str,
                 last_occurred_at: dt.datetime | None, clock: dt.datetime) -> None:
        self.chain = chain
        self.team_id = team_id
        self.last_sequence = last_sequence
        self.last_hash = last_hash
        self.last_occurred_at = last_occurred_at
        self.clock = clock


_INSERT_COLUMNS = (
    "id, team_id, sequence, occurred_at, actor_id, actor_name, actor_type, event_type, target_type, "
    "target_id, target_name, execution_id, reason, details, ip_address, user_agent, prev_hash, hash"
)

_LOCK_HEAD_SQL = """
    SELECT last_sequence, last_hash, last_occurred_at,
           GREATEST(clock_timestamp(), last_occurred_at)
    FROM audit_auditchainhead WHERE chain = %s FOR UPDATE
"""


def _create_head(team: Any) -> None:
    team_id = None if team is None else getattr(team, "pk", team)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditchainhead (chain, team_id, last_sequence, last_hash) "
            "VALUES (%s, %s, 0, %s) ON CONFLICT (chain) DO NOTHING",
            [chain_key(team), team_id, domain.GENESIS_HASH],
        )


def _lock_head(team: Any) -> _Head:
    """Lock the chain's head row (creating it on first use) and read the database clock."""
    chain = chain_key(team)
    team_id = None if team is None else getattr(team, "pk", team)
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_HEAD_SQL, [chain])
        row = cursor.fetchone()
        if row is None:
            _create_head(team)
            cursor.execute(_LOCK_HEAD_SQL, [chain])
            row = cursor.fetchone()
    last_sequence, last_hash, last_occurred_at, clock = row
    return _Head(chain, team_id, last_sequence, last_hash, last_occurred_at, clock)


# One round trip for a single append: lock the head, number and time-stamp the entry from the
# database clock, hash it, insert it and move the head. The hashed bytes are the canonical array
# of `audit.domain` assembled (by `chain_sql`, which the verifier shares) around the parts only
# the database knows (previous hash, sequence, time), which need no JSON escaping; everything
# else arrives already encoded by orjson, so `domain.entry_hash` over the stored row gives the
# same digest (every verification test checks).
_APPEND_ONE_SQL = f"""
WITH head AS (
    SELECT chain, last_sequence + 1 AS sequence, last_hash AS prev_hash,
           GREATEST(clock_timestamp(), last_occurred_at) AS occurred_at
    FROM audit_auditchainhead WHERE chain = %s FOR UPDATE
), sealed AS (
    SELECT head.*, {chain_sql.entry_hash_sql(
        prev_hash="prev_hash", team_json="%s", sequence="sequence",
        time_text=chain_sql.time_text_sql("occurred_at"), rest_json="%s")} AS hash
    FROM head
), appended AS (
    INSERT INTO audit_auditentry ({_INSERT_COLUMNS})
    SELECT %s, %s, sequence, occurred_at, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::inet, %s,
           prev_hash, hash
    FROM sealed
    RETURNING sequence, occurred_at, prev_hash, hash
)
UPDATE audit_auditchainhead AS moved
SET last_sequence = appended.sequence, last_hash = appended.hash, last_occurred_at = appended.occurred_at
FROM appended WHERE moved.chain = %s
RETURNING appended.sequence, appended.occurred_at, appended.prev_hash, appended.hash
"""


def _append_one(entry: AuditEntry) -> tuple[int, dt.datetime, str, str] | None:
    """Append `entry` in one statement; None when its chain has no head row yet."""
    # Prepared: every audited change of the platform sends this one statement.
    rows = prepared.execute(*_append_one_statement(entry))
    return rows[0] if rows else None


def _append_one_statement(entry: AuditEntry) -> tuple[str, list[Any]]:
    chain = chain_key(entry.team_id)
    team_json = orjson.dumps(str(entry.team_id) if entry.team_id is not None else None).decode()
    hashed = hashed_fields(entry, occurred_at="")
    # The canonical array from `actor_id` on, with its closing bracket: '<actor_id>,...]'.
    rest_json = orjson.dumps(hashed[3:], option=orjson.OPT_SORT_KEYS).decode()[1:]
    params = [
        chain, team_json, rest_json,
        entry.pk, entry.team_id, entry.actor_id, entry.actor_name, entry.actor_type, entry.event_type,
        entry.target_type, entry.target_id, entry.target_name, entry.execution_id, entry.reason,
        orjson.dumps(entry.details).decode(), entry.ip_address, entry.user_agent,
        chain,
    ]
    return _APPEND_ONE_SQL, params


def _seal(entry: AuditEntry, head: _Head) -> None:
    """Number, time-stamp and hash `entry` as the chain's next link, advancing `head`."""
    entry.sequence = head.last_sequence + 1
    occurred_at = head.clock
    if head.last_occurred_at is not None and occurred_at < head.last_occurred_at:
        occurred_at = head.last_occurred_at
    entry.occurred_at = occurred_at
    entry.prev_hash = head.last_hash
    entry.hash = domain.entry_hash(entry.prev_hash, hashed_fields(entry))
    head.last_sequence = entry.sequence
    head.last_hash = entry.hash
    head.last_occurred_at = occurred_at


_INSERT_ROW = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::inet, %s, %s, %s)"


def _insert(entries: Sequence[AuditEntry], head: _Head) -> None:
    """Insert sealed entries and move the chain head, in one statement (one round trip)."""
    params: list[Any] = []
    for entry in entries:
        params += [
            entry.pk, entry.team_id, entry.sequence, entry.occurred_at, entry.actor_id, entry.actor_name,
            entry.actor_type, entry.event_type, entry.target_type, entry.target_id, entry.target_name,
            entry.execution_id, entry.reason, orjson.dumps(entry.details).decode(), entry.ip_address,
            entry.user_agent, entry.prev_hash, entry.hash,
        ]
    params += [head.last_sequence, head.last_hash, head.last_occurred_at, head.chain]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH appended AS (INSERT INTO audit_auditentry ({_INSERT_COLUMNS}) VALUES "
            f"{', '.join([_INSERT_ROW] * len(entries))} RETURNING 1) "
            "UPDATE audit_auditchainhead SET last_sequence = %s, last_hash = %s, last_occurred_at = %s "
            "WHERE chain = %s",
            params,
        )
    _mark_stored(entries)


def _mark_stored(entries: Sequence[AuditEntry]) -> None:
    types = [entry.event_type for entry in entries]
    transaction.on_commit(lambda: metrics.audit_appended(types))
    for entry in entries:
        # Stored: from here on the ORM treats it as an existing row, which it refuses to save.
        entry._state.adding = False
        entry._state.db = connection.alias


def hashed_fields(entry: AuditEntry, *, occurred_at: str | None = None) -> tuple[Any, ...]:
    """The entry's hashed fields in `domain.HASHED_FIELDS` order."""
    return (
        str(entry.team_id) if entry.team_id is not None else None,
        entry.sequence,
        occurred_at if occurred_at is not None else domain.format_time(entry.occurred_at),
        entry.actor_id,
        entry.actor_name,
        entry.actor_type,
        entry.event_type,
        entry.target_type,
        entry.target_id,
        entry.target_name,
        str(entry.execution_id) if entry.execution_id is not None else None,
        entry.reason,
        entry.details,
        entry.ip_address,
        entry.user_agent,
    )
