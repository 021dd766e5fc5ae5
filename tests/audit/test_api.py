"""The audit API: who may read, filters, keyset pages, bad input, export formats."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

import orjson
import pytest

from audit import domain
from audit.models import AuditEntry
from audit.services import record_event
from symphony_site.actors import Actor, Origin
from tests.conftest import request_free

from .conftest import AuditPersonas

pytestmark = pytest.mark.django_db

EXECUTION = uuid.UUID("0b6f7c1e-2a43-4f7e-9d51-3c1f5e8a9b20")


@pytest.fixture
def log(people: AuditPersonas) -> list[AuditEntry]:
    """Six entries in Acme, one in Globex."""
    owner, admin, viewer = people.users["owner"], people.users["admin"], people.users["viewer"]
    entries = [
        record_event(team=people.team, actor=Actor.of(owner), origin=Origin.command(),
                     event_type="team.updated", target=people.team,
                     details={"changes": {"name": ["Acme Corp", "Acme"]}}),
        record_event(team=people.team, actor=Actor.of(owner), origin=Origin.command(),
                     event_type="member.added", target=viewer, target_type="user",
                     details={"role": "viewer"}),
        record_event(team=people.team, actor=Actor.of(admin), origin=Origin.command(),
                     event_type="member.role_changed", target=viewer,
                     target_type="user", details={"from": "viewer", "to": "editor"}),
        record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(),
                     event_type="workflow.created", target_type="workflow",
                     target_id="w-1", target_name="=HYPERLINK(\"http://evil\")", execution_id=EXECUTION,
                     reason="+cmd|' /C calc'!A0"),
        record_event(team=people.team, actor=Actor.of(admin), origin=Origin.command(),
                     event_type="workflow.versioned", target_type="workflow",
                     target_id="w-1", target_name="-2+3", reason="@SUM(1)"),
        record_event(team=people.team, actor=Actor.of(owner), origin=Origin.command(),
                     event_type="member.removed", target=viewer, target_type="user",
                     details={"role": "editor", "left": False}),
    ]
    record_event(team=people.other_team, actor=Actor.of(people.users["outsider"]), origin=Origin.command(),
                 event_type="team.updated")
    return entries


def get(people: AuditPersonas, who: str | None, path: str = "/api/v1/audit/", **params: Any) -> Any:
    return people.client(who).get(path, params)


def sequences(response: Any) -> list[int]:
    return [entry["sequence"] for entry in response.json()["results"]]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        pytest.param("owner", 200, id="owner"),
        pytest.param("admin", 200, id="admin"),
        pytest.param("editor", 403, id="editor"),
        pytest.param("operator", 403, id="operator"),
        pytest.param("viewer", 403, id="viewer"),
        pytest.param("outsider", 404, id="outsider"),
        pytest.param("staff", 404, id="staff-not-a-member"),
        pytest.param(None, 401, id="anonymous"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/audit/", "/api/v1/audit/verify/", "/api/v1/audit/export/"])
def test_only_owners_and_admins_read_their_teams_log(
    people: AuditPersonas, log: list[AuditEntry], who: str | None, status: int, path: str
) -> None:
    before = AuditEntry.objects.count()
    response = get(people, who, path, team=str(people.team.pk))
    assert response.status_code == status
    if status != 200:
        assert set(response.json()["error"]) == {"code", "message", "details"}
        assert response.json()["error"]["code"] == {
            401: "not_authenticated", 403: "permission_denied", 404: "not_found"}[status]
        # A refused export records nothing.
        assert AuditEntry.objects.count() == before


def test_list_is_newest_first_with_every_field(people: AuditPersonas, log: list[AuditEntry]) -> None:
    response = get(people, "owner", team="acme")
    assert response.status_code == 200
    body = response.json()
    assert sequences(response) == [6, 5, 4, 3, 2, 1]
    assert body["next"] is None
    fourth = next(entry for entry in body["results"] if entry["sequence"] == 4)
    stored = log[3]
    assert fourth == {
        "id": str(stored.pk), "team": str(people.team.pk), "sequence": 4,
        "occurred_at": stored.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": None, "actor_name": "system", "actor_type": "system", "event_type": "workflow.created",
        "target_type": "workflow", "target_id": "w-1", "target_name": "=HYPERLINK(\"http://evil\")",
        "execution_id": str(EXECUTION), "reason": "+cmd|' /C calc'!A0", "details": {},
        "ip_address": None, "user_agent": "", "prev_hash": log[2].hash, "hash": stored.hash,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"event_type": "member.added"}, [2], id="exact-type"),
        pytest.param({"event_type": "member.*"}, [6, 3, 2], id="type-prefix"),
        pytest.param({"actor": "acme-admin"}, [5, 3], id="actor-username"),
        pytest.param({"actor": "system"}, [4], id="actor-system"),
        pytest.param({"target_type": "workflow"}, [5, 4], id="target-type"),
        pytest.param({"target_type": "workflow", "target_id": "w-1", "event_type": "workflow.versioned"}, [5],
                     id="target-and-type"),
        pytest.param({"execution": str(EXECUTION)}, [4], id="execution"),
        pytest.param({"event_type": "template.*"}, [], id="prefix-without-entries"),
    ],
)
def test_filters(people: AuditPersonas, log: list[AuditEntry], params: dict[str, str], expected: list[int]) -> None:
    response = get(people, "admin", team="acme", **params)
    assert response.status_code == 200
    assert sequences(response) == expected


def test_actor_by_user_id_and_time_window(people: AuditPersonas, log: list[AuditEntry]) -> None:
    assert sequences(get(people, "owner", team="acme", actor=str(people.users["owner"].pk))) == [6, 2, 1]
    since, until = log[1].occurred_at.isoformat(), log[4].occurred_at.isoformat()
    # since is inclusive, until exclusive.
    assert sequences(get(people, "owner", team="acme", since=since, until=until)) == [4, 3, 2]
    assert sequences(get(people, "owner", team="acme", since=since, until=since)) == []


def test_keyset_pages_follow_next_to_the_end(people: AuditPersonas, log: list[AuditEntry]) -> None:
    pages, cursor = [], None
    while True:
        params = {"team": "acme", "limit": "4"}
        if cursor:
            params["cursor"] = cursor
        body = get(people, "owner", **params).json()
        pages.append([entry["sequence"] for entry in body["results"]])
        cursor = body["next"]
        if cursor is None:
            break
    assert pages == [[6, 5, 4, 3], [2, 1]]
    # An entry appended meanwhile does not shift the pages already handed out.
    first = get(people, "owner", team="acme", limit="2").json()
    record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(),
                 event_type="team.updated")
    second = get(people, "owner", team="acme", limit="2", cursor=first["next"]).json()
    assert [entry["sequence"] for entry in second["results"]] == [4, 3]


def test_team_may_be_omitted_by_a_member_of_exactly_one_team(people: AuditPersonas, log: list[AuditEntry]) -> None:
    assert sequences(get(people, "owner")) == [6, 5, 4, 3, 2, 1]
    response = get(people, "staff")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "team", "message": "required", "code": "required"}]


def test_staff_read_the_platform_chain_and_nobody_else_does(people: AuditPersonas) -> None:
    record_event(team=None, actor=Actor.anonymous(), origin=Origin.task(),
                 event_type="auth.login_failed", target_type="user", target_name="ghost")
    response = get(people, "staff", team="platform")
    assert response.status_code == 200
    assert [(entry["event_type"], entry["target_name"], entry["team"]) for entry in response.json()["results"]] == [
        ("auth.login_failed", "ghost", None)]
    assert get(people, "owner", team="platform").status_code == 404
    assert get(people, "staff", "/api/v1/audit/verify/", team="platform").json() == {
        "valid": True, "checked": 1, "first_break": None}


@pytest.mark.parametrize(
    ("params", "field", "path"),
    [
        pytest.param({"event_type": "workflow.exploded"}, "event_type", "/api/v1/audit/", id="unknown-type"),
        pytest.param({"event_type": "nothing.*"}, "event_type", "/api/v1/audit/", id="unknown-prefix"),
        pytest.param({"since": "yesterday"}, "since", "/api/v1/audit/", id="malformed-since"),
        pytest.param({"until": "2026-13-45"}, "until", "/api/v1/audit/", id="malformed-until"),
        pytest.param({"since": "2026-11-02", "until": "2026-11-01"}, "since", "/api/v1/audit/", id="since-after-until"),
        pytest.param({"execution": "not-a-uuid"}, "execution", "/api/v1/audit/", id="bad-execution"),
        pytest.param({"limit": "0"}, "limit", "/api/v1/audit/", id="bad-limit"),
        pytest.param({"cursor": "!!"}, "cursor", "/api/v1/audit/", id="bad-cursor"),
        pytest.param({"format": "xlsx"}, "format", "/api/v1/audit/export/", id="bad-format"),
        pytest.param({"since": "soon"}, "since", "/api/v1/audit/export/", id="export-bad-since"),
    ],
)
def test_bad_filters_answer_400_in_the_error_shape(
    people: AuditPersonas, log: list[AuditEntry], params: dict[str, str], field: str, path: str
) -> None:
    before = AuditEntry.objects.count()
    response = get(people, "owner", path, team="acme", **params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert [detail["field"] for detail in error["details"]] == [field]
    assert AuditEntry.objects.count() == before


def _content(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_ndjson_export_has_every_entry_oldest_first_and_verifies_offline(
    people: AuditPersonas, log: list[AuditEntry]
) -> None:
    response = get(people, "owner", "/api/v1/audit/export/", team="acme", format="ndjson")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-acme-')
    lines = [orjson.loads(line) for line in _content(response).splitlines()]
    assert [line["sequence"] for line in lines] == [1, 2, 3, 4, 5, 6]
    assert lines[0] == {
        "id": str(log[0].pk), "team_id": str(people.team.pk), "sequence": 1,
        "occurred_at": domain.format_time(log[0].occurred_at), "actor_id": people.users["owner"].pk,
        "actor_name": "acme-owner", "actor_type": "user", "event_type": "team.updated",
        "target_type": "teams.team", "target_id": str(people.team.pk), "target_name": "Acme",
        "execution_id": None, "reason": "", "details": {"changes": {"name": ["Acme Corp", "Acme"]}},
        "ip_address": None, "user_agent": "", "prev_hash": domain.GENESIS_HASH, "hash": log[0].hash,
    }
    rows = [domain.verification_row(line) for line in lines]
    assert domain.verify_chain(rows).as_dict() == {"valid": True, "checked": 6, "first_break": None}
    # The export itself is recorded, after the exported entries.
    exported = AuditEntry.objects.get(team=people.team, event_type="audit.exported")
    assert (exported.sequence, exported.actor_name, exported.ip_address, request_free(exported.details)) == (
        7, "acme-owner", "127.0.0.1", {"format": "ndjson", "filters": {}})


def test_json_export_with_filters(people: AuditPersonas, log: list[AuditEntry]) -> None:
    response = get(people, "admin", "/api/v1/audit/export/", team="acme", format="json", event_type="member.*")
    assert response["Content-Type"] == "application/json"
    body = json.loads(_content(response))
    assert [(entry["sequence"], entry["event_type"]) for entry in body] == [
        (2, "member.added"), (3, "member.role_changed"), (6, "member.removed")]
    assert body[1]["details"] == {"from": "viewer", "to": "editor"}
    exported = AuditEntry.objects.get(team=people.team, event_type="audit.exported")
    assert request_free(exported.details) == {"format": "json", "filters": {"event_type": "member.*"}}


def test_empty_json_export_is_an_empty_array(people: AuditPersonas, log: list[AuditEntry]) -> None:
    response = get(people, "owner", "/api/v1/audit/export/", team="acme", format="json", event_type="template.*")
    assert json.loads(_content(response)) == []


def test_csv_export_neutralises_formula_cells(people: AuditPersonas, log: list[AuditEntry]) -> None:
    response = get(people, "owner", "/api/v1/audit/export/", team="acme", format="csv", target_type="workflow")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(_content(response).decode())))
    assert rows[0] == ["id", "team_id", "sequence", "occurred_at", "actor_id", "actor_name", "actor_type",
                       "event_type", "target_type", "target_id", "target_name", "execution_id", "reason",
                       "details", "ip_address", "user_agent", "prev_hash", "hash"]
    assert len(rows) == 3
    by_column = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [(row["sequence"], row["target_name"], row["reason"]) for row in by_column] == [
        ("4", "'=HYPERLINK(\"http://evil\")", "'+cmd|' /C calc'!A0"),
        ("5", "'-2+3", "'@SUM(1)"),
    ]
    assert by_column[0]["execution_id"] == str(EXECUTION)
    assert by_column[0]["details"] == "{}"
    assert by_column[1]["hash"] == log[4].hash


def test_csv_export_of_nothing_is_the_header(people: AuditPersonas, log: list[AuditEntry]) -> None:
    response = get(people, "owner", "/api/v1/audit/export/", team="acme", format="csv", event_type="template.*")
    assert _content(response).decode().splitlines() == [
        "id,team_id,sequence,occurred_at,actor_id,actor_name,actor_type,event_type,target_type,target_id,"
        "target_name,execution_id,reason,details,ip_address,user_agent,prev_hash,hash"]


def test_export_and_list_appear_in_the_openapi_schema(people: AuditPersonas) -> None:
    schema = people.client("owner").get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert {"/api/v1/audit/", "/api/v1/audit/export/", "/api/v1/audit/verify/"} <= set(paths)
    parameters = {parameter["name"] for parameter in paths["/api/v1/audit/"]["get"]["parameters"]}
    assert parameters == {"team", "actor", "event_type", "execution", "target_type", "target_id", "since",
                          "until", "limit", "cursor"}


def test_export_through_an_api_token_records_the_token_not_its_key(people: AuditPersonas, log: list[AuditEntry]) -> None:
    from rest_framework.test import APIClient

    from teams.services import token_create

    token, key = token_create(actor=Actor.of(people.users["admin"]), origin=Origin.command(),
                              name="ci export")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/audit/export/", {"team": "acme", "format": "csv"})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    exported = AuditEntry.objects.get(team=people.team, event_type="audit.exported")
    assert (exported.actor_name, exported.actor_type) == ("acme-admin", "token")
    assert request_free(exported.details) == {"format": "csv", "filters": {}, "token_id": str(token.pk), "token_name": "ci export"}
    assert not AuditEntry.objects.filter(details__icontains=key[4:]).exists()


@pytest.mark.parametrize("actor", ["\u00b2", "\u0661"])
def test_an_actor_in_other_digits_is_a_name_not_an_id(people: AuditPersonas, log: list[AuditEntry], actor: str) -> None:
    """`str.isdigit()` took a superscript two as a user id (then `int()` raised: a 500) and an Arabic-Indic one as user 1."""
    response = get(people, "admin", team="acme", actor=actor)
    assert response.status_code == 200
    assert sequences(response) == []
