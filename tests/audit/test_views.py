"""The audit web page and the read-only admin."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEntry
from audit.services import record_event
from symphony_site.actors import Actor, Origin

from .conftest import AuditPersonas

pytestmark = pytest.mark.django_db


def browser(people: AuditPersonas, who: str) -> Client:
    client = Client()
    client.force_login(people.users[who])
    return client


@pytest.fixture
def entries(people: AuditPersonas) -> list[AuditEntry]:
    return [record_event(team=people.team, actor=Actor.of(people.users["owner"]), origin=Origin.command(), event_type=event_type,
                         target_type="workflow", target_name=f"flow {index}")
            for index, event_type in enumerate(["workflow.created", "member.added", "workflow.versioned"])]


def test_owner_sees_entries_newest_first_with_export_links(people: AuditPersonas, entries: list[AuditEntry]) -> None:
    response = browser(people, "owner").get("/audit/")
    assert response.status_code == 200
    assert [entry.sequence for entry in response.context["entries"]] == [3, 2, 1]
    html = response.content.decode()
    assert f'href="/api/v1/audit/export/?format=csv&amp;team={people.team.pk}"' in html
    assert "flow 2" in html
    assert 'id="verification"' not in html


def test_filters_verification_and_paging(people: AuditPersonas, entries: list[AuditEntry], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("audit.views.PAGE_SIZE", 1)
    client = browser(people, "admin")
    first = client.get("/audit/", {"event_type": "workflow.*", "verify": "1"})
    assert [entry.sequence for entry in first.context["entries"]] == [3]
    assert "Chain intact: 3 entries verified." in first.content.decode()
    second = client.get("/audit/?" + first.context["next_query"])
    assert [entry.sequence for entry in second.context["entries"]] == [1]
    assert "next_query" not in second.context


def test_bad_filter_is_explained_on_the_page(people: AuditPersonas, entries: list[AuditEntry]) -> None:
    response = browser(people, "owner").get("/audit/", {"since": "last tuesday"})
    assert response.status_code == 200
    assert response.context["entries"] == []
    assert "since: not an ISO 8601 date or time" in response.content.decode()


@pytest.mark.parametrize("who", ["editor", "operator", "viewer"])
def test_lower_roles_get_an_explanation_and_no_entries(people: AuditPersonas, entries: list[AuditEntry], who: str) -> None:
    response = browser(people, who).get("/audit/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Only owners and admins read the audit log" in html
    assert "flow 2" not in html and "Export CSV" not in html


def test_admin_is_read_only(people: AuditPersonas, entries: list[AuditEntry]) -> None:
    people.users["staff"].is_superuser = True
    people.users["staff"].save()
    client = browser(people, "staff")
    listing = client.get("/admin/audit/auditentry/")
    assert listing.status_code == 200
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    detail = client.get(f"/admin/audit/auditentry/{entries[0].pk}/change/")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert client.post(f"/admin/audit/auditentry/{entries[0].pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.count() == 3


def test_details_are_shown_as_json(people: AuditPersonas) -> None:
    record_event(team=people.team, actor=Actor.of(people.users["owner"]), origin=Origin.command(), event_type="member.added",
                 target_type="user", target_name="ada", details={"role": "viewer", "note": "café"})
    html = browser(people, "owner").get("/audit/").content.decode()
    assert "<code>{&quot;note&quot;: &quot;café&quot;, &quot;role&quot;: &quot;viewer&quot;}</code>" in html
    assert "{&#x27;role&#x27;" not in html
