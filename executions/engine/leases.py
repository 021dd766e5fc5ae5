"""Leases of running node runs, kept alive by one heartbeat thread per worker process.

A claimed node run holds a lease (owner, expiry from the database clock). While
its node runs, this process's keeper thread renews the lease every third of
its length, polls whether the execution was stopped (cancel, failure, deadline)
so `reporter.should_stop()` turns true, and writes coalesced progress and log
lines. A node that outlives its own deadline is no longer renewed: its lease
lapses and the reaper takes over. Nodes shorter than one tick cost the keeper
nothing but a dictionary entry.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction

logger = logging.getLogger(__name__)

LOG_LEVELS = ("debug", "info", "warning", "error")


def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return "0"


_identity: tuple[int, str] | None = None


def process_identity() -> str:
    """host/pid-namespace/pid: enough to tell, on the same host, whether the owner is alive."""
    global _identity
    pid = os.getpid()
    if _identity is None or _identity[0] != pid:  # a forked child has its own
        _identity = (pid, f"{socket.gethostname()}/{_pid_namespace()}/{pid}")
    return _identity[1]


def new_lease_owner() -> str:
    return f"{process_identity()}/{uuid.uuid4().hex[:12]}"


def owner_is_dead_here(owner: str) -> bool:
    """True when `owner` names a process of this host and pid namespace that no longer exists.

    The step task uses it to take over at once a node whose worker process was killed on
    this machine (its message comes back through `reject_on_worker_lost`), instead of
    waiting for the lease to lapse. Owners on other hosts are never judged dead here.
    """
    parts = owner.split("/")
    if len(parts) != 4:
        return False
    host, namespace, pid_text, _ = parts
    if host != socket.gethostname() or namespace != _pid_namespace() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


@dataclass(eq=False)
class RunningNode:
    """One node attempt running in this process, and what it has to say."""

    run_id: int
    execution_id: Any
    node_id: str
    owner: str
    deadline: float | None
    started: float = field(default_factory=time.monotonic)
    stop: threading.Event = field(default_factory=threading.Event)
    lost: bool = False
    progress: tuple[float, str] | None = None
    progress_dirty: bool = False
    lines: list[tuple[str, str]] = field(default_factory=list)
    line_count: int = 0
    truncated: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_reports(self) -> tuple[tuple[float, str] | None, list[tuple[str, str]]]:
        with self.lock:
            progress = self.progress if self.progress_dirty else None
            lines, self.lines = self.lines, []
            self.progress_dirty = False
            return progress, lines


class EngineReporter:
    """The `Reporter` a node talks to: coalesced progress, capped log lines, stop requests."""

    def __init__(self, running: RunningNode) -> None:
        self.running = running

    def progress(self, fraction: float, message: str = "") -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        with self.running.lock:
            self.running.progress = (fraction, str(message)[:500])
            self.running.progress_dirty = True

    def log(self, level: str, message: str) -> None:
        level = level if level in LOG_LEVELS else "info"
        with self.running.lock:
            if self.running.line_count >= settings.EXECUTION_LOG_LINES_PER_NODE:
                if not self.running.truncated:
                    self.running.truncated = True
                    self.running.lines.append(("warning", "Further log lines of this node were dropped "
                                               f"(limit {settings.EXECUTION_LOG_LINES_PER_NODE})."))
                return
            self.running.line_count += 1
            self.running.lines.append((level, str(message)[:10_000]))

    def should_stop(self) -> bool:
        running = self.running
        return running.stop.is_set() or (running.deadline is not None
                                         and time.monotonic() >= running.deadline)


class LeaseKeeper:
    """The heartbeat thread of one worker process (started on first use, after any fork)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.nodes: dict[int, RunningNode] = {}
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.last_renewal = time.monotonic()

    def register(self, running: RunningNode) -> None:
        with self.lock:
            self.nodes[running.run_id] = running
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._loop, name="symphony-lease-keeper",
                                               daemon=True)
                self.thread.start()

    def unregister(self, running: RunningNode) -> None:
        with self.lock:
            if self.nodes.get(running.run_id) is running:
                del self.nodes[running.run_id]

    def _loop(self) -> None:
        while True:
            tick = min(settings.EXECUTION_STOP_POLL_S, settings.EXECUTION_LEASE_S / 3)
            time.sleep(tick)
            with self.lock:
                now = time.monotonic()
                # Only nodes that have run for a tick: short ones finish before they need anything.
                nodes = [node for node in self.nodes.values() if now - node.started >= tick]
            if not nodes:
                continue
            try:
                self._beat(nodes)
            except Exception:  # the keeper must outlive a database hiccup
                logger.exception("Lease keeper tick failed")
                close_old_connections()
                try:
                    connection.close()
                except Exception:
                    logger.debug("closing the keeper's connection failed", exc_info=True)

    def _beat(self, nodes: list[RunningNode]) -> None:
        now = time.monotonic()
        grace = settings.EXECUTION_LEASE_S
        if now - self.last_renewal >= settings.EXECUTION_LEASE_S / 3:
            self.last_renewal = now
            renewable = [node for node in nodes if node.deadline is None or now < node.deadline + grace]
            if renewable:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "UPDATE executions_noderun AS r SET lease_expires_at = now() + "
                        "make_interval(secs => %s) FROM unnest(%s::bigint[], %s::text[]) AS v(id, owner) "
                        "WHERE r.id = v.id AND r.lease_owner = v.owner AND r.state = 'running' "
                        "RETURNING r.id",
                        [settings.EXECUTION_LEASE_S, [node.run_id for node in renewable],
                         [node.owner for node in renewable]])
                    renewed = {row[0] for row in cursor.fetchall()}
                for node in renewable:
                    if node.run_id not in renewed:
                        node.lost = True
                        node.stop.set()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT r.id FROM executions_noderun AS r JOIN executions_execution AS e "
                "ON e.id = r.execution_id WHERE r.id = ANY(%s) AND e.state IN "
                "('completed', 'failed', 'cancelled')", [[node.run_id for node in nodes]])
            for (run_id,) in cursor.fetchall():
                match = next(node for node in nodes if node.run_id == run_id)
                match.stop.set()
        for node in nodes:
            progress, lines = node.take_reports()
            if progress is not None or lines:
                write_reports(node, progress, lines)


def write_reports(node: RunningNode, progress: tuple[float, str] | None,
                  lines: list[tuple[str, str]]) -> None:
    """Progress and log lines of a running node, in their own short transaction."""
    from executions.engine.books import Books
    from executions.models import NodeRun

    with transaction.atomic():
        books = Books.open(node.execution_id)
        if books is None:
            return
        add_reports(books, node.node_id, progress, lines)
        if progress is not None:
            NodeRun.objects.filter(pk=node.run_id, state="running", lease_owner=node.owner).update(
                progress=progress[0], message=progress[1])
        books.close()


def add_reports(books: Any, node_id: str, progress: tuple[float, str] | None,
                lines: list[tuple[str, str]]) -> None:
    from executions.engine import events as ev

    for level, message in lines:
        books.event(ev.LOG, node_id, level=level, message=message)
    if progress is not None:
        books.event(ev.NODE_PROGRESS, node_id, fraction=progress[0], message=progress[1])


_keeper: LeaseKeeper | None = None
_keeper_lock = threading.Lock()


def keeper() -> LeaseKeeper:
    """This process's keeper; a forked child gets its own (threads do not survive a fork)."""
    global _keeper
    with _keeper_lock:
        if _keeper is None or _keeper.pid != os.getpid():
            _keeper = LeaseKeeper()
        return _keeper
