"""A planted team secret never leaves the worker: not in any table (every column of every
table, read through SQL), not in an execution's events, not in the worker's log, not in
exports, audit entries, error messages or the pretty printer.

Real parts: a Celery worker process of its own (logging at DEBUG to a file this test
reads; any other worker stops consuming while it runs), PostgreSQL, Redis, and a local
server speaking the OpenAI protocol. The workflows use the secret every way a workflow
can: a template renders it, a model's system prompt names it, an HTTP header carries it
to a service that echoes it back, a log line quotes it, a URL's query string holds it,
and the provider's key (itself a team secret) is quoted back in a model's error.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from executions.models import Execution, ExecutionEvent, NodeRun
from instruments import services
from symphony_site.actors import Actor, Origin
from tests.conftest import WORKER_QUEUES, start_worker
from tests.executions.conftest import document, start, store, wait_for
from tests.fake_openai import GOOD_KEY, FakeOpenAI, running
from workflows import samples
from workflows.serialization.pretty import show

PLANTED = "plantedSecret-7f3a9c1e5b2d"
SECRETS = [PLANTED, GOOD_KEY]


def _broker_control(method: str, workers: list[str]) -> None:
    from symphony_site.celery import app

    if not workers:
        return
    with app.connection_for_write(settings.CELERY_BROKER_URL) as broker:
        for queue in WORKER_QUEUES.split(","):
            getattr(app.control, method)(queue, destination=workers, reply=True,
                                         connection=broker)


@pytest.fixture
def own_worker(transactional_db: Any) -> Iterator[Any]:
    """A worker whose whole log this test reads; other workers pause consuming meanwhile."""
    from tests.conftest import _ping_workers

    others = _ping_workers()
    _broker_control("cancel_consumer", others)
    with tempfile.NamedTemporaryFile(prefix="worker-", suffix=".log") as log:
        worker = start_worker(concurrency=1, log_to=log, loglevel="DEBUG",
                              extra_env={"LOG_LEVEL": "DEBUG"})
        try:
            yield log
        finally:
            worker.stop()
            _broker_control("add_consumer", others)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with running() as server:
        yield server


def plant(personas: Any, fake: FakeOpenAI) -> None:
    owner = Actor.of(personas.users["owner"])
    services.secret_create(actor=owner, origin=Origin.command(), team=personas.team,
                           name="PLANTED", value=PLANTED)
    services.secret_create(actor=owner, origin=Origin.command(), team=personas.team,
                           name="ACME_KEY", value=GOOD_KEY)
    services.provider_create(actor=owner, origin=Origin.command(), team=personas.team,
                             name="acme", fields={"base_url": fake.base_url,
                                                  "api_key_secret": "ACME_KEY"})


def echoing_workflow(fake: FakeOpenAI) -> dict[str, Any]:
    local = fake.base_url.replace("127.0.0.1", "localhost").removesuffix("/v1")
    return document("uses a secret everywhere", [
        samples.node_input("question"),
        samples.node_operator("prompt", "template", {
            "template": "Secret {{ secrets.PLANTED }}, question {{ inputs.variables }}"}),
        samples.node_model("echo", "local/echo",
                           {"system_prompt": "Guard {{ secrets.PLANTED }}"}),
        samples.node_model("chat", "acme/gpt-test",
                           {"system_prompt": "Key {{ secrets.PLANTED }}", "temperature": 0}),
        samples.node_operator("fetch", "http_request", {
            "method": "GET", "url": f"{local}/echo-headers",
            "headers": {"Authorization": "Bearer {{ secrets.PLANTED }}"}}),
        samples.node_operator("note", "log", {"message": "Using {{ secrets.PLANTED }}"}),
        samples.node_output("echoed", "string"),
        samples.node_output("chatted", "string"),
        samples.node_output("headers", "json"),
    ], [
        samples.data_edge("e1", "question", "value", "prompt", "variables"),
        samples.data_edge("e2", "prompt", "text", "echo", "prompt"),
        samples.data_edge("e3", "prompt", "text", "chat", "prompt"),
        samples.data_edge("e4", "echo", "text", "echoed", "value"),
        samples.data_edge("e5", "chat", "text", "chatted", "value"),
        samples.data_edge("e6", "fetch", "body", "headers", "value"),
        samples.data_edge("e7", "question", "value", "note", "value"),
    ], error_policy="continue")


def failing_workflow(fake: FakeOpenAI) -> dict[str, Any]:
    local = fake.base_url.replace("127.0.0.1", "localhost").removesuffix("/v1")
    return document("fails with a secret at hand", [
        samples.node_input("question"),
        samples.node_model("leaky", "acme/leak-key", {"max_retries": 0}),
        samples.node_operator("missing", "http_request", {
            "method": "GET", "url": f"{local}/missing?token={{{{ secrets.PLANTED }}}}"}),
        samples.node_output("answer", "string"),
        samples.node_output("body", "json"),
    ], [
        samples.data_edge("e1", "question", "value", "leaky", "prompt"),
        samples.data_edge("e2", "leaky", "text", "answer", "value"),
        samples.data_edge("e3", "missing", "body", "body", "value"),
    ], error_policy="continue")


def rows_holding(value: str) -> dict[str, int]:
    """Tables with rows whose text form (every column) contains `value`."""
    found = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}" AS row WHERE row::text LIKE %s',
                           [f"%{value}%"])
            count = cursor.fetchone()[0]
            if count:
                found[table] = count
    return found


def test_a_planted_secret_is_nowhere(personas, own_worker, fake) -> None:
    plant(personas, fake)
    echoed = wait_for(start(personas, store(personas, echoing_workflow(fake)),
                            {"question": "why?"}), timeout=60)
    failed = wait_for(start(personas, store(personas, failing_workflow(fake)),
                            {"question": "why?"}), timeout=60)

    # It was used: the services received the real values.
    header_calls = [request for request in fake.requests if request["path"] == "/echo-headers"]
    assert header_calls[0]["headers"]["Authorization"] == f"Bearer {PLANTED}"
    assert any(PLANTED in request["path"] for request in fake.requests)
    assert all(request["headers"].get("Authorization") == f"Bearer {GOOD_KEY}"
               for request in fake.requests if request["path"].startswith("/v1/"))

    # The runs went as designed, with masks where the secret would have been.
    assert echoed.state == "completed", NodeRun.objects.filter(execution=echoed).values(
        "node_id", "state", "error")
    assert echoed.outputs["echoed"] == "Secret ***, question why?"
    assert echoed.outputs["chatted"] == "Echo: Secret ***, question why?"
    assert echoed.outputs["headers"]["Authorization"] == "Bearer ***"
    assert failed.state == "failed"
    errors = dict(NodeRun.objects.filter(execution=failed, state="failed")
                  .values_list("node_id", "error"))
    assert set(errors) == {"leaky", "missing"}
    assert "Bad request made with key ***" in errors["leaky"]["message"]

    # Nowhere in the database, the audit log and the event streams included.
    assert ExecutionEvent.objects.filter(execution__in=[echoed, failed]).exists()
    for secret in SECRETS:
        assert rows_holding(secret) == {}, secret

    # Not in the worker's log (written at DEBUG level).
    own_worker.flush()
    with open(own_worker.name, encoding="utf-8", errors="replace") as log_file:
        log = log_file.read()
    assert "DEBUG" in log and "executions.step" in log
    for secret in SECRETS:
        assert secret not in log

    # Not in exports, the pretty printer or the API's answers.
    client = personas.client("owner")
    pages = [
        client.get(f"/api/v1/audit/export/?format=ndjson&team={personas.team.pk}"),
        client.get(f"/api/v1/teams/{personas.team.pk}/secrets/"),
        client.get(f"/api/v1/teams/{personas.team.pk}/providers/"),
        client.get("/api/v1/models/"),
        client.get(f"/api/v1/teams/{personas.team.pk}/usage/"),
    ]
    browser = Client()
    browser.force_login(personas.users["owner"])
    pages.append(browser.get("/team/"))
    for execution in (echoed, failed):
        workflow_id = execution.workflow_id
        pages.append(client.get(f"/api/v1/workflows/{workflow_id}/export/?format=json"))
    texts = []
    for page in pages:
        assert page.status_code == 200, page.request
        texts.append(b"".join(page.streaming_content).decode() if page.streaming
                     else page.content.decode())
    for execution in (echoed, failed):
        exported = json.dumps(Execution.objects.get(pk=execution.pk).workflow_version.document)
        texts.append(show(exported))
    for secret in SECRETS:
        assert all(secret not in text for text in texts), secret
