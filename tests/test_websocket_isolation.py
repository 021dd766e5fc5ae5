"""WebSocket rules a mutation once broke without a test noticing (issue 10).

- Team isolation: a member of one team never receives another team's
  event (making the team group global must fail here).
- Token authentication through the `Authorization: Token <key>` header.

Real ASGI stack, real Redis channel layer, real consumers.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from asgiref.sync import sync_to_async
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


async def connect(path: str, headers: list[tuple[bytes, bytes]]):
    communicator = WebsocketCommunicator(application, path, headers=[(b"host", b"127.0.0.1:8000"), *headers])
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def refusal(path: str, headers: list[tuple[bytes, bytes]]) -> int | None:
    """The close code a refused socket gets. Refusals accept the handshake and then close with a
    code, so a browser can tell why (docs/executions.md, "Subscribing"); None if not refused."""
    communicator, connected, code = await connect(path, headers)
    if connected:
        output = await communicator.receive_output(timeout=5)
        code = output["code"] if output["type"] == "websocket.close" else None
    await communicator.disconnect()
    return code


def event_for(team) -> Event:
    return Event(type="workflow.created", team_id=str(team.pk), target_type="workflow",
                 target_id=str(uuid.uuid4()), data={"name": f"Made in {team.name}"})


def test_a_team_never_receives_another_teams_event(personas) -> None:
    alpha_cookie = session_cookie(personas.users["viewer"])
    beta_cookie = session_cookie(personas.users["outsider"])
    alpha_event, beta_event = event_for(personas.team), event_for(personas.other_team)

    async def scenario():
        alpha, alpha_connected, _ = await connect(f"/ws/teams/{personas.team.pk}/events/", [ORIGIN, alpha_cookie])
        beta, beta_connected, _ = await connect(f"/ws/teams/{personas.other_team.pk}/events/",
                                                [ORIGIN, beta_cookie])
        hellos = (await alpha.receive_json_from(timeout=5), await beta.receive_json_from(timeout=5))
        await sync_to_async(publish_on_commit)(beta_event)
        beta_received = await beta.receive_json_from(timeout=5)
        # Beta's event has reached Beta's socket; Alpha's must stay silent.
        alpha_silent = await alpha.receive_nothing(timeout=0.5)
        await sync_to_async(publish_on_commit)(alpha_event)
        alpha_received = await alpha.receive_json_from(timeout=5)
        beta_silent = await beta.receive_nothing(timeout=0.5)
        await alpha.disconnect()
        await beta.disconnect()
        return alpha_connected, beta_connected, hellos, beta_received, alpha_silent, alpha_received, beta_silent

    (alpha_connected, beta_connected, hellos, beta_received, alpha_silent, alpha_received,
     beta_silent) = asyncio.run(scenario())
    assert (alpha_connected, beta_connected) == (True, True)
    assert [hello["team"] for hello in hellos] == [str(personas.team.pk), str(personas.other_team.pk)]
    assert beta_received == beta_event.as_message()
    assert alpha_received == alpha_event.as_message()
    assert (alpha_silent, beta_silent) == (True, True)


def test_token_in_the_authorization_header_authenticates_the_socket(personas) -> None:
    _, key = token_create(actor=Actor.of(personas.users["editor"]), origin=Origin.command(), name="ws header")

    async def scenario():
        good, good_connected, _ = await connect(f"/ws/teams/{personas.team.pk}/events/",
                                                [ORIGIN, (b"authorization", f"Token {key}".encode())])
        hello = await good.receive_json_from(timeout=5)
        await good.disconnect()
        bad_code = await refusal(f"/ws/teams/{personas.team.pk}/events/",
                                 [ORIGIN, (b"authorization", b"Token sym_forged")])
        # The header's token is checked against the team too: not a member of Beta.
        other_code = await refusal(f"/ws/teams/{personas.other_team.pk}/events/",
                                   [ORIGIN, (b"authorization", f"Token {key}".encode())])
        return good_connected, hello, bad_code, other_code

    good_connected, hello, bad_code, other_code = asyncio.run(scenario())
    assert (good_connected, hello) == (True, {"type": "hello", "team": str(personas.team.pk), "role": "editor"})
    assert (bad_code, other_code) == (4401, 4404)


def test_a_forged_header_token_does_not_fall_back_to_the_session(personas) -> None:
    cookie = session_cookie(personas.users["viewer"])

    code = asyncio.run(refusal(f"/ws/teams/{personas.team.pk}/events/",
                               [ORIGIN, cookie, (b"authorization", b"Token sym_forged")]))
    assert code == 4401
