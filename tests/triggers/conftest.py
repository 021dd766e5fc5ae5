"""Helpers for the triggers tests: workflows of team Alpha, signed deliveries, waiting."""

from __future__ import annotations

import time
from typing import Any

from django.test import Client

from executions.triggers.domain.signatures import sign
from symphony_site.actors import Actor, Origin
from tests.conftest import Personas
from workflows import samples as s
from workflows import services as workflow_services

ORIGIN = Origin.command()


def editor(personas: Personas) -> Actor:
    return Actor.of(personas.users["editor"])


def store(personas: Personas, document: dict[str, Any]) -> Any:
    return workflow_services.workflow_create(actor=editor(personas), origin=ORIGIN, team=personas.team,
                                             document=document)


def asking(name: str = "Ask first", **settings: Any) -> dict[str, Any]:
    """Starts by waiting for an interactive input: a started execution waits, nothing runs."""
    built = s.workflow(name, [
        s.node_input("topic", "string", interactive=True, prompt="Which topic?"),
        s.node_operator("write", "template", {"template": "Topic: {{ inputs.variables }}"}),
        s.node_output("note", "string"),
    ], [s.data_edge("e1", "topic", "value", "write", "variables"), s.data_edge("e2", "write", "text", "note", "value")])
    if settings:
        built["settings"] = settings
    return built


def slow(name: str = "Slow", milliseconds: int = 300, **settings: Any) -> dict[str, Any]:
    """input `x` → delay → output `out`."""
    built = s.workflow(name, [
        s.node_input("x", "any"),
        s.node_operator("wait", "delay", {"milliseconds": milliseconds}),
        s.node_output("out", "any"),
    ], [s.data_edge("e1", "x", "value", "wait", "value"), s.data_edge("e2", "wait", "value", "out", "value")])
    if settings:
        built["settings"] = settings
    return built


def signed_headers(secret: str, body: bytes, *, stamp: int | None = None, algorithm: str = "sha256",
                   header: str = "X-Symphony-Signature", timestamp_header: str = "X-Symphony-Timestamp") -> dict[str, str]:
    stamp = int(time.time()) if stamp is None else stamp
    return {header: f"{algorithm}=" + sign(secret=secret, algorithm=algorithm, timestamp=stamp, body=body),
            timestamp_header: str(stamp)}


def deliver(token: str, body: bytes = b"{}", headers: dict[str, str] | None = None,
            content_type: str = "application/json") -> Any:
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in (headers or {}).items()}
    return Client().post(f"/hooks/{token}/", data=body, content_type=content_type, **extra)


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]
