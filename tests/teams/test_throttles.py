"""Throttles at their configured rates: anonymous clients (sign-in limits: test_login_limits.py).

The test settings lift every rate so the suite never trips them; these tests
put back the rates `symphony_site/settings.py` configures (`THROTTLE_ANON`,
whatever the environment says) and count to them. The
throttle history lives in the Redis cache, emptied before and after each test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from symphony_site import settings as configured

RATES: dict[str, str] = configured.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]


def allowed(scope: str) -> int:
    """How many requests per period the configured rate allows (`10/minute` → 10)."""
    number, _period = SimpleRateThrottle.parse_rate(None, RATES[scope])  # type: ignore[arg-type]
    assert number is not None and number > 0
    return number


@pytest.fixture
def configured_rates(monkeypatch) -> Iterator[None]:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", dict(RATES))
    cache.clear()
    yield
    cache.clear()


def assert_throttled(response: Any) -> None:
    assert response.status_code == 429
    body = json.loads(response.content)
    assert set(body) == {"error"} and body["error"]["code"] == "throttled"
    assert body["error"]["details"][0]["retry_after_seconds"] > 0


def test_anonymous_clients_get_the_configured_rate_then_429(db, configured_rates) -> None:
    client = APIClient(REMOTE_ADDR="203.0.113.9")
    limit = allowed("anon")
    # OPTIONS is cheap and counts like any method: the schema view is open to anonymous clients.
    statuses = [client.options("/api/schema/").status_code for _ in range(limit)]
    assert statuses == [200] * limit
    assert_throttled(client.get("/api/schema/", {"format": "json"}))
    assert APIClient(REMOTE_ADDR="203.0.113.10").options("/api/schema/").status_code == 200


def test_each_request_is_counted_once_in_one_expiring_redis_counter(personas, configured_rates) -> None:
    # symphony_site/api/throttling.py: INCR + EXPIRE NX in one MULTI/EXEC, no request list.
    client = personas.client("viewer")
    for _ in range(3):
        assert client.get("/api/v1/me/").status_code == 200
    key = cache.make_and_validate_key(f"throttle_user_{personas.users['viewer'].pk}")
    redis_client = cache._cache.get_client(key)
    assert redis_client.get(key) == b"3"
    _number, period = SimpleRateThrottle.parse_rate(None, RATES["user"])  # type: ignore[arg-type]
    assert 0 < redis_client.ttl(key) <= period
    # Anonymous counting is per address and was not touched by a signed-in user's requests.
    assert not redis_client.keys(cache.make_and_validate_key("throttle_anon_*"))


class RedisRoundTrips:
    """Counts what is sent to Redis (a pipeline or a script is one round trip)."""

    def __init__(self, monkeypatch: Any) -> None:
        from redis.connection import AbstractConnection

        self.count = 0
        original = AbstractConnection.send_packed_command

        def counted(connection: Any, command: Any, check_health: bool = True) -> Any:
            self.count += 1
            return original(connection, command, check_health)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)


def test_each_request_costs_one_redis_round_trip_allowed_or_refused(personas, configured_rates,
                                                                      monkeypatch) -> None:
    # symphony_site/api/throttling.py: one script counts, expires and answers the seconds left.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**RATES, "user": "3/minute"})
    client = personas.client("viewer")
    assert client.get("/api/v1/me/").status_code == 200
    round_trips = RedisRoundTrips(monkeypatch)
    statuses = []
    for _ in range(3):
        before = round_trips.count
        response = client.get("/api/v1/me/")
        statuses.append(response.status_code)
        assert round_trips.count - before == 1
    assert statuses == [200, 200, 429]
    assert_throttled(response)
    assert 0 < json.loads(response.content)["error"]["details"][0]["retry_after_seconds"] <= 60
    key = cache.make_and_validate_key(f"throttle_user_{personas.users['viewer'].pk}")
    # The refused request counted too (as DRF's own throttles would not): the count says 4.
    assert cache._cache.get_client(key).get(key) == b"4"
    # Another user's allowance is untouched.
    assert personas.client("editor").get("/api/v1/me/").status_code == 200


def test_concurrent_counts_are_atomic_and_every_counter_expires(db, configured_rates) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from symphony_site.api.throttling import count_request

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: count_request("throttle_user_race", 60), range(200)))
    # Each of the 200 requests saw a different count: no two read the same value.
    assert sorted(count for count, _ in answers) == list(range(1, 201))
    assert all(0 < seconds <= 60 for _, seconds in answers)
    # A counter found without an expiry (whatever left it so) gets one from the next request.
    key = cache.make_and_validate_key("throttle_user_stale")
    redis_client = cache._cache.get_client(key)
    redis_client.set(key, 5)
    assert redis_client.ttl(key) == -1
    assert count_request("throttle_user_stale", 30) == (6, 30)
    assert 0 < redis_client.ttl(key) <= 30
