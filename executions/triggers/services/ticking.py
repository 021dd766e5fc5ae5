"""The beat's tick: everything triggers and limits do on time, in one bounded pass.

Safe with two beats, or a beat restarted mid-tick: every piece is claimed in the
transaction that acts on it (schedules by a conditional update, follow-ups by a row
lock, queue promotions under the team's admission lock).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from executions.triggers.services import follow_ups, queue, schedules


def tick(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """One pass; `now` is the schedules' clock (tests pass a fixed one)."""
    return {
        "schedules": schedules.fire_due_schedules(now=now),
        "follow_ups": follow_ups.run_due_follow_ups(),
        "promoted": sum(queue.promote(team_id) for team_id in queue.teams_with_queues()),
    }
