"""Retries within one model call: backoff, Retry-After, deadlines and stop requests
(with a fake clock: nothing here waits)."""

from __future__ import annotations

import datetime as dt

import pytest

from executions.runtime.providers.base import CallContext, ProviderError
from executions.runtime.providers.openai_compatible import retry_after_s, status_error
from executions.runtime.providers.retry import backoff_s, call_with_retries


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def call_context(clock: Clock, **fields: object) -> CallContext:
    return CallContext(node_id="n", clock=clock, sleep=clock.sleep, **fields)  # type: ignore[arg-type]


def failing(errors: list[ProviderError], answer: str = "ok"):
    calls: list[int] = []

    def operation() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return answer

    return operation, calls


def busy(retry_after: float | None = None) -> ProviderError:
    return ProviderError("provider_rate_limited", "busy", retryable=True, status=429,
                         retry_after_s=retry_after)


@pytest.mark.parametrize(("retry", "low", "high"), [(1, 0.4, 0.6), (2, 0.8, 1.2), (3, 1.6, 2.4),
                                                    (10, 16.0, 24.0)])
def test_backoff_doubles_with_jitter_and_a_cap(retry: int, low: float, high: float) -> None:
    assert backoff_s(retry, jitter=lambda: 0.0) == pytest.approx(low)
    assert backoff_s(retry, jitter=lambda: 1.0) == pytest.approx(high)


def test_retryable_errors_are_retried_with_growing_waits() -> None:
    clock = Clock()
    operation, calls = failing([busy(), busy()])
    retries: list[tuple[int, float]] = []
    context = call_context(clock, on_retry=lambda number, error, delay: retries.append(
        (number, delay)))
    assert call_with_retries(operation, context, max_retries=2, jitter=lambda: 0.5) == "ok"
    assert len(calls) == 3
    assert retries == [(1, 0.5), (2, 1.0)]
    assert sum(clock.slept) == pytest.approx(1.5)
    assert max(clock.slept) <= 0.1 + 1e-9  # slept in slices, checking for a stop


def test_retry_after_sets_the_least_wait() -> None:
    clock = Clock()
    operation, _ = failing([busy(retry_after=7.0)])
    assert call_with_retries(operation, call_context(clock), max_retries=1,
                             jitter=lambda: 0.5) == "ok"
    assert sum(clock.slept) == pytest.approx(7.0)


def test_errors_that_cannot_pass_are_not_retried() -> None:
    clock = Clock()
    bad_key = ProviderError("provider_auth_failed", "bad key", retryable=False, status=401)
    operation, calls = failing([bad_key])
    with pytest.raises(ProviderError) as caught:
        call_with_retries(operation, call_context(clock), max_retries=5)
    assert caught.value is bad_key and len(calls) == 1 and clock.slept == []


def test_a_wait_past_the_deadline_is_not_started() -> None:
    clock = Clock()
    operation, calls = failing([busy(retry_after=30.0)])
    with pytest.raises(ProviderError) as caught:
        call_with_retries(operation, call_context(clock, deadline=clock.now + 10),
                          max_retries=3)
    assert caught.value.retry_after_s == 30.0 and len(calls) == 1 and clock.slept == []


def test_the_last_error_goes_up_when_retries_run_out() -> None:
    clock = Clock()
    errors = [busy(), busy(), busy()]
    last = errors[-1]
    operation, calls = failing(errors)
    with pytest.raises(ProviderError) as caught:
        call_with_retries(operation, call_context(clock), max_retries=2)
    assert caught.value is last and len(calls) == 3


def test_a_stop_request_ends_a_wait() -> None:
    clock = Clock()
    operation, calls = failing([busy(retry_after=60.0)])
    context = call_context(clock, should_stop=lambda: clock.now > 102)
    with pytest.raises(ProviderError) as caught:
        call_with_retries(operation, context, max_retries=1)
    assert caught.value.code == "stopped" and len(calls) == 1
    assert sum(clock.slept) == pytest.approx(2.1)


@pytest.mark.parametrize(("headers", "expected"), [
    ({"retry-after": "3"}, 3.0),
    ({"retry-after": "0.5"}, 0.5),
    ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
    ({"retry-after": "Tue, 01 Dec 2026 12:00:30 GMT"}, 30.0),
    ({"retry-after": "Tue, 01 Dec 2026 11:59:00 GMT"}, 0.0),
    ({"retry-after": "soon"}, None),
    ({}, None),
])
def test_retry_after_forms(headers: dict[str, str], expected: float | None) -> None:
    now = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert retry_after_s(headers, now=now) == expected


@pytest.mark.parametrize(("status", "body", "code", "retryable"), [
    (401, b'{"error": {"message": "Incorrect API key"}}', "provider_auth_failed", False),
    (403, b"forbidden", "provider_auth_failed", False),
    (404, b'{"error": "model \\"x\\" not found"}', "model_not_found", False),
    (400, b'{"error": {"message": "bad", "code": "content_filter"}}', "content_refused", False),
    (400, b'{"detail": "max_tokens too large"}', "invalid_request", False),
    (422, b"{}", "invalid_request", False),
    (429, b'{"error": {"message": "slow down"}}', "provider_rate_limited", True),
    (429, b'{"error": {"code": "insufficient_quota"}}', "provider_quota_exhausted", False),
    (408, b"", "provider_error", True),
    (502, b"<html>bad gateway</html>", "provider_error", True),
    (503, b"", "provider_error", True),
])
def test_statuses_map_to_codes(status: int, body: bytes, code: str, retryable: bool) -> None:
    error = status_error(status, body, {}, "Provider 'p' (h)")
    assert (error.code, error.retryable, error.status) == (code, retryable, status)
