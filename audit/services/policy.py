"""The team-facing write of audit: a team's retention period and legal hold (owners only).

It needs a role in the team, so unlike the audit core (`chain`, `retention`)
it imports `teams.access`: it sits above `teams`, with audit's API and pages.
That keeps the layers acyclic (pyproject.toml, import-linter): teams imports
the core to record its changes; the core never imports teams.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit.models import AuditPolicy
from audit.services.chain import chain_key, record_event
from audit.services.retention import lock_retention
from symphony_site.actors import Actor, Origin
from teams.access import require_role
from teams.roles import Role


def policy_update(*, actor: Actor, origin: Origin, team: Any, retention_days: int | None,
                  legal_hold: bool) -> AuditPolicy:
    """Set a team's retention period and legal hold (owners only), recording the change."""
    if not actor.is_system:
        require_role(actor.user, team, Role.OWNER, action="change audit retention")
    with transaction.atomic():
        # A prune checks the hold under this lock, so it cannot delete across a hold placed meanwhile.
        lock_retention(chain_key(team))
        policy, _ = AuditPolicy.objects.select_for_update().get_or_create(team=team)
        before = {"retention_days": policy.retention_days, "legal_hold": policy.legal_hold}
        policy.retention_days = retention_days
        policy.legal_hold = legal_hold
        policy.full_clean(exclude=["team"])
        policy.save()
        record_event(
            team=team, actor=actor, origin=origin, event_type="audit.policy_changed",
            target_type="audit_policy", target_id=str(policy.pk), target_name=str(team),
            details={"from": before, "to": {"retention_days": retention_days, "legal_hold": legal_hold}},
        )
    return policy
