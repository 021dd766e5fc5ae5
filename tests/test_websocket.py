"""WebSocket routes through the real ASGI stack and the real Redis channel layer."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from symphony_site.actors import Actor, Origin
from symphony_site.asgi import application
from symphony_site.events import Event, publish_on_commit
from teams.services import token_create

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_stray_connections")]


def session_cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode())


async def _connect(path: str, headers: list[tuple[bytes, bytes]]):
    communicator = WebsocketCommunicator(application, path, headers=[(b"host", b"127.0.0.1:8000"), *headers])
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


def test_unauthenticated_connection_is_refused(personas) -> None:
    async def scenario():
        communicator, connected, code = await _connect(f"/ws/teams/{personas.team.pk}/events/", [ORIGIN])
        await communicator.disconnect()
        return connected, code

    assert asyncio.run(scenario()) == (False, 4401)


def test_wrong_origin_is_refused_even_with_a_session(personas) -> None:
    cookie = session_cookie(personas.users["viewer"])

    async def scenario():
        communicator, connected, _code = await _connect(
            f"/ws/teams/{personas.team.pk}/events/", [(b"origin", b"http://evil.example"), cookie])
        await communicator.disconnect()
        return connected

    assert asyncio.run(scenario()) is False


def test_outsider_is_refused_as_not_found(personas) -> None:
    cookie = session_cookie(personas.users["outsider"])

    async def scenario():
        communicator, connected, code = await _connect(f"/ws/teams/{personas.team.pk}/events/", [ORIGIN, cookie])
        await communicator.disconnect()
        return connected, code

    assert asyncio.run(scenario()) == (False, 4404)


def test_session_user_is_accepted_and_receives_team_events(personas) -> None:
    cookie = session_cookie(personas.users["viewer"])
    workflow_id = str(uuid.uuid4())
    event = Event(type="workflow.created", team_id=str(personas.team.pk), target_type="workflow",
                  target_id=workflow_id, data={"name": "Triage"})

    async def scenario():
        communicator, connected, _code = await _connect(f"/ws/teams/{personas.team.pk}/events/", [ORIGIN, cookie])
        hello = await communicator.receive_json_from(timeout=5)
        from asgiref.sync import sync_to_async

        # Outside a transaction, the door publishes at once.
        await sync_to_async(publish_on_commit)(event)
        received = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return connected, hello, received

    connected, hello, received = asyncio.run(scenario())
    assert connected is True
    assert hello == {"type": "hello", "team": str(personas.team.pk), "role": "viewer"}
    assert received == {"type": "workflow.created", "team": str(personas.team.pk),
                        "target": {"type": "workflow", "id": workflow_id}, "data": {"name": "Triage"}}


def test_token_user_is_accepted_and_bad_token_refused(personas) -> None:
    _, key = token_create(actor=Actor.of(personas.users["operator"]), origin=Origin.command(), name="ws")

    async def scenario():
        good, good_connected, _ = await _connect(f"/ws/teams/{personas.team.pk}/events/?token={key}", [ORIGIN])
        hello = await good.receive_json_from(timeout=5)
        await good.disconnect()
        bad, bad_connected, bad_code = await _connect(
            f"/ws/teams/{personas.team.pk}/events/?token=sym_forged", [ORIGIN])
        await bad.disconnect()
        return good_connected, hello["role"], bad_connected, bad_code

    assert asyncio.run(scenario()) == (True, "operator", False, 4401)
