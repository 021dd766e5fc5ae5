"""The permission matrix: every API operation by every persona, against a table written by hand (issue 15).

Each row of `MATRIX` names one operation (`METHOD pattern`, the pattern as the URL conf
spells it) and the status each persona gets, in the column order of `PERSONAS`:
the five roles of team Alpha (which owns every object the paths name), `outsider` (the
owner of team Beta: another team) and `anon` (no credentials). The statuses come from
docs/api.md, docs/triggers.md and docs/audit.md, not from the code under test: a
disagreement is either a defect or a documentation gap, and is fixed where it lies.

- `test_every_route_has_a_row` reads the URL conf: an endpoint (or a method) without a
  row fails the build, and so does a row for an endpoint that no longer exists.
- Every request runs in a savepoint rolled back after it, so each persona meets the same
  data; a refused request (any 4xx) must leave every table's row count and the audit log
  as they were.
- The WebSocket routes get the same treatment (`WEBSOCKET_MATRIX`): the close code of a
  refusal, or "open".
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.test import Client

from tests.api.conftest import TeamWithData, audit_count, build_team_with_data, row_counts
from tests.api.routes import api_routes
from tests.conftest import PASSWORD, create_personas
from tests.templates_app.conftest import summary_version
from workflows import samples

PERSONAS = ("owner", "admin", "editor", "operator", "viewer", "outsider", "anon")


@dataclass(frozen=True)
class Row:
    statuses: str  # one status per persona, in PERSONAS order
    body: Any = None  # a JSON body (a callable of the data gives one that names real objects)
    query: str = ""


def _version(number: str) -> dict[str, Any]:
    return {**summary_version(number), "changelog": "More."}


# "METHOD pattern": Row("owner admin editor operator viewer | outsider anon").
MATRIX: dict[str, Row] = {
    # --- auth and teams (docs/api.md, "Teams, members, tokens") -------------------------
    # Anyone may exchange a password for a token: the body names the viewer's account.
    "POST api/v1/auth/token/": Row("201 201 201 201 201 | 201 201",
                                   body=lambda d: {"username": d.personas.users["viewer"].username,
                                                   "password": PASSWORD}),
    "GET api/v1/auth/tokens/": Row("200 200 200 200 200 | 200 401"),
    "POST api/v1/auth/tokens/": Row("201 201 201 201 201 | 201 401", body={"name": "ci"}),
    # The token is the owner's: anybody else's request finds no such token of theirs.
    "DELETE api/v1/auth/tokens/<uuid:token_id>/": Row("200 404 404 404 404 | 404 401"),
    "GET api/v1/me/": Row("200 200 200 200 200 | 200 401"),
    "GET api/v1/teams/": Row("200 200 200 200 200 | 200 401"),
    "POST api/v1/teams/": Row("201 201 201 201 201 | 201 401", body={"name": "Gamma"}),
    "GET api/v1/teams/<uuid:team_id>/": Row("200 200 200 200 200 | 404 401"),
    "PATCH api/v1/teams/<uuid:team_id>/": Row("200 200 403 403 403 | 404 401", body={"name": "Alpha renamed"}),
    "GET api/v1/teams/<uuid:team_id>/members/": Row("200 200 200 200 200 | 404 401"),
    "POST api/v1/teams/<uuid:team_id>/members/": Row(
        "201 201 403 403 403 | 404 401", body=lambda d: {"username": "newcomer", "role": "viewer"}),
    # The member of the path is the viewer: admins change roles below admin; nobody else may.
    "PATCH api/v1/teams/<uuid:team_id>/members/<str:user_id>/": Row(
        "200 200 403 403 403 | 404 401", body={"role": "operator"}),
    # …and anyone may leave: the viewer removing themself is allowed.
    "DELETE api/v1/teams/<uuid:team_id>/members/<str:user_id>/": Row("204 204 403 403 204 | 404 401"),
    # --- models, secrets, providers, usage, limits (docs/api.md, docs/triggers.md) ------
    "GET api/v1/models/": Row("200 200 200 200 200 | 404 401", query="team={team}"),
    "GET api/v1/teams/<uuid:team_id>/usage/": Row("200 200 200 200 200 | 404 401"),
    "GET api/v1/teams/<uuid:team_id>/secrets/": Row("200 200 403 403 403 | 404 401"),
    "POST api/v1/teams/<uuid:team_id>/secrets/": Row("201 201 403 403 403 | 404 401",
                                                      body={"name": "other", "value": "v4lue"}),
    "PATCH api/v1/teams/<uuid:team_id>/secrets/<str:name>/": Row("200 200 403 403 403 | 404 401",
                                                                  body={"value": "n3w"}),
    # The secret is a provider's key: allowed roles reach the 409 `secret_in_use`.
    "DELETE api/v1/teams/<uuid:team_id>/secrets/<str:name>/": Row("409 409 403 403 403 | 404 401"),
    "GET api/v1/teams/<uuid:team_id>/providers/": Row("200 200 403 403 403 | 404 401"),
    "POST api/v1/teams/<uuid:team_id>/providers/": Row(
        "201 201 403 403 403 | 404 401", body={"name": "other", "base_url": "https://api.example.com/v1"}),
    "GET api/v1/teams/<uuid:team_id>/providers/<str:name>/": Row("200 200 403 403 403 | 404 401"),
    "PATCH api/v1/teams/<uuid:team_id>/providers/<str:name>/": Row("200 200 403 403 403 | 404 401",
                                                                    body={"max_retries": 1}),
    "DELETE api/v1/teams/<uuid:team_id>/providers/<str:name>/": Row("204 204 403 403 403 | 404 401"),
    "GET api/v1/teams/<uuid:team_id>/limits/": Row("200 200 200 200 200 | 404 401"),
    "PUT api/v1/teams/<uuid:team_id>/limits/": Row("200 200 403 403 403 | 404 401",
                                                    body={"concurrency": {"limit": 3, "on_limit": "queue"}}),
    # --- workflows (docs/api.md, "Workflows") --------------------------------------------
    "GET api/v1/workflows/": Row("200 200 200 200 200 | 200 401"),
    "POST api/v1/workflows/": Row("201 201 201 403 403 | 404 401",
                                  body=lambda d: {"team": str(d.personas.team.pk), "document": samples.linear()}),
    "POST api/v1/workflows/validate/": Row("200 200 200 200 200 | 200 401", body=lambda d: samples.linear()),
    "POST api/v1/workflows/import/": Row("201 201 201 403 403 | 404 401", query="team={team}",
                                         body=lambda d: {"schema_version": "1.0.0", "workflow": samples.linear()}),
    "GET api/v1/workflows/schema/": Row("200 200 200 200 200 | 200 401"),
    "GET api/v1/node-types/": Row("200 200 200 200 200 | 200 401"),
    "GET api/v1/workflows/<uuid:workflow_id>/": Row("200 200 200 200 200 | 404 401"),
    "PATCH api/v1/workflows/<uuid:workflow_id>/": Row("200 200 200 403 403 | 404 401",
                                                      body={"description": "Changed."}),
    "DELETE api/v1/workflows/<uuid:workflow_id>/": Row("204 204 204 403 403 | 404 401"),
    "GET api/v1/workflows/<uuid:workflow_id>/versions/": Row("200 200 200 200 200 | 404 401"),
    "GET api/v1/workflows/<uuid:workflow_id>/versions/<str:version>/": Row("200 200 200 200 200 | 404 401"),
    "GET api/v1/workflows/<uuid:workflow_id>/diff/": Row("200 200 200 200 200 | 404 401",
                                                         query="from=1.0.0&to=1.0.0"),
    "GET api/v1/workflows/<uuid:workflow_id>/validation/": Row("200 200 200 200 200 | 404 401"),
    "GET api/v1/workflows/<uuid:workflow_id>/plan/": Row("200 200 200 200 200 | 404 401"),
    "GET api/v1/workflows/<uuid:workflow_id>/export/": Row("200 200 200 200 200 | 404 401"),
    # --- triggers (docs/triggers.md, "API": editors change, viewers read) ---------------
    "GET api/v1/workflows/<uuid:workflow_id>/schedules/": Row("200 200 200 200 200 | 404 401"),
    "POST api/v1/workflows/<uuid:workflow_id>/schedules/": Row(
        "201 201 201 403 403 | 404 401", body={"cron": "0 8 * * *", "inputs": {"text": {"text": "x"}}}),
    "GET api/v1/schedules/<uuid:schedule_id>/": Row("200 200 200 200 200 | 404 401"),
    "PATCH api/v1/schedules/<uuid:schedule_id>/": Row("200 200 200 403 403 | 404 401", body={"enabled": False}),
    "DELETE api/v1/schedules/<uuid:schedule_id>/": Row("204 204 204 403 403 | 404 401"),
    "GET api/v1/workflows/<uuid:workflow_id>/webhooks/": Row("200 200 200 200 200 | 404 401"),
    "POST api/v1/workflows/<uuid:workflow_id>/webhooks/": Row("201 201 201 403 403 | 404 401",
                                                              body={"name": "ERP"}),
    "GET api/v1/webhooks/<uuid:webhook_id>/": Row("200 200 200 200 200 | 404 401"),
    "PATCH api/v1/webhooks/<uuid:webhook_id>/": Row("200 200 200 403 403 | 404 401", body={"name": "CRM 2"}),
    "DELETE api/v1/webhooks/<uuid:webhook_id>/": Row("204 204 204 403 403 | 404 401"),
    "POST api/v1/webhooks/<uuid:webhook_id>/rotate/": Row("200 200 200 403 403 | 404 401"),
    "GET api/v1/webhooks/<uuid:webhook_id>/deliveries/": Row("200 200 200 200 200 | 404 401"),
    "GET api/v1/workflows/<uuid:workflow_id>/run-after/": Row("200 200 200 200 200 | 404 401"),
    # The instantiated workflow already runs after the first one: allowed roles reach the
    # 409 `already_exists` (the only other workflows would close a loop, also 409).
    "POST api/v1/workflows/<uuid:workflow_id>/run-after/": Row(
        "409 409 409 403 403 | 404 401", body=lambda d: {"after": d.workflow_id}),
    "GET api/v1/run-after/<uuid:rule_id>/": Row("200 200 200 200 200 | 404 401"),
    "PATCH api/v1/run-after/<uuid:rule_id>/": Row("200 200 200 403 403 | 404 401", body={"enabled": False}),
    "DELETE api/v1/run-after/<uuid:rule_id>/": Row("204 204 204 403 403 | 404 401"),
    "GET api/v1/workflows/<uuid:workflow_id>/queue/": Row("200 200 200 200 200 | 404 401"),
    # --- templates (docs/api.md, "Templates"; the template's visibility is `team`) -------
    "GET api/v1/templates/": Row("200 200 200 200 200 | 200 401"),
    "POST api/v1/templates/": Row("201 201 201 403 403 | 404 401", body=lambda d: {
        "team": str(d.personas.team.pk), "name": "Another summary", "visibility": "team",
        "version": summary_version()}),
    "POST api/v1/templates/from-workflow/": Row("201 201 201 403 403 | 404 401",
                                                body=lambda d: {"workflow": d.workflow_id, "parameters": []}),
    "GET api/v1/templates/origins/<uuid:workflow_id>/": Row("200 200 200 200 200 | 404 401"),
    "POST api/v1/templates/origins/<uuid:workflow_id>/upgrade/": Row("200 200 200 403 403 | 404 401"),
    "GET api/v1/templates/<slug:slug>/": Row("200 200 200 200 200 | 404 401"),
    "PATCH api/v1/templates/<slug:slug>/": Row("200 200 200 403 403 | 404 401", body={"description": "New."}),
    "GET api/v1/templates/<slug:slug>/versions/": Row("200 200 200 200 200 | 404 401"),
    "POST api/v1/templates/<slug:slug>/versions/": Row("201 201 201 403 403 | 404 401",
                                                       body=lambda d: _version("1.2.0")),
    "GET api/v1/templates/<slug:slug>/versions/<str:version>/": Row("200 200 200 200 200 | 404 401"),
    "GET api/v1/templates/<slug:slug>/parameters/": Row("200 200 200 200 200 | 404 401"),
    "POST api/v1/templates/<slug:slug>/instantiate/": Row(
        "201 201 201 403 403 | 404 401",
        body=lambda d: {"team": str(d.personas.team.pk), "version": "1.0.0", "parameters": {"model": "local/echo"}}),
    "POST api/v1/templates/<slug:slug>/rating/": Row("200 200 200 200 200 | 404 401", body={"stars": 4}),
    # --- executions (docs/api.md; operators start and control) ---------------------------
    "GET api/v1/executions/": Row("200 200 200 200 200 | 200 401"),
    "POST api/v1/executions/": Row("201 201 201 201 403 | 404 401", body=lambda d: {
        "workflow": d.instantiated_id, "inputs": {"text": {"text": "Hello."}}}),
    # A bulk command selects among the caller's teams' executions where their role allows it:
    # a viewer's or an outsider's selection is empty, which is an answer, not an error.
    "POST api/v1/executions/bulk/": Row("200 200 200 200 200 | 200 401",
                                        body={"command": "cancel", "filter": {}, "dry_run": False}),
    "GET api/v1/executions/<uuid:execution_id>/": Row("200 200 200 200 200 | 404 401"),
    "POST api/v1/executions/<uuid:execution_id>/commands/": Row("200 200 200 200 403 | 404 401",
                                                                body={"command": "cancel"}),
    # The execution has not ended, so allowed roles reach the state check (409).
    "POST api/v1/executions/<uuid:execution_id>/rerun/": Row("409 409 409 409 403 | 404 401"),
    "GET api/v1/executions/<uuid:execution_id>/events/": Row("200 200 200 200 200 | 404 401"),
    # --- audit (docs/audit.md, "Query and export": owners and admins) --------------------
    "GET api/v1/audit/": Row("200 200 403 403 403 | 404 401", query="team={team}"),
    "GET api/v1/audit/export/": Row("200 200 403 403 403 | 404 401", query="team={team}&format=ndjson"),
    "GET api/v1/audit/verify/": Row("200 200 403 403 403 | 404 401", query="team={team}"),
}

# Close code of a refused socket (4401 unauthenticated, 4404 not found) or "open".
WEBSOCKET_MATRIX: dict[str, str] = {
    "ws/teams/<uuid:team_id>/events/": "open open open open open | 4404 4401",
    "ws/executions/<uuid:execution_id>/": "open open open open open | 4404 4401",
}


def expected(statuses: str) -> dict[str, str]:
    values = statuses.replace("|", " ").split()
    assert len(values) == len(PERSONAS), statuses
    return dict(zip(PERSONAS, values, strict=True))


def operations() -> dict[str, Any]:
    return {f"{method.upper()} {route.pattern}": route for route in api_routes() for method in route.methods}


def test_every_route_has_a_row() -> None:
    """A new endpoint or method without a row here fails the build; so does a row for a removed one."""
    served = set(operations())
    assert sorted(served - set(MATRIX)) == []
    assert sorted(set(MATRIX) - served) == []
    for row in MATRIX.values():
        expected(row.statuses)


def test_every_websocket_route_has_a_row() -> None:
    from symphony_site.routing import websocket_urlpatterns

    assert sorted(str(pattern.pattern) for pattern in websocket_urlpatterns) == sorted(WEBSOCKET_MATRIX)


class _RolledBack(Exception):
    pass


def client_as(who: str, data: TeamWithData) -> Client:
    client = Client()
    if who != "anon":
        client.force_login(data.personas.users[who])
    return client


def _send(client: Client, method: str, path: str, body: Any) -> Any:
    if body is None:
        return client.generic(method, path)
    # A session client's write needs its CSRF token only when checks are enforced; the test
    # client does not enforce them, and CSRF has its own tests (tests/api/test_edges.py).
    return client.generic(method, path, json.dumps(body).encode(), content_type="application/json")


def table_counts() -> dict[str, int]:
    """Rows of every table, in one query (the matrix asks after each of several hundred refusals)."""
    models = [model for model in apps.get_models() if model._meta.managed and not model._meta.proxy]
    selects = ", ".join(f'(SELECT count(*) FROM "{model._meta.db_table}")' for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {selects}")
        return dict(zip([model._meta.label for model in models], cursor.fetchone(), strict=True))


def outcome(client: Client, method: str, route: Any, row: Row, data: TeamWithData,
            baseline: dict[str, int]) -> tuple[int, list[str]]:
    """The status `who` gets, in a savepoint rolled back afterwards, and what a refusal changed
    (every request starts from `baseline`, the counts before any of them)."""
    path = route.path(data.path_values())
    if row.query:
        path += "?" + row.query.format(team=data.personas.team.pk)
    body = row.body(data) if callable(row.body) else row.body
    changed: list[str] = []
    status = 0
    try:
        with transaction.atomic():
            response = _send(client, method, path, body)
            status = response.status_code
            if 400 <= status < 500:
                after = table_counts()
                # The audit log is one of the tables: an added entry shows as audit.AuditEntry.
                changed = [f"{label}: {baseline[label]} → {after[label]}" for label in baseline
                           if baseline[label] != after[label]]
            raise _RolledBack
    except _RolledBack:
        pass
    return status, changed


def _make_newcomer() -> None:
    from tests.conftest import make_user

    make_user("newcomer")


AREAS = {
    "auth-and-teams": ("api/v1/auth/", "api/v1/me/", "api/v1/teams/"),
    "workflows": ("api/v1/workflows/", "api/v1/node-types/", "api/v1/schedules/", "api/v1/webhooks/",
                  "api/v1/run-after/"),
    "templates": ("api/v1/templates/",),
    "executions-models-audit": ("api/v1/executions/", "api/v1/models/", "api/v1/audit/"),
}


def _area(key: str) -> str:
    pattern = key.split(" ", 1)[1]
    for area, prefixes in AREAS.items():
        if pattern.startswith(prefixes):
            return area
    raise AssertionError(f"{key} belongs to no area")


def test_every_row_belongs_to_one_area() -> None:
    assert {key: _area(key) for key in MATRIX}  # raises for a row of no area


@pytest.mark.parametrize("area", list(AREAS))
def test_each_persona_gets_the_documented_status(area: str, personas: Any) -> None:
    data = build_team_with_data(personas)
    _make_newcomer()
    routes = operations()
    # Logged in before the baseline: each login stores a session.
    clients = {who: client_as(who, data) for who in PERSONAS}
    baseline = table_counts()
    assert baseline == {label: count for label, count in row_counts().items() if label in baseline}
    assert baseline["audit.AuditEntry"] == audit_count() > 0
    wrong: list[str] = []
    checked = 0
    for key, row in MATRIX.items():
        if _area(key) != area:
            continue
        method, _pattern = key.split(" ", 1)
        for who, status in expected(row.statuses).items():
            got, changed = outcome(clients[who], method, routes[key], row, data, baseline)
            checked += 1
            if str(got) != status:
                wrong.append(f"{key} as {who}: {got}, documented {status}")
            if changed:
                wrong.append(f"{key} as {who}: refused with {got} but changed {changed}")
    assert wrong == [], "\n".join(wrong)
    assert checked >= 7 * 10


# --- WebSockets ------------------------------------------------------------------------------

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def _session_cookie(user: Any) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode())


async def _socket_outcome(path: str, headers: list[tuple[bytes, bytes]]) -> str:
    from symphony_site.asgi import application

    communicator = WebsocketCommunicator(application, path, headers=[(b"host", b"127.0.0.1:8000"), *headers])
    connected, code = await communicator.connect(timeout=5)
    if not connected:
        result = str(code)
    else:
        output = await communicator.receive_output(timeout=5)
        result = "open" if output["type"] == "websocket.send" else str(output.get("code"))
    await communicator.disconnect()
    return result


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_stray_connections")
def test_each_persona_meets_the_documented_websocket_answer() -> None:
    from channels.layers import channel_layers

    data = build_team_with_data(create_personas())
    values = {"team_id": str(data.personas.team.pk), "execution_id": data.execution_id}
    wrong = []
    for pattern, statuses in WEBSOCKET_MATRIX.items():
        path = "/" + pattern.replace("<uuid:team_id>", values["team_id"]).replace(
            "<uuid:execution_id>", values["execution_id"])
        for who, answer in expected(statuses).items():
            headers = [ORIGIN] if who == "anon" else [ORIGIN, _session_cookie(data.personas.users[who])]
            channel_layers.backends.clear()
            got = asyncio.run(_socket_outcome(path, headers))
            if got != answer:
                wrong.append(f"{pattern} as {who}: {got}, documented {answer}")
    channel_layers.backends.clear()
    assert wrong == []
