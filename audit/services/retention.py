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
from audit.services.chain import record_event
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


@dataclass(frozen=True)
class _Plan:
    """What a prune verified and exported from one snapshot, to delete under the lock."""

    start: domain.ChainPoint
    through: int
    last_hash: str
    count: int
    export_sha256: str


def prune_chain(*, actor: Actor, origin: Origin, team: Any, before: dt.datetime,
                export_to: str | Path) -> PruneResult:
    """Remove `team`'s entries older than `before`, after exporting them to `export_to` (NDJSON).

    Appends to the team's chain never wait for the verification, the export or
    the delete, only for the checkpoint's own append at the end:

    1. Without any lock, in one REPEATABLE READ snapshot: refuse under legal
       hold or when the chain does not verify; choose the range (after the
       newest checkpoint, up to entry N, the last older than `before`) and
       export it. Appends carry on; they land after the snapshot's head.
    2. In one short transaction holding the chain's retention lock (an
       advisory lock that policy changes and other prunes of the chain take,
       not the head row appends wait on): re-check the hold, that no other
       prune moved the chain's start, and that entry N still has the hash that
       was verified and exported; delete the range through the trigger's
       escape hatch (scoped to this chain and range), which touches only old
       rows; then append the `audit.pruned` checkpoint recording the range,
       its count and its last hash, from which verification then starts. Only
       that append takes the head row's lock, until the commit.

    A refusal in step 2 removes the export and deletes nothing. Call it
    outside a transaction (the task and the command do): inside one, the
    caller's transaction is the snapshot and every lock lasts until it ends.
    """
    from audit import selectors

    if team is None:
        raise PruneRefused("The platform chain is not pruned by team retention.")
    chain = selectors.chain_for_team(team)
    _refuse_under_hold(team)
    plan = _verify_and_export(chain, before=before, export_to=export_to)
    if plan is None:
        return PruneResult(0, None, None, None, None)
    try:
        with transaction.atomic():
            lock_retention(chain.key)
            _refuse_under_hold(team)
            _refuse_if_changed(chain, plan)
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('symphony.audit_prune', %s, true)",
                               [f"{chain.key}:{plan.through}"])
                cursor.execute(
                    "DELETE FROM audit_auditentry WHERE team_id = %s AND sequence > %s AND sequence <= %s",
                    [team.pk, plan.start.sequence, plan.through],
                )
                deleted = cursor.rowcount
                cursor.execute("SELECT set_config('symphony.audit_prune', '', true)")
            if deleted != plan.count:
                raise PruneRefused(f"Expected to prune {plan.count} entries but found {deleted}; "
                                   "nothing was pruned.")
            # The first moment this prune takes the chain's head lock; it is held for the commit alone.
            checkpoint = record_event(
                team=team, actor=actor, origin=origin, event_type="audit.pruned",
                details={
                    "first_sequence": plan.start.sequence + 1,
                    "last_sequence": plan.through,
                    "count": plan.count,
                    "last_hash": plan.last_hash,
                    "before": domain.format_time(before),
                    "export_file": os.path.basename(str(export_to)),
                    "export_sha256": plan.export_sha256,
                },
            )
    except PruneRefused:
        Path(export_to).unlink(missing_ok=True)
        raise
    return PruneResult(plan.count, plan.start.sequence + 1, plan.through, plan.last_hash, checkpoint)


def lock_retention(chain_key: str) -> None:
    """Serialise a chain's prunes and retention-policy changes (until the transaction ends).

    A transaction-scoped advisory lock rather than the chain head's row lock,
    so appends to the chain never queue behind retention.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"audit-retention:{chain_key}"])


def _refuse_under_hold(team: Any) -> None:
    if AuditPolicy.objects.filter(team=team, legal_hold=True).exists():
        raise PruneRefused(f"{team} is under legal hold: nothing may be pruned until the hold is lifted.")


def _verify_and_export(chain: Any, *, before: dt.datetime, export_to: str | Path) -> _Plan | None:
    """Step 1 of `prune_chain`, from one snapshot and without the chain's lock; None: nothing to prune."""
    from audit import export, selectors

    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            # One snapshot for the verification, the range and the export, while appends carry on.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        verification = selectors.verify(chain)
        if not verification.valid:
            assert verification.first_break is not None
            raise PruneRefused(
                f"The chain of {chain.team} is broken at #{verification.first_break.sequence} "
                f"({verification.first_break.reason}); investigate before pruning anything."
            )
        start = selectors.chain_start(chain)
        in_range = selectors.entries(chain).filter(sequence__gt=start.sequence)
        through = in_range.filter(occurred_at__lt=before).aggregate(last=Max("sequence"))["last"]
        if through is None:
            return None
        pruned = in_range.filter(sequence__lte=through)
        last_hash = pruned.filter(sequence=through).values_list("hash", flat=True).get()
        digest = hashlib.sha256()
        with open(export_to, "wb") as output:
            for block in export.ndjson_stream(pruned):
                output.write(block)
                digest.update(block)
            output.flush()
            os.fsync(output.fileno())
    return _Plan(start=start, through=through, last_hash=last_hash, count=through - start.sequence,
                 export_sha256=digest.hexdigest())


def _refuse_if_changed(chain: Any, plan: _Plan) -> None:
    """Under the lock: the range must still be what step 1 verified and exported."""
    from audit import selectors

    if selectors.chain_start(chain) != plan.start:
        raise PruneRefused(f"The chain of {chain.team} was pruned by someone else meanwhile; nothing was pruned.")
    current = selectors.entries(chain).filter(sequence=plan.through).values_list("hash", flat=True).first()
    if current != plan.last_hash:
        raise PruneRefused(
            f"Entry #{plan.through} of {chain.team} changed since it was verified and exported "
            "(it no longer has the exported hash); nothing was pruned. Verify the chain."
        )


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
