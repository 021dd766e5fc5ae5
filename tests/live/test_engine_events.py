"""Events of real executions on a real worker: progress throttled and ordered, log lines capped
with one truncated marker, and the reporter's own rules checked without a worker."""

from __future__ import annotations

import math

import pytest
from django.conf import settings as django_settings

from executions.engine.leases import EngineReporter, RunningNode, write_reports
from executions.models import ExecutionEvent, NodeRun
from tests.executions.conftest import run, store

from . import workflows as w
from .conftest import make_execution, stored


def node_stream(execution, node_id: str) -> list[tuple[str, dict]]:
    return [(event.type, event.data) for event in
            ExecutionEvent.objects.filter(execution=execution, node_id=node_id).order_by("seq")]


def test_a_slow_node_reports_progress_at_most_n_times_a_second_before_its_result(engine) -> None:
    execution = run(engine, w.slow(1500), {"value": "x"})
    assert execution.state == "completed"
    stream = node_stream(execution, "wait")
    types = [event_type for event_type, _ in stream]
    assert types[:2] == ["node.queued", "node.started"] and types[-1] == "node.completed"
    progress = [data for event_type, data in stream if event_type == "node.progress"]
    assert types[2:-1] == ["node.progress"] * len(progress)
    duration_s = NodeRun.objects.get(execution=execution, node_id="wait").duration_ms / 1000
    # The delay reports ten times a second; at most EXECUTION_PROGRESS_PER_SECOND of them are kept.
    assert 2 <= len(progress) <= math.ceil(duration_s * django_settings.EXECUTION_PROGRESS_PER_SECOND) + 1
    fractions = [data["fraction"] for data in progress]
    assert fractions == sorted(fractions) and len(set(fractions)) == len(fractions)
    assert all(0 < fraction < 1 and data["message"] == "waiting" for fraction, data in zip(fractions, progress, strict=True))


def test_a_chatty_node_is_capped_with_one_truncated_marker(engine) -> None:
    store(engine, w.say_body())
    cap = django_settings.EXECUTION_LOG_LINES_PER_NODE
    execution = run(engine, w.chatty(cap + 50), {"count": 1})
    assert execution.state == "completed"
    stream = node_stream(execution, "each")
    lines = [data for event_type, data in stream if event_type == "log"]
    assert len(lines) == cap + 1
    assert all(data["level"] == "info" and data["message"].startswith("item ") for data in lines[:cap])
    assert lines[cap] == {"level": "warning", "truncated": True, "limit": cap,
                          "message": f"Further log lines of node 'each' were dropped (at most {cap} per node)."}
    assert [event_type for event_type, _ in stream][-1] == "node.completed"
    assert NodeRun.objects.get(execution=execution, node_id="each").log_lines == cap + 1


def test_every_event_of_a_busy_run_is_numbered_without_a_gap(engine) -> None:
    store(engine, w.say_body())
    execution = run(engine, w.busy(lines=12, wait_ms=600), {"value": 1})
    assert execution.state == "completed"
    events = stored(execution.pk)
    assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
    execution.refresh_from_db()
    assert execution.event_seq == len(events)
    per_node = {}
    for event in events:
        if "node_id" in event:
            per_node.setdefault(event["node_id"], []).append(event["type"])
    for node_id, types in per_node.items():
        assert types[0] == "node.queued" and types[-1] == "node.completed", node_id
        assert "node.completed" not in types[:-1], node_id
    assert sum(types.count("log") for types in per_node.values()) == 12


# -- the reporter's rules, without a worker --------------------------------------------------


@pytest.fixture
def running(personas, transactional_db):
    """A node run of a fresh execution, Running under a lease this test holds."""
    from django.utils import timezone

    execution = make_execution(personas)
    NodeRun.objects.filter(execution=execution, node_id="greet").update(
        state="running", attempt=1, lease_owner="test/owner", lease_expires_at=timezone.now())
    run_id = NodeRun.objects.get(execution=execution, node_id="greet").pk
    node = RunningNode(run_id=run_id, execution_id=execution.pk, node_id="greet", owner="test/owner",
                       deadline=None)
    yield execution, node
    # No worker holds this lease (nor the "someone/else" a test hands it to), so none would ever
    # stop the node: let go of it as a worker would, or the settle step after the test waits its
    # whole 10 s for the node (it did, after every test here).
    NodeRun.objects.filter(pk=run_id, state="running").update(state="pending", lease_owner="",
                                                              lease_expires_at=None)


def test_progress_is_coalesced_the_latest_value_wins(running) -> None:
    execution, node = running
    reporter = EngineReporter(node)
    for step in range(1, 1001):
        reporter.progress(step / 1000, f"step {step}")
    reporter.progress(float("nan"), "ignored")
    reporter.progress("not a number", "ignored")  # type: ignore[arg-type]
    write_reports(node, *node.take_reports())
    assert node_stream(execution, "greet") == [("node.progress", {"fraction": 1.0, "message": "step 1000"})]
    run_ = NodeRun.objects.get(pk=node.run_id)
    assert (run_.progress, run_.message) == (1.0, "step 1000")


def test_long_lines_are_cut_and_say_how_long_they_were(running, settings) -> None:
    settings.EXECUTION_LOG_LINE_MAX_CHARS = 50
    execution, node = running
    reporter = EngineReporter(node)
    reporter.log("error", "x" * 120)
    reporter.log("shout", "short")
    write_reports(node, *node.take_reports())
    assert node_stream(execution, "greet") == [
        ("log", {"level": "error", "message": "x" * 50, "clipped_from": 120}),
        ("log", {"level": "info", "message": "short"})]


def test_the_cap_holds_across_flushes_and_memory_stays_bounded(running, settings) -> None:
    settings.EXECUTION_LOG_LINES_PER_NODE = 5
    execution, node = running
    reporter = EngineReporter(node)
    for index in range(3):
        reporter.log("info", f"a{index}")
    write_reports(node, *node.take_reports())
    for index in range(10_000):
        reporter.log("info", f"b{index}")
    assert len(node.lines) == 3  # at most one past the cap is held between flushes
    write_reports(node, *node.take_reports())
    for index in range(10):
        reporter.log("info", f"c{index}")
    write_reports(node, *node.take_reports())
    messages = [data["message"] for _, data in node_stream(execution, "greet")]
    assert messages == ["a0", "a1", "a2", "b0", "b1",
                        "Further log lines of node 'greet' were dropped (at most 5 per node)."]
    assert NodeRun.objects.get(pk=node.run_id).log_lines == 6


def test_an_attempt_that_lost_its_lease_says_nothing_more(running) -> None:
    execution, node = running
    NodeRun.objects.filter(pk=node.run_id).update(lease_owner="someone/else")
    reporter = EngineReporter(node)
    reporter.progress(0.5, "half")
    reporter.log("info", "late")
    write_reports(node, *node.take_reports())
    assert node_stream(execution, "greet") == []
    execution.refresh_from_db()
    assert execution.event_seq == 0


def test_the_last_take_waits_for_a_flush_in_flight_and_ends_flushing(running) -> None:
    _, node = running
    EngineReporter(node).log("info", "one")
    progress, lines = node.final_reports()
    assert (progress, lines) == (None, [("info", "one", 3)])
    assert node.finished is True
