"""Settings for the test suite: development defaults, then the real settings module."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")

# Each pytest-xdist worker gets its own Redis database, so brokers, channel
# layers and caches of parallel test processes never see each other.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and "REDIS_URL" in os.environ:
    _base, _, _database = os.environ["REDIS_URL"].rpartition("/")
    if _database.isdigit():
        os.environ["REDIS_URL"] = f"{_base}/{2 + int(_worker[2:]) % 12}"

# The engine's clocks, shortened so fault tests (dead workers, lost messages, retries) finish
# in seconds. The worker processes the tests start read the same module.
for _name, _value in {"EXECUTION_LEASE_S": "2", "EXECUTION_STOP_POLL_S": "0.1",
                      "EXECUTION_REDISPATCH_AFTER_S": "2", "EXECUTION_SHORT_BACKOFF_S": "1",
                      "EXECUTION_REAPER_INTERVAL_S": "0.5",
                      # A start sends its first steps through the broker, as the engine tests
                      # expect (messages to capture, duplicate, lose); tests/executions/
                      # test_start_inline.py turns inline starts on.
                      "EXECUTION_START_INLINE_MAX": "0",
                      # The engine tests' local HTTP server stands in for a public one.
                      "HTTP_REQUEST_ALLOWED_HOSTS": "localhost"}.items():
    os.environ.setdefault(_name, _value)

from symphony_site.settings import *  # noqa: F403
from symphony_site.settings import REST_FRAMEWORK

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Throttling is exercised by its own test with explicit rates.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute"},
}
# Sign-in limits likewise: tests/teams/test_login_limits.py sets its own.
LOGIN_ADDRESS_LIMIT = LOGIN_PAIR_FAILURES = LOGIN_ACCOUNT_FAILURES = 1_000_000
# The audit table refuses TRUNCATE (audit/migrations/0002); the test runner empties
# tables between transactional tests with TRUNCATE, so its sessions may.
DATABASES["default"]["OPTIONS"]["options"] += " -c symphony.audit_allow_truncate=on"  # noqa: F405
