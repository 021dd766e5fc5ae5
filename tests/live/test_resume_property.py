"""A client that drops and resumes with `after_seq` while a workflow runs on a real worker sees
every event exactly once, in order — whatever the points at which it drops (Hypothesis)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executions.engine.events import EVENT_TYPES
from executions.live.filters import parse_filter
from tests.executions.conftest import start, store, wait_for

from . import workflows as w
from .conftest import ORIGIN, astored, connect, run, session_cookie

pytestmark = [pytest.mark.usefixtures("close_stray_connections")]

# Each keeps execution.completed, which ends a scenario.
FILTERS = ["", "types=node.started,node.completed,log,execution.completed", "nodes=each,wait&min_level=info"]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drops=st.lists(st.integers(min_value=0, max_value=8), min_size=1, max_size=4),
       query=st.sampled_from(FILTERS))
def test_resuming_after_random_drops_loses_and_repeats_nothing(engine, drops, query) -> None:
    cookie = session_cookie(engine.users["viewer"])
    # Examples share the fixture's database: the workflows are stored by the first one.
    if not hasattr(engine, "busy_workflow"):
        store(engine, w.say_body())
        engine.busy_workflow = store(engine, w.busy(lines=10, wait_ms=700))
    workflow = engine.busy_workflow
    started = sync_to_async(start)
    finished = sync_to_async(wait_for)

    async def scenario():
        execution = await started(engine, workflow, {"value": 1})
        path = f"/ws/executions/{execution.pk}/"
        received: list[dict] = []
        # The first connection replays from the start; every later one resumes after the last
        # seq received, dropping after a drawn number of events.
        for drop_after in [*drops, None]:
            after = received[-1]["seq"] if received else 0
            separator = "&" if query else ""
            client = await connect(f"{path}?{query}{separator}after_seq={after}", [ORIGIN, cookie])
            taken = 0
            while drop_after is None or taken < drop_after:
                message = await client.next(timeout=20)
                assert message is not None, (client.close_code, client.close_reason)
                if "seq" not in message:
                    continue
                received.append(message)
                taken += 1
                if message["type"] == "execution.completed":
                    break
            await client.leave()
            if received and received[-1]["type"] == "execution.completed":
                break
        await finished(execution)
        return received, await astored(execution.pk)

    received, everything = run(scenario())
    wanted = parse_filter(types=query.split("types=")[1].split("&")[0] if "types=" in query else None,
                          nodes=query.split("nodes=")[1].split("&")[0] if "nodes=" in query else None,
                          min_level="info" if "min_level" in query else None, known_types=EVENT_TYPES)
    expected = [event for event in everything if wanted.matches(event)]
    assert [event["seq"] for event in received] == [event["seq"] for event in expected]
    assert received == expected
