"""Rate limits counted in Redis with one atomic round trip per request.

DRF's throttles keep each client's request times as a list in the cache: a read
and a write per request (two Redis round trips, the list unpickled and pickled
again), and two processes answering the same client at once can both read the
list before either writes it, so both requests pass. These count instead:
`INCR` the client's counter and `EXPIRE … NX` it to the period, in one
`MULTI`/`EXEC`. The window is fixed (it starts with the client's first request
and lasts one period), not sliding: a client can spend its allowance at the end
of one window and again at the start of the next (docs/spec-deviations.md).

Rates and cache keys are DRF's (`DEFAULT_THROTTLE_RATES`, `anon`, `user`), so
settings and tests address them as before. Sign-in has its own limits
(`teams/login_limits.py`).
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from rest_framework import throttling


class CountingThrottle(throttling.SimpleRateThrottle):
    retry_after: int | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        assert self.num_requests is not None and self.duration is not None
        key = cache.make_and_validate_key(self.key)
        client = cache._cache.get_client(key, write=True)  # type: ignore[attr-defined]
        with client.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, int(self.duration), nx=True)
            count, _ = pipe.execute()
        if int(count) <= self.num_requests:
            return True
        self.retry_after = max(1, int(client.ttl(key)))
        return False

    def wait(self) -> float | None:
        return self.retry_after


class AnonRateThrottle(CountingThrottle, throttling.AnonRateThrottle):
    """Anonymous clients, per address (`anon`)."""


class UserRateThrottle(CountingThrottle, throttling.UserRateThrottle):
    """Signed-in users, per user (`user`)."""
