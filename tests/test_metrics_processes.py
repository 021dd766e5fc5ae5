"""Metric files of many processes: a dead web process's open WebSockets stop counting, counters
of every process (and with PROMETHEUS_MULTIPROC_SHARED, of every container) are added up, and
`clear_metrics` empties them. The writers are real processes using prometheus-client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from symphony_site import metrics

from .executions.test_metrics import scrape, series

WRITER = """
import sys, time
from prometheus_client import Counter, Gauge
gauge = Gauge("symphony_websocket_connections", "Open.", ["consumer"], multiprocess_mode="livesum")
counter = Counter("symphony_audit_appends_total", "Appended.", ["event_type"])
gauge.labels("ExecutionEventsConsumer").inc(int(sys.argv[1]))
counter.labels("workflow.created").inc(int(sys.argv[1]))
print("ready", flush=True)
time.sleep(120)
"""


@pytest.fixture
def writers() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def write(writers: list[subprocess.Popen[str]], directory: Path, count: int) -> subprocess.Popen[str]:
    directory.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(count)], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)})
    writers.append(process)
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return process


def totals(collector: metrics.ProcessFiles) -> dict[str, float]:
    return {sample.name: sample.value for family in collector.collect() for sample in family.samples
            if sample.name in ("symphony_websocket_connections", "symphony_audit_appends_total")}


def test_a_killed_process_stops_counting_its_websockets_but_keeps_its_counts(tmp_path, writers) -> None:
    crashed = write(writers, tmp_path, 3)
    alive = write(writers, tmp_path, 2)
    assert totals(metrics.ProcessFiles(own=str(tmp_path))) == {
        "symphony_websocket_connections": 5.0, "symphony_audit_appends_total": 5.0}
    assert metrics.forget_dead_processes(str(tmp_path)) == []  # both alive: nothing is dropped

    crashed.send_signal(signal.SIGKILL)
    crashed.wait()
    assert metrics.forget_dead_processes(str(tmp_path)) == [crashed.pid]
    assert totals(metrics.ProcessFiles(own=str(tmp_path))) == {
        "symphony_websocket_connections": 2.0, "symphony_audit_appends_total": 5.0}
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == sorted([f"counter_{crashed.pid}.db", f"counter_{alive.pid}.db",
                            f"gauge_livesum_{alive.pid}.db"])


def test_shared_volume_every_containers_files_are_added_up(tmp_path, writers, db) -> None:
    write(writers, tmp_path / "web-5f2c", 4)
    write(writers, tmp_path / "worker-9a1b", 7)
    assert totals(metrics.ProcessFiles(shared=str(tmp_path))) == {
        "symphony_websocket_connections": 11.0, "symphony_audit_appends_total": 11.0}
    with override_settings(PROMETHEUS_MULTIPROC_SHARED=str(tmp_path)):
        samples = scrape()
    assert series(samples, "symphony_audit_appends_total", event_type="workflow.created") == 11.0
    assert series(samples, "symphony_websocket_connections", consumer="ExecutionEventsConsumer") == 11.0


def test_clear_metrics_empties_every_containers_files(tmp_path, writers, capsys) -> None:
    for host, count in [("web-5f2c", 1), ("worker-9a1b", 2)]:
        write(writers, tmp_path / host, count)
    (tmp_path / "web-5f2c" / "notes.txt").write_text("not a metric file")
    with override_settings(PROMETHEUS_MULTIPROC_SHARED=str(tmp_path)):
        call_command("clear_metrics")
    assert capsys.readouterr().out == "Deleted 4 metric files.\n"
    assert sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file()) == [
        "web-5f2c/notes.txt"]


def test_clear_metrics_without_a_shared_volume_empties_this_hosts_directory(tmp_path, writers, capsys) -> None:
    write(writers, tmp_path, 1)
    with override_settings(PROMETHEUS_MULTIPROC_SHARED="", PROMETHEUS_MULTIPROC_DIR=str(tmp_path)):
        call_command("clear_metrics")
    assert capsys.readouterr().out == "Deleted 2 metric files.\n"
    assert list(tmp_path.iterdir()) == []
