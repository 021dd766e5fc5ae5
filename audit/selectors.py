"""Reading the audit log: chains, filtered queries, chain verification.

Who may read which chain is `audit.access`; these reads take a chain the
caller already has a right to (or, for commands and tasks, needs no right).
Like the rest of the audit core, this module imports no other Symphony app.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection, transaction
from django.db.models import QuerySet

from audit import chain_sql, domain
from audit.models import PLATFORM_CHAIN, AuditChainHead, AuditEntry


@dataclass(frozen=True)
class Chain:
    """One hash chain: a team's (a `teams.Team`), or the platform's (team None)."""

    team: Any

    @property
    def key(self) -> str:
        return str(self.team.pk) if self.team is not None else PLATFORM_CHAIN

    @property
    def label(self) -> str:
        return self.team.name if self.team is not None else "Platform"


def chain_for_team(team: Any) -> Chain:
    """A chain without an access check, for commands and tasks."""
    return Chain(team=team)


def entries(chain: Chain) -> QuerySet[AuditEntry]:
    queryset = AuditEntry.objects.all()
    if chain.team is None:
        return queryset.filter(team__isnull=True)
    return queryset.filter(team=chain.team)


# --- Verification --------------------------------------------------------------------

# Verification streams the chain with COPY ... TO STDOUT, one JSON array per row laid out as a
# `domain` verification row (`prev_hash, *HASHED_FIELDS, hash`). COPY sends rows as fast as
# PostgreSQL makes them, without a cursor's per-row protocol and type conversion; a row is
# then one `orjson.loads`, which gives back exactly the values a cursor would (text as stored,
# jsonb details through the same parser, integers as integers). PostgreSQL builds the next
# rows on one core while Python hashes on the other.
VERIFY_COPY_SQL = """
    COPY (
        SELECT json_build_array(
            prev_hash, team_id, sequence, {occurred_at}, actor_id, actor_name, actor_type, event_type,
            target_type, target_id, target_name, execution_id, reason, details, host(ip_address),
            user_agent, hash)
        FROM audit_auditentry
        WHERE {{chain_condition}}
        ORDER BY sequence
    ) TO STDOUT
""".format(occurred_at=chain_sql.time_text_sql("occurred_at"))


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


def verification_rows(chain: Chain) -> Iterator[tuple[Any, ...]]:
    """`chain`'s verification rows in sequence order, streamed in constant memory."""
    condition, params = _chain_condition(chain)
    loads = orjson.loads
    # In a savepoint: the verifier stops reading at the first break, and psycopg then cancels
    # the COPY, which fails the (sub)transaction; rolling back to the savepoint keeps the
    # caller's transaction usable.
    with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(
        VERIFY_COPY_SQL.format(chain_condition=condition), params
    ) as copy:
        pending = b""
        for block in copy:
            lines = (pending + bytes(block)).split(b"\n")
            pending = lines.pop()  # the start of a row the next block finishes
            for line in lines:
                # COPY's text format doubles backslashes; JSON has no raw control characters, so
                # that is the only escape COPY adds here.
                yield tuple(loads(line.replace(b"\\\\", b"\\") if b"\\" in line else line))


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
        return domain.verify_chain(verification_rows(chain), start=start, head=head, anchor=anchor)


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
