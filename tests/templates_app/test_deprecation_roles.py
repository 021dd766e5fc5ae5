"""Deprecating a template needs editor or higher in the publishing team (or staff).

Removing the role check in `templates_app/services/publishing.py` once left
every test green (issue 10). Each refusal here asserts what must not have
happened: the flag unchanged, no `template.deprecated` audit entry.
"""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEntry
from symphony_site.actors import Actor, Origin
from templates_app import services
from templates_app.models import Template
from tests.conftest import request_free
from tests.templates_app.conftest import summary_version


def publish(personas: Any, *, visibility: str, deprecated: bool = False) -> Template:
    template = services.template_publish(
        actor=Actor.of(personas.users["owner"]), origin=Origin.command(), team=personas.team, name=f"Summaries {visibility}",
        visibility=visibility, version=summary_version())
    if deprecated:
        Template.objects.filter(pk=template.pk).update(deprecated=True)
    return template


def deprecate(personas: Any, who: str, template: Template, deprecated: bool = True) -> Any:
    return personas.client(who).patch(f"/api/v1/templates/{template.slug}/", {"deprecated": deprecated},
                                      format="json")


def deprecation_entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(event_type="template.deprecated"))


@pytest.mark.parametrize("visibility,who,status", [
    ("team", "viewer", 403), ("team", "operator", 403), ("team", "outsider", 404),
    ("public", "viewer", 403), ("public", "operator", 403), ("public", "outsider", 403),
])
@pytest.mark.parametrize("deprecated", [True, False])
def test_viewers_operators_and_outsiders_cannot_deprecate_or_undeprecate(
        personas, visibility: str, who: str, status: int, deprecated: bool) -> None:
    template = publish(personas, visibility=visibility, deprecated=not deprecated)
    response = deprecate(personas, who, template, deprecated)
    assert response.status_code == status
    assert response.json()["error"]["code"] == ("not_found" if status == 404 else "permission_denied")
    template.refresh_from_db()
    assert template.deprecated is (not deprecated)
    assert deprecation_entries() == []


@pytest.mark.parametrize("who", ["editor", "admin", "owner"])
def test_editors_and_above_deprecate_once_audited(personas, who: str) -> None:
    template = publish(personas, visibility="team")
    response = deprecate(personas, who, template)
    assert (response.status_code, response.json()["deprecated"]) == (200, True)
    template.refresh_from_db()
    assert template.deprecated is True
    entries = deprecation_entries()
    assert [(e.actor_id, e.target_id, request_free(e.details)) for e in entries] == [
        (personas.users[who].pk, str(template.pk), {"slug": template.slug, "deprecated": True})]


def test_the_service_refuses_a_viewer_too(personas) -> None:
    from symphony_site.api.errors import Forbidden

    template = publish(personas, visibility="team")
    with pytest.raises(Forbidden):
        services.template_deprecate(actor=Actor.of(personas.users["viewer"]), origin=Origin.command(),
                                    template=template)
    template.refresh_from_db()
    assert template.deprecated is False
    assert deprecation_entries() == []


def test_the_service_deprecates_unless_told_otherwise_and_records_each_change_once(personas) -> None:
    template = publish(personas, visibility="team")
    editor = Actor.of(personas.users["editor"])
    services.template_deprecate(actor=editor, origin=Origin.command(), template=template, reason="Use v2")
    services.template_deprecate(actor=editor, origin=Origin.command(), template=template)
    assert Template.objects.get(pk=template.pk).deprecated is True
    services.template_deprecate(actor=editor, origin=Origin.command(), template=template, deprecated=False)
    assert Template.objects.get(pk=template.pk).deprecated is False
    assert [(entry.reason, entry.details) for entry in
            AuditEntry.objects.filter(event_type="template.deprecated").order_by("sequence")] == [
        ("Use v2", {"slug": template.slug, "deprecated": True}),
        ("", {"slug": template.slug, "deprecated": False}),
    ]
