"""The worker's side: secrets resolved for a node (and only those), providers with their
keys, the PostgreSQL cache and call records; key rotation; the start check."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from executions.runtime.registry import run_node
from instruments import crypto, services
from instruments.availability import model_problems, require_models_available
from instruments.models import CachedOutput, ModelCall, ModelPrice, Provider, Secret
from instruments.worker import PostgresModelServices, node_context_fields, secret_names
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import Conflict
from tests.conftest import request_free
from tests.instruments.conftest import audit_of
from tests.runtime.helpers import build, context_for, node_of
from workflows.samples import data_edge, node_input, node_model, node_operator, node_output


def make_secret(personas, name: str, value: str, team=None) -> None:
    owner = personas.users["outsider" if team is personas.other_team else "owner"]
    services.secret_create(actor=Actor.of(owner), origin=Origin.command(),
                           team=team or personas.team, name=name, value=value)


def test_a_node_gets_only_the_secrets_its_config_names(personas) -> None:
    make_secret(personas, "API_TOKEN", "token-value-1111")
    make_secret(personas, "UNUSED", "unused-value-2222")
    node = node_of(node_operator("call", "http_request", {
        "method": "GET", "url": "https://api.example.com/{{ secrets['PATH_PART'] }}",
        "headers": {"Authorization": "Bearer {{ secrets.API_TOKEN }}"}}))
    assert secret_names(node) == {"API_TOKEN", "PATH_PART"}
    fields = node_context_fields(team_id=personas.team.pk, execution_id=None, node=node)
    # PATH_PART does not exist: left out (the template fails clearly at run time).
    assert fields == {"secrets": {"API_TOKEN": "token-value-1111"}}


def test_model_nodes_get_providers_with_their_keys(personas) -> None:
    make_secret(personas, "OPENAI_KEY", "sk-openai-3333")
    make_secret(personas, "OPENAI_KEY", "sk-other-team-4444", team=personas.other_team)
    Provider.objects.create(team=personas.team, name="openai", base_url="https://api.openai.com/v1",
                            api_key_secret="OPENAI_KEY", max_retries=4,
                            offered_models=[{"name": "gpt-4o-mini", "capability": "chat"}])
    Provider.objects.create(team=personas.other_team, name="ollama",
                            base_url="http://localhost:11434/v1")
    node = node_of(node_model("answer", "openai/gpt-4o-mini", {}))
    fields = node_context_fields(team_id=personas.team.pk, execution_id=None, node=node)
    assert fields["secrets"] == {"OPENAI_KEY": "sk-openai-3333"}
    [endpoint] = fields["providers"].values()
    assert (endpoint.name, endpoint.base_url, endpoint.api_key, endpoint.max_retries,
            endpoint.models) == ("openai", "https://api.openai.com/v1", "sk-openai-3333", 4,
                                 ("gpt-4o-mini",))
    assert endpoint.allowed_hosts == frozenset({"localhost", "127.0.0.1"})
    assert isinstance(fields["model_services"], PostgresModelServices)


def test_the_postgres_cache_and_call_records(personas) -> None:
    ModelPrice.objects.create(model_id="local/echo", input_per_million=Decimal("1"),
                              output_per_million=Decimal("1"))
    node = node_of(node_model("answer", "local/echo", {}))
    services_first = PostgresModelServices(team_id=personas.team.pk, execution_id=None,
                                           node_id="answer")
    first = run_node(context_for(node, {"prompt": "hello there"}, model_services=services_first))
    second = run_node(context_for(node, {"prompt": "hello there"}, model_services=services_first))
    assert (first.cached, second.cached) == (False, True)
    assert second.outputs["text"] == "hello there"
    entry = CachedOutput.objects.get()
    assert (entry.team_id, entry.model_id, entry.model_version, entry.hits) == (
        personas.team.pk, "local/echo", "1", 1)
    calls = list(ModelCall.objects.order_by("id").values_list("model_id", "tokens_in", "cached",
                                                              "cost"))
    # Local models cost nothing whatever a price row says.
    assert calls == [("local/echo", 2, False, Decimal("0")), ("local/echo", 0, True, Decimal("0"))]
    # Another team does not see this team's answers.
    other = PostgresModelServices(team_id=personas.other_team.pk, execution_id=None, node_id="a")
    assert run_node(context_for(node, {"prompt": "hello there"}, model_services=other)).cached is False


def test_old_cache_entries_are_not_reused_and_expire(personas) -> None:
    node = node_of(node_model("answer", "local/echo", {}))
    cache = PostgresModelServices(team_id=personas.team.pk, execution_id=None, node_id="answer")
    run_node(context_for(node, {"prompt": "p"}, model_services=cache))
    CachedOutput.objects.update(created_at=timezone.now() - dt.timedelta(days=31))
    assert run_node(context_for(node, {"prompt": "p"}, model_services=cache)).cached is False
    from instruments.tasks import expire_cache

    assert expire_cache() == 1
    assert CachedOutput.objects.count() == 0


def test_usage_over_time_sums_the_calls(personas) -> None:
    now = timezone.now()
    rows = [("openai/gpt-4o-mini", 100, 20, "0.000027", False, "0", 0),
            ("openai/gpt-4o-mini", 0, 0, "0", True, "0.000027", 0),
            ("local/all-minilm-l6-v2", 50, 0, "0", False, "0", 1)]
    for model_id, tokens_in, tokens_out, cost, cached, saved, days_ago in rows:
        call = ModelCall.objects.create(team=personas.team, model_id=model_id, provider="x",
                                        tokens_in=tokens_in, tokens_out=tokens_out,
                                        cost=Decimal(cost), cached=cached, saved_cost=Decimal(saved))
        ModelCall.objects.filter(pk=call.pk).update(created_at=now - dt.timedelta(days=days_ago))
    body = personas.client("viewer").get(f"/api/v1/teams/{personas.team.pk}/usage/?days=7").json()
    today, yesterday = now.date().isoformat(), (now - dt.timedelta(days=1)).date().isoformat()
    assert body["by_day"] == [
        {"day": yesterday, "calls": 1, "cached": 0, "tokens_in": 50, "tokens_out": 0, "cost": 0.0,
         "saved": 0.0},
        {"day": today, "calls": 2, "cached": 1, "tokens_in": 100, "tokens_out": 20,
         "cost": 0.000027, "saved": 0.000027}]
    assert body["total"] == {"calls": 3, "cached": 1, "tokens_in": 150, "tokens_out": 20,
                             "cost": 0.000027, "saved": 0.000027}
    assert [row["model"] for row in body["by_model"]] == ["openai/gpt-4o-mini",
                                                          "local/all-minilm-l6-v2"]


def test_keys_rotate_without_losing_a_secret(personas, settings) -> None:
    make_secret(personas, "ROTATE_ME", "value-before-rotation")
    old_key = settings.SECRETS_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.SECRETS_KEYS = [new_key, old_key]
    token = Secret.objects.get().ciphertext
    assert crypto.decrypt(token) == "value-before-rotation"
    output = io.StringIO()
    call_command("rotate_secrets_key", stdout=output)
    assert output.getvalue().startswith("Re-encrypted 1 secret under the first key")
    rotated = Secret.objects.get().ciphertext
    assert rotated != token
    [entry] = audit_of("secret.keys_rotated")
    assert (entry.team_id, entry.details) == (None, {"secret_count": 1})
    with override_settings(SECRETS_KEYS=[new_key]):
        assert crypto.decrypt(rotated) == "value-before-rotation"
        with pytest.raises(crypto.SecretUnreadable):
            crypto.decrypt(token)


def test_staff_alone_may_reencrypt_or_set_prices(personas) -> None:
    from symphony_site.api.errors import Forbidden

    with pytest.raises(Forbidden):
        services.secrets_reencrypt(actor=Actor.of(personas.users["owner"]), origin=Origin.command())
    with pytest.raises(Forbidden):
        services.model_price_set(actor=Actor.of(personas.users["owner"]), origin=Origin.command(),
                                 model_id="openai/gpt-4o", input_per_million=1,
                                 output_per_million=1)
    assert ModelPrice.objects.count() == 0 and audit_of("model_price.changed") == []


def test_the_admin_sets_a_price_through_the_service(personas, client) -> None:
    staff = personas.users["owner"]
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    response = client.post("/admin/instruments/modelprice/add/", {
        "model_id": "ollama/llama3.2", "input_per_million": "0.10", "output_per_million": "0.20"})
    assert response.status_code == 302
    price = ModelPrice.objects.get()
    assert (price.model_id, price.input_per_million, price.output_per_million) == (
        "ollama/llama3.2", Decimal("0.100000"), Decimal("0.200000"))
    [entry] = audit_of("model_price.changed")
    assert request_free(entry.details) == {"model_id": "ollama/llama3.2", "before": None,
                             "after": ["0.100000", "0.200000"]}
    page = client.get("/admin/instruments/secret/")
    assert page.status_code == 200


def test_the_start_check_names_every_node_that_cannot_run(personas) -> None:
    flow = build("models", [
        node_input("question"),
        node_model("local_ok", "local/echo", {}),
        node_model("remote", "openai/gpt-4o-mini", {}),
        node_model("served", "ollama/llama3.2", {}),
        node_operator("vectors", "embed", {"model": "ollama/nomic-embed-text"}),
        node_output("out", "string"),
    ], [data_edge("e1", "question", "value", "local_ok", "prompt"),
        data_edge("e2", "question", "value", "remote", "prompt"),
        data_edge("e3", "question", "value", "served", "prompt"),
        data_edge("e4", "question", "value", "vectors", "text"),
        data_edge("e5", "local_ok", "text", "out", "value")])
    problems = model_problems(personas.team, flow)
    assert [(problem["node_id"], problem["provider"]) for problem in problems] == [
        ("remote", "openai"), ("served", "ollama"), ("vectors", "ollama")]
    assert problems[0]["message"].startswith(
        "Node 'remote' uses 'openai/gpt-4o-mini', but provider 'openai' is not configured")
    with pytest.raises(Conflict) as caught:
        require_models_available(personas.team, flow)
    assert caught.value.error_code == "model_unavailable"
    assert caught.value.status_code == 409
    Provider.objects.create(team=personas.team, name="openai", base_url="https://api.openai.com/v1")
    Provider.objects.create(team=personas.team, name="ollama", base_url="http://localhost:11434/v1",
                            offered_models=[{"name": "llama3.2", "capability": "chat"}])
    assert [(problem["node_id"], problem["message"]) for problem in
            model_problems(personas.team, flow)] == [
        ("vectors", "Node 'vectors' uses 'ollama/nomic-embed-text', but provider 'ollama' of this "
                    "team does not offer 'nomic-embed-text' (it offers: llama3.2).")]
