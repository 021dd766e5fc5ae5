"""The public delivery URL of webhooks, `POST /hooks/{token}/`: no session, no API token,
no CSRF (the token in the URL, and an optional signature, are the credentials).

A plain Django view, not DRF: nothing of the API's authentication or throttling applies.
It reads the call into a `Delivery` and answers what `receive_delivery` says, always in
the API's error shape; an unexpected failure answers 503 (logged), never a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from executions.triggers.services.webhooks import HOOK, Delivery, receive_delivery
from symphony_site.actors import Channel, Origin, normalize_ip
from symphony_site.api.errors import error_body

logger = logging.getLogger(__name__)

MAX_QUERY_VALUES = 50


def _answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> HttpResponse:
    response = JsonResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
def deliver(request: HttpRequest, token: str = "") -> HttpResponse:
    if request.method != "POST":
        response = _answer(405, error_body("method_not_allowed", f"Method {request.method} not allowed; "
                                                                 "deliveries are POSTed."))
        response["Allow"] = "POST"
        return response
    try:
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw_length)
        except ValueError:
            return _answer(400, error_body("bad_request", "Content-Length is not a number."))
        ceiling = settings.TRIGGER_WEBHOOK_MAX_BODY_BYTES
        if length > ceiling:
            # Past every hook's limit: refused before reading, whatever the token.
            return _answer(413, error_body("too_large", f"The body is {length} bytes; hooks take at most "
                                                        f"{ceiling}.", [{"limit_bytes": ceiling}]))
        body = request.read(ceiling + 1)
        headers = {name.lower(): value for name, value in request.headers.items()}
        query = {key: request.GET.getlist(key)[-1] for key in list(request.GET)[:MAX_QUERY_VALUES]}
        origin = Origin(channel=Channel.API, ip_address=normalize_ip(request.META.get("REMOTE_ADDR")),
                        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300])
        answer = receive_delivery(actor=HOOK, origin=origin, delivery=Delivery(
            token=token, body=body, content_length=max(length, 0),
            content_type=request.META.get("CONTENT_TYPE", ""), headers=headers, query=query))
        return _answer(answer.status, answer.body, answer.headers)
    except Exception:
        logger.exception("A webhook delivery failed")
        return _answer(503, error_body("unavailable", "The delivery could not be taken now; try again."))
