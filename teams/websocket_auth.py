"""WebSocket authentication and origin policy: the session cookie, or an API token.

Browsers send their session cookie; machines pass `?token=<key>` (browsers
cannot set headers on a WebSocket) or an `Authorization: Token <key>` header.
A token, when given, decides who the connection is (a bad one makes it
anonymous) and is remembered in the scope (`auth_method`, `auth_token_id`) so
its revocation can close the connection.

Origins (`OriginPolicy`): the check protects cookie sessions from cross-site
hijacking, which a connection authenticated by a token is not exposed to. So:

| connection | `Origin` absent | allowed `Origin` | other `Origin` |
| --- | --- | --- | --- |
| token | accepted | accepted | refused |
| cookie / anonymous | refused | accepted | refused |

Refusals happen in the handshake (HTTP 403), before any consumer runs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import AllowedHostsOriginValidator, WebsocketDenier

from teams.authentication import user_for_key


@database_sync_to_async
def _user_and_token(key: str) -> tuple[Any, Any] | None:
    return user_for_key(key)


def _token_from_scope(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            parts = value.decode("latin-1").split()
            if len(parts) == 2 and parts[0].lower() == "token":
                return parts[1]
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    values = query.get("token")
    return values[0] if values else None


class TokenAuthMiddleware(BaseMiddleware):
    """Replace the session user with the token's user when a token is given."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        key = _token_from_scope(scope)
        if key:
            found = await _user_and_token(key)
            scope = dict(scope)
            if found is not None:
                scope["user"], token = found
                scope["auth_method"] = "token"
                scope["auth_token_id"] = str(token.pk)
            else:
                from django.contrib.auth.models import AnonymousUser

                scope["user"] = AnonymousUser()
        return await super().__call__(scope, receive, send)


class OriginPolicy:
    """Refuse cross-site WebSocket handshakes (see the table above)."""

    def __init__(self, application: Any) -> None:
        self.application = application
        # Channels' validator knows how to match an Origin against ALLOWED_HOSTS.
        self.validator = AllowedHostsOriginValidator(application)

    def allowed(self, scope: dict[str, Any]) -> bool:
        origin = next((value for name, value in scope.get("headers", []) if name == b"origin"), None)
        if origin is None:
            return scope.get("auth_method") == "token"
        parsed = urlparse(origin.decode("latin-1"))
        return bool(parsed.hostname) and bool(self.validator.valid_origin(parsed))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("type") == "websocket" and not self.allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


def TokenAuthMiddlewareStack(inner: Any) -> Any:
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))
