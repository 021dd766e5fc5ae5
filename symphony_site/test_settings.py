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

from symphony_site.settings import *  # noqa: F403
from symphony_site.settings import REST_FRAMEWORK

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Throttling is exercised by its own test with explicit rates.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute", "login": "100000/minute"},
}
# The audit table refuses TRUNCATE (audit/migrations/0002); the test runner empties
# tables between transactional tests with TRUNCATE, so its sessions may.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c symphony.audit_allow_truncate=on"  # noqa: F405
