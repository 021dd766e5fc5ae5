"""The web server as deployed: uvicorn, several worker processes on one socket.

    python -m symphony_site.web

`make run` (Procfile), docker-compose and the image's default command all start the web this
way, and the live-event benchmark measures the same server, so its flags live here once
(docs/operations.md, "Web processes"). `HOST`, `PORT` and `WEB_CONCURRENCY` come from the
environment.
"""

from __future__ import annotations

import os
from typing import Any

APPLICATION = "symphony_site.asgi:application"


def options(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ if environ is None else environ)
    return {
        "host": environ.get("HOST", "127.0.0.1"),
        "port": int(environ.get("PORT", "8000")),
        # Django runs sync views one at a time per process; WebSockets reach every process's
        # connections through the Redis channel layer.
        "workers": int(environ.get("WEB_CONCURRENCY", "3")),
        # Django has no lifespan handler.
        "lifespan": "off",
        # uvicorn's INFO lines name every WebSocket path with its query string, and a script's
        # `?token=` is a secret; RequestContextMiddleware logs requests instead.
        "access_log": False,
        "log_level": "warning",
        # A stop waits at most this long for open connections before it ends them.
        "timeout_graceful_shutdown": 10,
        # Events are a few hundred bytes of JSON: per-message deflate saved little on the wire
        # and cost a zlib stream per connection and a compression per message per client
        # (200 watchers of one execution: 200 compressions an event).
        "ws_per_message_deflate": False,
    }


def main() -> None:
    import uvicorn

    # Every request runs on a thread of its own, so the processes borrow database connections
    # from a pool (settings.py, DATABASE_POOL) instead of opening one per request.
    os.environ.setdefault("DATABASE_POOL", "1")
    uvicorn.run(APPLICATION, **options())


if __name__ == "__main__":
    main()
