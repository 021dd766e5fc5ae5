"""Retention: export a team's old entries, delete them through the trigger's escape hatch, checkpoint.

Like `chain`, this module imports no other Symphony app: every app records
through `audit.services`, so the audit core sits below them all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from audit import domain
from audit.models import AuditEntry, AuditPolicy
from audit.services.chain import lock_head, record_event
from symphony_site.actors import Actor, Origin

logger = logging.getLogger(__name__)

# The system actor retention runs as (the beat task and the `audit_prune` command).
RETENTION_ACTOR = Actor.system("retention")


class PruneRefused(Exception):
    """Pruning was not allowed (legal hold, a broken chain, no retention period)."""


@dataclass(frozen=True)
class PruneResult:
    count: int
    first_sequence: int | None
    last_sequence: int | None
    last_hash: str | None
    checkpoint: AuditEntry | None


def retention_cutoff(team: Any, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """The moment before which `team`'s policy lets entries go, or None to keep all."""
    policy = AuditPolicy.objects.filter(team=team).first()
    if policy is None or policy.retention_days is None:
        return None
    return (now or timezone.now()) - dt.timedelta(days=policy.retention_days)


def prune_chain(*, actor: Actor, origin: Origin, team: Any, before: dt.datetime,
                export_to: str | Path) -> PruneResult:
    """Remove `team`'s entries older than `before`, after exporting them to `export_to` (NDJSON).

    In one transaction, holding the chain's lock so nothing appends meanwhile:
    refuse under legal hold or when the chain does not verify; export the
    range; delete it through the trigger's escape hatch (scoped to this chain
    and range); append an `audit.pruned` checkpoint recording the range, its
    count and its last hash, from which verification then starts.
    """
    from audit import export, selectors

    if team is None:
        raise PruneRefused("The platform chain is not pruned by team retention.")
    chain = selectors.chain_for_team(team)
    with transaction.atomic():
        lock_head(team)
        if AuditPolicy.objects.filter(team=team, legal_hold=True).exists():
            raise PruneRefused(f"{team} is under legal hold: nothing may be pruned until the hold is lifted.")
        verification = selectors.verify(chain)
        if not verification.valid:
            assert verification.first_break is not None
            raise PruneRefused(
                f"The chain of {team} is broken at #{verification.first_break.sequence} "
                f"({verification.first_break.reason}); investigate before pruning anything."
            )
        start = selectors.chain_start(chain)
        in_range = selectors.entries(chain).filter(sequence__gt=start.sequence)
        through = in_range.filter(occurred_at__lt=before).aggregate(last=Max("sequence"))["last"]
        if through is None:
            return PruneResult(0, None, None, None, None)
        pruned = in_range.filter(sequence__lte=through)
        last_hash = pruned.filter(sequence=through).values_list("hash", flat=True).get()
        count = through - start.sequence

        digest = hashlib.sha256()
        with open(export_to, "wb") as output:
            for block in export.ndjson_stream(pruned):
                output.write(block)
                digest.update(block)
            output.flush()
            os.fsync(output.fileno())

        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('symphony.audit_prune', %s, true)", [f"{chain.key}:{through}"])
            cursor.execute(
                "DELETE FROM audit_auditentry WHERE team_id = %s AND sequence > %s AND sequence <= %s",
                [team.pk, start.sequence, through],
            )
            deleted = cursor.rowcount
            cursor.execute("SELECT set_config('symphony.audit_prune', '', true)")
        if deleted != count:
            raise PruneRefused(f"Expected to prune {count} entries but found {deleted}; nothing was pruned.")
        checkpoint = record_event(
            team=team, actor=actor, origin=origin, event_type="audit.pruned",
            details={
                "first_sequence": start.sequence + 1,
                "last_sequence": through,
                "count": count,
                "last_hash": last_hash,
                "before": domain.format_time(before),
                "export_file": os.path.basename(str(export_to)),
                "export_sha256": digest.hexdigest(),
            },
        )
    return PruneResult(count, start.sequence + 1, through, last_hash, checkpoint)


def apply_retention(*, actor: Actor, origin: Origin, now: dt.datetime | None = None,
                    export_dir: str | Path | None = None) -> dict[str, int]:
    """Prune every team whose policy sets a retention period and no legal hold.

    Each team's pruned range goes to its own NDJSON file in `export_dir`
    (default: the AUDIT_EXPORT_DIR setting). A team that cannot be pruned (its
    chain is broken) is logged and skipped. Returns entries pruned per team slug.
    """
    directory = Path(export_dir or getattr(settings, "AUDIT_EXPORT_DIR", Path(settings.BASE_DIR) / "var" / "audit-exports"))
    directory.mkdir(parents=True, exist_ok=True)
    moment = now or timezone.now()
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    pruned: dict[str, int] = {}
    policies = AuditPolicy.objects.filter(retention_days__isnull=False, legal_hold=False).select_related("team")
    for policy in policies.order_by("team__slug"):
        cutoff = retention_cutoff(policy.team, now=moment)
        assert cutoff is not None
        try:
            result = prune_chain(actor=actor, origin=origin, team=policy.team, before=cutoff,
                                 export_to=directory / f"audit-{policy.team.slug}-{stamp}.ndjson")
        except PruneRefused as error:
            logger.error("Audit retention skipped %s: %s", policy.team.slug, error)
            continue
        pruned[policy.team.slug] = result.count
    return pruned
