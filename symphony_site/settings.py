"""Symphony's settings: one module, every value from the environment.

Development (DEBUG=1) gets local defaults matching `make run`; production
(DEBUG unset or 0) refuses to start without its secrets.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dj_database_url

from symphony_site import logs
from symphony_site.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_prices,
    env_str,
    require,
    validate_fernet_keys,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)
if not DEBUG:
    require(["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "SECRETS_KEYS"])

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-secret-key-change-me-0123456789abcdef") or ""
DATABASE_URL = env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:55432/symphony")
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:56379/0") or ""
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "csp",  # its system checks refuse django-csp 3's settings names
    "teams",
    "audit",
    "workflows",
    "templates_app",
    "executions",
    # The project package itself, for the commands that span the apps (seed_demo).
    "symphony_site",
    "instruments",
]

MIDDLEWARE = [
    "symphony_site.request_context.RequestContextMiddleware",
    "symphony_site.request_metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "symphony_site.api.middleware.ApiBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF: a wrong method on an API path is 405 whoever asks.
    "symphony_site.api.middleware.ApiMethodMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's, skipped on API paths (no API view shows a flash message).
    "symphony_site.api.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "teams.middleware.CurrentTeamMiddleware",
    "symphony_site.api.middleware.ServiceErrorPageMiddleware",
]

ROOT_URLCONF = "symphony_site.urls"
CSRF_FAILURE_VIEW = "symphony_site.views.csrf_failure"
ASGI_APPLICATION = "symphony_site.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "symphony_site" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "teams.context_processors.current_team",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(DATABASE_URL or "", conn_max_age=60)}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Statements prepared on the server (symphony_site/prepared.py: the engine's step, start and end,
# the audit chain's append, the API's reads, the search) look rows up by key or take their path
# from their text, so their plan does not depend on the values. PostgreSQL's default (`auto`)
# plans a prepared statement for its values for five runs, then keeps doing so whenever the
# generic plan's estimate looks worse, as it does for an array or a `jsonb_to_recordset`
# parameter of unknown size: 0.15 to 0.7 ms of planning per statement and run
# (pg_stat_statements, seventh session, docs/executions.md). Every session starts with generic
# plans instead. Only statements prepared on the server are concerned: Django binds its own on
# the client, so each is planned with its values as before.
# JIT compilation is off: PostgreSQL compiles a statement whose plan's estimated cost passes
# `jit_above_cost` (100,000) on every run, and compiling takes 15-20 ms, where every statement of
# this site runs in a few. A generic plan's estimate is made without the values, and the search's
# words statement (its typo corrections' variants and trigram fallback, estimated over the whole
# vocabulary) passed the threshold once the vocabulary had 6,000 words: 17.6 of its 18.1 ms were
# JIT (EXPLAIN ANALYZE EXECUTE, ninth session, docs/templates.md), on every search.
_DATABASE_OPTIONS = DATABASES["default"].setdefault("OPTIONS", {})
_DATABASE_OPTIONS["options"] = " ".join(
    filter(None, [_DATABASE_OPTIONS.get("options"), "-c plan_cache_mode=force_generic_plan", "-c jit=off"]))
# The web server's processes (symphony_site/web.py sets DATABASE_POOL=1) borrow connections from
# a pool: Django's ASGI handler runs each request's sync code on a thread of its own, so a
# persistent per-thread connection was a new PostgreSQL session for every request (measured:
# 49 sessions for 50 served requests, several ms each). Workers, beat and commands keep one
# persistent connection per process: a pool's threads would not survive Celery's fork.
DATABASE_POOL = env_bool("DATABASE_POOL", False)
if DATABASE_POOL:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them; Django refuses both at once
    # Django's pool check is a round trip per borrowed connection; this engine checks the socket
    # instead and asks PostgreSQL only when it has written something (symphony_site/pooled_postgresql).
    DATABASES["default"]["ENGINE"] = "symphony_site.pooled_postgresql"
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN", 2), "max_size": env_int("DATABASE_POOL_MAX", 10),
        "timeout": env_float("DATABASE_POOL_TIMEOUT_S", 10.0)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "symphony",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Collected files for production; development serves them from the apps directly.
STATIC_ROOT = None if DEBUG else BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "symphony_site" / "static"]
# WhiteNoise serves static files from daphne; in development straight from the apps.
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Request limits -----------------------------------------------------------
# Bodies past this are refused with 413 before any parsing.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

# --- Audit --------------------------------------------------------------------
# Take the client address from X-Forwarded-For only behind a proxy that sets it.
AUDIT_TRUST_X_FORWARDED_FOR = env_bool("AUDIT_TRUST_X_FORWARDED_FOR", default=False)
# Where retention writes each pruned range before deleting it.
AUDIT_EXPORT_DIR = env_str("AUDIT_EXPORT_DIR", str(BASE_DIR / "var" / "audit-exports"))

# --- Instruments: team secrets, model providers, prices, the output cache ------
# Fernet keys (comma-separated, url-safe base64 of 32 bytes): the first encrypts, every
# one decrypts, so a new key goes first and the old one stays until
# `manage.py rotate_secrets_key` has re-encrypted every secret. Production refuses to
# start without it; development uses a fixed key that protects nothing.
DEVELOPMENT_SECRETS_KEY = "c3ltcGhvbnktZGV2ZWxvcG1lbnQtb25seS1rZXkhISE="
SECRETS_KEYS = env_list("SECRETS_KEYS", [DEVELOPMENT_SECRETS_KEY] if DEBUG else [])
validate_fernet_keys("SECRETS_KEYS", SECRETS_KEYS)
# Hosts a team's model provider may reach although they resolve to internal addresses
# (a vLLM or Ollama on this machine or the private network). Development allows this
# machine, so Ollama on localhost works out of the box.
MODEL_PROVIDER_ALLOWED_HOSTS = env_list(
    "MODEL_PROVIDER_ALLOWED_HOSTS", ["localhost", "127.0.0.1"] if DEBUG else [])
# US dollars per million tokens (input, output); the Django admin's model prices
# override these, and MODEL_PRICES_JSON ({"provider/model": [in, out]}) adds to them.
MODEL_PRICES: dict[str, tuple[float, float]] = {
    "openai/gpt-4o-mini": (0.15, 0.60),
    "openai/gpt-4o": (2.50, 10.00),
    "anthropic/claude-3-5-haiku": (0.80, 4.00),
    "openai/text-embedding-3-small": (0.02, 0.0),
    **env_prices("MODEL_PRICES_JSON"),
}
# Cached model outputs older than this are not reused, and are deleted daily.
MODEL_CACHE_TTL_DAYS = env_int("MODEL_CACHE_TTL_DAYS", 30)

# --- Security -----------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the composer's JS reads it for X-CSRFToken
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (docs/security.md, "Headers"): scripts only from our own files, but
# base.html's one-line `has-js` script, allowed by its hash (tests/test_security_headers.py
# recomputes it from the template); styles only from our own files, with no inline `style=`
# attribute or style block anywhere, the admin's and the API docs' pages included (scripts may
# still set an element's style object, which CSP does not govern). connect-src falls back to
# 'self', which covers the page's own ws:/wss: origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'sha256-PyuQPO6OWJEADMTdmcTDMljy9n3xSQzWDMOtPM5LmME='"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Sign-in limits of the login page and POST /api/v1/auth/token/, kept in Redis
# (teams/login_limits.py, docs/security.md): attempts per address, failures per account and
# address, failures per account (from every address) before a bounded lock that addresses
# the account signed in from before are exempt from.
LOGIN_WINDOW_S = env_int("LOGIN_WINDOW_S", 900)
LOGIN_ADDRESS_LIMIT = env_int("LOGIN_ADDRESS_LIMIT", 30)
LOGIN_PAIR_FAILURES = env_int("LOGIN_PAIR_FAILURES", 5)
LOGIN_ACCOUNT_FAILURES = env_int("LOGIN_ACCOUNT_FAILURES", 50)
LOGIN_ACCOUNT_LOCK_S = env_int("LOGIN_ACCOUNT_LOCK_S", 900)
LOGIN_KNOWN_ADDRESS_DAYS = env_int("LOGIN_KNOWN_ADDRESS_DAYS", 90)

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "teams.authentication.TokenAuthentication",
        "symphony_site.api.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # One strict reader for every JSON body (symphony_site/api/parsers.py, docs/api.md).
    "DEFAULT_PARSER_CLASSES": ["symphony_site.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # The usual Accept headers answered without parsing them (symphony_site/api/negotiation.py).
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "symphony_site.api.negotiation.SingleRendererNegotiation",
    "DEFAULT_PAGINATION_CLASS": "symphony_site.api.pagination.KeysetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "symphony_site.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "symphony_site.api.throttling.AnonRateThrottle",
        "symphony_site.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("THROTTLE_ANON", "60/minute"),
        "user": env_str("THROTTLE_USER", "1200/minute"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Symphony API",
    "DESCRIPTION": "Compose, share, run and audit AI workflows. Errors always answer "
    '{"error": {"code", "message", "details"}}.',
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's assets ship in a package: the docs page works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "teams.roles.Role.choices",
        "ExecutionStateEnum": "executions.api.serializers.EXECUTION_STATES",
        "NodeRunStateEnum": "executions.api.serializers.NODE_RUN_STATES",
        "ExecutionCommandEnum": "executions.api.serializers.COMMANDS",
        "BulkCommandEnum": "executions.api.bulk.BULK_COMMAND_NAMES",
        "BulkActionEnum": "executions.api.bulk.BULK_ACTIONS",
    },
    # Every operation documents the platform's errors too (400, 401, 403, 404, 413, 415, 429).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "symphony_site.api.schema.add_error_responses",
        "symphony_site.api.schema.require_patch_fields",
    ],
}

# --- Execution engine ---------------------------------------------------------
# docs/executions.md explains each; tests shorten the times through the environment.
# A running node run's lease; a heartbeat renews it every third of this while the node runs.
EXECUTION_LEASE_S = env_float("EXECUTION_LEASE_S", 15.0)
# How often a worker checks whether the executions of its running nodes were stopped.
EXECUTION_STOP_POLL_S = env_float("EXECUTION_STOP_POLL_S", 0.5)
# A node's timeout when it sets none, and the most any node may ask for.
EXECUTION_NODE_TIMEOUT_S = env_float("EXECUTION_NODE_TIMEOUT_S", 300.0)
EXECUTION_MAX_NODE_TIMEOUT_S = env_float("EXECUTION_MAX_NODE_TIMEOUT_S", 3600.0)
# Node runs in flight at once per execution when the workflow's settings name no max_parallel.
EXECUTION_DEFAULT_MAX_PARALLEL = env_int("EXECUTION_DEFAULT_MAX_PARALLEL", 32)
# The most executions one bulk command (POST /api/v1/executions/bulk/) may select.
EXECUTION_BULK_MAX = env_int("EXECUTION_BULK_MAX", 500)
# A queued node run whose step message was not claimed this long after dispatch is sent again.
EXECUTION_REDISPATCH_AFTER_S = env_float("EXECUTION_REDISPATCH_AFTER_S", 30.0)
# Retry backoffs up to this are sent with a broker countdown; longer ones wait for the reaper.
EXECUTION_SHORT_BACKOFF_S = env_float("EXECUTION_SHORT_BACKOFF_S", 2.0)
# How many lost leases (a worker died) a node run survives before it fails.
EXECUTION_LOST_LEASE_RETRIES = env_int("EXECUTION_LOST_LEASE_RETRIES", 2)
# Cheap operators that became ready run inline in the task that readied them, up to this many
# batches per step and this much time per task (0 turns inlining off).
EXECUTION_INLINE_MAX = env_int("EXECUTION_INLINE_MAX", 1)
# The most cheap node runs of one execution a step task claims, runs and records together (one
# claim, one record transaction for all); 0 or 1: one run per claim and record.
EXECUTION_BATCH_MAX = env_int("EXECUTION_BATCH_MAX", 16)
EXECUTION_INLINE_BUDGET_MS = env_float("EXECUTION_INLINE_BUDGET_MS", 50.0)
# Batches of cheap runs a record claimed for its task that the task runs and records inside the
# record's own transaction (one transaction for both records; 0: each after the commit, in a
# transaction of its own). docs/executions.md, "Inline at start"; docs/spec-deviations.md.
EXECUTION_INLINE_FOLD_MAX = env_int("EXECUTION_INLINE_FOLD_MAX", 1)
# Batches of cheap source nodes a start claims in its own transaction and runs itself after
# commit, with what they make ready, within EXECUTION_INLINE_BUDGET_MS (0: every first step
# through the broker). docs/executions.md, "Inline at start".
EXECUTION_START_INLINE_MAX = env_int("EXECUTION_START_INLINE_MAX", 1)
EXECUTION_REAPER_INTERVAL_S = env_float("EXECUTION_REAPER_INTERVAL_S", 1.0)
# Log lines a node may write to its execution's event stream.
EXECUTION_LOG_LINES_PER_NODE = env_int("EXECUTION_LOG_LINES_PER_NODE", 100)
# --- Triggers and limits (docs/triggers.md) ------------------------------------
# How often the beat's tick looks for due schedules, due follow-ups and queues with room.
TRIGGER_TICK_INTERVAL_S = env_float("TRIGGER_TICK_INTERVAL_S", 1.0)
# A schedule's due time no older than this is on time (fired under every catch-up policy).
TRIGGER_SCHEDULE_GRACE_S = env_float("TRIGGER_SCHEDULE_GRACE_S", 60.0)
# Due times one tick claims at most (the next tick goes on), so a catch-up stays bounded.
TRIGGER_FIRES_PER_TICK = env_int("TRIGGER_FIRES_PER_TICK", 200)
# Retry backoffs up to this are timed by the broker; longer ones wait for the tick.
TRIGGER_SHORT_DELAY_S = env_float("TRIGGER_SHORT_DELAY_S", 30.0)
# "Run after" chains stop at this depth (a loop that slipped past the configuration check).
TRIGGER_MAX_CHAIN_DEPTH = env_int("TRIGGER_MAX_CHAIN_DEPTH", 10)
# Defaults and ceilings of a webhook's own limits.
TRIGGER_WEBHOOK_MAX_BODY_BYTES = env_int("TRIGGER_WEBHOOK_MAX_BODY_BYTES", 1024 * 1024)
TRIGGER_WEBHOOK_RATE_LIMIT_PER_MINUTE = env_int("TRIGGER_WEBHOOK_RATE_LIMIT_PER_MINUTE", 600)
# Host names http_request nodes may reach even when they resolve to internal addresses.
HTTP_REQUEST_ALLOWED_HOSTS = env_list("HTTP_REQUEST_ALLOWED_HOSTS", [])

# --- Live events (docs/executions.md, "Events") ---------------------------------
# A running node's progress reaches the event stream at most this often per second (the latest
# value wins); its log lines are written in the same flushes.
EXECUTION_PROGRESS_PER_SECOND = env_float("EXECUTION_PROGRESS_PER_SECOND", 4.0)
# A log line longer than this is cut (the event says how long it was).
EXECUTION_LOG_LINE_MAX_CHARS = env_int("EXECUTION_LOG_LINE_MAX_CHARS", 2000)
# How often each process tells the team stream how far its executions got (state and counts).
EXECUTION_TEAM_PROGRESS_INTERVAL_S = env_float("EXECUTION_TEAM_PROGRESS_INTERVAL_S", 1.0)
# Events of executions that finished longer ago than this are pruned by beat, in batches;
# the execution, its node runs and its history stay.
EXECUTION_EVENTS_RETENTION_DAYS = env_int("EXECUTION_EVENTS_RETENTION_DAYS", 30)
EXECUTION_EVENTS_PRUNE_BATCH = env_int("EXECUTION_EVENTS_PRUNE_BATCH", 5000)
EXECUTION_EVENTS_PRUNE_INTERVAL_S = env_float("EXECUTION_EVENTS_PRUNE_INTERVAL_S", 3600.0)
# Events waiting for one WebSocket client; a client that lets more pile up is too slow and is
# closed (code 4429, with the last seq it was sent).
WEBSOCKET_QUEUE_EVENTS = env_int("WEBSOCKET_QUEUE_EVENTS", 1000)
# How long a replay may wait for a client to take what it was sent before it counts as too slow.
WEBSOCKET_STALL_S = env_float("WEBSOCKET_STALL_S", 10.0)
# Every this often a connection re-checks its user's membership, renews its groups and reads
# any event it has not seen (a message Redis lost arrives this late at worst).
WEBSOCKET_RECHECK_S = env_float("WEBSOCKET_RECHECK_S", 30.0)
# Events read from the database per query when replaying.
WEBSOCKET_REPLAY_PAGE = env_int("WEBSOCKET_REPLAY_PAGE", 500)

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 330)
# Step tasks are acknowledged late (after recording) and may take long: a worker reserves one
# message per process at a time, so a slow node never sits on messages others could run.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Queues: `steps` (cheap operators and controls, and the default queue for periodic work),
# `io` (http_request, delay, loops that reach them) and `models` (model calls).
CELERY_TASK_DEFAULT_QUEUE = "steps"
# An unacknowledged message comes back after this; it must outlast the longest node attempt,
# or a slow node would be delivered twice (the reaper recovers lost work much sooner).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(EXECUTION_MAX_NODE_TIMEOUT_S) + 600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Worker processes keep their database connection from task to task (Celery's Django fixup
# closes it around every task unless this is set, and a new connection per step task was about
# a fifth of its time). symphony_site/worker_connections.py makes a kept connection safe for the
# next task; how long one lives is CONN_MAX_AGE's to say, not a count of tasks.
CELERY_DB_REUSE_MAX = 1_000_000_000
# Imported by workers only (not by web processes): it connects the handlers that do that.
CELERY_IMPORTS = ["symphony_site.worker_connections"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# The engine's periodic ticks (the reaper, the triggers) have a queue of their own, which every
# `steps` worker also consumes. On `steps` they waited behind every step message queued before
# them and expired there (after two intervals): under a backlog longer than that, no tick ran,
# so lost work stayed lost and due schedules waited until the backlog drained (the fault
# suite's crashes after commit waited 30 s and more for the reaper; tests/faults/).
CELERY_CONTROL_QUEUE = "control"
CELERY_TASK_ROUTES = {"executions.reap": {"queue": CELERY_CONTROL_QUEUE},
                      "executions.triggers.tick": {"queue": CELERY_CONTROL_QUEUE}}
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Prunes teams' audit entries past their retention period (export first, checkpoint after).
    "audit-retention": {"task": "audit.apply_retention", "schedule": 86400.0},
    # Deletes cached model outputs past MODEL_CACHE_TTL_DAYS.
    "model-cache-expiry": {"task": "instruments.expire_cache", "schedule": 86400.0},
    # Re-queues node runs of dead workers, re-sends lost messages, dispatches due retries and
    # fails executions past their deadline. Safe with two beats running (conditional updates);
    # a tick nobody ran in time is dropped rather than queued behind others.
    "execution-reaper": {"task": "executions.reap", "schedule": EXECUTION_REAPER_INTERVAL_S,
                         "options": {"expires": max(EXECUTION_REAPER_INTERVAL_S * 2, 1.0)}},
    # Fires due schedules, runs due follow-ups (run after, workflow retries) and starts queued
    # executions that have room. Safe with two beats (each due time is claimed by a
    # conditional update); a late tick is dropped, the next one does its work.
    "execution-triggers": {"task": "executions.triggers.tick", "schedule": TRIGGER_TICK_INTERVAL_S,
                           "options": {"expires": max(TRIGGER_TICK_INTERVAL_S * 2, 1.0)}},
    # Deletes the events of executions finished past EXECUTION_EVENTS_RETENTION_DAYS, in batches.
    "execution-events-retention": {"task": "executions.prune_events",
                                   "schedule": EXECUTION_EVENTS_PRUNE_INTERVAL_S},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")

# --- Operations: metrics and logs (docs/operations.md) ----------------------------
# Every process writes its Prometheus samples here (multiprocess mode); `scripts/run.sh` and
# `scripts/test.sh` empty it before starting anything. prometheus-client reads the variable
# when first imported, which `symphony_site.metrics` does only after these settings load.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR", str(BASE_DIR / "var" / "prometheus")) or ""
# Several hosts sharing one volume (docker-compose: web, workers and beat are containers, each
# with its own process ids): each writes under <shared>/<hostname>/, so two containers' pid 7
# never share a file, and /metrics adds up every subdirectory.
PROMETHEUS_MULTIPROC_SHARED = env_str("PROMETHEUS_MULTIPROC_SHARED", "") or ""
if PROMETHEUS_MULTIPROC_SHARED:
    PROMETHEUS_MULTIPROC_DIR = os.path.join(PROMETHEUS_MULTIPROC_SHARED, socket.gethostname())
os.environ["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_MULTIPROC_DIR
os.makedirs(PROMETHEUS_MULTIPROC_DIR, exist_ok=True)
# GET /metrics answers a request bearing this token, or one from an allowed address (exact
# addresses or networks); without a token, loopback only.
METRICS_TOKEN = env_str("METRICS_TOKEN", "") or ""
METRICS_ALLOWED_ADDRESSES = env_list("METRICS_ALLOWED_ADDRESSES", ["127.0.0.1/32", "::1/128"])
# The Celery queues whose depth (messages waiting in Redis) /metrics reports.
METRICS_QUEUES = env_list("METRICS_QUEUES", ["steps", "io", "models", "control"])
# `json`: one JSON object per log line (structlog) from web, workers and beat; anything else:
# lines for people (the default in `make run`).
LOG_FORMAT = env_str("LOG_FORMAT", "console") or "console"
LOG_LEVEL = env_str("LOG_LEVEL", "INFO") or "INFO"
# Take a request id from the X-Request-ID header a trusted proxy sets, instead of making one.
REQUEST_ID_FROM_PROXY = env_bool("REQUEST_ID_FROM_PROXY", default=False)

# --- Channels -----------------------------------------------------------------
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "symphony_site.channel_layer.ChannelLayer",  # channels_redis, cheaper sends to empty groups
        # redis-py 8 reads with a 5 s socket timeout by default, the same 5 s channels_redis
        # blocks for in BZPOPMIN: an idle consumer's receive then fails now and again with
        # "Timeout reading" and the connection closes with 1011. Reads wait longer than the pop.
        "CONFIG": {"hosts": [{"address": REDIS_URL,
                              "socket_timeout": env_float("CHANNEL_LAYER_SOCKET_TIMEOUT_S", 30.0)}],
                   "prefix": env_str("CHANNELS_PREFIX", "symphony")},
    }
}

# --- Logging ------------------------------------------------------------------
# One handler for every logger; LOG_FORMAT=json writes JSON lines (symphony_site/logs.py).
LOGGING = logs.logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
logs.configure_structlog()
