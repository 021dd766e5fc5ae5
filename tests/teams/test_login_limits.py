"""Sign-in limits kept atomically in Redis: per address, per account and address, per account
with a bounded lock that known addresses pass (teams/login_limits.py, docs/security.md).

The test settings lift every limit; each test sets the ones it counts to. Real Redis: the
counters are emptied before and after each test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from audit.models import AuditEntry
from teams.login_limits import LoginGuard, LoginLimited, _redis
from teams.models import ApiToken
from tests.api.conftest import error_of
from tests.conftest import PASSWORD

TOKEN = "/api/v1/auth/token/"
HIGH = 1_000_000


@pytest.fixture(autouse=True)
def empty_counters() -> Iterator[None]:
    def empty() -> None:
        keys = list(_redis().scan_iter("symphony:login:*"))
        if keys:
            _redis().delete(*keys)

    empty()
    yield
    empty()


def attempt(address: str, username: str, password: str) -> Any:
    return APIClient(REMOTE_ADDR=address).post(TOKEN, {"username": username, "password": password}, format="json")


def assert_limited(response: Any) -> int:
    assert response.status_code == 429
    error = error_of(response)
    assert error["code"] == "throttled"
    wait = error["details"][0]["retry_after_seconds"]
    assert wait > 0 and int(response["Retry-After"]) == wait
    return int(wait)


@override_settings(LOGIN_ADDRESS_LIMIT=3, LOGIN_PAIR_FAILURES=HIGH, LOGIN_ACCOUNT_FAILURES=HIGH, LOGIN_WINDOW_S=600)
def test_an_address_gets_its_attempts_then_429_whatever_the_password(personas) -> None:
    viewer = personas.users["viewer"].username
    assert [attempt("203.0.113.7", viewer, "wrong").status_code for _ in range(3)] == [401, 401, 401]
    audited = AuditEntry.objects.count()
    wait = assert_limited(attempt("203.0.113.7", viewer, PASSWORD))
    assert 0 < wait <= 600
    # Refused before the password is checked: no token, no audit entry.
    assert ApiToken.objects.count() == 0
    assert AuditEntry.objects.count() == audited
    assert attempt("203.0.113.8", viewer, PASSWORD).status_code == 201


@override_settings(LOGIN_ADDRESS_LIMIT=HIGH, LOGIN_PAIR_FAILURES=3, LOGIN_ACCOUNT_FAILURES=HIGH)
def test_failures_lock_that_account_from_that_address_only(personas) -> None:
    viewer, editor = personas.users["viewer"].username, personas.users["editor"].username
    assert [attempt("198.51.100.1", viewer, "wrong").status_code for _ in range(3)] == [401, 401, 401]
    assert_limited(attempt("198.51.100.1", viewer, PASSWORD))
    # The same address may still sign in to another account, and the owner from elsewhere.
    assert attempt("198.51.100.1", editor, PASSWORD).status_code == 201
    assert attempt("198.51.100.2", viewer, PASSWORD).status_code == 201
    assert ApiToken.objects.count() == 2


@override_settings(LOGIN_ADDRESS_LIMIT=HIGH, LOGIN_PAIR_FAILURES=2, LOGIN_ACCOUNT_FAILURES=6, LOGIN_ACCOUNT_LOCK_S=300)
def test_many_addresses_lock_the_account_but_never_for_its_known_address(personas) -> None:
    viewer = personas.users["viewer"].username
    known = "192.0.2.10"
    assert attempt(known, viewer, PASSWORD).status_code == 201  # the owner's usual address
    # An attacker spreads failures over addresses, each under the per-address pair limit.
    for index in range(3):
        assert [attempt(f"203.0.113.{index}", viewer, "wrong").status_code for _ in range(2)] == [401, 401]
    # The account is now locked for addresses it never signed in from…
    assert_limited(attempt("192.0.2.99", viewer, PASSWORD))
    # …but its owner at the known address signs in as ever.
    assert attempt(known, viewer, PASSWORD).status_code == 201
    # More failures do not extend the lock: it was set once, for its fixed time.
    for index in range(3, 8):
        attempt(f"203.0.113.{index}", viewer, "wrong")
    lock_ttl = _redis().ttl(LoginGuard(address="x", username=viewer)._lock)
    assert 0 < lock_ttl <= 300


@override_settings(LOGIN_ADDRESS_LIMIT=HIGH, LOGIN_PAIR_FAILURES=HIGH, LOGIN_ACCOUNT_FAILURES=3, LOGIN_ACCOUNT_LOCK_S=1)
def test_the_account_lock_ends_by_itself(personas) -> None:
    viewer = personas.users["viewer"].username
    for index in range(3):
        attempt(f"203.0.113.{index}", viewer, "wrong")
    assert_limited(attempt("192.0.2.99", viewer, PASSWORD))
    deadline = time.monotonic() + 5
    while _redis().exists(LoginGuard(address="x", username=viewer)._lock) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert attempt("192.0.2.99", viewer, PASSWORD).status_code == 201


@override_settings(LOGIN_ADDRESS_LIMIT=5, LOGIN_PAIR_FAILURES=HIGH, LOGIN_ACCOUNT_FAILURES=HIGH)
def test_concurrent_attempts_never_pass_the_address_limit() -> None:
    """Forty threads at once against a limit of five: exactly five pass (one Lua script per count)."""
    passed, refused = [], []
    start = threading.Barrier(40)

    def one() -> None:
        start.wait()
        try:
            LoginGuard(address="203.0.113.50", username="someone").check()
            passed.append(1)
        except LoginLimited:
            refused.append(1)

    threads = [threading.Thread(target=one) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(passed), len(refused)) == (5, 35)


@override_settings(LOGIN_ADDRESS_LIMIT=HIGH, LOGIN_PAIR_FAILURES=2, LOGIN_ACCOUNT_FAILURES=HIGH)
def test_the_login_page_has_the_same_limits(personas) -> None:
    viewer = personas.users["viewer"].username
    client = Client(REMOTE_ADDR="198.51.100.9")
    for _ in range(2):
        assert client.post("/login/", {"username": viewer, "password": "wrong"}).status_code == 200
    response = client.post("/login/", {"username": viewer, "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"Too many sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session
    # The API's token endpoint shares the counters.
    assert_limited(attempt("198.51.100.9", viewer, PASSWORD))


def test_the_counters_name_no_account() -> None:
    guard = LoginGuard(address="203.0.113.1", username="Alice.Secret")
    assert "alice" not in guard._pair.lower() and "alice" not in guard._lock.lower()
    assert guard._lock == LoginGuard(address="x", username=" alice.secret ")._lock
