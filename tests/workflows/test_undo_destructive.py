"""Destructive actions of the web UI can be undone where possible: an archived workflow comes back
(`workflow_restore`, audited), a removed member is added back with their role. Each undo checks
the role like the action, and a refused one changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEntry
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import Conflict, Forbidden
from teams.models import Membership
from workflows import services


def signed_in(personas, who: str) -> Client:
    client = Client()
    client.force_login(personas.users[who])
    return client


def events(event_type: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(event_type=event_type).order_by("sequence"))


def test_archive_offers_undo_and_undo_restores_the_workflow(personas, stored) -> None:
    editor = signed_in(personas, "editor")
    archived = editor.post(f"/workflows/{stored.pk}/archive/", follow=True)
    stored.refresh_from_db()
    assert stored.is_archived
    html = archived.content.decode()
    assert f'action="/workflows/{stored.pk}/restore/"' in html
    assert f"{stored.name} is archived." in html
    # The offer is shown once, right after archiving.
    assert f'action="/workflows/{stored.pk}/restore/"' not in editor.get("/workflows/").content.decode()

    restored = editor.post(f"/workflows/{stored.pk}/restore/")
    assert (restored.status_code, restored["Location"]) == (302, f"/workflows/{stored.pk}/")
    stored.refresh_from_db()
    assert not stored.is_archived
    [entry] = events("workflow.restored")
    assert (entry.actor_name, entry.target_id, entry.target_name) == ("alpha-editor", str(stored.pk), stored.name)
    assert "Answer a question" in editor.get("/workflows/").content.decode()


@pytest.mark.parametrize("who, status", [("viewer", 403), ("operator", 403), ("outsider", 404)])
def test_only_editors_of_the_team_restore(personas, stored, who, status) -> None:
    services.workflow_archive(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), workflow=stored)
    answer = signed_in(personas, who).post(f"/workflows/{stored.pk}/restore/")
    assert answer.status_code == status
    stored.refresh_from_db()
    assert stored.is_archived
    assert events("workflow.restored") == []


def test_restoring_a_workflow_that_is_not_archived_is_a_conflict(personas, stored) -> None:
    with pytest.raises(Conflict):
        services.workflow_restore(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), workflow=stored)
    with pytest.raises(Forbidden):
        services.workflow_restore(actor=Actor.of(personas.users["viewer"]), origin=Origin.command(), workflow=stored)
    assert events("workflow.restored") == []


def test_a_removed_member_can_be_added_back_with_their_role(personas) -> None:
    admin = signed_in(personas, "admin")
    operator = personas.users["operator"]
    removed = admin.post("/team/", {"action": "remove_member", "user_id": operator.pk}, follow=True)
    assert not Membership.objects.filter(team=personas.team, user=operator).exists()
    html = removed.content.decode()
    assert "alpha-operator was removed from Alpha." in html
    assert '<input type="hidden" name="username" value="alpha-operator">' in html
    assert '<input type="hidden" name="role" value="operator">' in html
    admin.post("/team/", {"action": "add_member", "username": "alpha-operator", "role": "operator"})
    assert Membership.objects.get(team=personas.team, user=operator).role == "operator"
    assert [entry.event_type for entry in AuditEntry.objects.filter(event_type__startswith="member.")
            .order_by("sequence")] == ["member.removed", "member.added"]


def test_a_refused_removal_offers_no_undo(personas) -> None:
    # Admins cannot remove the owner: nothing happened, so nothing to undo.
    answer = signed_in(personas, "admin").post(
        "/team/", {"action": "remove_member", "user_id": personas.users["owner"].pk}, follow=True)
    assert Membership.objects.filter(team=personas.team, user=personas.users["owner"]).exists()
    assert "was removed from" not in answer.content.decode()
