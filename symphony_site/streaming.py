"""WebSocket streams that cannot grow without bound, and close when the user may no longer listen.

`LiveConsumer` is the base of every streaming consumer (an execution's events, a
team's events). What it adds to Channels:

* **A bounded outbox.** Messages wait in a per-connection queue (at most
  WEBSOCKET_QUEUE_EVENTS) that one sender task drains. A full queue makes the
  producer wait (live messages meanwhile wait in the channel layer, whose overflow
  the execution stream reads back from the database); a client that takes nothing
  for WEBSOCKET_STALL_S while messages wait is too slow: it is closed with code 4429
  and the reason `{"code": "too_slow", "last_seq": N}`, N the last event seq handed
  to the server (it resumes with `after_seq` = the last seq it received), instead of
  memory growing. A burst bigger than the queue (a cancel skipping thousands of
  nodes) only waits; it does not close a client that keeps reading.
* **Back-pressure from the socket.** Daphne's `send` never waits: it appends to the
  Twisted transport's buffer whatever the client reads. `FlowControl` (ASGI
  middleware) registers a push producer on that transport, so the sender waits while
  more than 64 KiB are unsent, and the outbox — not the transport — fills. Under a
  server whose `send` waits by itself (or the test communicator) nothing is needed.
* **Membership that can end.** Each connection joins its user's group
  (`user.<id>`); removing a member or revoking a token publishes there, and the
  connection re-checks and closes (4403 membership revoked, 4401 token revoked).
  Every WEBSOCKET_RECHECK_S it also re-checks on its own (a lost message is not
  trusted to be the only path) and renews its group memberships.

* **One subscription per group and process.** With the Redis channel layer a group
  message is copied into every member channel and popped one at a time, so 200
  watchers of one execution cost 200 Redis round trips per event (≈1 s on a small
  box). Connections instead join a process-local `GroupHub`: one channel-layer
  channel per group and process, read by one task that hands each message to the
  local connections' inboxes (bounded; the oldest is dropped when a connection is
  stuck, and the execution stream reads a dropped batch back from the database).

Close codes mirror HTTP statuses: 4400 bad parameters, 4401 not signed in, 4403
membership revoked, 4404 not found (another team's object too), 4429 too slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from symphony_site import metrics
from symphony_site.events import user_group

logger = logging.getLogger(__name__)

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_REVOKED = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_SLOW = 4429

FLOW_SCOPE_KEY = "symphony.flow"


class TransportFlow:
    """A Twisted push producer standing for one WebSocket connection's sender.

    Twisted calls `pauseProducing` when the transport holds more than its buffer size
    unsent and `resumeProducing` once it drained, on the reactor's thread, which under
    daphne runs the asyncio loop the consumers run on.
    """

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.writable = asyncio.Event()
        self.writable.set()
        self.attached = False

    def attach(self) -> None:
        if self.attached:
            return
        try:
            transport = self.protocol.transport
            if getattr(transport, "producer", None) is not None:
                # The HTTP channel the connection was upgraded from stays registered as the
                # transport's producer; it has nothing left to produce.
                transport.unregisterProducer()
            self.protocol.registerProducer(self, True)
            self.attached = True
        except Exception:  # a producer already there, or the transport is gone: no back-pressure
            logger.warning("Could not watch the WebSocket transport: no back-pressure", exc_info=True)

    def pauseProducing(self) -> None:  # Twisted names
        self.writable.clear()

    def resumeProducing(self) -> None:
        self.writable.set()

    def stopProducing(self) -> None:
        self.writable.set()


def _daphne_protocol(send: Any) -> Any:
    """Daphne hands each application `partial(server.handle_reply, protocol)` as `send`."""
    if isinstance(send, functools.partial) and send.args:
        protocol = send.args[0]
        if hasattr(protocol, "registerProducer") and hasattr(protocol, "transport"):
            return protocol
    return None


class FlowControl:
    """ASGI middleware: give WebSocket scopes served by daphne a `TransportFlow`."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("type") == "websocket":
            protocol = _daphne_protocol(send)
            if protocol is not None:
                scope = {**scope, FLOW_SCOPE_KEY: TransportFlow(protocol)}
        return await self.application(scope, receive, send)


INBOX_MESSAGES = 100

# Encoded messages, shared by the connections a hub hands the same message to: an event
# going to 200 local clients is serialized once, not 200 times. Keyed by the message
# object's id; the entry holds the message, so the id cannot be reused while it is cached.
_ENCODED_LIMIT = 1024
_encoded: dict[int, tuple[dict[str, Any], str]] = {}


def encoded(message: dict[str, Any]) -> str:
    found = _encoded.get(id(message))
    if found is not None and found[0] is message:
        return found[1]
    text = orjson.dumps(message).decode()
    if len(_encoded) >= _ENCODED_LIMIT:
        # Oldest first (dicts keep insertion order): by now every connection has sent it.
        for key in list(_encoded)[: _ENCODED_LIMIT // 2]:
            del _encoded[key]
    _encoded[id(message)] = (message, text)
    return text


@dataclass
class _Feed:
    channel: str
    members: set[Any] = field(default_factory=set)
    reader: asyncio.Task[None] | None = None


READER_STOP_WAIT_S = 1.0


class GroupHub:
    """This process's (this event loop's) channel-layer subscriptions, shared by its connections."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.feeds: dict[str, _Feed] = {}
        self.lock = asyncio.Lock()

    async def join(self, group: str, member: Any) -> None:
        """`member.deliver(message)` receives the group's messages once this returns."""
        async with self.lock:
            feed = self.feeds.get(group)
            if feed is None:
                feed = _Feed(channel=await self.layer.new_channel())
                # Joined before anything is read: no message published from now on is missed.
                await self.layer.group_add(group, feed.channel)
                feed.reader = asyncio.create_task(self._read(group, feed))
                self.feeds[group] = feed
            feed.members.add(member)

    async def leave(self, group: str, member: Any) -> None:
        async with self.lock:
            feed = self.feeds.get(group)
            if feed is None:
                return
            feed.members.discard(member)
            if feed.members:
                return
            del self.feeds[group]
        # Outside the lock: the layer's receive can take seconds to wind down after a cancel,
        # and a connection joining meanwhile (a page reloaded after a command) must not wait
        # for it. It gets a feed of its own; this one's channel is discarded independently.
        await self.layer.group_discard(group, feed.channel)
        if feed.reader is not None:
            feed.reader.cancel()
            # Waited for a moment, so the layer's receive usually cleans up inside this event
            # loop; never for long, so a disconnect is never held up by it.
            await asyncio.wait({feed.reader}, timeout=READER_STOP_WAIT_S)

    async def renew(self, group: str) -> None:
        """Group memberships expire in the layer (a day by default); renew this one."""
        feed = self.feeds.get(group)
        if feed is not None:
            await self.layer.group_add(group, feed.channel)

    async def _read(self, group: str, feed: _Feed) -> None:
        while True:
            try:
                message = await self.layer.receive(feed.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # a Redis hiccup must not end every connection of the group
                logger.warning("Reading group %s failed; retrying", group, exc_info=True)
                await asyncio.sleep(0.5)
                continue
            for member in list(feed.members):
                member.deliver(message)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, GroupHub] = weakref.WeakKeyDictionary()


def group_hub(layer: Any) -> GroupHub:
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = GroupHub(layer)
    return hub


class LiveConsumer(AsyncWebsocketConsumer):
    """Accept, stream through a bounded outbox, re-check access, close cleanly."""

    # The team whose membership this connection depends on (set by the subclass on connect).
    team_id: str | None = None
    last_sent_seq: int | None = None
    # Until `start`, nothing is queued for the client.
    closing = True

    # -- refusing ------------------------------------------------------------------------

    async def refuse(self, code: int, reason: str) -> None:
        """Accept then close, so a client sees why (a handshake refusal is only an HTTP 403)."""
        await self.accept()
        await self.close(code=code, reason=reason)

    @property
    def user(self) -> Any:
        return self.scope.get("user")

    @property
    def signed_in(self) -> bool:
        user = self.user
        return user is not None and bool(getattr(user, "is_authenticated", False))

    # -- starting --------------------------------------------------------------------------

    async def join(self, groups: Sequence[str]) -> None:
        """Join the stream's groups (before reading anything, so nothing falls between)."""
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.inbox_task = asyncio.create_task(self._read_inbox())
        self.hub = group_hub(self.channel_layer)
        self.stream_groups = [*groups, user_group(self.user.pk)]
        for group in self.stream_groups:
            await self.hub.join(group, self)

    def deliver(self, message: dict[str, Any]) -> None:
        """A group message, from the hub's reader: queued, never waited on (one stuck connection
        must not hold up the others); past INBOX_MESSAGES the oldest is dropped."""
        if self.inbox.qsize() >= INBOX_MESSAGES:
            self.inbox.get_nowait()
        self.inbox.put_nowait(message)

    async def handle_group_message(self, message: dict[str, Any]) -> None:
        """Call the message type's handler, as Channels' `dispatch` does, without its first step:
        `dispatch` awaits `aclose_old_connections()`, a hop to the process's one thread-sensitive
        executor thread (the thread sync views run on) for every message of every connection —
        200 watchers of an execution queued 200 hops on that thread per event. The handlers here
        reach the database only through `database_sync_to_async`, which closes stale connections
        itself, on the thread that uses them."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def _read_inbox(self) -> None:
        while True:
            message = await self.inbox.get()
            try:
                await self.handle_group_message(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Handling a group message failed")

    async def start(self) -> None:
        """Accept and start the sender and the periodic re-check."""
        await self.accept()
        metrics.websocket_opened(type(self).__name__)
        self.counted = True
        self.closing = False
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.queue_limit = max(1, int(settings.WEBSOCKET_QUEUE_EVENTS))
        self.drained = asyncio.Event()
        self.drained.set()
        self.sent_count = 0
        self.flow: TransportFlow | None = self.scope.get(FLOW_SCOPE_KEY)
        if self.flow is not None:
            self.flow.attach()
        self.tasks = [asyncio.create_task(self._send_loop()), asyncio.create_task(self._recheck_loop())]

    # -- sending ---------------------------------------------------------------------------

    async def put(self, message: dict[str, Any]) -> bool:
        """Queue one message, waiting while the outbox is full; False when the connection is
        closing (the client was too slow, or left)."""
        if getattr(self, "closing", True):
            return False
        if self.outbox.qsize() >= self.queue_limit and not await self.wait_for_room():
            return False
        self.outbox.put_nowait(message)
        return True

    async def wait_for_room(self) -> bool:
        """Wait until at most half the outbox is used; False (closing) when the client took
        nothing for WEBSOCKET_STALL_S."""
        limit = self.queue_limit // 2
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.WEBSOCKET_STALL_S
        while self.outbox.qsize() > limit and not self.closing:
            before = self.sent_count
            self.drained.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.drained.wait(), timeout=min(max(deadline - loop.time(), 0), 0.5))
            if self.sent_count != before:
                deadline = loop.time() + settings.WEBSOCKET_STALL_S  # it is reading: keep waiting
            elif loop.time() >= deadline:
                self.closing = True
                await self._close_too_slow()
                return False
        return not self.closing

    async def _send_loop(self) -> None:
        while True:
            message = await self.outbox.get()
            if self.flow is not None and not self.flow.writable.is_set():
                await self.flow.writable.wait()
            if self.closing:
                return
            await self.send(text_data=encoded(message))
            self.sent_count += 1
            seq = message.get("seq")
            if isinstance(seq, int):
                self.last_sent_seq = seq
            if self.outbox.qsize() <= self.queue_limit // 2:
                self.drained.set()

    async def _close_too_slow(self) -> None:
        reason = orjson.dumps({"code": "too_slow", "last_seq": self.last_sent_seq}).decode()
        logger.info("Closing a WebSocket client too slow to keep up (%s)", reason)
        await self.end(CLOSE_TOO_SLOW, reason)

    async def end(self, code: int, reason: str) -> None:
        self.closing = True
        await self._stop_tasks()
        await self.close(code=code, reason=reason)

    async def _stop_tasks(self) -> None:
        current = asyncio.current_task()
        for task in [*getattr(self, "tasks", []), getattr(self, "inbox_task", None)]:
            if task is None:
                continue
            if task is not current and not task.done():
                task.cancel()

    async def disconnect(self, code: int) -> None:
        self.closing = True
        if getattr(self, "counted", False):
            self.counted = False
            metrics.websocket_closed(type(self).__name__)
        await self._stop_tasks()
        for group in getattr(self, "stream_groups", []):
            await self.hub.leave(group, self)

    # -- access that can end -------------------------------------------------------------

    async def still_allowed(self) -> bool:
        """Whether the user may still read this stream (subclasses check the database)."""
        raise NotImplementedError

    async def catch_up(self) -> None:
        """Anything the stream may have missed (subclasses with stored events read them)."""

    async def recheck(self) -> None:
        if not await self.still_allowed():
            await self.end(CLOSE_REVOKED, "membership_revoked")
            return
        for group in self.stream_groups:
            await self.hub.renew(group)
        await self.catch_up()

    async def _recheck_loop(self) -> None:
        while not self.closing:
            await asyncio.sleep(settings.WEBSOCKET_RECHECK_S)
            if self.closing:
                return
            try:
                await self.recheck()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Re-checking a WebSocket stream failed")

    async def membership_changed(self, message: dict[str, Any]) -> None:
        event = message.get("event") or {}
        if self.team_id is not None and str(event.get("team")) == self.team_id \
                and not await self.still_allowed():
            await self.end(CLOSE_REVOKED, "membership_revoked")

    async def token_revoked(self, message: dict[str, Any]) -> None:
        event = message.get("event") or {}
        token_id = self.scope.get("auth_token_id")
        if token_id is not None and str(event.get("token")) == str(token_id):
            await self.end(CLOSE_UNAUTHENTICATED, "token_revoked")
