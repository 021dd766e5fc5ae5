"""History records: one per execution state change, with who, why and when."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from executions.domain.states import ExecutionState, require_transition


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    """One state change of an execution as its history shows it."""

    from_state: ExecutionState | None  # None for the record of creation
    to_state: ExecutionState
    actor: str  # a username, or a system actor's name ("engine", "reaper")
    reason: str
    at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {"from_state": None if self.from_state is None else str(self.from_state),
                "to_state": str(self.to_state), "actor": self.actor, "reason": self.reason,
                "at": self.at.isoformat().replace("+00:00", "Z")}


def record_transition(current: ExecutionState, wanted: ExecutionState, *, actor: str,
                      reason: str, at: dt.datetime) -> HistoryRecord:
    """The history record of a valid move; InvalidTransition for a move the table forbids."""
    require_transition(current, wanted)
    return HistoryRecord(from_state=current, to_state=wanted, actor=actor, reason=reason, at=at)
