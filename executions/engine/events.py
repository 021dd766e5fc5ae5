"""Writing an execution's events with the change they describe, and publishing them after commit.

Events are numbered from the execution row's `event_seq`, which the writer holds
locked until commit: numbers are handed out in commit order, so a subscriber
that saw `seq` N and asks for `after_seq=N` never misses one that commits later.
They reach subscribers only through the door (`symphony_site.events`), after
commit: nobody sees an event of a change that rolled back. One transaction's
events go out as one channel message to `execution.<id>`:
`{"type": "execution.events", "events": [event, ...]}` in `seq` order, each event
`{seq, type, execution_id, node_id?, at, data}`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from executions.models import ExecutionEvent, event_message
from symphony_site.events import (
    Event,
    execution_group,
    publish_batch_to_group_on_commit,
    publish_on_commit,
)

# Event types (execution-semantics.md, "Events").
EXECUTION_CREATED = "execution.created"
EXECUTION_STARTED = "execution.started"
EXECUTION_STATE_CHANGED = "execution.state_changed"
EXECUTION_COMPLETED = "execution.completed"
EXECUTION_FAILED = "execution.failed"
NODE_QUEUED = "node.queued"
NODE_STARTED = "node.started"
NODE_PROGRESS = "node.progress"
NODE_COMPLETED = "node.completed"
NODE_FAILED = "node.failed"
NODE_SKIPPED = "node.skipped"
NODE_RETRYING = "node.retrying"
LOG = "log"

# Events that change an execution's node counts: the team stream hears about them
# (`executions.live.progress`).
COUNT_CHANGING = frozenset({NODE_QUEUED, NODE_STARTED, NODE_COMPLETED, NODE_FAILED, NODE_SKIPPED,
                            NODE_RETRYING})

EVENT_TYPES = (EXECUTION_CREATED, EXECUTION_STARTED, EXECUTION_STATE_CHANGED, EXECUTION_COMPLETED,
               EXECUTION_FAILED, NODE_QUEUED, NODE_STARTED, NODE_PROGRESS, NODE_COMPLETED, NODE_FAILED,
               NODE_SKIPPED, NODE_RETRYING, LOG)


@dataclass(slots=True)
class EventBuffer:
    """Events of one execution gathered during one transaction, written together at its end."""

    execution_id: Any
    team_id: Any
    last_seq: int
    pending: list[tuple[str, str | None, dict[str, Any]]] = field(default_factory=list)
    team_events: list[Event] = field(default_factory=list)
    to_publish: list[dict[str, Any]] = field(default_factory=list)
    written_at: dt.datetime = field(default_factory=timezone.now)

    def add(self, event_type: str, node_id: str | None = None,
            data: Mapping[str, Any] | None = None) -> None:
        self.pending.append((event_type, node_id, dict(data or {})))

    def add_team_event(self, event: Event) -> None:
        self.team_events.append(event)

    def take(self) -> tuple[list[dict[str, Any]], int]:
        """The gathered events numbered from `last_seq`, as rows to insert, and the new last seq.

        The caller holds the execution's row lock, inserts the rows and stores the answer in
        `event_seq` in the same transaction, then calls `publish`.
        """
        self.written_at = timezone.now()
        rows = [{"seq": self.last_seq + offset, "type": event_type, "node_id": node_id, "data": data}
                for offset, (event_type, node_id, data) in enumerate(self.pending, start=1)]
        self.last_seq += len(rows)
        self.pending = []
        self.to_publish.extend(rows)
        return rows, self.last_seq

    def publish(self, *, then: Sequence[Mapping[str, Any]] = ()) -> None:
        """Schedule the events taken so far (and the team's events) for after commit, followed in
        the same channel message by `then` (messages of events with later seqs)."""
        if self.to_publish or then:
            if then or any(row["type"] in COUNT_CHANGING for row in self.to_publish):
                from executions.live.progress import mark_on_commit

                mark_on_commit(self.execution_id, self.team_id)
            execution_id = str(self.execution_id)
            publish_batch_to_group_on_commit(execution_group(self.execution_id), [
                *(event_message(execution_id=execution_id, seq=row["seq"], event_type=row["type"],
                                node_id=row["node_id"], at=self.written_at, data=row["data"])
                  for row in self.to_publish), *then])
            self.to_publish = []
        for event in self.team_events:
            publish_on_commit(event)
        self.team_events = []

    def write(self) -> int:
        """Insert the gathered events, schedule their publication, and answer the new last seq
        (for writers outside the engine's books, which insert `take`'s rows themselves).

        The caller holds the execution's row lock and stores the answer in `event_seq`
        in the same transaction.
        """
        rows, last = self.take()
        ExecutionEvent.objects.bulk_create([
            ExecutionEvent(execution_id=self.execution_id, seq=row["seq"], type=row["type"],
                           node_id=row["node_id"], data=row["data"], at=self.written_at)
            for row in rows])
        self.publish()
        return last
