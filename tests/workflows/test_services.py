"""Service guarantees beyond the API: audit in the same transaction, the version rule's edge cases."""

from __future__ import annotations

import copy

import pytest

from audit.models import AuditEntry
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import Conflict, ValidationFailed
from workflows import samples, services
from workflows.models import Workflow, WorkflowVersion


def test_a_failing_audit_write_rolls_the_create_back(personas, monkeypatch) -> None:
    def broken(**kwargs):
        raise RuntimeError("audit is down")

    monkeypatch.setattr(services, "record_event", broken)
    with pytest.raises(RuntimeError):
        services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                 team=personas.team, document=samples.linear())
    assert (Workflow.objects.count(), WorkflowVersion.objects.count()) == (0, 0)


def test_a_failing_audit_write_rolls_the_new_version_back(personas, stored, monkeypatch) -> None:
    monkeypatch.setattr(services, "record_event", lambda **kwargs: (_ for _ in ()).throw(RuntimeError("down")))
    with pytest.raises(RuntimeError):
        services.workflow_update(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                 workflow=stored, name="Renamed")
    stored.refresh_from_db()
    assert (stored.name, stored.current_version.version, WorkflowVersion.objects.count()) == (
        "Answer a question", "1.0.0", 1)


def test_the_documents_own_greater_version_is_used(personas, stored) -> None:
    document = copy.deepcopy(stored.current_version.document["workflow"]) | {"version": "4.2.0", "name": "Four"}
    updated = services.workflow_update(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                       workflow=stored, document=document)
    assert updated.current_version.version == "4.2.0"
    older = copy.deepcopy(document) | {"version": "1.0.0", "name": "Back"}
    updated = services.workflow_update(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                       workflow=stored, document=older)
    assert updated.current_version.version == "4.2.1"  # a smaller number in the document is ignored


def test_the_stored_document_carries_the_platform_id_and_version(personas) -> None:
    document = samples.branching() | {"id": "client-chosen", "version": "2.3.4"}
    workflow = services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                        team=personas.team, document=document)
    stored = workflow.current_version.document
    assert (stored["workflow"]["id"], stored["workflow"]["version"], stored["schema_version"]) == (
        str(workflow.pk), "2.3.4", "1.0.0")
    assert (workflow.name, workflow.tags, workflow.category) == (
        "Triage support tickets", ["demo", "support", "llm"], "customer-support")
    [event] = AuditEntry.objects.filter(event_type="workflow.created")
    assert (event.target_id, event.details["version"], event.details["nodes"]) == (str(workflow.pk), "2.3.4", 7)


def test_archive_twice_conflicts_and_audits_once(personas, stored) -> None:
    services.workflow_archive(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                              workflow=stored)
    with pytest.raises(Conflict):
        services.workflow_archive(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                  workflow=stored)
    assert AuditEntry.objects.filter(event_type="workflow.archived").count() == 1


def test_names_too_long_for_the_platform_are_refused(personas) -> None:
    from symphony_site.api.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                 team=personas.team,
                                 document=samples.linear() | {"name": "x" * 201})
    assert caught.value.details[0]["path"] == ["name"]
    assert Workflow.objects.count() == 0


@pytest.mark.parametrize("version", ["banana", "1.2", "-1.0.0"])
def test_a_version_number_that_is_not_one_is_a_validation_error_and_saves_nothing(personas, stored, version) -> None:
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as raised:
        services.workflow_update(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                                 workflow=stored, name="Renamed", version=version)
    assert raised.value.details[0]["field"] == "version"
    stored.refresh_from_db()
    assert (stored.name, stored.current_version.version, WorkflowVersion.objects.count()) == (
        "Answer a question", "1.0.0", 1)
    assert AuditEntry.objects.count() == before
