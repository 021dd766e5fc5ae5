"""GET /healthz against the real Postgres, Redis and a real Celery worker."""

from __future__ import annotations

import pytest
from django.test import override_settings


@pytest.mark.django_db
def test_healthy_when_database_redis_and_worker_answer(client, celery_worker) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert "down" not in body
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert celery_worker in body["checks"]["worker"]["workers"]


@pytest.mark.django_db
def test_503_names_the_missing_worker(client, settings) -> None:
    # A broker database no worker listens on: Redis is up, nobody answers the ping.
    base = settings.REDIS_URL.rpartition("/")[0]
    with override_settings(CELERY_BROKER_URL=f"{base}/15"):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["down"] == ["worker"]
    assert body["checks"]["worker"]["error"] == "no Celery worker answered a ping within 1 second"


@pytest.mark.django_db
def test_503_names_redis_when_it_is_down(client) -> None:
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0", CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["redis", "worker"]
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["worker"]["error"] == "skipped: Redis, the broker, is down"
    assert "ConnectionError" in body["checks"]["redis"]["error"]


@pytest.mark.django_db
def test_healthz_refuses_writes(client) -> None:
    assert client.post("/healthz").status_code == 405
