"""The streams over real sockets against a real daphne process: a token client without an Origin,
and a client that stops reading, which daphne's transport back-pressure catches."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
import websockets
from asgiref.sync import sync_to_async

from symphony_site.actors import Actor, Origin
from teams.services import token_create

from .conftest import emit, make_execution
from .server import Daphne

pytestmark = [pytest.mark.usefixtures("close_stray_connections")]


def token(personas) -> str:
    _, key = token_create(actor=Actor.of(personas.users["viewer"]), origin=Origin.command(), name="cli")
    return key


def test_a_cli_with_a_token_and_no_origin_streams_over_a_real_socket(personas, daphne) -> None:
    execution = make_execution(personas)
    key = token(personas)
    url = f"ws://127.0.0.1:{daphne.port}/ws/executions/{execution.pk}/?token={key}&after_seq=0"

    async def scenario():
        async with websockets.connect(url, origin=None) as connection:
            subscribed = json.loads(await connection.recv())
            caught_up = json.loads(await connection.recv())
            await sync_to_async(emit)(execution.pk, [("node.queued", "name", {}), ("node.started", "name", {})])
            events = [json.loads(await connection.recv()) for _ in range(2)]
            return subscribed["type"], caught_up, [(event["seq"], event["type"]) for event in events]

    assert asyncio.run(scenario()) == ("subscribed", {"type": "caught_up", "last_seq": 0},
                                       [(1, "node.queued"), (2, "node.started")])


def test_a_browser_origin_from_elsewhere_is_refused_in_the_handshake(personas, daphne) -> None:
    execution = make_execution(personas)
    key = token(personas)
    url = f"ws://127.0.0.1:{daphne.port}/ws/executions/{execution.pk}/?token={key}"

    async def scenario():
        try:
            async with websockets.connect(url, origin="http://evil.example"):
                return "accepted"
        except websockets.InvalidStatus as refused:
            return refused.response.status_code

    assert asyncio.run(scenario()) == 403


@pytest.mark.django_db(transaction=True)
def test_a_client_that_stops_reading_is_cut_off_instead_of_buffered(personas) -> None:
    server = Daphne(extra_env={"WEBSOCKET_QUEUE_EVENTS": "40", "WEBSOCKET_STALL_S": "0.5"})
    server.start()
    try:
        execution = make_execution(personas)
        key = token(personas)
        url = f"ws://127.0.0.1:{server.port}/ws/executions/{execution.pk}/?token={key}"
        filler = "x" * 4000
        batches, per_batch = 40, 50  # 8 MB in all, far more than the socket buffers hold

        async def scenario():
            raw = socket.create_connection(("127.0.0.1", server.port))
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            async with websockets.connect(url, sock=raw, max_queue=1, max_size=None) as connection:
                assert json.loads(await connection.recv())["type"] == "subscribed"
                assert json.loads(await connection.recv())["type"] == "caught_up"
                # The client reads nothing while the execution writes far more than it could hold.
                for _ in range(batches):
                    await sync_to_async(emit)(execution.pk, [("log", "greet", {"level": "info", "message": filler})] * per_batch)
                await asyncio.sleep(1.5)
                received: list[int] = []
                code, reason = None, None
                try:
                    while True:
                        received.append(json.loads(await asyncio.wait_for(connection.recv(), 10))["seq"])
                except websockets.ConnectionClosed as closed:
                    code, reason = (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (1006, "")
                return received, code, reason

        received, code, reason = asyncio.run(scenario())
    finally:
        server.stop()
    total = batches * per_batch
    assert received == list(range(1, len(received) + 1))  # what arrived has no gap
    # Without back-pressure daphne would have buffered all 8 MB and delivered every event.
    assert len(received) < total
    if code != 1006:  # the close frame, when it gets through before the server gives up on the handshake
        assert code == 4429 and json.loads(reason) == {"code": "too_slow", "last_seq": received[-1]}
