"""Versions are immutable: the ORM and the database refuse to change them."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from workflows.models import ImmutableVersion, Workflow, WorkflowVersion


def test_orm_refuses_to_update_or_delete_a_version(stored) -> None:
    version = stored.current_version
    version.change_message = "rewritten"
    with pytest.raises(ImmutableVersion):
        version.save()
    with pytest.raises(ImmutableVersion):
        version.delete()
    with pytest.raises(ImmutableVersion):
        WorkflowVersion.objects.filter(pk=version.pk).update(change_message="rewritten")
    with pytest.raises(ImmutableVersion):
        WorkflowVersion.objects.filter(pk=version.pk).delete()
    assert WorkflowVersion.objects.get(pk=version.pk).change_message == "first"


def test_database_refuses_update_of_a_version(stored) -> None:
    with pytest.raises(Exception, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE workflows_workflowversion SET change_message = 'x' WHERE id = %s",
                       [stored.current_version_id])
    assert WorkflowVersion.objects.get(pk=stored.current_version_id).change_message == "first"


@pytest.mark.parametrize("fields", [{"version": "1.0"}, {"checksum": "nothex"}, {"version": "1.0.0"}])
def test_database_constraints_on_versions(stored, fields) -> None:
    values = {"workflow": stored, "version": "2.0.0", "major": 2, "minor": 0, "patch": 0,
              "schema_version": "1.0.0", "document": {}, "checksum": "a" * 64, **fields}
    if fields.get("version") == "1.0.0":
        values.update(major=1, minor=0, patch=0)  # duplicate of the stored version
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkflowVersion.objects.create(**values)
    assert WorkflowVersion.objects.count() == 1


def test_database_refuses_an_empty_name(personas) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Workflow.objects.create(team=personas.team, name="")
