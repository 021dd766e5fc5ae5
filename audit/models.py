"""The audit log's persistence: entries, chain heads and per-team retention policy.

Entries are append-only. The ORM refuses to update or delete them here, and a
trigger installed by migration 0002 refuses UPDATE, DELETE and TRUNCATE in the
database itself (see docs/audit.md for the one escape hatch, used by retention).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

PLATFORM_CHAIN = "platform"


class AuditImmutableError(Exception):
    """Raised when code tries to change or remove an audit entry through the ORM."""


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditImmutableError("Audit entries cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditImmutableError("Audit entries cannot be deleted; retention uses audit_prune.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AuditImmutableError("Audit entries cannot be updated.")

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        raise AuditImmutableError("Audit entries cannot be updated.")


class ActorType(models.TextChoices):
    USER = "user", "User"
    TOKEN = "token", "API token"
    SYSTEM = "system", "System"


class AuditEntry(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Null team: the platform chain (e.g. failed logins for unknown usernames), staff only.
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_entries"
    )
    sequence = models.BigIntegerField()
    occurred_at = models.DateTimeField(help_text="From the database clock at append time.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        # No database constraint and no cascade: the actor's id is hashed into the
        # chain, so it must outlive the user; `actor_name` keeps the name readable.
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True, default="")
    actor_type = models.CharField(max_length=8, choices=ActorType.choices)
    event_type = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="")
    target_name = models.CharField(max_length=200, blank=True, default="")
    execution_id = models.UUIDField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "audit entries"
        ordering = ["-occurred_at", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["team", "sequence"], name="audit_entry_team_sequence_unique"),
            models.UniqueConstraint(
                fields=["sequence"],
                condition=Q(team__isnull=True),
                name="audit_entry_platform_sequence_unique",
            ),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="audit_entry_sequence_positive"),
            models.CheckConstraint(
                condition=Q(actor_type__in=[choice.value for choice in ActorType]),
                name="audit_entry_actor_type_valid",
            ),
        ]
        indexes = [
            # The page's and API's default: one team, newest first, optional time window.
            models.Index(fields=["team", "-occurred_at", "-sequence"], name="audit_team_time_idx"),
            # The same narrowed to one event type (or a `workflow.*` prefix range).
            models.Index(
                fields=["team", "event_type", "-occurred_at", "-sequence"], name="audit_team_type_time_idx"
            ),
            models.Index(fields=["team", "actor", "-occurred_at"], name="audit_team_actor_time_idx"),
            models.Index(fields=["team", "target_type", "target_id"], name="audit_team_target_idx"),
            models.Index(
                fields=["execution_id"], name="audit_execution_idx", condition=Q(execution_id__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        chain = self.team_id or PLATFORM_CHAIN
        return f"{chain}#{self.sequence} {self.event_type} by {self.actor_name or self.actor_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditImmutableError("Audit entries cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditImmutableError("Audit entries cannot be deleted; retention uses audit_prune.")

    @property
    def chain(self) -> str:
        return str(self.team_id) if self.team_id else PLATFORM_CHAIN


class AuditChainHead(models.Model):
    """The last entry of one chain; its row lock serialises appends to that chain.

    Kept beside the entries so an append is O(1) and verification can tell a
    truncated tail (entries gone, head still pointing past them).
    """

    chain = models.CharField(max_length=36, primary_key=True, help_text="Team id, or 'platform'.")
    team = models.OneToOneField(
        "teams.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_chain_head"
    )
    last_sequence = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)
    last_occurred_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.chain} at #{self.last_sequence}"


class AuditPolicy(models.Model):
    """A team's audit retention: how long entries are kept, and whether a legal hold blocks pruning."""

    team = models.OneToOneField("teams.Team", on_delete=models.CASCADE, related_name="audit_policy")
    retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Keep entries this many days; empty keeps them forever."
    )
    legal_hold = models.BooleanField(default=False, help_text="While set, nothing is pruned.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "audit policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(retention_days__isnull=True) | Q(retention_days__gte=1),
                name="audit_policy_retention_positive",
            )
        ]

    def __str__(self) -> str:
        kept = f"{self.retention_days} days" if self.retention_days else "forever"
        return f"{self.team}: keep {kept}{', legal hold' if self.legal_hold else ''}"
