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
