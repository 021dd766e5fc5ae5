"""Structured logs: a request's id is in its X-Request-ID header, its JSON log line and the audit
entry it made (the chain still verifies); a step's log lines carry execution_id and node_id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from audit.models import AuditEntry
from symphony_site import logs


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Every log line written meanwhile, rendered as LOG_FORMAT=json renders it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    formatter_config = logs.formatter("json")
    factory = formatter_config.pop("()")
    handler.setFormatter(factory(**formatter_config))
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_requests_id_is_in_its_header_its_log_line_and_its_audit_entry(personas, json_lines) -> None:
    answer = personas.client("owner").post("/api/v1/auth/tokens/", {"name": "laptop"}, format="json")
    assert answer.status_code == 201
    request_id = answer["X-Request-ID"]
    assert len(request_id) == 32
    lines = [line for line in parsed(json_lines) if line.get("event") == "http.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == request_id
    assert (line["method"], line["status"], line["view"], line["level"]) == ("POST", 201, "api-tokens", "info")
    assert line["user_id"] == personas.users["owner"].pk
    entry = AuditEntry.objects.get(event_type="auth.token_created")
    assert entry.details["request_id"] == request_id
    # The id is part of the hashed details: the chain still verifies.
    verified = personas.client("owner").get("/api/v1/audit/verify/").json()
    assert verified["valid"] is True and verified["first_break"] is None


def test_each_request_gets_its_own_id(personas) -> None:
    client = personas.client("viewer")
    first, second = client.get("/api/v1/me/"), client.get("/api/v1/me/")
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_steps_log_lines_carry_its_execution_and_node(personas, json_lines) -> None:
    from executions.demo import step_in_process
    from tests.executions.conftest import document, start, store
    from workflows import samples as s

    built = document("Logged", [
        s.node_input("x", "string"),
        s.node_operator("say", "log", {"message": "said hello", "level": "warning"}),
        s.node_output("out"),
    ], [s.data_edge("e1", "x", "value", "say", "value"), s.data_edge("e2", "say", "value", "out", "value")])
    execution = step_in_process(start(personas, store(personas, built), {"x": "hi"}))
    assert execution.state == "completed"
    attempts = [line for line in parsed(json_lines) if line.get("event") == "node.attempt"]
    assert sorted(line["node_id"] for line in attempts) == ["out", "say", "x"]
    assert {line["execution_id"] for line in attempts} == {str(execution.pk)}
    assert {line["team"] for line in attempts} == {str(personas.team.pk)}
    assert all(line["outcome"] == "completed" and line["logger"] == "symphony.step" for line in attempts)
    say = next(line for line in attempts if line["node_id"] == "say")
    assert say["node_type"] == "log" and say["attempt"] == 1


def test_a_steps_attempt_line_gives_the_nodes_run_time_in_milliseconds(personas, json_lines, monkeypatch) -> None:
    """`node.attempt`'s `duration_ms` is the node's run time in milliseconds, to 0.01 ms. The step
    module's `time` is given a clock whose `perf_counter` moves 0.25 s a reading (its
    `monotonic`, the inline budget and the node deadlines, stays the real one), so every node
    here takes 250 ms by that clock."""
    import time
    from types import SimpleNamespace

    from executions.demo import step_in_process
    from executions.engine import stepping
    from tests.executions.conftest import document, start, store
    from workflows import samples as s

    readings = iter(range(1, 1000))
    monkeypatch.setattr(stepping, "time", SimpleNamespace(monotonic=time.monotonic,
                                                          perf_counter=lambda: next(readings) * 0.25))
    built = document("Timed", [s.node_input("x", "string"), s.node_output("out")],
                     [s.data_edge("e1", "x", "value", "out", "value")])
    execution = step_in_process(start(personas, store(personas, built), {"x": "hi"}))
    assert execution.state == "completed"
    attempts = [line for line in parsed(json_lines) if line.get("event") == "node.attempt"]
    assert sorted((line["node_id"], line["duration_ms"]) for line in attempts) == [("out", 250.0), ("x", 250.0)]
