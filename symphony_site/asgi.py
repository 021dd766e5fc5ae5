"""ASGI entry point: Django for HTTP, Channels consumers for WebSockets.

WebSocket routes pass, outermost first: flow control (back-pressure from
daphne's transport, `symphony_site.streaming`), session plus token
authentication, then the origin policy (`teams.websocket_auth.OriginPolicy`,
which needs to know whether a token authenticated the connection).
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "symphony_site.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from symphony_site.routing import websocket_urlpatterns  # noqa: E402
from symphony_site.streaming import FlowControl  # noqa: E402
from teams.websocket_auth import OriginPolicy, TokenAuthMiddlewareStack  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": FlowControl(TokenAuthMiddlewareStack(OriginPolicy(URLRouter(websocket_urlpatterns)))),
    }
)
