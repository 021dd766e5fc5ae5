"""Rate limits counted in Redis with one atomic round trip per request.

DRF's throttles keep each client's request times as a list in the cache: a read
and a write per request (two Redis round trips, the list unpickled and pickled
again), and two processes answering the same client at once can both read the
list before either writes it, so both requests pass. These count instead: one
Lua script (`_COUNT`), run by Redis as a unit, `INCR`s the client's counter,
gives it the period as its expiry when it has none, and answers the count and
the seconds left — so a refused request knows its `Retry-After` without a
second round trip. The window is fixed (it starts with the client's first
request and lasts one period), not sliding: a client can spend its allowance at
the end of one window and again at the start of the next
(docs/spec-deviations.md).

The script runs on one Redis client per process (`_counter`), built once with
its connection pool. Django's `cache` is not that: its backend object lives in
a context-local, so under ASGI every request built a new backend, a new pool,
a new `redis.Redis` (≈ 170 response callbacks) and a new TCP connection.

Rates and cache keys are DRF's (`DEFAULT_THROTTLE_RATES`, `anon`, `user`), so
settings and tests address them as before. Sign-in has its own limits
(`teams/login_limits.py`).
"""

from __future__ import annotations

import functools
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from rest_framework import throttling

# KEYS[1] the counter; ARGV[1] the period in seconds. The expiry is set in the same script as
# the increment, so a counter can never be left without one (a counter found without one, from
# whatever cause, gets one here too). Answers {count, seconds left}.
_COUNT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


@functools.cache
def _counter() -> tuple[Any, Any]:
    """The process's cache backend (for its key format) and one Redis client (connection pool)
    on the cache's server — made once per process, not per request. redis-py's pool notices a
    fork and opens its own connections in the child; it is safe to share between threads."""
    backend = caches.create_connection(DEFAULT_CACHE_ALIAS)
    return backend, backend._cache.get_client(write=True)  # type: ignore[attr-defined]


def count_request(key: str, period: int) -> tuple[int, int]:
    """Count one request against `key` (a cache key, before the cache's prefix): the count in
    the current window and the seconds until it ends. One Redis round trip: EVAL with the
    script's text (Redis keeps it compiled by its digest), never a separate SCRIPT LOAD or a
    NOSCRIPT retry after Redis restarted."""
    backend, client = _counter()
    count, ttl = client.eval(_COUNT, 1, backend.make_and_validate_key(key), period)
    return int(count), int(ttl)


class CountingThrottle(throttling.SimpleRateThrottle):
    retry_after: int | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        assert self.num_requests is not None and self.duration is not None
        count, seconds_left = count_request(self.key, int(self.duration))
        if count <= self.num_requests:
            return True
        self.retry_after = max(1, seconds_left)
        return False

    def wait(self) -> float | None:
        return self.retry_after


class AnonRateThrottle(CountingThrottle, throttling.AnonRateThrottle):
    """Anonymous clients, per address (`anon`)."""


class UserRateThrottle(CountingThrottle, throttling.UserRateThrottle):
    """Signed-in users, per user (`user`)."""
