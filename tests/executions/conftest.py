"""Helpers for the engine tests: workflows of team Alpha, starting them, waiting on the database."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import transaction

from executions import tasks
from executions.engine import dispatching
from executions.models import Execution, ExecutionEvent, NodeRun
from executions.services import execution_command, execution_start
from symphony_site.actors import Actor, Origin
from tests.conftest import Personas, settle_executions
from workflows import samples, services

TERMINAL = ("completed", "failed", "cancelled")
ORIGIN = Origin.command()


def document(name: str, nodes: list[dict[str, Any]], edges: list[dict[str, Any]],
             **settings: Any) -> dict[str, Any]:
    built = samples.workflow(name, nodes, edges)
    if settings:
        built["settings"] = settings
    return built


def store(personas: Personas, built: dict[str, Any]) -> Any:
    """The workflow stored by team Alpha's editor (validated like any other)."""
    return services.workflow_create(actor=Actor.of(personas.users["editor"]), origin=ORIGIN,
                                    team=personas.team, document=built)


def start(personas: Personas, workflow: Any, inputs: dict[str, Any] | None = None,
          who: str = "operator", **options: Any) -> Execution:
    return execution_start(actor=Actor.of(personas.users[who]), origin=ORIGIN, workflow=workflow,
                           inputs=inputs or {}, **options)


def command(personas: Personas, execution: Execution, name: str, who: str = "operator",
            **arguments: Any) -> Execution:
    return execution_command(actor=Actor.of(personas.users[who]), origin=ORIGIN, execution=execution,
                             command=name, **arguments)


def run(personas: Personas, built: dict[str, Any], inputs: dict[str, Any] | None = None,
        until: tuple[str, ...] = TERMINAL, timeout: float = 30) -> Execution:
    execution = start(personas, store(personas, built), inputs)
    return wait_for(execution, until, timeout=timeout)


def wait_until(check: Callable[[], Any], *, timeout: float = 30, what: str = "the condition") -> Any:
    """Poll the database until `check()` answers something truthy (fails after `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


def wait_for(execution: Execution, states: tuple[str, ...] = TERMINAL, *, timeout: float = 30) -> Execution:
    def reached() -> Execution | None:
        fresh = Execution.objects.get(pk=execution.pk)
        return fresh if fresh.state in states else None

    return wait_until(reached, timeout=timeout, what=f"execution {execution.pk} to be {'/'.join(states)}")


def wait_node(execution: Execution, node_id: str, states: tuple[str, ...], *, timeout: float = 30) -> NodeRun:
    def reached() -> NodeRun | None:
        run_ = NodeRun.objects.get(execution=execution, node_id=node_id)
        return run_ if run_.state in states else None

    return wait_until(reached, timeout=timeout, what=f"node {node_id} to be {'/'.join(states)}")


def node_states(execution: Execution) -> dict[str, str]:
    return dict(NodeRun.objects.filter(execution=execution).values_list("node_id", "state"))


def runs(execution: Execution) -> dict[str, NodeRun]:
    return {run_.node_id: run_ for run_ in NodeRun.objects.filter(execution=execution)}


def event_types(execution: Execution, *, node_id: str | None = None) -> list[tuple[str, str | None]]:
    events = ExecutionEvent.objects.filter(execution=execution).order_by("seq")
    if node_id is not None:
        events = events.filter(node_id=node_id)
    return [(event.type, event.node_id) for event in events]


def history(execution: Execution) -> list[tuple[str | None, str, str]]:
    return [(row.from_state, row.to_state, row.actor_name)
            for row in execution.transitions.order_by("id")]


@pytest.fixture
def engine(celery_worker: str, transactional_db: Any, personas: Personas) -> Iterator[Personas]:
    """A running worker, committed data it can see, and team Alpha's personas.

    Afterwards every execution still active is cancelled and running nodes are given a moment to
    stop, so no worker is still writing while the database is emptied for the next test.
    """
    yield personas
    settle_executions()


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch, settings: Any) -> list[tuple[str, int]]:
    """Step messages the engine sends after commit, kept here in order (none reaches the broker,
    so no worker takes a step). The inline budget is no limit here (a loaded machine would
    otherwise change which steps run inline)."""
    settings.EXECUTION_INLINE_BUDGET_MS = 60_000
    sent: list[tuple[str, int]] = []

    def keep(task: Any, *, args: Any = (), **options: Any) -> None:
        # (execution id, run id), and the other runs of a batch message when it carries some
        transaction.on_commit(lambda: sent.append(tuple(args)))

    monkeypatch.setattr(dispatching, "send_task_on_commit", keep)
    return sent


def take_steps(sent: list[tuple[str, int]], *, limit: int = 10_000) -> int:
    """Run the step task's function in this process for each kept message, oldest first."""
    steps = 0
    while sent and steps < limit:
        tasks.step(*sent.pop(0))
        steps += 1
    return steps


# --------------------------------------------------------------------------- a local HTTP server


class ScriptedServer:
    """A local HTTP server the engine's http_request nodes call (as `localhost`, which the test
    settings allow): `/ok`, `/fail/<key>?times=N` (500 N times, then 200), `/redirect?to=URL`."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs, urlparse

        server = self
        self.failures: dict[str, int] = {}
        self.hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                server.hits.append(url.path)
                if url.path.startswith("/fail/"):
                    key = url.path.removeprefix("/fail/")
                    seen = server.failures.get(key, 0)
                    server.failures[key] = seen + 1
                    if seen < int(query.get("times", ["1"])[0]):
                        self._answer(500, b'{"error": "try again"}')
                        return
                    self._answer(200, b'{"ok": true, "attempts": %d}' % (seen + 1))
                elif url.path == "/redirect":
                    self._answer(302, b"{}", {"Location": query["to"][0]})
                else:
                    self._answer(200, b'{"ok": true}')

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "localhost") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server() -> Any:
    server = ScriptedServer()
    yield server
    server.close()


def http_node(node_id: str, url: str, **fields: Any) -> dict[str, Any]:
    node = s_node_operator(node_id, "http_request", {"method": "GET", "url": url, "timeout_s": 5,
                                                     "expect_json": True})
    node.update(fields)
    return node


def s_node_operator(node_id: str, operator: str, config: dict[str, Any]) -> dict[str, Any]:
    return samples.node_operator(node_id, operator, config)
