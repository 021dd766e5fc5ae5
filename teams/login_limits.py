"""Login and token rate limits, kept atomically in Redis (docs/security.md, "Login limits").

Three counters, each one Lua script run by Redis as a unit, so concurrent attempts can
never both read "under the limit" and both pass:

- per address: every attempt from one client address counts, `LOGIN_ADDRESS_LIMIT` per
  `LOGIN_WINDOW_S`; past it the address waits out the window (429 `throttled`).
- per account and address: failures for one username from one address; past
  `LOGIN_PAIR_FAILURES` that address may not try that account again until the window ends.
  Only the attacker's address is locked out.
- per account: failures for one username from every address. Past
  `LOGIN_ACCOUNT_FAILURES` (set well above the pair limit, so it takes many addresses) the
  account is locked for `LOGIN_ACCOUNT_LOCK_S` — a lock set once (SET NX) and never
  extended by further failures, so a steady attack cannot keep it locked past its end
  plus the next threshold's worth of failures — and even while it holds, addresses
  the account has signed in from successfully before (kept `LOGIN_KNOWN_ADDRESS_DAYS`)
  are let through. The real owner at their usual address is never locked out by others.

A successful sign-in clears its pair's failures and remembers the address as known.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import redis
from django.conf import settings

# KEYS[1] the counter; ARGV[1] the window in seconds. The first increment sets the expiry,
# in the same script, so a counter can never be left without one.
_INCREMENT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('TTL', KEYS[1])}
"""

# A failure: KEYS = pair counter, account counter, account lock; ARGV = window, account
# threshold, lock seconds. Counts both and sets the lock (once) when the account passes
# its threshold.
_FAILURE = """
local pair = redis.call('INCR', KEYS[1])
if pair == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local account = redis.call('INCR', KEYS[2])
if account == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
if account >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[3], '1', 'EX', ARGV[3], 'NX')
  redis.call('DEL', KEYS[2])
end
return pair
"""


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


class LoginLimited(Exception):
    """An attempt refused before the password is checked; `wait` seconds until it may try again."""

    def __init__(self, wait: int, scope: str) -> None:
        super().__init__(f"Too many sign-in attempts ({scope}).")
        self.wait = max(wait, 1)
        self.scope = scope


def _account(username: str) -> str:
    # Usernames are hashed: the keys carry no account names (Redis is not the audit log).
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


@dataclass(frozen=True)
class LoginGuard:
    """The limits of one sign-in attempt: `check()` before the password, then `failed()` or
    `succeeded()` after it."""

    address: str
    username: str

    def _key(self, *parts: str) -> str:
        return ":".join(("symphony", "login", *parts))

    @property
    def _pair(self) -> str:
        return self._key("pair", _account(self.username), self.address)

    @property
    def _account_failures(self) -> str:
        return self._key("account", _account(self.username))

    @property
    def _lock(self) -> str:
        return self._key("lock", _account(self.username))

    @property
    def _known(self) -> str:
        return self._key("known", _account(self.username))

    def check(self) -> None:
        """Count this attempt against its address and refuse it when a limit holds."""
        client = _redis()
        window = settings.LOGIN_WINDOW_S
        count, ttl = client.eval(_INCREMENT, 1, self._key("address", self.address), window)  # type: ignore[no-untyped-call]
        if int(count) > settings.LOGIN_ADDRESS_LIMIT:
            raise LoginLimited(int(ttl), "address")
        pair_failures = int(client.get(self._pair) or 0)
        if pair_failures >= settings.LOGIN_PAIR_FAILURES:
            raise LoginLimited(int(client.ttl(self._pair)), "account from this address")
        lock_ttl = int(client.ttl(self._lock))
        if lock_ttl > 0 and not client.sismember(self._known, self.address):
            raise LoginLimited(lock_ttl, "account")

    def failed(self) -> None:
        _redis().eval(_FAILURE, 3, self._pair, self._account_failures, self._lock,  # type: ignore[no-untyped-call]
                      settings.LOGIN_WINDOW_S, settings.LOGIN_ACCOUNT_FAILURES, settings.LOGIN_ACCOUNT_LOCK_S)

    def succeeded(self) -> None:
        with _redis().pipeline(transaction=True) as pipe:
            pipe.delete(self._pair)
            pipe.sadd(self._known, self.address)
            pipe.expire(self._known, settings.LOGIN_KNOWN_ADDRESS_DAYS * 86400)
            pipe.execute()
