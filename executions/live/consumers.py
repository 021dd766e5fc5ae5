"""`/ws/executions/<id>/`: one execution's events, replayed from a point then live, in order.

Query parameters: `after_seq` (replay stored events after it; absent: only what
happens from now on), `types`, `nodes`, `min_level` (`executions.live.filters`),
and `token` for clients that authenticate by API token.

The seam between replay and live, with no gap and no duplicate:

1. join the execution's group first, so every event committed from now on is
   delivered to this connection (events are published after commit);
2. read the execution's last seq T, replay stored events in (after_seq, T] from
   the database (they are complete: seqs are handed out in commit order);
3. live batches then arrive (they waited in the channel layer meanwhile); events
   with seq ≤ the last one handled are dropped, and a batch that starts past it
   (another process published first, or Redis dropped a message) has the gap read
   from the database before it is sent.

Every WEBSOCKET_RECHECK_S the connection re-checks membership and reads anything
after its last seq, so even a lost last message arrives. Each event is sent as one
text message `{seq, type, execution_id, node_id?, at, data}`; control messages
have no `seq`: `{"type": "subscribed", ...}` first, `{"type": "caught_up",
"last_seq"}` when the replay is done.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings

from executions.engine.events import EVENT_TYPES
from executions.live import streams
from executions.live.filters import EventFilter, FilterInvalid, parse_after_seq, parse_filter
from executions.models import Execution
from symphony_site.events import execution_group
from symphony_site.streaming import (
    CLOSE_BAD_REQUEST,
    CLOSE_NOT_FOUND,
    CLOSE_UNAUTHENTICATED,
    LiveConsumer,
)
from teams.access import forget_roles, team_role


def _visible_execution(user: Any, execution_id: Any) -> dict[str, Any] | None:
    """The execution's team, state and last seq if `user` is a member of its team; else None
    (missing and another team's look the same)."""
    row = (Execution.objects.filter(pk=execution_id)
           .values("team_id", "state", "event_seq", "workflow_id").first())
    if row is None:
        return None
    forget_roles(user)
    if team_role(user, row["team_id"]) is None:
        return None
    return row


def _is_member(user: Any, team_id: str) -> bool:
    forget_roles(user)
    return team_role(user, team_id) is not None


class ExecutionEventsConsumer(LiveConsumer):
    execution_id: str
    event_filter: EventFilter
    # The highest seq handled (sent or filtered out): everything at or below it is done.
    handled_seq: int

    async def connect(self) -> None:
        if not self.signed_in:
            await self.refuse(CLOSE_UNAUTHENTICATED, "unauthenticated")
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        try:
            after_seq = parse_after_seq((query.get("after_seq") or [None])[0])
            self.event_filter = parse_filter(types=query.get("types"), nodes=query.get("nodes"),
                                             min_level=(query.get("min_level") or [None])[0],
                                             known_types=EVENT_TYPES)
        except FilterInvalid as invalid:
            await self.refuse(CLOSE_BAD_REQUEST, f"{invalid.field}: {invalid.message}"[:120])
            return
        self.execution_id = str(self.scope["url_route"]["kwargs"]["execution_id"])
        found = await database_sync_to_async(_visible_execution)(self.user, self.execution_id)
        if found is None:
            await self.refuse(CLOSE_NOT_FOUND, "not_found")
            return
        self.team_id = str(found["team_id"])
        self.lock = asyncio.Lock()
        # Live batches wait for this lock: they are handled after the replay.
        async with self.lock:
            # 1. Subscribe first: from here on every committed event reaches this connection.
            await self.join([execution_group(self.execution_id)])
            await self.start()
            # 2. Then read how far the stream is, and replay up to there from the database.
            through = await database_sync_to_async(streams.last_seq)(self.execution_id) or 0
            self.handled_seq = through if after_seq is None else min(after_seq, through)
            await self.put({"type": "subscribed", "execution_id": self.execution_id, "state": found["state"],
                          "after_seq": after_seq, "last_seq": through})
            if after_seq is not None and not await self._replay(through):
                return
            await self.put({"type": "caught_up", "last_seq": self.handled_seq})
        # 3. Live batches queued meanwhile are handled next, by `execution_events`.

    async def _replay(self, through: int) -> bool:
        """Stored events in (handled_seq, through], page by page, as the client takes them."""
        page = max(1, int(settings.WEBSOCKET_REPLAY_PAGE))
        while self.handled_seq < through:
            if not await self.wait_for_room():
                return False
            events = await database_sync_to_async(streams.stored_events)(
                self.execution_id, after_seq=self.handled_seq, through_seq=through,
                event_filter=self.event_filter, limit=min(page, max(1, self.queue_limit // 2)))
            for event in events:
                if not await self.put(event):
                    return False
            if len(events) < min(page, max(1, self.queue_limit // 2)):
                self.handled_seq = through
            else:
                self.handled_seq = events[-1]["seq"]
        return True

    async def _take(self, events: list[dict[str, Any]]) -> None:
        """Live events, in seq order: duplicates dropped, a gap filled from the database first."""
        async with self.lock:
            if self.closing:
                return
            fresh = sorted((event for event in events if event["seq"] > self.handled_seq),
                           key=lambda event: event["seq"])
            if not fresh:
                return
            first = fresh[0]["seq"]
            if first > self.handled_seq + 1 and not await self._replay(first - 1):
                return
            for event in fresh:
                if event["seq"] <= self.handled_seq:
                    continue
                self.handled_seq = event["seq"]
                if self.event_filter.matches(event) and not await self.put(event):
                    return

    async def execution_events(self, message: dict[str, Any]) -> None:
        """One transaction's events, published after its commit (`symphony_site.events`)."""
        await self._take(list(message.get("events") or []))

    async def execution_event(self, message: dict[str, Any]) -> None:
        await self._take([message["event"]])

    async def catch_up(self) -> None:
        async with self.lock:
            if self.closing:
                return
            through = await database_sync_to_async(streams.last_seq)(self.execution_id)
            if through is not None and through > self.handled_seq:
                await self._replay(through)

    async def still_allowed(self) -> bool:
        assert self.team_id is not None
        return bool(await database_sync_to_async(_is_member)(self.user, self.team_id))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Clients have nothing to say; the stream is one-way."""
