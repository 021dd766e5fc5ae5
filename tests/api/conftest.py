"""A team with data, built through the API itself, and the checks every API edge test shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from audit.models import AuditEntry
from tests.conftest import PASSWORD, Personas
from tests.templates_app.conftest import summary_version
from workflows import samples


@dataclass
class TeamWithData:
    """Team Alpha with a workflow, a template of two versions and a workflow made from its first."""

    personas: Personas
    keys: dict[str, str]  # persona → API token key
    token_id: str  # the owner's token
    workflow_id: str
    template_slug: str
    instantiated_id: str
    editor_team_slug: str  # a second team, which the editor created and owns
    execution_id: str  # an execution of the instantiated workflow
    schedule_id: str  # triggers of the instantiated workflow: a schedule, a webhook, a "run after" rule
    webhook_id: str
    rule_id: str
    secret_and_provider_name: str  # a team secret and a model provider of that one name

    def token_client(self, who: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {self.keys[who]}")
        return client

    def path_values(self) -> dict[str, str]:
        """A real value for each path parameter the API's routes name."""
        return {"team_id": str(self.personas.team.pk), "workflow_id": str(self.instantiated_id),
                "user_id": str(self.personas.users["viewer"].pk), "token_id": self.token_id,
                "slug": self.template_slug, "version": "1.0.0", "execution_id": self.execution_id,
                "schedule_id": self.schedule_id, "webhook_id": self.webhook_id, "rule_id": self.rule_id,
                "name": self.secret_and_provider_name}


def error_of(response: Any) -> dict[str, Any]:
    """The error object of a response, asserting the one error shape."""
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def row_counts() -> dict[str, int]:
    """Rows of every model: a refused request must leave each count as it was."""
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def audit_count() -> int:
    return AuditEntry.objects.count()


def _created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.content[:500]
    return dict(response.json())


def build_team_with_data(personas: Personas) -> TeamWithData:
    keys: dict[str, str] = {}
    token_id = ""
    for who in ("owner", "editor"):
        response = APIClient().post("/api/v1/auth/token/", {
            "username": personas.users[who].username, "password": PASSWORD, "name": "tests"}, format="json")
        token = _created(response)
        keys[who] = token["token"]
        token_id = token_id or token["id"]
    owner = APIClient()
    owner.credentials(HTTP_AUTHORIZATION=f"Token {keys['owner']}")
    team = str(personas.team.pk)
    workflow = _created(owner.post("/api/v1/workflows/", {"team": team, "document": samples.linear()},
                                   format="json"))
    template = _created(owner.post("/api/v1/templates/", {
        "team": team, "name": "Summarize a text", "visibility": "team", "version": summary_version()},
        format="json"))
    _created(owner.post(f"/api/v1/templates/{template['slug']}/versions/", summary_version("1.1.0"),
                        format="json"))
    instantiated = _created(owner.post(f"/api/v1/templates/{template['slug']}/instantiate/", {
        "team": team, "version": "1.0.0", "parameters": {"model": "local/echo"}}, format="json"))
    target = instantiated["workflow"]["id"]
    inputs = {"text": {"text": "A long text."}}
    execution = _created(owner.post("/api/v1/executions/", {"workflow": target, "inputs": inputs}, format="json"))
    schedule = _created(owner.post(f"/api/v1/workflows/{target}/schedules/", {
        "cron": "0 9 * * 1-5", "timezone": "Europe/Paris", "inputs": inputs}, format="json"))
    webhook = _created(owner.post(f"/api/v1/workflows/{target}/webhooks/", {"name": "CRM"}, format="json"))
    rule = _created(owner.post(f"/api/v1/workflows/{target}/run-after/", {"after": workflow["id"]}, format="json"))
    # One name serves both `.../secrets/<name>/` and `.../providers/<name>/`.
    _created(owner.post(f"/api/v1/teams/{team}/secrets/", {"name": "gateway", "value": "s3cret"}, format="json"))
    _created(owner.post(f"/api/v1/teams/{team}/providers/", {
        "name": "gateway", "base_url": "https://api.openai.com/v1", "api_key_secret": "gateway"}, format="json"))
    editor = APIClient()
    editor.credentials(HTTP_AUTHORIZATION=f"Token {keys['editor']}")
    editor_team = _created(editor.post("/api/v1/teams/", {"name": "Editor's own"}, format="json"))
    return TeamWithData(personas=personas, keys=keys, token_id=token_id, workflow_id=workflow["id"],
                        template_slug=template["slug"], instantiated_id=target,
                        editor_team_slug=editor_team["slug"], execution_id=execution["id"],
                        schedule_id=schedule["id"], webhook_id=webhook["id"], rule_id=rule["id"],
                        secret_and_provider_name="gateway")


@pytest.fixture
def team_with_data(personas: Personas) -> TeamWithData:
    return build_team_with_data(personas)
