"""Faults through real workers: a worker killed inside a node, a step message delivered twice,
a message lost in the broker, twenty executions at once, and SSRF attempts refused end to end."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.conf import settings

from executions.engine import reaper
from executions.models import Execution, ExecutionEvent, NodeRun
from executions.tasks import step
from symphony_site.celery import app
from workflows import samples as s

from .conftest import document, http_node, run, runs, start, store, wait_for, wait_node, wait_until

BRPOP_TIMEOUT_S = 1  # kombu's Redis transport default (we do not change it)


def broker() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def queued_messages(queue: str) -> int:
    return int(broker().llen(queue))


@pytest.fixture
def consumers_off(celery_worker: str, settings: Any) -> Iterator[None]:
    """The test worker stops taking step messages (they stay in the broker) until the test ends;
    steps run here do not run successors inline (each delivery is one node)."""
    settings.EXECUTION_INLINE_MAX = 0
    set_consuming(celery_worker, [])
    # A cancelled queue can still be inside the worker's last BRPOP (kombu waits up to its
    # brpop_timeout, one second, per poll). A message popped there finds no consumer and is put
    # back a moment later, so a test counting the broker's messages right away would see none.
    time.sleep(BRPOP_TIMEOUT_S + 0.5)
    yield
    broker().delete("steps", "io", "models")  # leftovers would race the database flush
    set_consuming(celery_worker, ["steps", "io", "models"])


def set_consuming(worker: str, queues: list[str]) -> None:
    """Make the worker consume exactly these engine queues, and wait until it says it does (a busy
    machine can take longer than a remote-control reply's timeout)."""
    deadline = time.monotonic() + 30
    with app.connection_for_write(settings.CELERY_BROKER_URL) as connection:
        while True:
            for queue in ("steps", "io", "models"):
                if queue in queues:
                    app.control.add_consumer(queue, destination=[worker], reply=True, timeout=3,
                                             connection=connection)
                else:
                    app.control.cancel_consumer(queue, destination=[worker], reply=True, timeout=3,
                                                connection=connection)
            replies = app.control.inspect(destination=[worker], timeout=3, connection=connection).active_queues() or {}
            if worker in replies and {queue["name"] for queue in replies[worker]} == set(queues):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the worker did not switch to consuming {queues}: {replies}")


def two_steps() -> dict[str, Any]:
    """`first` (cheap) then `second` (a zero delay on the io queue, so it goes through the broker)."""
    return document("Two steps", [
        s.node_input("x", "string"),
        s.node_operator("first", "template", {"template": "first {{ inputs.variables }}"}),
        s.node_operator("second", "delay", {"milliseconds": 0}),
        s.node_output("out", "string"),
    ], [
        s.data_edge("e1", "x", "value", "first", "variables"),
        s.data_edge("e2", "first", "text", "second", "value"),
        s.data_edge("e3", "second", "value", "out", "value"),
    ])


def count(execution: Execution, event_type: str, node_id: str) -> int:
    return ExecutionEvent.objects.filter(execution=execution, type=event_type, node_id=node_id).count()


def test_a_step_message_delivered_twice_changes_nothing_the_second_time(engine, consumers_off) -> None:
    broker().delete("steps", "io", "models")
    execution = start(engine, store(engine, two_steps()), {"x": "y"})
    source = NodeRun.objects.get(execution=execution, node_id="x")
    assert queued_messages("steps") == 1  # the input node's message, waiting in the broker
    step(str(execution.pk), source.pk)  # the real task function, run here
    first = NodeRun.objects.get(execution=execution, node_id="first")
    step(str(execution.pk), first.pk)
    after = {node_id: (run_.state, run_.attempt) for node_id, run_ in runs(execution).items()}
    assert after == {"x": ("completed", 1), "first": ("completed", 1), "second": ("queued", 0),
                     "out": ("pending", 0)}
    assert (queued_messages("steps"), queued_messages("io")) == (2, 1)
    events_before = ExecutionEvent.objects.filter(execution=execution).count()
    step(str(execution.pk), source.pk)  # the same messages again
    step(str(execution.pk), first.pk)
    assert {node_id: (run_.state, run_.attempt) for node_id, run_ in runs(execution).items()} == after
    assert ExecutionEvent.objects.filter(execution=execution).count() == events_before
    assert (queued_messages("steps"), queued_messages("io")) == (2, 1)  # nothing dispatched twice
    assert (count(execution, "node.queued", "second"), count(execution, "node.completed", "first")) == (1, 1)


def test_two_deliveries_racing_record_the_node_once(engine, consumers_off) -> None:
    broker().delete("steps", "io", "models")
    execution = start(engine, store(engine, two_steps()), {"x": "y"})
    source = NodeRun.objects.get(execution=execution, node_id="x")
    barrier = threading.Barrier(2)

    def deliver() -> None:
        from django.db import connection

        barrier.wait()
        try:
            step(str(execution.pk), source.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (count(execution, "node.started", "x"), count(execution, "node.completed", "x")) == (1, 1)
    assert count(execution, "node.queued", "first") == 1
    assert queued_messages("steps") == 2  # the input's own message, and first's: once


def test_a_lost_message_is_sent_again_by_the_reaper(engine, consumers_off, celery_worker) -> None:
    broker().delete("steps", "io", "models")
    execution = start(engine, store(engine, two_steps()), {"x": "y"})
    assert queued_messages("steps") == 1
    broker().delete("steps")  # the broker lost it (a restart without persistence)
    set_consuming(celery_worker, ["steps", "io", "models"])
    time.sleep(0.3)
    assert NodeRun.objects.get(execution=execution, node_id="x").state == "queued"  # nothing ran it
    resent = 0
    deadline = time.monotonic() + 20
    while Execution.objects.get(pk=execution.pk).state == "running" and time.monotonic() < deadline:
        resent += reaper.reap()["resent"]
        time.sleep(0.1)
    done = Execution.objects.get(pk=execution.pk)
    assert (done.state, done.outputs, resent) == ("completed", {"out": "first y"}, 1)
    assert runs(done)["x"].attempt == 1


def test_a_worker_killed_inside_a_node_loses_nothing(engine) -> None:
    built = document("Killed", [
        s.node_input("x", "string"),
        s.node_operator("slow", "delay", {"milliseconds": 1500}),
        s.node_operator("after", "template", {"template": "after {{ inputs.variables }}"}),
        s.node_output("out", "string"),
    ], [
        s.data_edge("e1", "x", "value", "slow", "value"),
        s.data_edge("e2", "slow", "value", "after", "variables"),
        s.data_edge("e3", "after", "text", "out", "value"),
    ])
    execution = start(engine, store(engine, built), {"x": "y"})
    running = wait_node(execution, "slow", ("running",))
    pid = int(running.lease_owner.split("/")[2])
    assert pid != os.getpid()
    os.kill(pid, signal.SIGKILL)  # the worker process running the node dies mid-node
    deadline = time.monotonic() + 30
    while Execution.objects.get(pk=execution.pk).state == "running" and time.monotonic() < deadline:
        reaper.reap()  # the beat's job; the dead process's message usually comes back first
        time.sleep(0.1)
    done = Execution.objects.get(pk=execution.pk)
    assert (done.state, done.outputs) == ("completed", {"out": "after y"})
    slow = runs(done)["slow"]
    assert (slow.attempt, slow.lost_leases, slow.max_attempts) == (2, 1, 2)
    assert slow.error is None and slow.output == {"value": "y"}
    # Recorded once, and its successor dispatched once.
    assert (count(done, "node.started", "slow"), count(done, "node.retrying", "slow"),
            count(done, "node.completed", "slow")) == (2, 1, 1)
    assert (count(done, "node.queued", "after"), count(done, "node.completed", "after")) == (1, 1)
    retrying = ExecutionEvent.objects.get(execution=done, type="node.retrying", node_id="slow")
    assert retrying.data["error"]["code"] == "worker_lost"


def test_twenty_executions_at_once(engine) -> None:
    workflow = store(engine, document("Many", [
        s.node_input("x", "integer"),
        s.node_control("fan", "parallel"),
        s.node_operator("wait", "delay", {"milliseconds": 50}),
        s.node_operator("text", "json_format", {}),
        s.node_control("gather", "join"),
        s.node_output("out"),
    ], [
        s.data_edge("e1", "x", "value", "fan", "value"),
        s.data_edge("e2", "fan", "value", "wait", "value"),
        s.data_edge("e3", "fan", "value", "text", "value"),
        s.data_edge("e4", "wait", "value", "gather", "value"),
        s.data_edge("e5", "text", "text", "gather", "value"),
        s.data_edge("e6", "gather", "value", "out", "value"),
    ]))
    executions = [start(engine, workflow, {"x": number}) for number in range(20)]
    finished = [wait_for(execution, timeout=60) for execution in executions]
    assert [(done.state, done.outputs) for done in finished] == [
        ("completed", {"out": [number, str(number)]}) for number in range(20)]
    for done in finished:
        seqs = list(ExecutionEvent.objects.filter(execution=done).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))
        completed = Counter(ExecutionEvent.objects.filter(execution=done, type="node.completed")
                            .values_list("node_id", flat=True))
        assert completed == dict.fromkeys(("x", "fan", "wait", "text", "gather", "out"), 1)


# --------------------------------------------------------------------------- SSRF


def ssrf_workflow(url: str) -> dict[str, Any]:
    return document("Fetch", [s.node_input("x", "string"), http_node("fetch", url), s.node_output("out")],
                    [s.control_edge("e1", "x", "fetch"), s.data_edge("e2", "fetch", "body", "out", "value")])


def test_the_allowed_local_server_answers(engine, http_server) -> None:
    execution = run(engine, ssrf_workflow(http_server.url("/ok")), {"x": "y"})
    assert (execution.state, execution.outputs) == ("completed", {"out": {"ok": True}})


@pytest.mark.parametrize("target", [
    "http://127.0.0.1:{port}/ok",  # loopback
    "http://[::1]:{port}/ok",  # loopback, IPv6
    "http://10.20.30.40/ok",  # private
    "http://192.168.1.1/ok",  # private
    "http://169.254.169.254/latest/meta-data/",  # link-local: the cloud metadata address
    "http://{hostname}:{port}/ok",  # a DNS name that resolves to an internal address
    "http://localhost:{port}/redirect?to=http://127.0.0.1:{port}/ok",  # a redirect to loopback
    "http://localhost:{port}/redirect?to=http://169.254.169.254/latest/meta-data/",  # to link-local
    "http://localhost:{port}/redirect?to=http://10.0.0.1/",  # to private
], ids=["loopback", "loopback-v6", "private-10", "private-192", "link-local", "dns-to-internal",
        "redirect-loopback", "redirect-link-local", "redirect-private"])
def test_ssrf_attempts_are_refused(engine, http_server, target) -> None:
    hostname = socket.gethostname()
    resolved = socket.gethostbyname(hostname)
    import ipaddress

    assert ipaddress.ip_address(resolved).is_private  # the name stands for "resolves inside"
    url = target.format(port=http_server.port, hostname=hostname)
    execution = run(engine, ssrf_workflow(url), {"x": "y"})
    assert execution.state == "failed"
    error = runs(execution)["fetch"].error
    assert (error["code"], error["retryable"]) == ("address_refused", False)
    assert runs(execution)["fetch"].attempt == 1
    if "redirect" in target:
        assert http_server.hits == ["/redirect"]  # the first hop ran; the redirect was not followed
    else:
        assert http_server.hits == []
    assert wait_until(lambda: Execution.objects.get(pk=execution.pk).error, what="the error")["code"] == "node_failed"
