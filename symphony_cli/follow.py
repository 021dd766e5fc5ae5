"""Follow an execution live over its WebSocket (`/ws/executions/<id>/`, docs/executions.md
"Events"): a progress bar with the estimate on a terminal, one line per event otherwise.

The stream is replayed from the first event (`after_seq=0`), so nothing that happened between the
start and the connection is missed; after a dropped connection or a 4429 (too slow) it resumes
after the last seq it handled. The estimate is the server's (`progress.estimated_remaining_s` of
`GET /executions/<id>/`), refreshed after nodes settle, counted down in between."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
)
from rich.text import Text
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from symphony_cli.client import ApiError, CannotConnect
from symphony_cli.config import Credentials
from symphony_cli.render import duration

TERMINAL = ("completed", "failed", "cancelled")
SETTLED = ("completed", "failed", "skipped")
ESTIMATE_REFRESH_S = 2.0
RECONNECTS = 5
# Close codes of the stream and what they mean here.
CLOSE_ERRORS = {
    4400: (400, "bad_request"), 4401: (401, "not_authenticated"),
    4403: (403, "permission_denied"), 4404: (404, "not_found"),
}
TOO_SLOW = 4429


@dataclass
class Tracker:
    """What the events said so far: each node's last state, the execution's state."""

    total: int
    state: str = "pending"
    last_seq: int = 0
    nodes: dict[str, str] = field(default_factory=dict)

    @property
    def settled(self) -> int:
        return sum(1 for state in self.nodes.values() if state in SETTLED)

    def apply(self, event: dict[str, Any]) -> str | None:
        """Take one event; a line for people about it, or None when it says nothing new."""
        self.last_seq = max(self.last_seq, int(event["seq"]))
        kind, node, data = event["type"], event.get("node_id"), event.get("data") or {}
        if kind.startswith("node.") and node:
            state = kind.removeprefix("node.")
            if state in ("queued", "started", "retrying", "completed", "failed", "skipped"):
                self.nodes[node] = {"started": "running"}.get(state, state)
            if state in SETTLED:
                reason = data.get("reason") or (data.get("error") or {}).get("code", "")
                return f"[{self.settled}/{self.total}] {node} {state}" + (f" ({reason})" if reason else "")
            if state == "retrying":
                return f"{node} failed attempt {data.get('attempt')}, retrying"
            return None
        if kind == "log":
            return f"log {node} {data.get('level', 'info')}: {data.get('message', '')}"
        if kind == "execution.started":
            self.state = "running"
        elif kind == "execution.state_changed":
            self.state = str(data.get("to") or self.state)
            return f"execution {self.state}" + (f" ({data['reason']})" if data.get("reason") else "")
        elif kind in ("execution.completed", "execution.failed"):
            # The state change beside it already said so; only the error is news.
            self.state = kind.removeprefix("execution.")
            error = data.get("error")
            if isinstance(error, dict):
                return f"error {error.get('code')}: {error.get('message')}"
        return None

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL


class View(Protocol):
    def update(self, tracker: Tracker, eta_s: float | None) -> None: ...
    def say(self, line: str) -> None: ...
    def close(self) -> None: ...


class LineView:
    """One line per event that changes something (scripts, logs, tests)."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write

    def update(self, tracker: Tracker, eta_s: float | None) -> None:
        pass

    def say(self, line: str) -> None:
        self.write(line)

    def close(self) -> None:
        pass


class EtaColumn(ProgressColumn):
    """The server's estimate, counted down between refreshes."""

    def render(self, task: Task) -> Text:
        deadline = task.fields.get("eta_deadline")
        if deadline is None:
            return Text("estimate unknown", style="progress.remaining")
        return Text(f"about {duration(deadline - time.monotonic())} left", style="progress.remaining")


class BarView:
    """A rich progress bar on standard error: settled nodes of all, state, estimate."""

    def __init__(self, console: Console, total: int) -> None:
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), EtaColumn(), console=console, transient=False)
        self.task = self.progress.add_task("pending", total=total, eta_deadline=None)
        self.progress.start()

    def update(self, tracker: Tracker, eta_s: float | None) -> None:
        deadline = time.monotonic() + eta_s if eta_s is not None else None
        self.progress.update(self.task, completed=tracker.settled, description=tracker.state,
                             eta_deadline=deadline if not tracker.finished else None)

    def say(self, line: str) -> None:
        if line.startswith(("log ", "execution ", "error ")) or "retrying" in line:
            self.progress.console.print(line, markup=False, highlight=False)

    def close(self) -> None:
        self.progress.stop()


def stream_url(credentials: Credentials, execution_id: str, after_seq: int) -> str:
    base = credentials.url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return f"{base}/ws/executions/{execution_id}/?{urlencode({'after_seq': after_seq})}"


async def _watch(credentials: Credentials, execution_id: str, tracker: Tracker, view: View,
                 estimate: Callable[[], float | None]) -> None:
    headers = {"Authorization": f"Token {credentials.token}"}
    failures = 0
    eta = await asyncio.to_thread(estimate)
    view.update(tracker, eta)
    refreshed = time.monotonic()
    while not tracker.finished:
        try:
            async with connect(stream_url(credentials, execution_id, tracker.last_seq),
                               additional_headers=headers, max_size=None) as socket:
                async for raw in socket:
                    message = json.loads(raw)
                    if "seq" not in message:
                        continue  # subscribed, caught_up
                    if message["seq"] <= tracker.last_seq:
                        continue
                    failures = 0
                    line = tracker.apply(message)
                    if line:
                        view.say(line)
                    settled_now = message["type"] in ("node.completed", "node.failed", "node.skipped")
                    if settled_now and time.monotonic() - refreshed >= ESTIMATE_REFRESH_S:
                        eta = await asyncio.to_thread(estimate)
                        refreshed = time.monotonic()
                    view.update(tracker, eta)
                    if tracker.finished:
                        return
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd is not None else None
            if code in CLOSE_ERRORS:
                status, error_code = CLOSE_ERRORS[code]
                reason = closed.rcvd.reason if closed.rcvd is not None else ""
                raise ApiError(status, error_code, f"the execution's stream closed: {reason or error_code}") from None
            if code != TOO_SLOW:
                failures += 1
        except InvalidStatus as refused:
            status = refused.response.status_code
            raise ApiError(status, "websocket_refused", f"the server refused the execution's stream (HTTP {status})") from None
        except (OSError, WebSocketException) as error:
            failures += 1
            if failures > RECONNECTS:
                raise CannotConnect(f"cannot reach the execution's stream: {error}") from None
        if failures > RECONNECTS:
            raise CannotConnect("the execution's stream kept closing")
        if failures:
            await asyncio.sleep(min(10.0, 0.5 * 2 ** failures))


def follow(credentials: Credentials, execution_id: str, *, total: int, view: View,
           estimate: Callable[[], float | None]) -> Tracker:
    """Watch until the execution ends; the tracker holds its final state."""
    tracker = Tracker(total=total)
    try:
        asyncio.run(_watch(credentials, execution_id, tracker, view, estimate))
    finally:
        view.close()
    return tracker
