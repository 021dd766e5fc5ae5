"""What a step message carries when it leaves (`executions.engine.dispatching`), read back from
the real Redis broker.

The messages go to a queue no worker consumes, so they stay in the broker to be read. The
state-machine test keeps step messages in a list and never sees their routing options; these
cases were added when mutation testing showed a lost countdown and a wrongly read queue
surviving (docs/testing.md).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.conf import settings

from executions.engine.books import Dispatch
from executions.engine.dispatching import send_after_commit, send_now
from workflows import samples as s

from .conftest import document, store

PROBE_QUEUE = "dispatch-probe"  # consumed by no worker


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(PROBE_QUEUE)
    yield client
    client.delete(PROBE_QUEUE)


def sent(broker: redis.Redis) -> list[dict[str, Any]]:
    """The messages waiting in the probe queue, oldest first: headers and decoded arguments."""
    messages = []
    for raw in reversed(broker.lrange(PROBE_QUEUE, 0, -1)):
        message = json.loads(raw)
        body = json.loads(base64.b64decode(message["body"]))
        messages.append({"task": message["headers"]["task"], "eta": message["headers"]["eta"],
                         "args": body[0], "routing_key": message["properties"]["delivery_info"]["routing_key"]})
    return messages


@pytest.mark.django_db(transaction=True)
def test_a_countdown_travels_with_the_message_and_no_countdown_means_now(broker) -> None:
    send_after_commit(7, Dispatch(run_id=11, node_id="a", queue=PROBE_QUEUE, countdown=30))
    send_after_commit(7, Dispatch(run_id=12, node_id="b", queue=PROBE_QUEUE))
    send_after_commit(7, Dispatch(run_id=13, node_id="c", queue=PROBE_QUEUE, countdown=0))
    first, second, third = sent(broker)
    assert (first["task"], first["args"], first["routing_key"]) == ("executions.step", ["7", 11], PROBE_QUEUE)
    assert first["eta"] is not None  # delivered no sooner than 30 s from now
    assert (second["args"], second["eta"]) == (["7", 12], None)
    assert (third["args"], third["eta"]) == (["7", 13], None)


def test_a_message_waits_for_the_commit(broker, transactional_db) -> None:
    from django.db import transaction

    with transaction.atomic():
        send_after_commit(7, Dispatch(run_id=11, node_id="a", queue=PROBE_QUEUE))
        assert sent(broker) == []
    assert [message["args"] for message in sent(broker)] == [["7", 11]]
    with pytest.raises(RuntimeError), transaction.atomic():
        send_after_commit(7, Dispatch(run_id=12, node_id="b", queue=PROBE_QUEUE))
        raise RuntimeError("rolled back")
    assert [message["args"] for message in sent(broker)] == [["7", 11]]  # nothing for the rollback


def test_send_now_sends_cheap_leftovers_together_and_others_alone(broker, settings, transactional_db,
                                                                  personas) -> None:
    """Runs a task kept for inline but had no time left for: cheap ones of one queue share a
    message, up to EXECUTION_BATCH_MAX; a run that is not cheap, or waits for a countdown, goes
    alone."""
    from executions.engine.graphs import compiled

    settings.EXECUTION_BATCH_MAX = 2
    built = document("Mixed", [s.node_input("in", "any"),
                               *(s.node_operator(f"c{i}", "select", {"path": "x"}) for i in range(3)),
                               s.node_operator("wait", "delay", {"milliseconds": 1})],
                     [*(s.data_edge(f"e{i}", "in", "value", f"c{i}", "value") for i in range(3)),
                      s.data_edge("e9", "in", "value", "wait", "value")])
    workflow = store(personas, built)
    graph = compiled(workflow.current_version_id)
    send_now(7, [Dispatch(run_id=21, node_id="c0", queue=PROBE_QUEUE),
                 Dispatch(run_id=22, node_id="wait", queue=PROBE_QUEUE),
                 Dispatch(run_id=23, node_id="c1", queue=PROBE_QUEUE),
                 Dispatch(run_id=24, node_id="c2", queue=PROBE_QUEUE, countdown=0.5),
                 Dispatch(run_id=25, node_id="c2", queue=PROBE_QUEUE)], graph)
    assert [message["args"] for message in sent(broker)] == [["7", 22], ["7", 24], ["7", 21, [23]], ["7", 25]]
