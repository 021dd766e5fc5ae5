"""Deliveries to a webhook's public URL: what runs, what is refused, and that a refusal
starts nothing. Wrong, missing or stale signatures never run; a repeated idempotency key
starts one execution; every answer is in the API's error shape."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from audit.models import AuditEntry
from executions.models import Execution, TriggeredBy, Webhook, WebhookDelivery
from executions.triggers.services import webhooks

from .conftest import ORIGIN, asking, deliver, editor, signed_headers, store

SIGNED = {"header": "X-Symphony-Signature", "algorithm": "sha256", "timestamp_header": "X-Symphony-Timestamp",
          "tolerance_s": 300}


def hook(personas: Any, **values: Any) -> webhooks.Issued:
    return webhooks.webhook_create(actor=editor(personas), origin=ORIGIN, workflow=store(personas, asking()), **values)


def deliveries(issued: webhooks.Issued) -> list[tuple[str, int, str]]:
    return list(WebhookDelivery.objects.filter(webhook=issued.webhook).order_by("id")
                .values_list("status", "http_status", "reason_code"))


@pytest.mark.django_db
def test_an_unsigned_hook_maps_the_payload_and_answers_202_with_the_execution(personas) -> None:
    issued = hook(personas, input_mapping={"topic": "$.ticket.subject"})
    response = deliver(issued.token, b'{"ticket": {"subject": "Printer on fire"}}')
    assert response.status_code == 202
    execution = Execution.objects.get(pk=response.json()["execution"])
    assert response.json() == {"execution": str(execution.pk)}
    assert (execution.trigger, execution.inputs, execution.state) == ("webhook", {"topic": "Printer on fire"},
                                                                      "running")
    assert TriggeredBy.objects.get(execution=execution).webhook_id == issued.webhook.pk
    assert deliveries(issued) == [("accepted", 202, "")]
    assert WebhookDelivery.objects.get(webhook=issued.webhook).execution_id == execution.pk


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "code"), [
    ("wrong", "invalid_signature"), ("missing", "missing_signature"), ("no timestamp", "missing_signature"),
    ("stale", "stale_signature"), ("future", "stale_signature"), ("other secret", "invalid_signature"),
    ("body changed", "invalid_signature"),
])
def test_wrong_missing_or_stale_signatures_never_run(personas, case, code) -> None:
    issued = hook(personas, signature=SIGNED)
    body = b'{"topic": "x"}'
    headers = signed_headers(issued.signing_secret, body)
    if case == "wrong":
        headers["X-Symphony-Signature"] = "sha256=" + "0" * 64
    elif case == "missing":
        del headers["X-Symphony-Signature"]
    elif case == "no timestamp":
        del headers["X-Symphony-Timestamp"]
    elif case == "stale":
        headers = signed_headers(issued.signing_secret, body, stamp=int(time.time()) - 301)
    elif case == "future":
        # Well past the 300 s tolerance: the stamp is whole seconds and the server reads its
        # float clock later, so `int(now) + 301` can be within 300 s of the server's time.
        headers = signed_headers(issued.signing_secret, body, stamp=int(time.time()) + 330)
    elif case == "other secret":
        headers = signed_headers("whsec_not-this-one", body)
    elif case == "body changed":
        body = b'{"topic": "y"}'
    response = deliver(issued.token, body, headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert Execution.objects.count() == 0
    assert deliveries(issued) == [("rejected", 401, code)]
    assert Webhook.objects.get(pk=issued.webhook.pk).bad_signature_count == 1
    entry = AuditEntry.objects.get(event_type="webhook.signature_rejected")
    assert (entry.target_id, entry.details["code"], entry.actor_name) == (str(issued.webhook.pk), code, "webhook")


@pytest.mark.django_db
def test_a_correctly_signed_delivery_runs(personas) -> None:
    issued = hook(personas, signature={**SIGNED, "algorithm": "sha512"})
    body = b'{"topic": "x"}'
    response = deliver(issued.token, body, signed_headers(issued.signing_secret, body, algorithm="sha512"))
    assert response.status_code == 202
    assert Execution.objects.get().inputs == {"topic": "x"}
    assert Webhook.objects.get(pk=issued.webhook.pk).bad_signature_count == 0


@pytest.mark.django_db
def test_the_same_idempotency_key_twice_starts_one_execution(personas) -> None:
    issued = hook(personas)
    first = deliver(issued.token, b'{"topic": "a"}', {"Idempotency-Key": "order-42"})
    again = deliver(issued.token, b'{"topic": "a"}', {"Idempotency-Key": "order-42"})
    other = deliver(issued.token, b'{"topic": "a"}', {"Idempotency-Key": "order-43"})
    assert first.status_code == again.status_code == other.status_code == 202
    assert again.json() == first.json() and other.json() != first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Execution.objects.count() == 2
    assert deliveries(issued) == [("accepted", 202, ""), ("replayed", 202, ""), ("accepted", 202, "")]


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_with_one_idempotency_key_start_one_execution(personas) -> None:
    issued = hook(personas)
    barrier = threading.Barrier(6)
    answers: list[Any] = []

    def send() -> None:
        try:
            barrier.wait()
            answers.append(deliver(issued.token, b'{"topic": "a"}', {"Idempotency-Key": "same"}))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [answer.status_code for answer in answers] == [202] * 6
    assert len({answer.json()["execution"] for answer in answers}) == 1
    assert Execution.objects.count() == 1
    statuses = sorted(status for status, _, _ in deliveries(issued))
    assert statuses == ["accepted"] + ["replayed"] * 5


@pytest.mark.django_db
def test_a_rejected_delivery_does_not_hold_its_idempotency_key(personas) -> None:
    issued = hook(personas)
    refused = deliver(issued.token, b'{"nope": 1}', {"Idempotency-Key": "k"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "validation_failed"
    accepted = deliver(issued.token, b'{"topic": "fixed"}', {"Idempotency-Key": "k"})
    assert accepted.status_code == 202
    assert Execution.objects.get().inputs == {"topic": "fixed"}


@pytest.mark.django_db
def test_unknown_disabled_and_malformed_tokens_all_answer_the_same_404(personas) -> None:
    issued = hook(personas)
    webhooks.webhook_update(actor=editor(personas), origin=ORIGIN, webhook=issued.webhook, enabled=False)
    answers = [deliver(issued.token), deliver("x" * 43), deliver("a/b"), deliver("x" * 500)]
    for answer in answers:
        assert answer.status_code == 404
        assert answer.json() == {"error": {"code": "not_found", "message": "Not found.", "details": []}}
    assert WebhookDelivery.objects.count() == 0 and Execution.objects.count() == 0


@pytest.mark.django_db
def test_refusals_answer_the_error_shape_and_start_nothing(personas, settings) -> None:
    issued = hook(personas, max_body_bytes=64, input_mapping={"topic": "inputs.a.b"})
    too_big = deliver(issued.token, b'{"a": "' + b"x" * 100 + b'"}')
    not_json = deliver(issued.token, b"{nope")
    wrong_type = deliver(issued.token, b"a=b", content_type="application/x-www-form-urlencoded")
    failing_expression = deliver(issued.token, b'{"a": 1}')
    get = Client().get(f"/hooks/{issued.token}/")
    assert [answer.status_code for answer in (too_big, not_json, wrong_type, failing_expression, get)] == [
        413, 400, 415, 400, 405]
    assert [answer.json()["error"]["code"] for answer in (too_big, not_json, wrong_type, failing_expression, get)] == [
        "too_large", "parse_error", "unsupported_media_type", "validation_failed", "method_not_allowed"]
    assert Execution.objects.count() == 0
    assert deliveries(issued) == [("rejected", 413, "too_large"), ("rejected", 400, "parse_error"),
                                  ("rejected", 415, "unsupported_media_type"), ("rejected", 400, "validation_failed")]


@pytest.mark.django_db
def test_the_rate_limit_counts_per_hook_in_redis(personas) -> None:
    limited = hook(personas, rate_limit_per_minute=2)
    other = hook(personas)
    answers = [deliver(limited.token, b'{"topic": "a"}') for _ in range(3)]
    assert [answer.status_code for answer in answers] == [202, 202, 429] or (
        # The minute turned between calls: the window starts again.
        [answer.status_code for answer in answers] == [202, 202, 202])
    if answers[2].status_code == 429:
        assert answers[2].json()["error"]["code"] == "rate_limited"
        assert int(answers[2]["Retry-After"]) >= 1
        assert deliveries(limited)[-1] == ("rejected", 429, "rate_limited")
    assert deliver(other.token, b'{"topic": "a"}').status_code == 202


@pytest.mark.django_db
def test_rotation_retires_the_old_url_and_secret(personas) -> None:
    issued = hook(personas, signature=SIGNED)
    rotated = webhooks.webhook_rotate(actor=editor(personas), origin=ORIGIN, webhook=issued.webhook)
    body = b'{"topic": "x"}'
    assert deliver(issued.token, body, signed_headers(rotated.signing_secret, body)).status_code == 404
    old_secret = deliver(rotated.token, body, signed_headers(issued.signing_secret, body))
    assert old_secret.status_code == 401
    assert deliver(rotated.token, body, signed_headers(rotated.signing_secret, body)).status_code == 202
    assert rotated.token != issued.token and rotated.signing_secret != issued.signing_secret
    stored = Webhook.objects.get(pk=issued.webhook.pk)
    assert rotated.token not in str(stored.__dict__) and rotated.signing_secret not in str(stored.__dict__)
    entries = AuditEntry.objects.filter(event_type__startswith="webhook.").order_by("sequence")
    assert [entry.event_type for entry in entries] == ["webhook.created", "webhook.rotated",
                                                       "webhook.signature_rejected"]
    assert all(rotated.token not in str(entry.details) and issued.token not in str(entry.details) for entry in entries)


@pytest.mark.django_db
def test_a_body_past_every_hook_s_limit_is_refused_before_it_is_read(personas, settings) -> None:
    issued = hook(personas)
    settings.TRIGGER_WEBHOOK_MAX_BODY_BYTES = 100
    for token in (issued.token, "no-such-token"):
        answer = deliver(token, b'{"topic": "' + b"x" * 200 + b'"}')
        assert answer.status_code == 413
        assert answer.json()["error"] == {"code": "too_large", "message": "The body is 213 bytes; hooks take at "
                                          "most 100.", "details": [{"limit_bytes": 100}]}
    assert Execution.objects.count() == 0 and WebhookDelivery.objects.count() == 0
