"""Statements per request stay bounded on every API list: a ceiling, and no growth with rows.

Each list is read after a few rows are made and again after more; the second read may not
issue more statements than the first, and neither more than the list's ceiling. (Workflows
and executions lists and details have their own ceilings in tests/workflows and
tests/executions.) A token client is used, so the count includes the token lookup.

The teams, users, workflow and tokens every list needs are made once for the class
(`setUpTestData`, committed to nothing: the class runs in a transaction that is rolled back
after it); each test runs in a savepoint of its own, so the rows one test adds are gone before
the next, as with a database of its own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from executions.models import Execution, ExecutionEvent
from instruments import services as instrument_services
from symphony_site.actors import Actor, Origin
from teams import services as team_services
from tests.conftest import Personas, create_personas
from tests.templates_app.conftest import summary_version
from workflows import samples as s
from workflows import services as workflow_services

ORIGIN = Origin.command()


def _statements(client: Any, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.content[:300])
    return len(captured)


def assert_bounded(client: Any, path: str, add: Callable[[int], None], *, ceiling: int) -> None:
    add(2)
    client.get(path)  # once per process caches (roles, compiled graphs) are not what is counted
    few = _statements(client, path)
    add(6)
    many = _statements(client, path)
    assert many <= few <= ceiling, (path, few, many)


class TestListCeilings(TestCase):
    personas: Personas
    owner: Actor
    workflow: Any
    keys: dict[str, str]

    @classmethod
    def setUpTestData(cls) -> None:
        cls.personas = create_personas()
        cls.owner = Actor.of(cls.personas.users["owner"])
        cls.workflow = workflow_services.workflow_create(actor=cls.owner, origin=ORIGIN, team=cls.personas.team,
                                                         document=s.linear())
        cls.keys = {who: team_services.token_create(actor=Actor.of(cls.personas.users[who]), origin=ORIGIN,
                                                    name="ceilings")[1]
                    for who in ("owner", "viewer")}

    def token_client(self, who: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {self.keys[who]}")
        return client

    def test_tokens_list(self) -> None:
        made = iter(range(100))

        def add(count: int) -> None:
            for _ in range(count):
                team_services.token_create(actor=self.owner, origin=ORIGIN, name=f"t{next(made)}")

        assert_bounded(self.token_client("owner"), "/api/v1/auth/tokens/", add, ceiling=4)

    def test_teams_list_and_me(self) -> None:
        made = iter(range(100))

        def add(count: int) -> None:
            for _ in range(count):
                team_services.team_create(actor=self.owner, origin=ORIGIN, name=f"Extra {next(made)}")

        client = self.token_client("owner")
        assert_bounded(client, "/api/v1/teams/", add, ceiling=4)
        # The token, its user and their teams: one statement (teams/authentication.py).
        assert_bounded(client, "/api/v1/me/", add, ceiling=1)

    def test_members_list(self) -> None:
        made = iter(range(100))

        def add(count: int) -> None:
            for _ in range(count):
                user = get_user_model().objects.create_user(username=f"member-{next(made)}")
                team_services.member_add(actor=self.owner, origin=ORIGIN, team=self.personas.team, user=user,
                                         role="viewer")

        assert_bounded(self.token_client("owner"), f"/api/v1/teams/{self.personas.team.pk}/members/", add,
                       ceiling=5)

    def test_audit_list(self) -> None:
        made = iter(range(100))

        def add(count: int) -> None:
            for _ in range(count):
                team_services.team_update(actor=self.owner, origin=ORIGIN, team=self.personas.team,
                                          description=f"Described {next(made)}")

        assert_bounded(self.token_client("owner"), f"/api/v1/audit/?team={self.personas.team.pk}", add, ceiling=6)

    def test_workflow_versions_list(self) -> None:
        workflow = self.workflow
        made = iter(range(1, 100))

        def add(count: int) -> None:
            for _ in range(count):
                document = copy.deepcopy(workflow.current_version.document)
                document["workflow"]["name"] = f"Linear {next(made)}"
                workflow_services.workflow_update(actor=self.owner, origin=ORIGIN, workflow=workflow,
                                                  document=document)
                workflow.refresh_from_db()

        assert_bounded(self.token_client("owner"), f"/api/v1/workflows/{workflow.pk}/versions/", add, ceiling=5)

    def test_secrets_list(self) -> None:
        made = iter(range(100))

        def add(count: int) -> None:
            for _ in range(count):
                instrument_services.secret_create(actor=self.owner, origin=ORIGIN, team=self.personas.team,
                                                  name=f"KEY_{next(made)}", value="s3cret-value")

        assert_bounded(self.token_client("owner"), f"/api/v1/teams/{self.personas.team.pk}/secrets/", add,
                       ceiling=5)

    def test_template_search_and_versions(self) -> None:
        from templates_app import services as template_services

        editor = Actor.of(self.personas.users["editor"])
        made = iter(range(100))
        first: list[Any] = []

        def add_templates(count: int) -> None:
            for _ in range(count):
                number = next(made)
                first.append(template_services.template_publish(
                    actor=editor, origin=ORIGIN, team=self.personas.team, name=f"Summarize text {number}",
                    description="Summaries of any length.", category="summarization", tags=["summarization"],
                    visibility="team", version=summary_version()))

        client = self.token_client("viewer")
        assert_bounded(client, "/api/v1/templates/?q=summarize", add_templates, ceiling=8)
        assert_bounded(client, "/api/v1/templates/", add_templates, ceiling=8)
        versions = iter(range(2, 100))

        def add_versions(count: int) -> None:
            for _ in range(count):
                template_services.template_version_create(
                    actor=editor, origin=ORIGIN, template=first[0], version=summary_version(f"1.{next(versions)}.0"))

        assert_bounded(client, f"/api/v1/templates/{first[0].slug}/versions/", add_versions, ceiling=6)

    def test_execution_events_list(self) -> None:
        from django.utils import timezone

        now = timezone.now()
        execution = Execution.objects.create(team=self.personas.team, workflow=self.workflow,
                                             workflow_version=self.workflow.current_version, state="running",
                                             created_at=now, updated_at=now, started_at=now, max_parallel=1,
                                             node_count=1)
        seqs = iter(range(1, 1000))

        def add(count: int) -> None:
            ExecutionEvent.objects.bulk_create([
                ExecutionEvent(execution=execution, seq=next(seqs), type="log", node_id="a",
                               data={"level": "info", "message": "x"}, at=now) for _ in range(count)])

        assert_bounded(self.token_client("viewer"), f"/api/v1/executions/{execution.pk}/events/", add, ceiling=5)

    def test_schedules_and_webhooks_lists(self) -> None:
        from executions.triggers.services.schedules import schedule_create
        from executions.triggers.services.webhooks import webhook_create

        workflow = self.workflow

        def add_schedules(count: int) -> None:
            for _ in range(count):
                schedule_create(actor=self.owner, origin=ORIGIN, workflow=workflow, cron_expression="0 * * * *")

        def add_webhooks(count: int) -> None:
            for _ in range(count):
                webhook_create(actor=self.owner, origin=ORIGIN, workflow=workflow)

        client = self.token_client("viewer")
        assert_bounded(client, f"/api/v1/workflows/{workflow.pk}/schedules/", add_schedules, ceiling=6)
        assert_bounded(client, f"/api/v1/workflows/{workflow.pk}/webhooks/", add_webhooks, ceiling=6)

    def test_catalogue_lists(self) -> None:
        for path in ("/api/v1/node-types/", "/api/v1/models/"):
            client = self.token_client("viewer")
            client.get(path)
            assert _statements(client, path) <= 4, path
