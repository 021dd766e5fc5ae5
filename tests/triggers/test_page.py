"""The workflow's triggers page: everyone in the team reads it, editors get the forms, a
refused action changes nothing; outsiders get 404."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEntry
from executions.models import Schedule, Webhook
from executions.triggers.services import schedules

from .conftest import ORIGIN, asking, editor, store


def logged_in(personas, who: str) -> Client:
    client = Client()
    client.force_login(personas.users[who])
    return client


@pytest.mark.django_db
def test_viewers_read_and_editors_get_forms(personas) -> None:
    workflow = store(personas, asking())
    schedules.schedule_create(actor=editor(personas), origin=ORIGIN, workflow=workflow, cron_expression="0 9 * * *",
                              timezone_name="Europe/Paris")
    viewer = logged_in(personas, "viewer").get(f"/workflows/{workflow.pk}/triggers/")
    assert viewer.status_code == 200
    page = viewer.content.decode()
    assert "<code>0 9 * * *</code>" in page and "Europe/Paris" in page and "Add a schedule" not in page
    assert "Add a schedule" in logged_in(personas, "editor").get(f"/workflows/{workflow.pk}/triggers/").content.decode()
    assert logged_in(personas, "outsider").get(f"/workflows/{workflow.pk}/triggers/").status_code == 404
    assert f'href="/workflows/{workflow.pk}/triggers/"' in logged_in(personas, "viewer").get(
        f"/workflows/{workflow.pk}/").content.decode()


@pytest.mark.django_db
def test_an_editor_creates_a_schedule_and_a_webhook_shown_once(personas) -> None:
    workflow = store(personas, asking())
    client = logged_in(personas, "editor")
    created = client.post(f"/workflows/{workflow.pk}/triggers/action/",
                          {"action": "schedule-create", "cron": "*/10 * * * *", "timezone": "UTC", "catch_up": "once",
                           "inputs": "{}", "enabled": "on"})
    assert created.status_code == 302
    assert Schedule.objects.get(workflow=workflow).catch_up == "once"
    hook = client.post(f"/workflows/{workflow.pk}/triggers/action/", {"action": "webhook-create", "name": "CRM",
                                                                       "input_mapping": '{"topic": "$.subject"}'})
    assert hook.status_code == 200
    page = hook.content.decode()
    assert "Copy these now" in page and "http://testserver/hooks/" in page and "whsec_" in page
    assert Webhook.objects.get(workflow=workflow).input_mapping == {"topic": "$.subject"}
    again = client.get(f"/workflows/{workflow.pk}/triggers/").content.decode()
    assert "whsec_" not in again and "Copy these now" not in again


@pytest.mark.django_db
def test_a_refused_action_changes_nothing(personas) -> None:
    workflow = store(personas, asking())
    before = AuditEntry.objects.count()
    refused = logged_in(personas, "operator").post(f"/workflows/{workflow.pk}/triggers/action/",
                                                   {"action": "schedule-create", "cron": "* * * * *"})
    assert refused.status_code == 403
    assert "you need editor or higher" in refused.content.decode()
    invalid = logged_in(personas, "editor").post(f"/workflows/{workflow.pk}/triggers/action/",
                                                 {"action": "schedule-create", "cron": "nonsense"})
    assert invalid.status_code == 400
    assert Schedule.objects.count() == 0 and AuditEntry.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("limit", ["\u00b2", "\u0661\u0660"])
def test_a_team_limit_in_other_digits_is_refused_and_changes_nothing(personas, limit) -> None:
    """The page's team-limit form took whatever `str.isdigit()` takes: a superscript two (then
    `int()` raised: a 500) and Arabic-Indic ten (saved as 10)."""
    from executions.models import TeamLimit

    workflow = store(personas, asking())
    before = AuditEntry.objects.count()
    response = logged_in(personas, "owner").post(f"/workflows/{workflow.pk}/triggers/action/",
                                                 {"action": "team-limit", "limit": limit})
    assert response.status_code == 400
    assert "The team&#x27;s limit is a whole number" in response.content.decode()
    assert TeamLimit.objects.count() == 0 and AuditEntry.objects.count() == before
