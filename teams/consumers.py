"""Live team events over WebSocket: members of a team receive its events.

The group name is per team, never global; membership is checked on connect.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from symphony_site.events import team_group
from teams.access import team_role

# Close codes in the 4000-4999 private range, mirroring HTTP statuses.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


class TeamEventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        team_id = self.scope["url_route"]["kwargs"]["team_id"]
        role = await database_sync_to_async(team_role)(user, team_id)
        if role is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.group_name = team_group(team_id)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "team": str(team_id), "role": role.value})

    async def disconnect(self, code: int) -> None:
        group = getattr(self, "group_name", None)
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def team_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        await self.send_json(event)
        if event.get("type") == "member.removed" and event.get("target", {}).get("id") == str(self.scope["user"].pk):
            # Membership is checked on connect; a member removed while connected stops hearing now.
            await self.channel_layer.group_discard(self.group_name, self.channel_name)
            self.group_name = ""
            await self.close(code=CLOSE_NOT_FOUND)
