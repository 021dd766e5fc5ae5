"""Team events from the services, through the after-commit door, on the real Redis channel layer.

A member's open team socket hears workflow, template, member and team changes
once their transaction commits; nothing is sent before the commit or for a
rolled-back transaction; another team never hears them. The same door holds
for Celery tasks: a task queued in a transaction reaches the broker only on
commit.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from symphony_site.actors import Actor, Origin
from symphony_site.celery import app
from symphony_site.events import (
    TEAM_HANDLER,
    Event,
    enqueue_on_commit,
    publish_on_commit,
    send_task_on_commit,
    team_group,
)
from teams import services as team_services
from templates_app import services as template_services
from tests.conftest import Personas
from tests.templates_app.conftest import summary_version
from tests.test_websocket import ORIGIN, _connect, session_cookie
from workflows import samples
from workflows import services as workflow_services
from workflows.models import Workflow

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_stray_connections")]

COMMAND = Origin.command()
# How long "nothing arrives" is watched for. An event that was sent arrives in milliseconds.
QUIET_SECONDS = 0.5


def by(user: Any) -> dict[str, Any]:
    return {"actor": Actor.of(user), "origin": COMMAND}


class _Listener:
    """Bare channels subscribed to team groups, served by one event loop of their own.

    A channel's receive buffer belongs to the loop that first read it, so every
    channel-layer call of a test runs on this one loop (in a thread).
    """

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.subscriptions: list[tuple[str, str]] = []

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def subscribe(self, team: Any) -> Callable[[], list[dict[str, Any]]]:
        channel = self.run(self.layer.new_channel())
        self.run(self.layer.group_add(team_group(team.pk), channel))
        self.subscriptions.append((team_group(team.pk), channel))
        return lambda: self.run(self._drain(channel))

    async def _drain(self, channel: str) -> list[dict[str, Any]]:
        """Every event waiting on `channel`, oldest first (stops at the first quiet moment)."""
        found = []
        while True:
            try:
                message = await asyncio.wait_for(self.layer.receive(channel), QUIET_SECONDS)
            except TimeoutError:
                return found
            assert message["type"] == TEAM_HANDLER
            found.append(message["event"])

    def close(self) -> None:
        for group, channel in self.subscriptions:
            self.run(self.layer.group_discard(group, channel))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


@pytest.fixture
def listen() -> Iterator[Callable[[Any], Callable[[], list[dict[str, Any]]]]]:
    """Subscribe a bare channel to a team's group; the returned function answers what it heard."""
    listener = _Listener()
    yield listener.subscribe
    listener.close()


def test_services_publish_small_team_events_after_commit(personas: Personas, listen: Any) -> None:
    alpha, beta = listen(personas.team), listen(personas.other_team)
    editor, owner = personas.users["editor"], personas.users["owner"]

    workflow = workflow_services.workflow_create(**by(editor), team=personas.team, document=samples.linear())
    updated = workflow_services.workflow_update(**by(editor), workflow=workflow, name="Renamed")
    workflow_services.workflow_archive(**by(editor), workflow=workflow)
    version = updated.current_version.version
    assert alpha() == [
        {"type": "workflow.created", "team": str(personas.team.pk), "target": {"type": "workflow", "id": str(workflow.pk)},
         "data": {"name": samples.linear()["name"], "version": "1.0.0"}},
        {"type": "workflow.versioned", "team": str(personas.team.pk),
         "target": {"type": "workflow", "id": str(workflow.pk)},
         "data": {"name": "Renamed", "version": version, "previous_version": "1.0.0"}},
        {"type": "workflow.archived", "team": str(personas.team.pk),
         "target": {"type": "workflow", "id": str(workflow.pk)}, "data": {"name": "Renamed"}},
    ]

    newcomer = personas.users["outsider"]
    team_services.member_add(**by(owner), team=personas.team, user=newcomer, role="viewer")
    team_services.member_change_role(**by(owner), team=personas.team, user=newcomer, role="editor")
    team_services.member_remove(**by(owner), team=personas.team, user=newcomer)
    team_services.team_update(**by(owner), team=personas.team, name="Alpha Prime")
    member = {"type": "user", "id": str(newcomer.pk)}
    assert [(event["type"], event["target"], event["data"]) for event in alpha()] == [
        ("member.added", member, {"username": newcomer.username, "role": "viewer"}),
        ("member.role_changed", member, {"username": newcomer.username, "previous_role": "viewer", "role": "editor"}),
        ("member.removed", member, {"username": newcomer.username, "role": "editor", "left": False}),
        ("team.updated", {"type": "team", "id": str(personas.team.pk)}, {"name": "Alpha Prime", "changed": ["name"]}),
    ]
    # Every event above went to Alpha's group only.
    assert beta() == []


def test_template_events_reach_the_publishing_team_and_private_ones_none(personas: Personas, listen: Any) -> None:
    alpha = listen(personas.team)
    editor = personas.users["editor"]
    shared = template_services.template_publish(**by(editor), team=personas.team, name="Shared",
                                                version=summary_version())
    template_services.template_version_create(**by(editor), template=shared, version=summary_version("1.1.0"))
    template_services.template_update(**by(editor), template=shared, description="Now with a description")
    template_services.template_deprecate(**by(editor), template=shared)
    template_services.template_rate(**by(personas.users["viewer"]), template=shared, stars=4)
    private = template_services.template_publish(**by(editor), team=personas.team, name="Draft",
                                                 version=summary_version(), visibility="private")
    template_services.template_update(**by(editor), template=private, description="Still a draft")

    target = {"type": "template", "id": str(shared.pk)}
    named = {"slug": shared.slug, "name": "Shared"}
    assert [(event["type"], event["target"], event["data"]) for event in alpha()] == [
        ("template.published", target, {**named, "version": "1.0.0", "visibility": "team"}),
        ("template.versioned", target, {**named, "version": "1.1.0", "previous_version": "1.0.0"}),
        ("template.updated", target, {**named, "changed": ["description"]}),
        ("template.deprecated", target, {**named, "deprecated": True}),
    ]


def test_tokens_publish_to_no_team(personas: Personas, listen: Any) -> None:
    alpha, beta = listen(personas.team), listen(personas.other_team)
    token, _key = team_services.token_create(**by(personas.users["viewer"]), name="laptop")
    team_services.token_revoke(**by(personas.users["viewer"]), token=token)
    assert (alpha(), beta()) == ([], [])


def test_nothing_is_published_before_commit_or_for_a_rollback(personas: Personas, listen: Any) -> None:
    alpha = listen(personas.team)
    editor = personas.users["editor"]
    with pytest.raises(RuntimeError), transaction.atomic():
        workflow_services.workflow_create(**by(editor), team=personas.team, document=samples.linear())
        raise RuntimeError("the caller failed after the service")
    assert alpha() == []
    assert not Workflow.objects.exists()

    with transaction.atomic():
        workflow_services.workflow_create(**by(editor), team=personas.team, document=samples.linear())
        # Inside the transaction: written, not yet visible to anyone, so not announced.
        assert alpha() == []
    assert [event["type"] for event in alpha()] == ["workflow.created"]


def test_the_door_delivers_after_commit_only(personas: Personas, listen: Any) -> None:
    alpha = listen(personas.team)
    event = Event(type="workflow.created", team_id=str(personas.team.pk), target_type="workflow",
                  target_id=str(uuid.uuid4()))
    with pytest.raises(RuntimeError), transaction.atomic():
        publish_on_commit(event)
        raise RuntimeError("rolled back")
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():  # a savepoint that rolls back
            publish_on_commit(event)
            raise RuntimeError("inner block rolled back")
        assert alpha() == []
    assert alpha() == []
    with transaction.atomic():
        publish_on_commit(event)
        assert alpha() == []
    assert alpha() == [event.as_message()]


PROBE_QUEUE = f"test-door-{uuid.uuid4().hex[:8]}"


@app.task(name="tests.door_probe")
def door_probe(value: int) -> int:
    """Never runs: it is sent to a queue no worker listens on, so the broker shows what was sent."""
    return value


@pytest.fixture
def probe_queue() -> Iterator[Callable[[], int]]:
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete(PROBE_QUEUE)
    yield lambda: int(broker.llen(PROBE_QUEUE))
    broker.delete(PROBE_QUEUE)
    broker.close()


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(lambda: enqueue_on_commit(door_probe.s().set(queue=PROBE_QUEUE), 1), id="enqueue_on_commit"),
        pytest.param(lambda: send_task_on_commit(door_probe, args=[1], queue=PROBE_QUEUE), id="send_task_on_commit"),
    ],
)
def test_a_task_reaches_the_broker_only_on_commit(probe_queue: Callable[[], int], send: Callable[[], None]) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        send()
        raise RuntimeError("rolled back")
    assert probe_queue() == 0
    with transaction.atomic():
        send()
        assert probe_queue() == 0
    assert probe_queue() == 1


def test_a_member_socket_hears_after_commit_and_another_team_never(personas: Personas) -> None:
    member_cookie = session_cookie(personas.users["viewer"])
    outsider_cookie = session_cookie(personas.users["outsider"])
    written, may_commit = threading.Event(), threading.Event()

    def create_in_a_transaction() -> Workflow:
        with transaction.atomic():
            workflow = workflow_services.workflow_create(**by(personas.users["editor"]), team=personas.team,
                                                         document=samples.linear())
            written.set()
            assert may_commit.wait(10)
        return workflow

    async def scenario() -> tuple[Any, ...]:
        member, _, _ = await _connect(f"/ws/teams/{personas.team.pk}/events/", [ORIGIN, member_cookie])
        other, _, _ = await _connect(f"/ws/teams/{personas.other_team.pk}/events/", [ORIGIN, outsider_cookie])
        await member.receive_json_from(timeout=5)  # hello
        await other.receive_json_from(timeout=5)
        writing = asyncio.ensure_future(sync_to_async(create_in_a_transaction, thread_sensitive=False)())
        assert await asyncio.to_thread(written.wait, 10)
        heard_before_commit = await member.receive_nothing(timeout=QUIET_SECONDS)
        may_commit.set()
        workflow = await writing
        event = await member.receive_json_from(timeout=5)
        other_heard_nothing = await other.receive_nothing(timeout=QUIET_SECONDS)
        await member.disconnect()
        await other.disconnect()
        return heard_before_commit, workflow, event, other_heard_nothing

    nothing_before_commit, workflow, event, other_heard_nothing = asyncio.run(scenario())
    assert nothing_before_commit is True
    assert event == {"type": "workflow.created", "team": str(personas.team.pk),
                     "target": {"type": "workflow", "id": str(workflow.pk)},
                     "data": {"name": workflow.name, "version": "1.0.0"}}
    assert other_heard_nothing is True


def test_a_removed_member_is_told_and_disconnected(personas: Personas) -> None:
    viewer = personas.users["viewer"]
    cookie = session_cookie(viewer)

    async def scenario() -> tuple[Any, ...]:
        socket, _, _ = await _connect(f"/ws/teams/{personas.team.pk}/events/", [ORIGIN, cookie])
        await socket.receive_json_from(timeout=5)  # hello
        await sync_to_async(team_services.member_remove)(**by(personas.users["owner"]), team=personas.team,
                                                          user=viewer)
        removed = await socket.receive_json_from(timeout=5)
        closed = await socket.receive_output(timeout=5)
        await socket.disconnect()
        return removed, closed

    removed, closed = asyncio.run(scenario())
    assert (removed["type"], removed["target"]) == ("member.removed", {"type": "user", "id": str(viewer.pk)})
    # The stream re-checks membership when it changes and closes with why (docs/executions.md).
    assert closed == {"type": "websocket.close", "code": 4403, "reason": "membership_revoked"}


def test_a_failing_channel_layer_does_not_fail_a_committed_write(personas: Personas,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    class Down:
        async def group_send(self, group: str, message: Any) -> None:
            raise ConnectionError("redis is down")

    monkeypatch.setattr("symphony_site.events.get_channel_layer", lambda: Down())
    workflow = workflow_services.workflow_create(**by(personas.users["editor"]), team=personas.team,
                                                 document=samples.linear())
    assert Workflow.objects.filter(pk=workflow.pk).exists()


def test_a_synchronous_caller_on_a_running_event_loop_still_publishes(personas: Personas, listen: Any,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Code that drives a browser (Playwright) runs services on a thread whose event loop is running."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # as the browser tests do
    alpha = listen(personas.team)
    event = Event(type="team.updated", team_id=str(personas.team.pk), target_type="team",
                  target_id=str(personas.team.pk), data={"name": "Alpha"})

    async def blocking_caller() -> None:
        publish_on_commit(event)  # not awaited: a plain synchronous call inside the loop

    asyncio.run(blocking_caller())
    assert alpha() == [event.as_message()]
