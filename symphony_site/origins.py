"""Building an `Actor` and an `Origin` from what an adapter holds: an HTTP request or a WebSocket scope.

Only adapters (views, API views, admin actions, consumers) call these; a
service receives the two values and never sees the request. The client's
address is REMOTE_ADDR, or the left-most X-Forwarded-For entry when
AUDIT_TRUST_X_FORWARDED_FOR says a trusted proxy sets it. A request
authenticated by an API token carries the token's id and name, so the audit
log records the call as made by that token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from symphony_site.actors import Actor, Channel, Origin, normalize_ip
from teams.models import ApiToken


def actor_from_request(request: Any) -> Actor:
    """The signed-in user of `request` (Django's or DRF's), or nobody."""
    return Actor.of(getattr(request, "user", None))


def origin_from_request(request: Any, *, channel: Channel) -> Origin:
    """Where `request` came from: address, user agent and, for token calls, the token."""
    meta: Mapping[str, Any] = getattr(request, "META", None) or {}
    token = getattr(request, "auth", None)
    token = token if isinstance(token, ApiToken) else None
    return Origin(
        channel=channel,
        ip_address=_client_address(meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR", "")),
        user_agent=str(meta.get("HTTP_USER_AGENT", "")),
        token_id=str(token.pk) if token is not None else None,
        token_name=token.name if token is not None else "",
        # Set by symphony_site.request_context; the audit entry's details carry it.
        request_id=str(getattr(request, "request_id", "") or ""),
    )


def actor_from_scope(scope: Mapping[str, Any]) -> Actor:
    """The user a WebSocket connection authenticated as (session or token), or nobody."""
    return Actor.of(scope.get("user"))


def origin_from_scope(scope: Mapping[str, Any]) -> Origin:
    """Where a WebSocket connection came from, read from its ASGI scope."""
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}
    client = scope.get("client") or ("", 0)
    return Origin(
        channel=Channel.WEBSOCKET,
        ip_address=_client_address(str(client[0] or ""), headers.get("x-forwarded-for", "")),
        user_agent=headers.get("user-agent", ""),
    )


def _client_address(remote_address: str, forwarded_for: str) -> str | None:
    raw_address = remote_address
    if settings.AUDIT_TRUST_X_FORWARDED_FOR and forwarded_for:
        # The proxy appends the client it saw; the left-most entry is the original client.
        raw_address = forwarded_for.split(",")[0].strip()
    return normalize_ip(raw_address)


def api_origin(request: Any) -> Origin:
    return origin_from_request(request, channel=Channel.API)


def web_origin(request: Any) -> Origin:
    return origin_from_request(request, channel=Channel.WEB)


def admin_origin(request: Any) -> Origin:
    return origin_from_request(request, channel=Channel.ADMIN)
