"""Admin actions verify, feature and deprecate go through the services (audited)."""

from __future__ import annotations

from django.test import Client

from audit.models import AuditEntry
from tests.conftest import make_user


def test_admin_actions_change_flags_and_are_audited(personas, published) -> None:
    staff = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/templates_app/template/").status_code == 200
    assert client.get(f"/admin/templates_app/template/{published.pk}/change/").status_code == 200
    for action in ["verify", "feature", "deprecate"]:
        response = client.post("/admin/templates_app/template/", {
            "action": action, "_selected_action": [str(published.pk)]})
        assert response.status_code == 302
    published.refresh_from_db()
    assert (published.verified, published.featured, published.deprecated) == (True, True, True)
    assert sorted(AuditEntry.objects.filter(target_id=str(published.pk)).exclude(
        event_type="template.published").values_list("event_type", flat=True)) == [
        "template.deprecated", "template.featured", "template.verified"]


def test_admin_does_not_allow_editing_fields(personas, published) -> None:
    staff = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    response = client.post(f"/admin/templates_app/template/{published.pk}/change/", {"name": "Hacked"})
    assert response.status_code == 403
    published.refresh_from_db()
    assert published.name == "Summarize a text"
