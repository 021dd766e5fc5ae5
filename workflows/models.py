"""Workflows and their immutable versions. Persistence only: writes go through services."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper


class Workflow(models.Model):
    """A team's workflow. Its graph lives in its versions; `current_version` is the latest."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="workflows")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    category = models.CharField(max_length=100, blank=True, default="")
    current_version = models.ForeignKey(
        "WorkflowVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="workflow_name_not_empty"),
        ]
        indexes = [
            models.Index(fields=["team", "archived_at", "-updated_at"], name="workflow_team_list"),
            # One per list order, partial on active workflows: PostgreSQL reads an index in order only
            # when the columns before the sort keys are fixed by `=`, and `archived_at IS NULL` is not
            # — without these, a 10,000-workflow team's first page sorted all 10,000 rows (120 ms
            # instead of 0.6 ms, bench/web).
            models.Index(fields=["team", "-updated_at", "-id"], name="workflow_active_by_updated",
                         condition=Q(archived_at__isnull=True)),
            models.Index(fields=["team", "name", "id"], name="workflow_active_by_name",
                         condition=Q(archived_at__isnull=True)),
            models.Index(fields=["team", "-created_at", "-id"], name="workflow_active_by_created",
                         condition=Q(archived_at__isnull=True)),
            GinIndex(fields=["tags"], name="workflow_tags_gin"),
            # `icontains` searches compare UPPER(column) LIKE …; trigram indexes on the same
            # expressions make them index scans.
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="workflow_name_trgm"),
            GinIndex(OpClass(Upper("description"), name="gin_trgm_ops"), name="workflow_description_trgm"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class ImmutableVersion(Exception):
    """A workflow version was about to be changed or deleted; versions are forever."""


class WorkflowVersionQuerySet(models.QuerySet["WorkflowVersion"]):
    def update(self, **kwargs: Any) -> int:
        raise ImmutableVersion("Workflow versions are immutable; save a new version instead.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableVersion("Workflow versions are kept forever; archive the workflow instead.")


class WorkflowVersion(models.Model):
    """One immutable version of a workflow: the full envelope, as validated when saved."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=32)
    major = models.PositiveIntegerField()
    minor = models.PositiveIntegerField()
    patch = models.PositiveIntegerField()
    schema_version = models.CharField(max_length=32)
    document = models.JSONField()
    checksum = models.CharField(max_length=64)
    node_count = models.PositiveIntegerField(default=0)
    edge_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    change_message = models.CharField(max_length=500, blank=True, default="")

    objects = WorkflowVersionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "version"], name="workflow_version_unique"),
            models.UniqueConstraint(fields=["workflow", "major", "minor", "patch"],
                                    name="workflow_version_numbers_unique"),
            models.CheckConstraint(condition=Q(version__regex=r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$"),
                                   name="workflow_version_semantic"),
            models.CheckConstraint(condition=Q(checksum__regex=r"^[0-9a-f]{64}$"),
                                   name="workflow_version_checksum_sha256"),
        ]
        indexes = [
            models.Index(fields=["workflow", "-major", "-minor", "-patch"], name="workflow_version_order"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableVersion("Workflow versions are immutable; save a new version instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableVersion("Workflow versions are kept forever; archive the workflow instead.")

    @property
    def workflow_document(self) -> dict[str, Any]:
        """The inner workflow object of the stored envelope."""
        return self.document["workflow"]
