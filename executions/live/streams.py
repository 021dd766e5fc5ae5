"""Stored events read back for subscribers: replay after a seq, and the gaps live delivery left.

Events are numbered in commit order (`executions.engine.events`), so once seq N is
visible every smaller one is too; a range read here is complete. The filter is
applied in SQL, so a subscriber to one node's log lines does not pull the rest.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from executions.live.filters import LOG, EventFilter
from executions.models import ExecutionEvent

FIELDS = ("execution_id", "seq", "type", "node_id", "data", "at")


def stored_events(execution_id: Any, *, after_seq: int, event_filter: EventFilter, limit: int,
                  through_seq: int | None = None) -> list[dict[str, Any]]:
    """Up to `limit` events with `after_seq` < seq (≤ `through_seq`), in seq order, as messages."""
    events = ExecutionEvent.objects.filter(execution_id=execution_id, seq__gt=after_seq)
    if through_seq is not None:
        events = events.filter(seq__lte=through_seq)
    if event_filter.types is not None:
        events = events.filter(type__in=sorted(event_filter.types))
    if event_filter.nodes is not None:
        events = events.filter(Q(node_id__in=sorted(event_filter.nodes)) | Q(node_id__isnull=True))
    below = event_filter.levels_below()
    if below:
        events = events.exclude(type=LOG, data__level__in=below)
    return [event.as_message() for event in events.only(*FIELDS).order_by("seq")[:limit]]


def last_seq(execution_id: Any) -> int | None:
    """The execution's last handed-out seq (None if it is gone)."""
    from executions.models import Execution

    return Execution.objects.filter(pk=execution_id).values_list("event_seq", flat=True).first()
