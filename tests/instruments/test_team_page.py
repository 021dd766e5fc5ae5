"""The team page: models and usage for every member; secrets and providers for admins."""

from __future__ import annotations

from decimal import Decimal

from django.test import Client

from instruments import crypto
from instruments.models import ModelCall, Provider, Secret
from tests.instruments.conftest import audit_of

VALUE = "page-secret-value-ABC-987"


def logged_in(personas, who: str) -> Client:
    client = Client()
    client.force_login(personas.users[who])
    return client


def test_an_admin_manages_secrets_and_providers_from_the_team_page(personas) -> None:
    client = logged_in(personas, "admin")
    response = client.post("/team/secrets/", {"action": "create", "name": "OPENAI_KEY",
                                              "value": VALUE}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Secret OPENAI_KEY saved" in page and "<code>OPENAI_KEY</code>" in page
    assert VALUE not in page
    assert crypto.decrypt(Secret.objects.get().ciphertext) == VALUE
    response = client.post("/team/providers/", {
        "action": "create", "name": "ollama", "base_url": "http://localhost:11434/v1",
        "api_key_secret": "OPENAI_KEY", "models": "llama3.2, qwen2.5",
        "embedding_models": "nomic-embed-text"}, follow=True)
    page = response.content.decode()
    assert "Provider ollama added" in page
    assert Provider.objects.get().offered_models == [
        {"name": "llama3.2", "capability": "chat"}, {"name": "qwen2.5", "capability": "chat"},
        {"name": "nomic-embed-text", "capability": "embedding"}]
    assert "<code>ollama/llama3.2</code>" in page  # offered in the Models section
    rotated = client.post("/team/secrets/", {"action": "rotate", "name": "OPENAI_KEY",
                                             "value": "new-page-value-XYZ"}, follow=True)
    assert "new-page-value-XYZ" not in rotated.content.decode()
    assert Secret.objects.get().version == 2
    refused = client.post("/team/secrets/", {"action": "delete", "name": "OPENAI_KEY"},
                          follow=True)
    assert "is the key of model provider(s) ollama" in refused.content.decode()
    assert len(audit_of("secret.created")) == len(audit_of("secret.rotated")) == 1


def test_a_viewer_sees_models_and_usage_but_no_secrets(personas) -> None:
    Secret.objects.create(team=personas.team, name="HIDDEN_NAME", ciphertext=crypto.encrypt("v"))
    ModelCall.objects.create(team=personas.team, model_id="openai/gpt-4o-mini", provider="openai",
                             tokens_in=1200, tokens_out=300, cost=Decimal("0.00036"))
    page = logged_in(personas, "viewer").get("/team/").content.decode()
    assert "Model usage, last 30 days" in page and "<code>openai/gpt-4o-mini</code>" in page
    assert "$0.00036" in page and "<code>local/all-minilm-l6-v2</code>" in page
    assert "HIDDEN_NAME" not in page and 'id="secrets"' not in page
    response = logged_in(personas, "viewer").post("/team/secrets/", {
        "action": "create", "name": "SNEAKY", "value": "x"}, follow=True)
    assert "you need admin or higher" in response.content.decode()
    assert not Secret.objects.filter(name="SNEAKY").exists()
