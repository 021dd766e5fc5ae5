"""Live team events over WebSocket: members of a team receive its events.

The group name is per team, never global; membership is checked on connect and
again when it changes (`symphony_site.streaming.LiveConsumer`). Executions' state
changes (`execution.state_changed`, with the execution's `version`) and progress
(`execution.progress`: node counts and `event_seq`, at most about once a second
per execution) come through here, so lists can update; a client keeps, per
execution, the message with the highest `version` / `event_seq`.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from symphony_site.events import team_group
from symphony_site.streaming import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED, LiveConsumer
from teams.access import forget_roles, team_role


def _role(user: Any, team_id: str) -> Any:
    forget_roles(user)
    return team_role(user, team_id)


class TeamEventsConsumer(LiveConsumer):
    async def connect(self) -> None:
        if not self.signed_in:
            await self.refuse(CLOSE_UNAUTHENTICATED, "unauthenticated")
            return
        team_id = str(self.scope["url_route"]["kwargs"]["team_id"])
        role = await database_sync_to_async(_role)(self.user, team_id)
        if role is None:
            await self.refuse(CLOSE_NOT_FOUND, "not_found")
            return
        self.team_id = team_id
        await self.join([team_group(team_id)])
        await self.start()
        await self.put({"type": "hello", "team": team_id, "role": role.value})

    async def still_allowed(self) -> bool:
        assert self.team_id is not None
        return await database_sync_to_async(_role)(self.user, self.team_id) is not None

    async def team_event(self, message: dict[str, Any]) -> None:
        await self.put(message["event"])

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Clients have nothing to say; the stream is one-way."""
