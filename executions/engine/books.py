"""The bookkeeping of one execution inside one short transaction, with its row locked.

Every writer of an execution's state (starting it, recording a node's result,
a command, the reaper) opens `Books` first. Opening takes the execution's row
lock (`FOR NO KEY UPDATE`, which still lets inserts reference the row), and it
is held to commit, for two reasons:

* the per-node counts of pending, taken and dead incoming edges, the readiness
  decided from them and the in-flight count checked against `max_parallel`
  are read, decided and written by one writer at a time, so each node is
  decided exactly once and dispatch never overshoots;
* event numbers are handed out in commit order (see `engine.events`).

Transactions stay short: no node runs, network call or sleep happens while
the lock is held. Tasks and events leave only after commit, through the door.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from django.conf import settings
from django.db import connection
from django.utils import timezone

from audit.services import PendingAppend
from executions import auditing
from executions.domain import (
    ExecutionState,
    NodeRunState,
    finished_state,
    require_transition,
    state_when_running_again,
)
from executions.engine import events as ev
from executions.engine.graphs import CompiledVersion, compiled
from executions.models import Execution, NodeRun
from executions.runtime.flow import (
    EdgeSettlement,
    Settled,
    Verdict,
    readiness,
    settle_outgoing,
    strongest_reason,
    workflow_outputs,
)
from symphony_site import prepared
from symphony_site.actors import Actor, Origin
from symphony_site.events import Event
from workflows.domain import Edge, InputNode

# Fields every writer reads from the locked execution row; the JSON documents (inputs,
# outputs, error) are loaded only by the writers that need them.
LOCKED_FIELDS = ("id", "team_id", "workflow_id", "workflow_version_id", "state", "state_reason",
                 "event_seq", "version", "error_policy", "max_parallel", "timeout_s", "deadline_at",
                 "started_at", "finished_at", "trigger", "created_at")
LOCKED_COLUMNS = ", ".join(LOCKED_FIELDS)
JSON_FIELDS = frozenset({"inputs", "outputs", "error"})


# `Model.from_db` takes values in the model's field order.
_FIELD_ORDER = [field.attname for field in Execution._meta.concrete_fields if field.attname in LOCKED_FIELDS]


def locked_execution(values: Sequence[Any]) -> Execution:
    """An Execution built from a row of LOCKED_COLUMNS (its other fields load on first use)."""
    by_name = dict(zip(LOCKED_FIELDS, values, strict=True))
    return Execution.from_db("default", _FIELD_ORDER, [by_name[name] for name in _FIELD_ORDER])

# Audit event type of each execution state change made by the engine or a command.
AUDIT_TYPES = {
    ExecutionState.RUNNING: "execution.resumed",
    ExecutionState.PAUSED: "execution.paused",
    ExecutionState.WAITING_FOR_INPUT: "execution.waiting_for_input",
    ExecutionState.COMPLETED: "execution.completed",
    ExecutionState.FAILED: "execution.failed",
    ExecutionState.CANCELLED: "execution.cancelled",
}

ENGINE = Actor.system("engine")


@dataclass(frozen=True, slots=True)
class Dispatch:
    """A node run whose step message leaves after commit (or that the caller runs inline)."""

    run_id: int
    node_id: str
    queue: str
    countdown: float | None = None
    # Further cheap runs the same message carries: its task claims, runs and records them together
    # (`EXECUTION_BATCH_MAX`).
    more: tuple[int, ...] = ()


def batched(items: Sequence[Dispatch], graph: CompiledVersion) -> list[Dispatch]:
    """Step messages for these runs: cheap runs (no countdown) of one queue go together, up to
    `EXECUTION_BATCH_MAX` a message; every other run gets a message of its own."""
    size = max(1, int(settings.EXECUTION_BATCH_MAX))
    messages: list[Dispatch] = []
    groups: dict[str, list[Dispatch]] = {}
    for item in items:
        if size > 1 and item.countdown is None and not item.more and graph.facts[item.node_id].cheap:
            groups.setdefault(item.queue, []).append(item)
        else:
            messages.append(item)
    for group in groups.values():
        for first in range(0, len(group), size):
            chunk = group[first:first + size]
            messages.append(replace(chunk[0], more=tuple(item.run_id for item in chunk[1:])))
    return messages


# The pending targets of settled edges, read after the execution's lock was taken.
TARGETS_SQL = ("SELECT id, node_id, state, pending_inputs, taken_inputs, dead_inputs, arrived_edges, dead_reason, "
               "input_sources FROM executions_noderun WHERE execution_id = %(e)s AND node_id = ANY(%(targets)s)")

# Every node run a decision touched, in one statement: counts, state (queued, skipped), awaiting
# input, and `dispatch` for those whose step message leaves after commit. Absent values keep
# the row's own.
WRITE_RUNS_SQL = (
    "UPDATE executions_noderun AS r SET pending_inputs = COALESCE(v.pending, r.pending_inputs), "
    "taken_inputs = COALESCE(v.taken, r.taken_inputs), dead_inputs = COALESCE(v.dead, r.dead_inputs), "
    "arrived_edges = COALESCE(v.arrived, r.arrived_edges), input_sources = COALESCE(v.sources, r.input_sources), "
    "dead_reason = COALESCE(v.dead_reason, r.dead_reason), state = COALESCE(v.state, r.state), "
    "skip_reason = CASE WHEN v.state = 'skipped' THEN v.skip_reason ELSE r.skip_reason END, "
    "finished_at = CASE WHEN v.state = 'skipped' AND r.state <> 'skipped' THEN now() ELSE r.finished_at END, "
    "queued_at = CASE WHEN v.state = 'queued' AND r.state <> 'queued' THEN now() ELSE r.queued_at END, "
    "awaiting_input = r.awaiting_input OR COALESCE(v.awaiting, false), "
    "message = CASE WHEN v.awaiting THEN v.message ELSE r.message END, "
    "dispatched_at = CASE WHEN v.dispatch THEN now() ELSE r.dispatched_at END "
    "FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, pending int, taken int, dead int, arrived text[], "
    "sources text[], dead_reason text, state text, skip_reason text, awaiting boolean, message text, "
    "dispatch boolean) WHERE r.id = v.id AND r.id = ANY(%s::bigint[])")


def write_runs_parameters(rows: Sequence[dict[str, Any]]) -> list[Any]:
    """WRITE_RUNS_SQL's parameters: the rows, and their ids again. The planner expects a hundred
    rows from `jsonb_to_recordset` whatever it holds, and on a node-run table of a few thousand
    rows it then scanned the whole table to join them; the ids as an array let it look each
    run up by its key."""
    return [orjson.dumps(rows).decode(), [row["id"] for row in rows]]


def targets_from_rows(rows: Iterable[Sequence[Any]]) -> dict[str, _Target]:
    return {row[1]: _Target(run_id=row[0], node_id=row[1], state=row[2], pending=row[3], taken=row[4],
                            dead=row[5], arrived=list(row[6]), dead_reason=row[7], sources=list(row[8]))
            for row in rows}


@dataclass(slots=True)
class _Target:
    run_id: int
    node_id: str
    state: str
    pending: int
    taken: int
    dead: int
    arrived: list[str]
    dead_reason: str
    sources: list[str] = field(default_factory=list)
    changed: bool = False
    new_state: str | None = None
    skip_reason: str = ""
    awaiting: bool = False
    message: str = ""
    dispatch: bool = False

    def row(self) -> dict[str, Any]:
        return {"id": self.run_id, "pending": max(self.pending, 0), "taken": self.taken, "dead": self.dead,
                "arrived": self.arrived, "sources": self.sources, "dead_reason": self.dead_reason[:100],
                "state": self.new_state or self.state, "skip_reason": self.skip_reason[:200],
                "awaiting": self.awaiting, "message": self.message[:500], "dispatch": self.dispatch}


def send_audits(audits: Sequence[PendingAppend]) -> list[Any]:
    """Inside the caller's pipeline: each pending audit append, prepared; their cursors."""
    cursors = []
    for pending in audits:
        cursor = prepared.cursor()
        cursor.execute(pending.sql, pending.params, prepare=True)
        cursors.append(cursor)
    return cursors


def finish_audits(audits: Sequence[PendingAppend], cursors: Sequence[Any]) -> None:
    """After the pipeline: each append's rows to its entry."""
    for pending, cursor in zip(audits, cursors, strict=True):
        pending.finish(cursor.fetchall())


@dataclass
class Books:
    execution: Execution
    graph: CompiledVersion
    actor: Actor
    origin: Origin
    buffer: ev.EventBuffer
    dispatches: list[Dispatch] = field(default_factory=list)
    inline: list[Dispatch] = field(default_factory=list)
    _dirty: set[str] = field(default_factory=set)
    _workflow_name: str | None = None
    _needs_gate: bool = False
    # History rows of this transaction's state changes, inserted by the closing statement.
    transitions: list[dict[str, Any]] = field(default_factory=list)
    # Inline runs claimed in the record's closing round trip (`recording`): batches of
    # `claiming.Claim`s, one lease owner each.
    pre_claimed: list[list[Any]] = field(default_factory=list)
    # Audit entries of this transaction, appended (in order) after the closing statement.
    audits: list[dict[str, Any]] = field(default_factory=list)
    # Statements sent with the closing statement, in one round trip (`closing`): (SQL,
    # parameters, what to do with their rows).
    deferred: list[tuple[str, Any, Callable[[list[tuple[Any, ...]]], None]]] = field(default_factory=list)

    # -- opening and closing ---------------------------------------------------------------

    @classmethod
    def open(cls, execution_id: Any, *, actor: Actor = ENGINE, origin: Origin | None = None) -> Books | None:
        """Lock the execution's row (the caller is inside `transaction.atomic`); None if gone."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {LOCKED_COLUMNS} FROM executions_execution WHERE id = %s "
                           "FOR NO KEY UPDATE", [execution_id])
            found = cursor.fetchone()
        if found is None:
            return None
        return cls.of(locked_execution(found), actor=actor, origin=origin)

    @classmethod
    def of(cls, execution: Execution, *, actor: Actor = ENGINE, origin: Origin | None = None) -> Books:
        """Books for an execution the caller already locked (or just created)."""
        return cls(execution=execution, graph=compiled(execution.workflow_version_id), actor=actor,
                   origin=origin or Origin.task(),
                   buffer=ev.EventBuffer(execution.pk, execution.team_id, execution.event_seq))

    @property
    def state(self) -> ExecutionState:
        return ExecutionState(self.execution.state)

    def close(self) -> None:
        """Write the events and the execution row's changes (one statement, with any `closing`
        statements in the same round trip); schedule dispatch and the events' publication after
        commit."""
        self.write_closing(self.write_statement())
        self.after_write()

    def write_closing(self, statement: tuple[str, list[Any]] | None) -> None:
        """Send the closing `statement` (from `write_statement`) with the `closing` statements and
        the audit appends gathered so far, in one round trip; no publication yet (`after_write`)."""
        if self.deferred or self.audits:
            self._run_deferred(statement, self.pending_audits())
        elif statement is not None:
            self._update_runs(*statement)

    def closing(self, sql: str, parameters: Any, then: Callable[[list[tuple[Any, ...]]], None]) -> None:
        """A statement of this transaction that nothing before the closing write reads (an
        ending's follow-ups): sent with the closing statement, in one round trip, and its rows
        handed to `then`."""
        self.deferred.append((sql, parameters, then))

    def _run_deferred(self, statement: tuple[str, list[Any]] | None,
                      audits: Sequence[PendingAppend] = ()) -> None:
        """The `closing` statements, the closing statement, then the audit appends, in one round
        trip (the appends last: the chain-head lock is held for the commit only)."""
        deferred, self.deferred = self.deferred, []
        raw = prepared.cursor().connection
        cursors = []
        with connection.wrap_database_errors, raw.pipeline():
            for sql, parameters, _ in deferred:
                cursor = prepared.cursor()
                cursor.execute(sql, parameters, prepare=True)
                cursors.append(cursor)
            if statement is not None:
                prepared.cursor().execute(*statement, prepare=True)
            appended = send_audits(audits)
        for (_, _, then), cursor in zip(deferred, cursors, strict=True):
            then(cursor.fetchall() if cursor.description else [])
        finish_audits(audits, appended)

    def pending_audits(self) -> list[PendingAppend]:
        """The audit entries gathered so far as statements for the closing round trip."""
        pending = [auditing.pending_execution_audit(execution=self.execution, **entry) for entry in self.audits]
        self.audits = []
        return pending

    def audit(self, **entry: Any) -> None:
        """An audit entry about this execution (`auditing.audit_execution`'s arguments but the
        execution), appended to the team's chain in this transaction, after its closing statement.

        Appending takes the team's chain-head row lock until commit, and every start and every
        end of the team's executions appends: taken as the transaction's last statement, the
        lock is held for the commit only, not for the rest of the bookkeeping after a state
        change. Entries keep their order (`after_write` appends them)."""
        self.audits.append(entry)

    def append_audits(self) -> None:
        for entry in self.audits:
            auditing.audit_execution(execution=self.execution, **entry)
        self.audits = []

    def write_statement(self, extra: Sequence[tuple[str, str, list[Any]]] = ()) -> tuple[str, list[Any]] | None:
        """One statement: `extra` data-modifying CTEs (name, SQL, parameters), the gathered events
        and the execution row's changes. None when there is nothing to write."""
        rows, last = self.buffer.take()
        if last != self.execution.event_seq:
            self.execution.event_seq = last
            self._dirty.add("event_seq")
        if not self._dirty and not extra and not self.transitions:
            return None
        ctes = [(name, sql, list(parameters)) for name, sql, parameters in extra]
        if self.transitions:
            # In order of the changes: history is read ordered by id.
            ctes.append(("history", "INSERT INTO executions_executiontransition (execution_id, from_state, "
                         "to_state, actor_id, actor_name, reason, at) SELECT %s, v.from_state, v.to_state, "
                         "v.actor_id, v.actor_name, v.reason, v.at FROM jsonb_to_recordset(%s::jsonb) AS "
                         "v(n int, from_state text, to_state text, actor_id bigint, actor_name text, reason text, "
                         "at timestamptz) ORDER BY v.n",
                         [self.execution.pk, orjson.dumps(
                             [{"n": number, **row} for number, row in enumerate(self.transitions)]).decode()]))
            self.transitions = []
        if rows:
            ctes.append(("written", "INSERT INTO executions_executionevent (execution_id, seq, type, node_id, "
                         "data, at) SELECT %s, v.seq, v.type, v.node_id, v.data, %s FROM jsonb_to_recordset(%s::jsonb) "
                         "AS v(seq bigint, type text, node_id text, data jsonb)",
                         [self.execution.pk, self.buffer.written_at, orjson.dumps(rows).decode()]))
        self.execution.updated_at = timezone.now()
        self._dirty.add("updated_at")
        assignments, values = [], []
        for name in sorted(self._dirty):
            assignments.append(f"{name} = %s{'::jsonb' if name in JSON_FIELDS else ''}")
            value = getattr(self.execution, name)
            values.append(orjson.dumps(value).decode() if name in JSON_FIELDS else value)
        self._dirty = set()
        prefix = ("WITH " + ", ".join(f"{name} AS ({sql})" for name, sql, _ in ctes) + " ") if ctes else ""
        parameters = [value for _, _, cte_parameters in ctes for value in cte_parameters]
        return (f"{prefix}UPDATE executions_execution SET {', '.join(assignments)} WHERE id = %s",
                [*parameters, *values, self.execution.pk])

    def after_write(self, *, then: Sequence[dict[str, Any]] = ()) -> None:
        """After the closing statement: append the transaction's audit entries, then schedule the
        written events' publication and the step messages for after commit. `then`: channel
        messages of events written later in the same transaction (a claim in the record's closing
        round trip), published in the same message after these."""
        if self.deferred:  # a closing write that did not go through `close` (none does now)
            self._run_deferred(None)
        self.append_audits()
        self.buffer.publish(then=then)
        from executions.engine.dispatching import send_after_commit

        for item in batched(self.dispatches, self.graph):
            send_after_commit(self.execution.pk, item)
        self.dispatches = []

    def record_transition(self, from_state: str | None, to_state: str, *, actor: Actor, reason: str,
                          at: dt.datetime) -> None:
        """A history row, written with the closing statement (one statement for the change)."""
        self.transitions.append({"from_state": from_state, "to_state": to_state,
                                 "actor_id": actor.user.pk if actor.is_user else None,
                                 "actor_name": actor.name or "system", "reason": reason[:1000], "at": at})

    def event(self, event_type: str, node_id: str | None = None, **data: Any) -> None:
        self.buffer.add(event_type, node_id, data)

    def set(self, **fields: Any) -> None:
        for name, value in fields.items():
            setattr(self.execution, name, value)
            self._dirty.add(name)

    def workflow_name(self) -> str:
        if self._workflow_name is None:
            self._workflow_name = self.graph.workflow.name
        return self._workflow_name

    # -- execution state -------------------------------------------------------------------

    def move(self, wanted: ExecutionState, *, reason: str, actor: Actor | None = None,
             audit_type: str | None = None, details: dict[str, Any] | None = None,
             error: dict[str, Any] | None = None) -> None:
        """One execution state change: checked, recorded in history, audited and announced."""
        current = self.state
        require_transition(current, wanted)
        actor = actor or self.actor
        now = timezone.now()
        changes: dict[str, Any] = {"state": wanted.value, "state_reason": reason[:1000],
                                   "version": self.execution.version + 1}
        if wanted is ExecutionState.RUNNING and self.execution.started_at is None:
            changes["started_at"] = now
            if self.execution.timeout_s:
                changes["deadline_at"] = now + dt.timedelta(seconds=self.execution.timeout_s)
        if wanted.is_terminal:
            changes["finished_at"] = now
        if error is not None:
            changes["error"] = error
        self.set(**changes)
        self.record_transition(current.value, wanted.value, actor=actor, reason=reason, at=now)
        started = current is ExecutionState.PENDING and wanted is ExecutionState.RUNNING
        audit_type = audit_type or ("execution.started" if started else AUDIT_TYPES[wanted])
        self.audit(actor=actor, origin=self.origin, event_type=audit_type, reason=reason,
                   workflow_name=self.workflow_name(),
                   details={"from_state": current.value, "to_state": wanted.value, **(details or {})})
        data = {"from": current.value, "to": wanted.value, "reason": reason, "actor": actor.name or "system"}
        if started:
            self.event(ev.EXECUTION_STARTED, trigger=self.execution.trigger)
        self.event(ev.EXECUTION_STATE_CHANGED, **data)
        if wanted is ExecutionState.COMPLETED:
            self.event(ev.EXECUTION_COMPLETED)
        elif wanted is ExecutionState.FAILED:
            self.event(ev.EXECUTION_FAILED, error=error or {})
        self.buffer.add_team_event(Event(
            type=ev.EXECUTION_STATE_CHANGED, team_id=str(self.execution.team_id), target_type="execution",
            target_id=str(self.execution.pk),
            data={**data, "state": wanted.value, "workflow": str(self.execution.workflow_id),
                  # Team messages from different processes may arrive out of order: a list keeps
                  # the highest version it saw.
                  "version": self.execution.version}))
        if wanted.is_terminal:
            # Triggers and limits: "run after" rules, a workflow-level retry and the concurrency
            # queue learn of the end in this transaction (an explicit call, not a signal).
            from executions.triggers.endings import execution_ended

            execution_ended(self, wanted)

    def stop_execution(self, wanted: ExecutionState, *, reason: str, skip_reason: str,
                       actor: Actor | None = None, error: dict[str, Any] | None = None,
                       audit_type: str | None = None, details: dict[str, Any] | None = None) -> None:
        """Cancel or fail: pending and queued node runs are skipped; running ones are asked to
        stop (their workers poll the execution's state)."""
        self.move(wanted, reason=reason, actor=actor, error=error, audit_type=audit_type, details=details)
        skipped = list(NodeRun.objects.filter(
            execution_id=self.execution.pk, state__in=[NodeRunState.PENDING.value, NodeRunState.QUEUED.value],
        ).values_list("node_id", flat=True))
        if skipped:
            self._update_runs("UPDATE executions_noderun SET state = 'skipped', skip_reason = %s, "
                              "finished_at = now(), awaiting_input = false, dispatched_at = NULL, "
                              "due_at = NULL WHERE execution_id = %s AND state IN ('pending', 'queued')",
                              [skip_reason[:200], self.execution.pk])
            for node_id in skipped:
                self.event(ev.NODE_SKIPPED, node_id, reason=skip_reason)
        self.collect_outputs()

    def output_node_ids(self) -> list[str]:
        return [node_id for node_id, facts in self.graph.facts.items() if facts.kind == "output"]

    def collect_outputs(self, known: dict[str, Any] | None = None) -> None:
        """The execution's outputs: every output node that completed (or was given a substitute).
        `known`: every output node's stored output, when the caller has them all (the record that
        completed them), so none is read back."""
        if known is None:
            known = dict(NodeRun.objects.filter(
                execution_id=self.execution.pk, node_id__in=self.output_node_ids(), output__isnull=False,
                state__in=[NodeRunState.COMPLETED.value, NodeRunState.SKIPPED.value],
            ).values_list("node_id", "output"))
        self.set(outputs=workflow_outputs(self.graph.workflow, known))

    def finish_if_done(self, known: tuple[bool, bool] | None = None, *,
                       outputs: dict[str, Any] | None = None) -> bool:
        """Completed or failed once no node run is left to settle (only while running).

        `known` is (unsettled, failed) when the caller already asked (`dispatch(report=True)`);
        `outputs` every output node's stored output, when the caller has them (`collect_outputs`).
        """
        if self.state is not ExecutionState.RUNNING:
            return False
        if known is not None:
            unsettled, failed = known
        else:
            [(unsettled, failed)] = prepared.execute(
                "SELECT EXISTS (SELECT 1 FROM executions_noderun WHERE execution_id = %(e)s "
                "AND state IN ('pending', 'queued', 'running')), "
                "EXISTS (SELECT 1 FROM executions_noderun WHERE execution_id = %(e)s AND state = 'failed')",
                {"e": self.execution.pk})
        done = finished_state(unsettled=int(unsettled), failed=int(failed))
        if done is None:
            return False
        self.collect_outputs(outputs)
        if done is ExecutionState.COMPLETED:
            self.move(done, reason="every node settled")
        else:
            failures = list(NodeRun.objects.filter(execution_id=self.execution.pk, state="failed")
                            .order_by("finished_at", "id").values_list("node_id", "error")[:20])
            first_id, first_error = failures[0]
            message = (first_error or {}).get("message", "")
            self.move(done, reason=f"node {first_id} failed", error={
                "code": "node_failed", "node_id": first_id, "message": message,
                "failed_nodes": [node_id for node_id, _ in failures]})
        return True

    def gate(self, *, failures_possible: bool = True) -> ExecutionState:
        """On (re)entering running: pause again for a held failure, wait for input, or go on.

        At start nothing has failed yet, and a workflow without interactive inputs never waits:
        then there is nothing to ask the database.
        """
        if self.state is not ExecutionState.RUNNING:
            return self.state
        if not failures_possible and not self.graph.has_interactive_inputs:
            return ExecutionState.RUNNING
        [(awaiting, held)] = prepared.execute(
            "SELECT EXISTS (SELECT 1 FROM executions_noderun WHERE execution_id = %(e)s AND "
            "state = 'pending' AND awaiting_input), "
            "EXISTS (SELECT 1 FROM executions_noderun WHERE execution_id = %(e)s AND state = 'failed' "
            "AND NOT edges_settled)", {"e": self.execution.pk})
        wanted = state_when_running_again(awaiting_input=bool(awaiting), held_failure=bool(held),
                                          policy=self.execution.error_policy)
        if wanted is ExecutionState.WAITING_FOR_INPUT:
            self.move(wanted, reason="an interactive input is waiting for its value", actor=ENGINE)
        elif wanted is ExecutionState.PAUSED:
            self.move(wanted, reason="a failed node waits for an operator (error policy pause)",
                      actor=ENGINE)
        return wanted

    # -- node runs -------------------------------------------------------------------------

    def _update_runs(self, sql: str, params: Sequence[Any] | dict[str, Any]) -> list[tuple[Any, ...]]:
        # Prepared: the books' statements have a few fixed shapes (`prepared.execute`).
        return prepared.execute(sql, params)

    def queue_ready(self, node_ids: Iterable[str]) -> None:
        """Pending nodes whose turn came: queued, or awaiting input for an interactive input
        node without a value."""
        ready = list(node_ids)
        if not ready:
            return
        awaiting = [node_id for node_id in ready if self._needs_input(node_id)]
        queued = [node_id for node_id in ready if node_id not in set(awaiting)]
        if queued:
            rows = self._update_runs(
                "UPDATE executions_noderun SET state = 'queued', queued_at = now(), dispatched_at = NULL, "
                "due_at = NULL WHERE execution_id = %s AND node_id = ANY(%s) AND state = 'pending' "
                "RETURNING node_id", [self.execution.pk, queued])
            for (node_id,) in rows:
                self.event(ev.NODE_QUEUED, node_id)
        for node_id in awaiting:
            NodeRun.objects.filter(execution_id=self.execution.pk, node_id=node_id, state="pending").update(
                awaiting_input=True, message=self._prompt(node_id)[:500])

    def _prompt(self, node_id: str) -> str:
        node = self.graph.facts[node_id].node
        assert isinstance(node, InputNode)
        return node.prompt or f"Provide a value for {node.name!r}."

    def _needs_input(self, node_id: str) -> bool:
        facts = self.graph.facts[node_id]
        if not facts.is_input:
            return False
        node = facts.node
        assert isinstance(node, InputNode)
        if not node.interactive or node.default is not None:
            return False
        return self.inputs().get(node_id) is None

    def inputs(self) -> dict[str, Any]:
        if "inputs" in self.execution.get_deferred_fields():
            self.execution.refresh_from_db(fields=["inputs"])
        return dict(self.execution.inputs or {})

    def settle(self, settled: Iterable[tuple[str, Sequence[tuple[Edge, EdgeSettlement]]]], *,
               marked: frozenset[str] = frozenset()) -> bool:
        """Settle nodes' outgoing edges, then everything that follows, one frontier at a time.

        For every target: count the edge, decide readiness with the runtime's rules once no
        more can change the verdict, queue it or skip it; a skipped node's own edges die and
        join the next frontier (iteratively, not recursively: a skip can cascade through
        thousands of nodes). A source whose edges were already settled is left alone, so a
        repeat settles nothing twice. Sources in `marked` had their flag set by the caller in
        this transaction already. Answers whether any node was queued (so work is left).
        """
        frontier = [(node_id, list(pairs)) for node_id, pairs in settled]
        queued_any = False
        while frontier:
            sources = [node_id for node_id, _ in frontier if node_id not in marked]
            fresh = set(marked)
            if sources:
                fresh |= {row[0] for row in self._update_runs(
                    "UPDATE executions_noderun SET edges_settled = true WHERE execution_id = %s "
                    "AND node_id = ANY(%s) AND NOT edges_settled RETURNING node_id",
                    [self.execution.pk, sources])}
            frontier = [(node_id, pairs) for node_id, pairs in frontier if node_id in fresh]
            marked = frozenset()
            frontier, queued = self._settle_frontier(frontier)
            queued_any = queued_any or queued
        return queued_any

    def _settle_frontier(self, frontier: list[tuple[str, list[tuple[Edge, EdgeSettlement]]]]
                         ) -> tuple[list[tuple[str, list[tuple[Edge, EdgeSettlement]]]], bool]:
        target_ids = sorted({edge.target for _, pairs in frontier for edge, _ in pairs})
        if not target_ids:
            return [], False
        targets = targets_from_rows(self._update_runs(TARGETS_SQL, {"e": self.execution.pk, "targets": target_ids}))
        rows, next_frontier, queued = self.decide(frontier, targets)
        self._update_runs(WRITE_RUNS_SQL, write_runs_parameters(rows))
        return next_frontier, bool(queued)

    def decide(self, frontier: list[tuple[str, list[tuple[Edge, EdgeSettlement]]]], targets: dict[str, _Target]
               ) -> tuple[list[dict[str, Any]], list[tuple[str, list[tuple[Edge, EdgeSettlement]]]], list[_Target]]:
        """Count a frontier's settled edges into their targets and decide each pending target once
        (`flow.readiness`): queued, skipped (its own edges join the next frontier), awaiting input,
        or still waiting. Answers the rows for WRITE_RUNS_SQL, the next frontier and the targets
        queued; announces the queued and skipped ones."""
        for _, pairs in frontier:
            for edge, settlement in pairs:
                target = targets[edge.target]
                target.changed = True
                target.pending -= 1
                if settlement.taken:
                    target.taken += 1
                    target.arrived.append(edge.id)
                    if edge.kind == "data" and edge.source not in target.sources:
                        target.sources.append(edge.source)
                else:
                    target.dead += 1
                    target.dead_reason = strongest_reason(target.dead_reason or None,
                                                          settlement.reason) or ""
        next_frontier: list[tuple[str, list[tuple[Edge, EdgeSettlement]]]] = []
        queued: list[_Target] = []
        for target in targets.values():
            if target.state != NodeRunState.PENDING.value:
                continue  # decided before (a merge that ran, a node skipped by an operator)
            verdict = readiness(self.graph.facts[target.node_id].node, pending=max(target.pending, 0),
                                taken=target.taken, dead=target.dead, dead_reason=target.dead_reason or None)
            if verdict.verdict is Verdict.RUN:
                if self._needs_input(target.node_id):
                    target.awaiting = True
                    target.message = self._prompt(target.node_id)
                    self._needs_gate = True
                else:
                    target.new_state = NodeRunState.QUEUED.value
                    queued.append(target)
            elif verdict.verdict is Verdict.SKIP:
                target.new_state = NodeRunState.SKIPPED.value
                target.skip_reason = verdict.reason or ""
                next_frontier.append((target.node_id, settle_outgoing(
                    self.graph.index, target.node_id, state=Settled.SKIPPED)))
        rows = [target.row() for target in targets.values() if target.changed]
        for target in targets.values():
            if target.new_state == NodeRunState.SKIPPED.value:
                self.event(ev.NODE_SKIPPED, target.node_id, reason=target.skip_reason)
            elif target.new_state == NodeRunState.QUEUED.value:
                self.event(ev.NODE_QUEUED, target.node_id)
        return rows, next_frontier, queued

    def skip_disabled_at_start(self) -> None:
        """Disabled nodes are skipped before anything runs; the skip flows downstream."""
        disabled = [node_id for node_id, facts in self.graph.facts.items() if not facts.node.enabled]
        if not disabled:
            return
        self._update_runs(
            "UPDATE executions_noderun SET state = 'skipped', skip_reason = 'disabled', finished_at = now() "
            "WHERE execution_id = %s AND node_id = ANY(%s) AND state = 'pending'",
            [self.execution.pk, disabled])
        for node_id in disabled:
            self.event(ev.NODE_SKIPPED, node_id, reason="disabled")
        self.settle((node_id, settle_outgoing(self.graph.index, node_id, state=Settled.SKIPPED))
                    for node_id in disabled)

    # -- dispatch --------------------------------------------------------------------------

    def dispatch(self, *, inline_capacity: int = 0, report: bool = False) -> tuple[bool, bool] | None:
        """Hand queued node runs to workers up to `max_parallel` in flight (only while running).

        Up to `inline_capacity` cheap ones are kept for the calling task to run itself after
        commit; they count as in flight (and the reaper re-sends them if that task dies). With
        `report`, the same statement answers whether any node run is left unsettled and whether
        any failed (what `finish_if_done` needs), saving a round trip on the hot path.
        """
        if self._needs_gate:
            # A node became an interactive input waiting for its value: the execution waits.
            self._needs_gate = False
            self.gate()
        if self.state is not ExecutionState.RUNNING:
            return None
        flags = (" UNION ALL SELECT NULL, NULL, NULL, EXISTS (SELECT 1 FROM executions_noderun WHERE "
                 "execution_id = %(e)s AND state IN ('pending', 'queued', 'running')), EXISTS (SELECT 1 "
                 "FROM executions_noderun WHERE execution_id = %(e)s AND state = 'failed')") if report else ""
        rows = self._update_runs(
            "WITH flight AS (SELECT count(*) AS n FROM executions_noderun WHERE execution_id = %(e)s "
            "AND (state = 'running' OR (state = 'queued' AND dispatched_at IS NOT NULL))), "
            "pick AS (SELECT id FROM executions_noderun WHERE execution_id = %(e)s AND state = 'queued' "
            "AND dispatched_at IS NULL AND (due_at IS NULL OR due_at <= now()) ORDER BY queued_at, id "
            "LIMIT GREATEST(0, %(limit)s - (SELECT n FROM flight))), "
            "sent AS (UPDATE executions_noderun AS r SET dispatched_at = now() FROM pick WHERE r.id = pick.id "
            "RETURNING r.id, r.node_id, r.queue) "
            f"SELECT id, node_id, queue, NULL::boolean, NULL::boolean FROM sent{flags}",
            {"e": self.execution.pk, "limit": self.execution.max_parallel})
        answer = None
        picked = []
        for run_id, node_id, queue, unsettled, failed in rows:
            if run_id is None:
                answer = (bool(unsettled), bool(failed))
            else:
                picked.append((run_id, node_id, queue))
        picked.sort()
        for run_id, node_id, queue in picked:
            item = Dispatch(run_id=run_id, node_id=node_id, queue=queue)
            if inline_capacity > 0 and self.graph.facts[node_id].cheap:
                self.inline.append(item)
                inline_capacity -= 1
            else:
                self.dispatches.append(item)
        return answer

    def plain_start(self, sources: Sequence[str]) -> bool:
        """Whether a start can queue its sources and dispatch them in one statement
        (`queue_sources`): every node enabled (no skip to settle first), no interactive input (no
        node can wait for a person, so nothing gates the run), and something to run."""
        return bool(sources) and not self.graph.has_interactive_inputs and all(
            facts.node.enabled for facts in self.graph.facts.values())

    def queue_sources(self, sources: Sequence[str], *, inline_capacity: int = 0) -> None:
        """At a plain start (`plain_start`): the sources queued and the first `max_parallel` of
        them (by id, the order `dispatch` would take them in) marked sent, in one statement, with
        what `queue_ready` then `dispatch` would write and send. Nothing of a new execution is in
        flight yet, so all `max_parallel` slots are free. Up to `inline_capacity` cheap ones are
        kept for the starting process (`inline`), as `dispatch` keeps them for a task."""
        rows = self._update_runs(
            # Only runs still pending: the execution's row is locked and it was just created or
            # taken from pending, so this is every source; the condition keeps a repeat a no-op.
            "WITH picked AS (SELECT id, row_number() OVER (ORDER BY id) AS k FROM executions_noderun "
            "WHERE execution_id = %(e)s AND node_id = ANY(%(sources)s) AND state = 'pending') "
            "UPDATE executions_noderun AS r SET state = 'queued', queued_at = now(), due_at = NULL, "
            "dispatched_at = CASE WHEN picked.k <= %(limit)s THEN now() END FROM picked WHERE r.id = picked.id "
            "RETURNING r.id, r.node_id, r.queue, r.dispatched_at IS NOT NULL",
            {"e": self.execution.pk, "sources": list(sources), "limit": self.execution.max_parallel})
        for run_id, node_id, queue, sent in sorted(rows):
            self.event(ev.NODE_QUEUED, node_id)
            if sent and inline_capacity > 0 and self.graph.facts[node_id].cheap:
                self.inline.append(Dispatch(run_id=run_id, node_id=node_id, queue=queue))
                inline_capacity -= 1
            elif sent:
                self.dispatches.append(Dispatch(run_id=run_id, node_id=node_id, queue=queue))

    def redispatch_all_queued(self) -> None:
        """After a pause or a wait: messages refused meanwhile are gone; send every queued run
        again (a message that survived is harmless: claiming is conditional)."""
        self._update_runs("UPDATE executions_noderun SET dispatched_at = NULL WHERE execution_id = %s "
                          "AND state = 'queued'", [self.execution.pk])
        self.dispatch()
