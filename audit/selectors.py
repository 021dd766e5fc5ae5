"""Reading the audit log: who may read which chain, filtered queries, chain verification.

Only a team's owners and admins read its chain; other members get "permission
denied", outsiders "not found". Staff also read the platform chain (entries
without a team, such as failed logins for unknown usernames).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection, transaction
from django.db.models import QuerySet
from psycopg.types.json import set_json_loads

from audit import domain
from audit.models import PLATFORM_CHAIN, AuditChainHead, AuditEntry
from symphony_site.api.errors import NotFound, ValidationFailed
from teams.access import access_team, teams_for_user
from teams.models import Team
from teams.roles import Role

READ_ROLE = Role.ADMIN
VERIFY_FETCH_SIZE = 20_000


@dataclass(frozen=True)
class Chain:
    """One hash chain: a team's, or the platform's (team None)."""

    team: Team | None

    @property
    def key(self) -> str:
        return str(self.team.pk) if self.team is not None else PLATFORM_CHAIN

    @property
    def label(self) -> str:
        return self.team.name if self.team is not None else "Platform"


def access_chain(user: Any, raw_team: str | None) -> Chain:
    """The chain `user` asked for with `?team=` (an id or slug, or 'platform').

    Without `team`, a user in exactly one team gets that team; anyone else must say.
    """
    raw = (raw_team or "").strip()
    if raw == PLATFORM_CHAIN:
        if getattr(user, "is_staff", False) and user.is_authenticated:
            return Chain(team=None)
        raise NotFound("Team not found.")
    if not raw:
        teams = list(teams_for_user(user)[:2])
        if len(teams) != 1:
            raise ValidationFailed(
                "Say which team's audit log to read with ?team=<team id>.",
                details=[{"field": "team", "message": "required", "code": "required"}],
            )
        raw = str(teams[0].pk)
    team_id: Any = raw
    try:
        uuid.UUID(raw)
    except ValueError:
        team_id = Team.objects.filter(slug=raw).values_list("pk", flat=True).first()
    return Chain(team=access_team(user, team_id, READ_ROLE, action="read the audit log"))


def chain_for_team(team: Team | None) -> Chain:
    """A chain without an access check, for commands and tasks."""
    return Chain(team=team)


def entries(chain: Chain) -> QuerySet[AuditEntry]:
    queryset = AuditEntry.objects.all()
    if chain.team is None:
        return queryset.filter(team__isnull=True)
    return queryset.filter(team=chain.team)


# --- Verification --------------------------------------------------------------------

_VERIFY_SQL = """
    SELECT prev_hash, team_id::text, sequence,
           to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           actor_id, actor_name, actor_type, event_type, target_type, target_id, target_name,
           execution_id::text, reason, details, host(ip_address), user_agent, hash
    FROM audit_auditentry
    WHERE {chain_condition}
    ORDER BY sequence
"""


def _chain_condition(chain: Chain) -> tuple[str, list[Any]]:
    if chain.team is None:
        return "team_id IS NULL", []
    return "team_id = %s", [chain.team.pk]


def chain_start(chain: Chain) -> domain.ChainPoint:
    """Where the surviving chain begins: after the newest retention checkpoint, or the origin."""
    checkpoint = (
        entries(chain).filter(event_type="audit.pruned", details__has_key="last_sequence")
        .order_by("-sequence").values_list("details", flat=True).first()
    )
    if not checkpoint:
        return domain.CHAIN_ORIGIN
    try:
        return domain.ChainPoint(int(checkpoint["last_sequence"]), str(checkpoint["last_hash"]))
    except (KeyError, TypeError, ValueError):
        # Not a checkpoint `prune_chain` wrote: the chain must then start at the origin.
        return domain.CHAIN_ORIGIN


def chain_head(chain: Chain) -> domain.ChainPoint | None:
    head = AuditChainHead.objects.filter(chain=chain.key).values_list("last_sequence", "last_hash").first()
    return domain.ChainPoint(*head) if head else None


def _verification_rows(chain: Chain) -> Iterator[tuple[Any, ...]]:
    condition, params = _chain_condition(chain)
    with connection.chunked_cursor() as cursor:
        # Parse jsonb straight into Python objects with orjson on this cursor only.
        set_json_loads(orjson.loads, context=cursor.cursor)
        cursor.execute(_VERIFY_SQL.format(chain_condition=condition), params)
        while True:
            batch = cursor.fetchmany(VERIFY_FETCH_SIZE)
            if not batch:
                return
            yield from batch


def verify(chain: Chain, *, anchor: domain.ChainPoint | None = None) -> domain.VerificationResult:
    """Recompute `chain` against its head row (and `anchor`, a head stored elsewhere)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            # One snapshot for the head, the checkpoint and the rows, while appends carry on.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        start = chain_start(chain)
        head = chain_head(chain)
        return domain.verify_chain(_verification_rows(chain), start=start, head=head, anchor=anchor)


def chains() -> list[Chain]:
    """Every chain that has a head, platform first, then teams by name."""
    heads = AuditChainHead.objects.select_related("team").order_by("team__name")
    found = [Chain(team=head.team) for head in heads]
    return sorted(found, key=lambda chain: (chain.team is not None, chain.label))


def anchors() -> list[dict[str, Any]]:
    """Every chain's head as JSON-ready dicts (what `audit_anchor` prints)."""
    rows = AuditChainHead.objects.select_related("team").order_by("chain")
    return [
        {
            "chain": head.chain,
            "team": head.team.slug if head.team else None,
            "sequence": head.last_sequence,
            "hash": head.last_hash,
        }
        for head in rows
    ]
