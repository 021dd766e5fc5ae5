"""Every triggers endpoint for each role, an outsider (404) and anonymous (401), with exact
statuses and shapes; a denied write changes nothing and audits nothing."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEntry
from executions.models import RunAfter, Schedule, TeamLimit, Webhook
from executions.triggers.services import run_after, schedules, webhooks
from tests.conftest import request_free
from tests.workflows.conftest import error_of

from .conftest import ORIGIN, asking, editor, store

READERS = [("owner", 200), ("admin", 200), ("editor", 200), ("operator", 200), ("viewer", 200), ("outsider", 404),
           (None, 401)]
EDITORS = [("owner", True), ("admin", True), ("editor", True), ("operator", 403), ("viewer", 403),
           ("outsider", 404), (None, 401)]
ADMINS = [("owner", True), ("admin", True), ("editor", 403), ("operator", 403), ("viewer", 403), ("outsider", 404),
          (None, 401)]
DENIED = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}
TRIGGER_TYPES = ("schedule.", "webhook.", "run_after.", "team.limit")


def trigger_entries() -> int:
    return sum(AuditEntry.objects.filter(event_type__startswith=prefix).count() for prefix in TRIGGER_TYPES)


@pytest.fixture
def setup(personas) -> dict[str, Any]:
    workflow = store(personas, asking("Target"))
    other = store(personas, asking("Upstream"))
    schedule = schedules.schedule_create(actor=editor(personas), origin=ORIGIN, workflow=workflow,
                                         cron_expression="0 9 * * 1-5", timezone_name="Europe/Paris")
    issued = webhooks.webhook_create(actor=editor(personas), origin=ORIGIN, workflow=workflow,
                                     input_mapping={"topic": "$.subject"})
    rule = run_after.run_after_create(actor=editor(personas), origin=ORIGIN, downstream=workflow, upstream=other)
    return {"workflow": workflow, "other": other, "schedule": schedule, "webhook": issued.webhook, "rule": rule}


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "status"), READERS)
@pytest.mark.parametrize("path", ["/api/v1/workflows/{workflow}/schedules/", "/api/v1/schedules/{schedule}/",
                                  "/api/v1/workflows/{workflow}/webhooks/", "/api/v1/webhooks/{webhook}/",
                                  "/api/v1/webhooks/{webhook}/deliveries/", "/api/v1/workflows/{workflow}/run-after/",
                                  "/api/v1/run-after/{rule}/", "/api/v1/workflows/{workflow}/queue/",
                                  "/api/v1/teams/{team}/limits/"])
def test_reads_for_each_persona(personas, setup, who, status, path) -> None:
    ids = {name: getattr(value, "pk", value) for name, value in setup.items()} | {"team": personas.team.pk}
    response = personas.client(who).get(path.format(**ids))
    assert response.status_code == status
    if status != 200:
        assert error_of(response)["code"] == DENIED[status]


@pytest.mark.django_db
def test_read_shapes(personas, setup) -> None:
    client = personas.client("viewer")
    schedule = client.get(f"/api/v1/schedules/{setup['schedule'].pk}/").json()
    assert set(schedule) == {"id", "workflow", "name", "cron", "timezone", "inputs", "catch_up", "enabled",
                             "next_run_at", "last_due_at", "last_execution", "last_error", "created_at", "updated_at"}
    assert (schedule["cron"], schedule["timezone"], schedule["catch_up"], schedule["enabled"]) == (
        "0 9 * * 1-5", "Europe/Paris", "skip", True)
    assert schedule["next_run_at"] == setup["schedule"].next_run_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    hook = client.get(f"/api/v1/webhooks/{setup['webhook'].pk}/").json()
    assert set(hook) == {"id", "workflow", "name", "url_hint", "signature", "input_mapping", "rate_limit_per_minute",
                         "max_body_bytes", "enabled", "bad_signature_count", "created_at", "rotated_at"}
    assert (hook["signature"], hook["input_mapping"], hook["url_hint"]) == (
        None, {"topic": "$.subject"}, f"/hooks/{setup['webhook'].token_hint}…/")
    rules = client.get(f"/api/v1/workflows/{setup['workflow'].pk}/run-after/").json()
    assert [(row["workflow"], row["after"], row["on_completed"], row["on_failed"]) for row in rules["results"]] == [
        (str(setup["workflow"].pk), str(setup["other"].pk), True, False)]
    queue = client.get(f"/api/v1/workflows/{setup['workflow'].pk}/queue/").json()
    assert queue == {"concurrency": None, "running": 0, "queued": 0, "executions": []}


def _write(personas: Any, setup: dict[str, Any], who: str | None, operation: str) -> Any:
    client = personas.client(who)
    workflow, other = setup["workflow"].pk, setup["other"].pk
    if operation == "schedule-create":
        return client.post(f"/api/v1/workflows/{workflow}/schedules/", {"cron": "*/5 * * * *"}, format="json")
    if operation == "schedule-update":
        return client.patch(f"/api/v1/schedules/{setup['schedule'].pk}/", {"enabled": False}, format="json")
    if operation == "schedule-delete":
        return client.delete(f"/api/v1/schedules/{setup['schedule'].pk}/")
    if operation == "webhook-create":
        return client.post(f"/api/v1/workflows/{workflow}/webhooks/", {"name": "CRM"}, format="json")
    if operation == "webhook-update":
        return client.patch(f"/api/v1/webhooks/{setup['webhook'].pk}/", {"enabled": False}, format="json")
    if operation == "webhook-rotate":
        return client.post(f"/api/v1/webhooks/{setup['webhook'].pk}/rotate/")
    if operation == "webhook-delete":
        return client.delete(f"/api/v1/webhooks/{setup['webhook'].pk}/")
    if operation == "run-after-create":
        return client.post(f"/api/v1/workflows/{other}/run-after/", {"after": str(store_third(personas).pk)},
                           format="json")
    if operation == "run-after-update":
        return client.patch(f"/api/v1/run-after/{setup['rule'].pk}/", {"on_failed": True}, format="json")
    if operation == "run-after-delete":
        return client.delete(f"/api/v1/run-after/{setup['rule'].pk}/")
    return client.put(f"/api/v1/teams/{personas.team.pk}/limits/", {"concurrency": {"limit": 3, "on_limit": "queue"}},
                      format="json")


def store_third(personas: Any) -> Any:
    return store(personas, asking("Third"))


def snapshot() -> tuple[Any, ...]:
    return (list(Schedule.objects.order_by("pk").values()), list(Webhook.objects.order_by("pk").values()),
            list(RunAfter.objects.order_by("pk").values()), list(TeamLimit.objects.values()))


OPERATIONS = {"schedule-create": 201, "schedule-update": 200, "schedule-delete": 204, "webhook-create": 201,
              "webhook-update": 200, "webhook-rotate": 200, "webhook-delete": 204, "run-after-create": 201,
              "run-after-update": 200, "run-after-delete": 204}


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "allowed"), EDITORS)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_editor_writes_for_each_persona(personas, setup, who, allowed, operation) -> None:
    before, entries = snapshot(), trigger_entries()
    response = _write(personas, setup, who, operation)
    if allowed is True:
        assert response.status_code == OPERATIONS[operation]
        assert trigger_entries() == entries + 1
        return
    assert response.status_code == allowed
    assert error_of(response)["code"] == DENIED[allowed]
    assert snapshot() == before and trigger_entries() == entries


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "allowed"), ADMINS)
def test_the_team_limit_for_each_persona(personas, setup, who, allowed) -> None:
    before, entries = snapshot(), trigger_entries()
    response = _write(personas, setup, who, "team-limit")
    if allowed is True:
        assert response.status_code == 200
        assert response.json() == {"concurrency": {"limit": 3, "on_limit": "queue"}, "running": 0, "queued": 0,
                                   "executions": []}
        entry = AuditEntry.objects.get(event_type="team.limit_changed")
        assert request_free(entry.details) == {"from": None, "to": {"limit": 3, "on_limit": "queue"}}
        return
    assert response.status_code == allowed
    assert error_of(response)["code"] == DENIED[allowed]
    assert snapshot() == before and trigger_entries() == entries


@pytest.mark.django_db
def test_a_created_webhook_shows_its_url_and_secret_once(personas, setup) -> None:
    client = personas.client("editor")
    created = client.post(f"/api/v1/workflows/{setup['workflow'].pk}/webhooks/",
                          {"signature": {"algorithm": "sha512"}}, format="json").json()
    assert created["url"].startswith("http://testserver/hooks/") and created["signing_secret"].startswith("whsec_")
    assert created["signature"] == {"header": "X-Symphony-Signature", "algorithm": "sha512",
                                    "timestamp_header": "X-Symphony-Timestamp", "tolerance_s": 300}
    again = client.get(f"/api/v1/webhooks/{created['id']}/").json()
    assert "url" not in again and "signing_secret" not in again
    listed = client.get(f"/api/v1/workflows/{setup['workflow'].pk}/webhooks/").json()
    assert created["signing_secret"] not in str(listed) and created["url"] not in str(listed)


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "field"), [
    ({"cron": "61 * * * *"}, "cron"), ({"cron": "* * * * *", "timezone": "Nowhere/City"}, "timezone"),
    ({"cron": "* * * * *", "catch_up": "sometimes"}, "catch_up"), ({"cron": "* * * * *", "inputs": {"nope": 1}}, "inputs.nope"),
    ({"cron": "* * * * *", "surprise": 1}, "surprise"),
])
def test_invalid_schedules_are_refused_naming_the_field(personas, setup, body, field) -> None:
    before = snapshot()
    response = personas.client("editor").post(f"/api/v1/workflows/{setup['workflow'].pk}/schedules/", body,
                                              format="json")
    assert response.status_code == 400
    assert field in [detail["field"] for detail in error_of(response)["details"]]
    assert snapshot() == before


@pytest.mark.django_db
def test_a_loop_of_rules_is_refused_over_the_api(personas, setup) -> None:
    response = personas.client("editor").post(f"/api/v1/workflows/{setup['other'].pk}/run-after/",
                                              {"after": str(setup["workflow"].pk)}, format="json")
    assert response.status_code == 409
    assert error_of(response)["code"] == "trigger_loop"
    assert RunAfter.objects.count() == 1


@pytest.mark.django_db
def test_another_team_s_workflow_cannot_be_a_rule_s_upstream(personas, setup) -> None:
    from workflows import services as workflow_services

    from .conftest import Actor

    foreign = workflow_services.workflow_create(actor=Actor.of(personas.users["outsider"]), origin=ORIGIN,
                                                team=personas.other_team, document=asking("Theirs"))
    response = personas.client("editor").post(f"/api/v1/workflows/{setup['workflow'].pk}/run-after/",
                                              {"after": str(foreign.pk)}, format="json")
    assert response.status_code == 404
    assert RunAfter.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/workflows/{workflow}/schedules/", {"cron": "* * * * *", "inputs": None}, "inputs"),
    ("/api/v1/workflows/{workflow}/schedules/", {"cron": "* * * * *", "inputs": ["topic"]}, "inputs"),
    ("/api/v1/workflows/{workflow}/webhooks/", {"input_mapping": "$.topic"}, "input_mapping"),
    ("/api/v1/workflows/{workflow}/webhooks/", {"rate_limit_per_minute": 0}, "rate_limit_per_minute"),
    ("/api/v1/workflows/{workflow}/webhooks/", {"rate_limit_per_minute": 601}, "rate_limit_per_minute"),
    ("/api/v1/workflows/{workflow}/webhooks/", {"max_body_bytes": 1024 * 1024 + 1}, "max_body_bytes"),
    ("/api/v1/workflows/{workflow}/webhooks/", {"signature": {"header": "X-Sïgnature"}}, "signature.header"),
    ("/api/v1/workflows/{other}/run-after/", {"after": "{workflow}", "input_mapping": None}, "input_mapping"),
    ("/api/v1/webhooks/{webhook}/rotate/", {"reason": "leaked"}, "reason"),
])
def test_bodies_of_the_wrong_shape_are_refused_as_the_schema_says(personas, setup, path, body, field) -> None:
    """What the OpenAPI schema refuses (tests/api/test_schemathesis.py checks the two agree):
    objects where objects are documented, the webhook limits' bounds, ASCII header names, and
    no body at all for rotate; nothing is written, nothing audited."""
    ids = {name: getattr(value, "pk", value) for name, value in setup.items()}
    body = {key: value.format(**ids) if isinstance(value, str) and key == "after" else value
            for key, value in body.items()}
    before, entries = snapshot(), trigger_entries()
    response = personas.client("editor").post(path.format(**ids), body, format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_failed"
    assert field in [detail["field"] for detail in error_of(response)["details"]]
    assert snapshot() == before and trigger_entries() == entries


@pytest.mark.django_db
@pytest.mark.parametrize(("concurrency", "field"), [
    ({"limit": 0, "on_limit": "queue"}, "concurrency.limit"),
    ({"limit": 100_001, "on_limit": "queue"}, "concurrency.limit"),
    ({"limit": 2**62, "on_limit": "queue"}, "concurrency.limit"),
    ({"limit": 3, "on_limit": "queue", "burst": 5}, "concurrency.burst"),
])
def test_a_team_limit_past_its_documented_shape_is_refused_and_changes_nothing(personas, setup, concurrency,
                                                                               field) -> None:
    """The schema states the bound the service keeps (1 to 100,000) and closes the object:
    Schemathesis' long form sent 21-digit integers as the limit and under keys of its own, valid
    under a schema that said only "from 1" and left the object open."""
    before, entries = snapshot(), trigger_entries()
    response = personas.client("owner").put(f"/api/v1/teams/{personas.team.pk}/limits/",
                                            {"concurrency": concurrency}, format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_failed"
    assert [detail["field"] for detail in error_of(response)["details"]] == [field]
    assert snapshot() == before and trigger_entries() == entries


def test_the_schema_states_the_limit_and_provider_bounds_the_services_keep() -> None:
    from drf_spectacular.generators import SchemaGenerator

    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    assert components["LimitRequest"]["properties"]["limit"] == {"type": "integer", "minimum": 1,
                                                                 "maximum": 100_000}
    assert components["LimitRequest"]["additionalProperties"] is False
    provider = components["ProviderWriteRequest"]["properties"]
    assert (provider["max_retries"], provider["request_timeout_s"]) == (
        {"type": "integer", "minimum": 0, "maximum": 10},
        {"type": "number", "format": "double", "minimum": 0.1, "maximum": 600})
