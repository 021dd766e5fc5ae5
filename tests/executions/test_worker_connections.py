"""A worker process keeps its PostgreSQL connection across step tasks
(`symphony_site/worker_connections.py`), and replaces it when PostgreSQL ended it.

Which backend ran each claim is recorded by a trigger on the node-run table (the claim is the
step task's first write, on the task's own connection), so the test sees exactly the
connections the step tasks used, not the worker's other threads'."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from executions.models import NodeRun
from tests.conftest import WorkerProcess, start_worker
from workflows import samples as s

from .conftest import document, run, wait_until
from .test_faults import BRPOP_TIMEOUT_S, broker, set_consuming

CLAIMS_TABLE = "test_claim_backends"


@pytest.fixture
def claim_backends(transactional_db: Any) -> Iterator[Callable[[], list[tuple[str, str, int, Any]]]]:
    """Every claim from now on: (node id, lease owner, backend pid, backend start), in order."""
    with connection.cursor() as cursor:
        cursor.execute(f"""
            CREATE TABLE {CLAIMS_TABLE} (id bigserial PRIMARY KEY, run_id bigint, owner text,
                                         backend_pid integer, backend_start timestamptz);
            CREATE FUNCTION {CLAIMS_TABLE}_note() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO {CLAIMS_TABLE} (run_id, owner, backend_pid, backend_start)
                SELECT NEW.id, NEW.lease_owner, a.pid, a.backend_start
                FROM pg_stat_activity a WHERE a.pid = pg_backend_pid();
                RETURN NULL;
            END $$;
            CREATE TRIGGER {CLAIMS_TABLE}_note AFTER UPDATE ON executions_noderun FOR EACH ROW
                WHEN (NEW.state = 'running' AND OLD.state <> 'running') EXECUTE FUNCTION {CLAIMS_TABLE}_note();
        """)

    def claims() -> list[tuple[str, str, int, Any]]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT run_id, owner, backend_pid, backend_start FROM {CLAIMS_TABLE} ORDER BY id")
            rows = cursor.fetchall()
        names = dict(NodeRun.objects.filter(pk__in=[row[0] for row in rows]).values_list("pk", "node_id"))
        return [(names[run_id], owner, pid, started) for run_id, owner, pid, started in rows]

    try:
        yield claims
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER {CLAIMS_TABLE}_note ON executions_noderun; "
                           f"DROP FUNCTION {CLAIMS_TABLE}_note(); DROP TABLE {CLAIMS_TABLE};")


@pytest.fixture
def own_worker(celery_worker: str, tmp_path: Path) -> Iterator[tuple[WorkerProcess, Path]]:
    """A worker of one process that alone takes the engine's messages (the session's worker stops
    consuming meanwhile), with its log in a file."""
    set_consuming(celery_worker, [])
    time.sleep(BRPOP_TIMEOUT_S + 0.5)  # the session worker's last poll (see test_faults.consumers_off)
    log = tmp_path / "worker.log"
    with log.open("wb") as log_file:
        worker = start_worker(concurrency=1, log_to=log_file)
        try:
            yield worker, log
        finally:
            worker.stop()
            broker().delete("steps", "io", "models")
            set_consuming(celery_worker, ["steps", "io", "models"])


def delays(count: int) -> dict[str, Any]:
    """An input, `count` zero delays one after the other (each on the io queue, so each is its own
    step task through the broker), an output."""
    chain = [f"d{number}" for number in range(1, count + 1)]
    nodes = [s.node_input("x", "string")] + [s.node_operator(node, "delay", {"milliseconds": 0}) for node in chain]
    edges = [s.data_edge(f"e{number}", source, "value", target, "value")
             for number, (source, target) in enumerate(zip(["x", *chain[:-1]], chain, strict=True), start=1)]
    return document("Delays", [*nodes, s.node_output("out", "string")],
                    [*edges, s.data_edge("last", chain[-1], "value", "out", "value")])


def worker_pid(owner: str) -> int:
    return int(owner.split("/")[2])


def test_a_worker_process_keeps_one_backend_across_step_tasks(engine, own_worker, claim_backends) -> None:
    worker, log = own_worker
    began = time.monotonic()
    done = run(engine, delays(6), {"x": "y"})
    took = time.monotonic() - began
    assert (done.state, done.outputs) == ("completed", {"out": "y"})
    claims = claim_backends()
    assert [node for node, *_ in claims] == ["x", "d1", "d2", "d3", "d4", "d5", "d6", "out"]
    assert {worker_pid(owner) for _, owner, *_ in claims} == set(worker.child_pids())
    # Six of these claims were six step tasks (each delay comes through the broker); before
    # connections were kept, each had a backend of its own. A connection is kept up to
    # CONN_MAX_AGE (60 s), which this run (a few seconds, the worker new) must not have reached.
    assert took < settings.DATABASES["default"]["CONN_MAX_AGE"]
    assert len({(pid, started) for *_, pid, started in claims}) == 1
    assert "raised unexpected" not in log.read_text()


def test_a_step_after_its_backend_was_terminated_runs_on_a_new_one(engine, own_worker, claim_backends) -> None:
    worker, log = own_worker
    first = run(engine, delays(2), {"x": "y"})
    assert first.state == "completed"
    ended = sorted({pid for *_, pid, _ in claim_backends()})
    assert len(ended) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::integer[]) AS pid", [ended])
        assert cursor.fetchall() == [(True,)]

    def gone() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [ended])
            return cursor.fetchone()[0] == 0

    wait_until(gone, what="the terminated backend to exit")

    second = run(engine, delays(2), {"x": "z"})
    assert (second.state, second.outputs) == ("completed", {"out": "z"})
    claims = claim_backends()[4:]
    assert [node for node, *_ in claims] == ["x", "d1", "d2", "out"]
    backends = {pid for *_, pid, _ in claims}
    assert len(backends) == 1 and backends.isdisjoint(ended)
    # Found dead before use, not by a failing task (which would have left this to the reaper).
    assert list(NodeRun.objects.filter(execution=second).values_list("attempt", flat=True).distinct()) == [1]
    assert "raised unexpected" not in log.read_text()
    assert {worker_pid(owner) for _, owner, *_ in claims} == set(worker.child_pids())
