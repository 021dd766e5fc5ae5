"""Helpers for the live-event tests: executions, events written by the engine's own writer,
and WebSocket clients through the real ASGI stack and the real Redis channel layer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone

from executions.engine.events import EventBuffer
from executions.models import Execution, ExecutionEvent, NodeRun
from symphony_site.asgi import application
from symphony_site.events import flush_published
from workflows import samples as s

HOST = (b"host", b"127.0.0.1:8000")
ORIGIN = (b"origin", b"http://127.0.0.1:8000")
EVIL = (b"origin", b"http://evil.example")


def session_cookie(user: Any) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return (b"cookie", f"{name}={client.cookies[name].value}".encode())


def three_nodes() -> dict[str, Any]:
    return s.workflow("Live", [
        s.node_input("name"),
        s.node_operator("greet", "template", {"template": "Hello {{ inputs.variables }}!"}),
        s.node_output("out", "string"),
    ], [
        s.data_edge("e1", "name", "value", "greet", "variables"),
        s.data_edge("e2", "greet", "text", "out", "value"),
    ])


def make_execution(personas: Any, *, state: str = "running", finished_at: Any = None) -> Execution:
    """An execution row of team Alpha (no worker involved): events are written by the tests."""
    from executions.domain import NodeRunState
    from symphony_site.actors import Actor, Origin
    from workflows.services import workflow_create

    workflow = workflow_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(),
                               team=personas.team, document=three_nodes())
    now = timezone.now()
    execution = Execution.objects.create(
        team=personas.team, workflow=workflow, workflow_version=workflow.current_version, state=state,
        created_at=now, updated_at=now, started_at=now, finished_at=finished_at, max_parallel=4, node_count=3)
    NodeRun.objects.bulk_create([
        NodeRun(execution=execution, node_id=node_id, node_kind=kind, node_type=kind,
                state=NodeRunState.PENDING.value)
        for node_id, kind in (("name", "input"), ("greet", "operator"), ("out", "output"))])
    return execution


Spec = tuple[str, str | None, dict[str, Any]]


def emit(execution_id: Any, specs: Iterable[Spec], *, publish: bool = True) -> int:
    """Write events in one transaction with the engine's writer (numbered under the row lock,
    published after commit); `publish=False` stores them silently, as if Redis lost the message."""
    with transaction.atomic():
        execution = Execution.objects.select_for_update(no_key=True).get(pk=execution_id)
        buffer = EventBuffer(execution.pk, execution.team_id, execution.event_seq)
        for event_type, node_id, data in specs:
            buffer.add(event_type, node_id, data)
        if publish:
            last = buffer.write()
        else:
            rows = [ExecutionEvent(execution_id=execution.pk, seq=execution.event_seq + offset, type=event_type,
                                   node_id=node_id, data=data, at=timezone.now())
                    for offset, (event_type, node_id, data) in enumerate(buffer.pending, start=1)]
            ExecutionEvent.objects.bulk_create(rows)
            last = execution.event_seq + len(rows)
        Execution.objects.filter(pk=execution.pk).update(event_seq=last)
    flush_published()
    return last


def logs(node_id: str, *levels: str) -> list[Spec]:
    return [("log", node_id, {"level": level, "message": f"{level} {index}"})
            for index, level in enumerate(levels)]


def stored(execution_id: Any) -> list[dict[str, Any]]:
    return [event.as_message() for event in ExecutionEvent.objects.filter(execution_id=execution_id).order_by("seq")]


aemit = sync_to_async(emit)
astored = sync_to_async(stored)


class Client_:
    """One WebSocket connection: what it was told, and how it ended."""

    def __init__(self, communicator: WebsocketCommunicator, accepted: bool) -> None:
        self.communicator = communicator
        self.accepted = accepted
        self.close_code: int | None = None
        self.close_reason: str | None = None

    async def next(self, timeout: float = 5) -> dict[str, Any] | None:
        """The next message, or None once closed (close code and reason kept)."""
        output = await self.communicator.receive_output(timeout)
        if output["type"] == "websocket.close":
            self.close_code = output.get("code")
            self.close_reason = output.get("reason")
            return None
        return json.loads(output["text"])

    async def events(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        """The next `count` events (messages with a seq), skipping control messages."""
        received: list[dict[str, Any]] = []
        while len(received) < count:
            message = await self.next(timeout)
            if message is None:
                raise AssertionError(f"closed ({self.close_code}, {self.close_reason}) after {received}")
            if "seq" in message:
                received.append(message)
        return received

    async def control(self, kind: str, timeout: float = 5) -> dict[str, Any]:
        while True:
            message = await self.next(timeout)
            if message is None:
                raise AssertionError(f"closed ({self.close_code}, {self.close_reason}) waiting for {kind}")
            if message.get("type") == kind and "seq" not in message:
                return message

    async def closed(self, timeout: float = 5) -> tuple[int | None, str | None]:
        """Read until the server closes; its code and reason."""
        while await self.next(timeout) is not None:
            pass
        return self.close_code, self.close_reason

    async def nothing_more(self, wait: float = 0.3) -> bool:
        return await self.communicator.receive_nothing(timeout=wait)

    async def leave(self) -> None:
        await self.communicator.disconnect()


async def connect(path: str, headers: list[tuple[bytes, bytes]], app: Any = application) -> Client_:
    """Open a connection; refusals in the handshake come back as accepted=False."""
    communicator = WebsocketCommunicator(app, path, headers=[HOST, *headers])
    accepted, code = await communicator.connect(timeout=5)
    client = Client_(communicator, accepted)
    if not accepted:
        client.close_code = code
    return client


async def refusal(path: str, headers: list[tuple[bytes, bytes]]) -> tuple[bool, int | None, str | None]:
    """(accepted in the handshake, close code, reason) of a connection the server refuses."""
    client = await connect(path, headers)
    if client.accepted:
        await client.closed()
    await client.leave()
    return client.accepted, client.close_code, client.close_reason


def run(coroutine: Any) -> Any:
    """Run a scenario in a fresh event loop with a fresh channel layer.

    channels_redis keeps per-channel receive locks bound to the loop that made them, so a
    layer shared by several loops (tests, Hypothesis examples) can hand a later loop a lock of
    a dead one. Production has one loop per process."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        return asyncio.run(coroutine)
    finally:
        channel_layers.backends.clear()


from tests.executions.conftest import engine  # noqa: E402, F401  (a running worker and committed data)
from tests.live.server import daphne  # noqa: E402, F401  (a real daphne process)

