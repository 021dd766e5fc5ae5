"""`GET /api/v1/executions/{id}/events/`: an execution's stored events, paged by seq.

The same events, filters and shapes as the WebSocket stream (`executions.live`):
`after_seq` (default 0), `types`, `node` (comma-separated or repeated), `min_level`
and `limit` (1 to 1000, default 100). The answer is `{"results": [...], "next":
"<seq>" | null, "last_seq": n}`: `next` is the `after_seq` of the following page
(null when this page reached the end of what is stored now), `last_seq` the last
seq the execution has handed out.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from executions.access import access_execution
from executions.engine.events import EVENT_TYPES
from executions.live.filters import (
    LOG_LEVELS,
    MAX_LISTED,
    FilterInvalid,
    parse_after_seq,
    parse_filter,
)
from executions.live.streams import stored_events
from symphony_site.api.errors import ValidationFailed
from symphony_site.api.pagination import parse_limit

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

# `types` as the schema can say it: known event types, comma-separated.
_ONE_TYPE = "|".join(re.escape(event_type) for event_type in EVENT_TYPES)
# Empty means no filter, as the server reads it.
TYPES_PATTERN = f"^(?:(?:{_ONE_TYPE})(?:,(?:{_ONE_TYPE}))*)?$"
# At most MAX_LISTED comma-separated node ids.
NODE_PATTERN = f"^[^,]*(?:,[^,]*){{0,{MAX_LISTED - 1}}}$"


def _check_as_documented(params: Any) -> None:
    """The REST query is read exactly as the schema documents it (the WebSocket filter is more
    forgiving about spaces and case): anything else is 400 naming the field."""
    if not all(re.fullmatch(TYPES_PATTERN, raw) for raw in params.getlist("types")):
        raise FilterInvalid("types", "types is a comma-separated list of event types, no spaces: "
                                     f"{', '.join(EVENT_TYPES)}.")
    if not all(re.fullmatch(NODE_PATTERN, raw) for raw in params.getlist("node")):
        raise FilterInvalid("node", f"node names at most {MAX_LISTED} comma-separated node ids.")
    if "min_level" in params and params["min_level"] not in LOG_LEVELS:
        raise FilterInvalid("min_level", f"min_level is one of {', '.join(LOG_LEVELS)}.")
    # The stream's parser reads an empty or padded after_seq as absent or trimmed; here it is
    # an integer as the schema says, or 400.
    if "after_seq" in params and not (params["after_seq"].isascii() and params["after_seq"].isdigit()):
        raise FilterInvalid("after_seq", "after_seq is a non-negative integer (the last seq you saw).")


class EventSerializer(serializers.Serializer[object]):
    seq = serializers.IntegerField(min_value=1)
    type = serializers.ChoiceField(choices=list(EVENT_TYPES))
    execution_id = serializers.UUIDField()
    node_id = serializers.CharField(required=False, help_text="Absent for execution-level events.")
    at = serializers.DateTimeField()
    data = serializers.JSONField()


class EventPageSerializer(serializers.Serializer[object]):
    results = EventSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The after_seq of the next page; null at the end.")
    last_seq = serializers.IntegerField(min_value=0, help_text="The last seq the execution handed out.")


class ExecutionEventsView(APIView):
    @extend_schema(
        operation_id="executions_events",
        summary="An execution's events after a seq, oldest first",
        parameters=[
            OpenApiParameter("after_seq", {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}, description="Only events after this seq (default 0)."),
            OpenApiParameter("types", {"type": "string", "pattern": TYPES_PATTERN}, description=f"Comma-separated event types: {', '.join(EVENT_TYPES)}."),
            OpenApiParameter("node", {"type": "string", "pattern": NODE_PATTERN}, description="Comma-separated node ids: other nodes' events are "
                             "left out (execution-level events stay unless `types` excludes them)."),
            OpenApiParameter("min_level", str, enum=list(LOG_LEVELS),
                             description="`log` events below this level are left out."),
            OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, description=f"Page size, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."),
        ],
        responses={
            200: EventPageSerializer,
            400: OpenApiResponse(description="A parameter that cannot be understood, in the error shape."),
            401: OpenApiResponse(description="Not signed in."),
            404: OpenApiResponse(description="No such execution, or it belongs to a team you are not in."),
        },
    )
    def get(self, request: Request, execution_id: str) -> Response:
        execution = access_execution(request.user, execution_id)
        params = request.query_params
        try:
            _check_as_documented(params)
            after_seq = parse_after_seq(params.get("after_seq")) or 0
            event_filter = parse_filter(types=params.getlist("types"), nodes=params.getlist("node"),
                                        min_level=params.get("min_level"), known_types=EVENT_TYPES)
        except FilterInvalid as invalid:
            raise ValidationFailed(invalid.message, details=[{"field": invalid.field, "code": "invalid",
                                                              "message": invalid.message}]) from None
        limit = parse_limit(params.get("limit"), DEFAULT_LIMIT, maximum=MAX_LIMIT)
        # Read the last seq first: every event at or below it is already stored.
        last_seq = type(execution).objects.values_list("event_seq", flat=True).get(pk=execution.pk)
        events = stored_events(execution.pk, after_seq=after_seq, through_seq=last_seq,
                               event_filter=event_filter, limit=limit)
        more = len(events) == limit and events[-1]["seq"] < last_seq
        return Response({"results": events, "next": str(events[-1]["seq"]) if more else None,
                         "last_seq": last_seq})
