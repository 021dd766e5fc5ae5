"""Every WebSocket route, collected from the apps."""

from __future__ import annotations

from django.urls import path

from executions.live.consumers import ExecutionEventsConsumer
from teams.consumers import TeamEventsConsumer

websocket_urlpatterns = [
    path("ws/teams/<uuid:team_id>/events/", TeamEventsConsumer.as_asgi()),
    path("ws/executions/<uuid:execution_id>/", ExecutionEventsConsumer.as_asgi()),
]
