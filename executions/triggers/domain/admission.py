"""Whether an execution may start now under its concurrency limits, and what happens if not.

Pure Python. The caller holds the team's admission lock and has counted what runs
(`docs/triggers.md`, "Limits and queueing").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from workflows.domain import ConcurrencyLimit, OnLimit


class Verdict(StrEnum):
    START = "start"
    QUEUE = "queue"
    CANCEL = "cancel"
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class Admission:
    verdict: Verdict
    # Which limit held it ("workflow" or "team") and that limit's numbers, for messages.
    scope: str = ""
    limit: int = 0
    running: int = 0

    @property
    def message(self) -> str:
        if self.verdict is Verdict.START:
            return "started"
        return (f"the {self.scope}'s concurrency limit of {self.limit} running "
                f"execution{'s' if self.limit != 1 else ''} was reached")


@dataclass(frozen=True, slots=True)
class Load:
    """What runs now in one scope, and how many wait in its queue already."""

    running: int
    queued: int


def admit(*, workflow_limit: ConcurrencyLimit | None, workflow_load: Load,
          team_limit: ConcurrencyLimit | None, team_load: Load) -> Admission:
    """Start when every limit has room and nobody waits ahead in a queue this start would join;
    else the first full limit's `on_limit` decides (the workflow's is checked first)."""
    for scope, limit, load in (("workflow", workflow_limit, workflow_load), ("team", team_limit, team_load)):
        if limit is None:
            continue
        # Queued starts of this scope go first: a newcomer does not overtake them.
        if load.running >= limit.limit or (limit.on_limit is OnLimit.QUEUE and load.queued > 0):
            verdict = {OnLimit.QUEUE: Verdict.QUEUE, OnLimit.CANCEL: Verdict.CANCEL,
                       OnLimit.FAIL: Verdict.REFUSE}[limit.on_limit]
            return Admission(verdict=verdict, scope=scope, limit=limit.limit, running=load.running)
    return Admission(verdict=Verdict.START)
