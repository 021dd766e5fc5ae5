"""Site-wide views: health, and error pages that speak JSON on API paths."""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from symphony_site.api.errors import error_response, is_api_path

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 1.0


def _check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def _check_redis() -> dict[str, Any]:
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=HEALTH_TIMEOUT_SECONDS,
        socket_connect_timeout=HEALTH_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()
    return {"ok": True}


def _check_worker() -> dict[str, Any]:
    from symphony_site.celery import app

    with app.connection_for_write(settings.CELERY_BROKER_URL) as broker:
        replies = app.control.ping(timeout=HEALTH_TIMEOUT_SECONDS, limit=1, connection=broker)
    workers = sorted(name for reply in replies for name in reply)
    if not workers:
        return {"ok": False, "error": "no Celery worker answered a ping within 1 second"}
    return {"ok": True, "workers": workers}


CHECKS = {"database": _check_database, "redis": _check_redis, "worker": _check_worker}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when Postgres, Redis and at least one Celery worker answer; 503 naming what is down."""
    results: dict[str, Any] = {}
    for name, check in CHECKS.items():
        if name == "worker" and not results.get("redis", {}).get("ok"):
            results[name] = {"ok": False, "error": "skipped: Redis, the broker, is down"}
            continue
        started = time.perf_counter()
        try:
            result = check()
        except Exception as exc:  # a health check reports failures, it never raises
            logger.warning("health check %s failed: %s", name, exc)
            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
        results[name] = result
    down = [name for name, result in results.items() if not result["ok"]]
    body: dict[str, Any] = {"status": "ok" if not down else "unavailable", "checks": results}
    if down:
        body["down"] = down
    return JsonResponse(body, status=200 if not down else 503)


def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return error_response("not_found", f"No API endpoint at {request.path}.", 404)


def _back_url(request: HttpRequest) -> str:
    """The page the person came from, when it is one of ours: the error page's way back."""
    referer = request.headers.get("Referer", "")
    own = f"{request.scheme}://{request.get_host()}/"
    return referer if referer.startswith(own) and referer != request.build_absolute_uri() else ""


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_path(request.path):
        return api_not_found(request)
    return render(request, "errors/404.html", {"back_url": _back_url(request)}, status=404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_path(request.path):
        return error_response("permission_denied", str(exception or "") or "Your role does not allow this action.", 403)
    message = str(exception) if exception is not None else ""
    return render(request, "errors/403.html", {"message": message, "back_url": _back_url(request)}, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_path(request.path):
        return error_response("server_error", "Something went wrong on our side; it has been logged.", 500)
    # Rendered without the request: context processors read the database, which may be what failed.
    return HttpResponse(render_to_string("errors/500.html"), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if is_api_path(request.path):
        return error_response(
            "csrf_failed",
            "CSRF check failed: send the X-CSRFToken header with session auth, or use a token.",
            403,
        )
    return render(request, "errors/403_csrf.html", {"reason": reason}, status=403)
