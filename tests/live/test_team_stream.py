"""The team stream carries executions' state changes and progress, and ends with membership."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from executions.live.progress import progress_events
from symphony_site.actors import Actor, Origin
from teams.services import member_remove
from tests.executions.conftest import start, store

from . import workflows as w
from .conftest import ORIGIN, connect, make_execution, run, session_cookie

pytestmark = [pytest.mark.usefixtures("close_stray_connections")]


def team_path(personas) -> str:
    return f"/ws/teams/{personas.team.pk}/events/"


def test_state_changes_and_progress_of_a_run_reach_the_team(engine) -> None:
    cookie = session_cookie(engine.users["viewer"])
    workflow = store(engine, w.slow(400))
    started = sync_to_async(start)

    async def scenario():
        client = await connect(team_path(engine), [ORIGIN, cookie])
        hello = await client.next()
        execution = await started(engine, workflow, {"value": "x"})
        states, progress = [], []
        while not (states and states[-1]["data"]["state"] == "completed"
                   and progress and progress[-1]["data"]["progress"]["percentage"] == 100.0):
            message = await client.next(timeout=15)
            assert message is not None
            if message["target"]["id"] != str(execution.pk):
                continue
            (states if message["type"] == "execution.state_changed" else progress).append(message)
        await client.leave()
        return hello, execution, states, progress

    hello, _execution, states, progress = run(scenario())
    assert hello == {"type": "hello", "team": str(engine.team.pk), "role": "viewer"}
    assert [(m["data"]["from"], m["data"]["to"]) for m in states] == [("pending", "running"), ("running", "completed")]
    assert [m["data"]["version"] for m in states] == sorted(m["data"]["version"] for m in states)
    assert all(m["team"] == str(engine.team.pk) and m["target"]["type"] == "execution" for m in states + progress)
    last = progress[-1]["data"]
    assert last["workflow"] == str(workflow.pk)
    assert last["progress"] == {"total": 3, "pending": 0, "queued": 0, "running": 0, "completed": 3,
                                "failed": 0, "skipped": 0, "percentage": 100.0}
    seqs = [m["data"]["event_seq"] for m in progress]
    assert seqs == sorted(seqs)


def test_progress_events_count_nodes_by_state(personas, transactional_db) -> None:
    from executions.models import NodeRun

    execution = make_execution(personas)
    NodeRun.objects.filter(execution=execution, node_id="name").update(state="completed")
    NodeRun.objects.filter(execution=execution, node_id="greet").update(state="skipped")
    [event] = progress_events([str(execution.pk)])
    assert event.as_message() == {
        "type": "execution.progress", "team": str(personas.team.pk),
        "target": {"type": "execution", "id": str(execution.pk)},
        "data": {"workflow": str(execution.workflow_id), "state": "running", "event_seq": 0, "version": 0,
                 "progress": {"total": 3, "pending": 1, "queued": 0, "running": 0, "completed": 1,
                              "failed": 0, "skipped": 1, "percentage": 66.7}}}


def test_a_removed_member_loses_the_team_stream(personas, transactional_db) -> None:
    cookie = session_cookie(personas.users["operator"])
    remove = sync_to_async(member_remove)

    async def scenario():
        client = await connect(team_path(personas), [ORIGIN, cookie])
        await client.next()
        await remove(actor=Actor.of(personas.users["admin"]), origin=Origin.command(), team=personas.team,
                     user=personas.users["operator"])
        ended = await client.closed()
        await client.leave()
        return ended

    assert run(scenario()) == (4403, "membership_revoked")


def test_a_member_removed_from_another_team_keeps_this_stream(personas, transactional_db) -> None:
    from teams.models import Membership
    from teams.roles import Role

    viewer = personas.users["viewer"]
    Membership.objects.create(team=personas.other_team, user=viewer, role=Role.VIEWER)
    cookie = session_cookie(viewer)
    remove = sync_to_async(member_remove)

    async def scenario():
        client = await connect(team_path(personas), [ORIGIN, cookie])
        await client.next()
        await remove(actor=Actor.of(personas.users["outsider"]), origin=Origin.command(),
                     team=personas.other_team, user=viewer)
        quiet = await client.nothing_more(0.5)
        await client.leave()
        return quiet, client.close_code

    assert run(scenario()) == (True, None)


def test_the_progress_thread_outlives_an_unreachable_database(monkeypatch, caplog) -> None:
    """Closing the thread's connection checks it first, which connects; with the database gone
    that raises, and the thread (which has no one to report to) must go on to its next round."""
    from django.db import OperationalError

    from executions.live import progress

    def unreachable() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(progress, "close_old_connections", unreachable)
    progress._close_connection()
    assert [record.getMessage() for record in caplog.records] == [
        "Could not check the progress thread's database connection"]


def test_a_progress_round_due_at_a_tests_end_is_over_before_its_database_closes(
        personas, transactional_db, django_db_blocker, caplog) -> None:
    """A mark arriving while the progress thread pauses is counted at the end of the pause: after
    the test that made it, when pytest-django refuses the next test (one without a database) any
    access, from every thread; the thread logged "Database access not allowed" there. The suite's
    teardown (tests/conftest.py) settles the thread first, as this test does: the round is
    published at once, and nothing is left to touch the closed database."""
    import asyncio

    from channels.layers import get_channel_layer
    from django.conf import settings

    from executions.live import progress
    from symphony_site.events import TEAM_HANDLER, flush_published, team_group

    execution = make_execution(personas)
    execution_id, team_id = str(execution.pk), str(personas.team.pk)
    tracker = progress._tracker()

    async def scenario() -> tuple[bool, list[dict]]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        # make_execution's workflow announced itself to the team (workflow.created); the
        # publisher thread sends later, and on a busy machine after the channel below had joined
        # the group, which then received it first (a clean-clone CI run failed so).
        assert await asyncio.to_thread(flush_published)
        await layer.group_add(team_group(team_id), channel)
        tracker.mark(execution_id, team_id)  # counted at once; the thread then pauses
        assert await asyncio.to_thread(tracker.idle.wait, 5)
        tracker.mark(execution_id, team_id)  # during the pause
        settled = await asyncio.to_thread(progress.settle_progress)
        with django_db_blocker.block():  # as for the next test, until past the end of the pause
            await asyncio.sleep(settings.EXECUTION_TEAM_PROGRESS_INTERVAL_S + 0.5)
        await asyncio.to_thread(flush_published)
        messages = [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(2)]
        await layer.group_discard(team_group(team_id), channel)
        return settled, messages

    settled, messages = run(scenario())
    assert settled is True
    pending = {"total": 3, "pending": 3, "queued": 0, "running": 0, "completed": 0, "failed": 0, "skipped": 0,
               "percentage": 0.0}
    assert [(message["type"], message["event"]["type"], message["event"]["target"],
             message["event"]["data"]["progress"]) for message in messages] == [
        (TEAM_HANDLER, "execution.progress", {"type": "execution", "id": execution_id}, pending)] * 2
    assert [record.getMessage() for record in caplog.records if record.name == progress.__name__] == []
