"""The web server's flags (symphony_site/web.py), the one place Procfile, compose, the image and the
benchmarks take them from."""

from __future__ import annotations

from symphony_site.web import options


def test_defaults_are_the_deployed_server() -> None:
    assert options({}) == {
        "host": "127.0.0.1", "port": 8000, "workers": 3, "lifespan": "off", "access_log": False,
        "log_level": "warning", "timeout_graceful_shutdown": 10, "ws_per_message_deflate": False}


def test_host_port_and_processes_come_from_the_environment() -> None:
    chosen = options({"HOST": "0.0.0.0", "PORT": "9001", "WEB_CONCURRENCY": "5"})
    assert (chosen["host"], chosen["port"], chosen["workers"]) == ("0.0.0.0", 9001, 5)
    # Nothing else moves with them: no access log (WebSocket query strings carry tokens).
    assert {key: value for key, value in chosen.items() if key not in {"host", "port", "workers"}} == {
        key: value for key, value in options({}).items() if key not in {"host", "port", "workers"}}


def test_every_option_is_one_uvicorn_takes() -> None:
    import uvicorn

    uvicorn.Config("symphony_site.asgi:application", **options({}))  # refuses an unknown keyword
