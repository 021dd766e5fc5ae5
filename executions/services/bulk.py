"""Bulk control: one command (pause, resume, cancel, rerun) over the executions a filter selects.

`execution_bulk_command` first plans: it selects the user's executions by the
filter (or, to confirm a preview, exactly the ids that preview listed), and
decides for each one whether the command would change it or why it would
skip it — the actor's role in that execution's team, then the pure domain's
table of what each state allows (`executions.domain.bulk_refusal`). A dry run
answers that plan and writes nothing.

A real run applies each planned change through the single-execution services
(`execution_command`, `execution_rerun`), one transaction per execution under
its row lock, so each is checked again against the state it has then: one
that changed since the plan (a worker finished it, someone paused it) is
refused there and reported as skipped, and nothing else is touched. Every
audit entry of the operation carries its id (`Origin.bulk_operation`), and
each team whose executions changed gets one `execution.bulk_command` entry
summing it up.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from executions import auditing, selectors
from executions.domain import (
    BULK_COMMANDS,
    Command,
    CommandInvalid,
    ExecutionState,
    bulk_refusal,
    parse_command,
)
from executions.models import Execution
from executions.services.commands import execution_command
from executions.services.errors import refused
from executions.services.starting import execution_rerun
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import ApiError, ValidationFailed
from teams.access import scoped, team_role
from teams.roles import Role

CHANGE = "change"
SKIP = "skip"


@dataclass(frozen=True, slots=True)
class BulkFilter:
    """Which executions a bulk command selects (every field narrows; empty ones do not)."""

    states: tuple[str, ...] = ()
    team: Any = None
    workflow: Any = None
    started_after: dt.datetime | None = None
    started_before: dt.datetime | None = None
    error_text: str = ""
    started_by: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The filter as given, for the audit entry and the answer (empty fields left out)."""
        shown = {"state": list(self.states), "team": str(self.team) if self.team else "",
                 "workflow": str(self.workflow) if self.workflow else "",
                 "started_after": self.started_after.isoformat() if self.started_after else "",
                 "started_before": self.started_before.isoformat() if self.started_before else "",
                 "error": self.error_text, "started_by": self.started_by}
        return {key: value for key, value in shown.items() if value}


@dataclass(slots=True)
class Outcome:
    """What the command does (or would do) to one execution."""

    execution_id: str
    team_id: str
    workflow_name: str
    state: str
    action: str
    reason: str = ""
    # After a real run: the state it is in now; for rerun, the new execution and its state.
    new_state: str = ""
    rerun: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.execution_id, "team": self.team_id, "workflow_name": self.workflow_name,
                "state": self.state, "action": self.action, "reason": self.reason,
                "new_state": self.new_state or None, "rerun": self.rerun or None}


@dataclass(slots=True)
class BulkResult:
    command: str
    dry_run: bool
    operation: str | None
    filter: dict[str, Any]
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def matched(self) -> list[str]:
        return [outcome.execution_id for outcome in self.outcomes]

    @property
    def changed(self) -> list[str]:
        return [outcome.execution_id for outcome in self.outcomes if outcome.action == CHANGE and not self.dry_run]

    @property
    def skipped(self) -> list[dict[str, str]]:
        return [{"id": outcome.execution_id, "state": outcome.state, "reason": outcome.reason}
                for outcome in self.outcomes if outcome.action == SKIP]

    def to_dict(self) -> dict[str, Any]:
        return {"operation": self.operation, "command": self.command, "dry_run": self.dry_run,
                "filter": self.filter, "matched": self.matched,
                "would_change": [outcome.execution_id for outcome in self.outcomes if outcome.action == CHANGE]
                if self.dry_run else [],
                "changed": self.changed, "skipped": self.skipped,
                "outcomes": [outcome.to_dict() for outcome in self.outcomes]}


CHANGED_SINCE = "changed since the preview: "


def bulk_limit() -> int:
    return int(settings.EXECUTION_BULK_MAX)


def parse_bulk_command(name: object) -> Command:
    """A bulk command by name; 400 naming the bulk commands for anything else."""
    try:
        command = parse_command(name)
        if command not in BULK_COMMANDS:
            bulk_refusal(command, ExecutionState.PENDING)
    except CommandInvalid as error:
        raise refused(error) from None
    return command


def _too_many(count: int, limit: int, *, by_ids: bool) -> ValidationFailed:
    what = "ids" if by_ids else "executions match this filter"
    return ValidationFailed(
        f"{count} {what}; one bulk request may touch at most {limit}. Narrow the filter "
        f"(state, workflow, team, started between, error text) and run it in parts.",
        code="too_many_executions", details={"matched": count, "limit": limit})


def _selected(actor: Actor, selection: BulkFilter, ids: Sequence[str] | None) -> list[tuple[str, Execution | None, bool]]:
    """(id, execution or None when not found, whether it matches the filter), newest first for
    a filter, in the given order for ids."""
    limit = bulk_limit()
    candidates = selectors.executions_for_user(
        actor.user, team=selection.team, workflow=selection.workflow, states=list(selection.states),
        started_after=selection.started_after, started_before=selection.started_before,
        error_text=selection.error_text, started_by=selection.started_by).select_related("team")
    if ids is None:
        count = candidates.count()
        if count > limit:
            raise _too_many(count, limit, by_ids=False)
        return [(str(row.pk), row, True) for row in candidates.order_by(*selectors.LIST_ORDERING)[:limit]]
    wanted = list(dict.fromkeys(str(pk) for pk in ids))
    if len(wanted) > limit:
        raise _too_many(len(wanted), limit, by_ids=True)
    visible = {str(row.pk): row for row in scoped(Execution.objects.filter(pk__in=wanted), actor.user)
               .select_related("team", "workflow")}
    still = {str(pk) for pk in candidates.filter(pk__in=wanted).values_list("pk", flat=True)}
    return [(pk, visible.get(pk), pk in still) for pk in wanted]


def _plan(actor: Actor, command: Command, selected: list[tuple[str, Execution | None, bool]]) -> list[Outcome]:
    outcomes = []
    for pk, execution, matches in selected:
        if execution is None:
            outcomes.append(Outcome(pk, "", "", "", SKIP, "not found"))
            continue
        outcome = Outcome(pk, str(execution.team_id), execution.workflow.name, execution.state, CHANGE)
        role = team_role(actor.user, execution.team_id)
        if not matches:
            outcome.action, outcome.reason = SKIP, f"it no longer matches the filter (it is {execution.state} now)"
        elif role is None or not role.includes(Role.OPERATOR):
            outcome.action = SKIP
            outcome.reason = (f"your role in {execution.team.name} is {role.value if role else 'none'}; "
                              f"{command} needs operator or higher")
        else:
            why = bulk_refusal(command, ExecutionState(execution.state))
            if why:
                outcome.action, outcome.reason = SKIP, why
        outcomes.append(outcome)
    return outcomes


def execution_bulk_command(*, actor: Actor, origin: Origin, command: str, selection: BulkFilter,
                           reason: str = "", dry_run: bool = True,
                           ids: Sequence[str] | None = None) -> BulkResult:
    """Preview (`dry_run`) or apply `command` to the executions `selection` picks — or, when
    `ids` is given, to exactly those of them that still match it."""
    parsed = parse_bulk_command(command)
    if not actor.is_user:
        raise ValidationFailed("Bulk commands are made by a signed-in user.")
    selected = _selected(actor, selection, ids)
    outcomes = _plan(actor, parsed, selected)
    if dry_run:
        return BulkResult(command=parsed.value, dry_run=True, operation=None, filter=selection.to_dict(),
                          outcomes=outcomes)
    operation = str(uuid.uuid4())
    bulk_origin = dataclasses.replace(origin, bulk_operation=operation)
    executions = {pk: execution for pk, execution, _ in selected if execution is not None}
    reason = (reason or "").strip()[:1000]
    for outcome in outcomes:
        if outcome.action != CHANGE:
            continue
        _apply_one(actor, bulk_origin, parsed, executions[outcome.execution_id], outcome, reason)
    _record_summary(actor, bulk_origin, parsed, selection, outcomes)
    return BulkResult(command=parsed.value, dry_run=False, operation=operation, filter=selection.to_dict(),
                      outcomes=outcomes)


def _apply_one(actor: Actor, origin: Origin, command: Command, execution: Execution, outcome: Outcome,
               reason: str) -> None:
    """One change through the single-execution service (its own transaction and row lock); a
    refusal now means the execution changed since the plan: it is reported, not retried."""
    try:
        if command is Command.RERUN:
            rerun = execution_rerun(actor=actor, origin=origin, execution=execution, reason=reason)
            outcome.rerun, outcome.new_state = str(rerun.pk), rerun.state
        else:
            result = execution_command(actor=actor, origin=origin, execution=execution, command=command.value,
                                       reason=reason)
            outcome.new_state = result.state
    except ApiError as error:
        outcome.action, outcome.reason = SKIP, CHANGED_SINCE + error.message


def _record_summary(actor: Actor, origin: Origin, command: Command, selection: BulkFilter,
                    outcomes: list[Outcome]) -> None:
    """One entry per team with a change: what the operation did there (each change has its own)."""
    by_team: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        if outcome.team_id:
            by_team.setdefault(outcome.team_id, []).append(outcome)
    for team_id, team_outcomes in by_team.items():
        changed = [outcome.execution_id for outcome in team_outcomes if outcome.action == CHANGE]
        if not changed:
            continue
        with transaction.atomic():
            auditing.audit_bulk(team=team_id, actor=actor, origin=origin, command=command.value,
                                details={"command": command.value, "filter": selection.to_dict(),
                                         "changed": changed, "skipped": len(team_outcomes) - len(changed)})
