"""Claiming a queued node run: Queued → Running with a lease, in one statement.

The step task claims the run its message names (`claim`, its own transaction); the record of
a completed node claims the cheap successor its task keeps for inline in the same pipeline as
its closing write (`recording`), so that successor costs no transaction of its own. Either
way the claim is the same statement, and it does nothing unless the run is still queued and
the execution running: a duplicate, late or refused message claims nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from executions.engine import events as ev
from executions.engine.books import Books
from executions.engine.graphs import CompiledVersion, compiled
from executions.engine.leases import new_lease_owner, owner_is_dead_here
from executions.engine.outcomes import lose_lease
from executions.models import NodeRun, event_message
from symphony_site.events import execution_group, publish_batch_to_group_on_commit

# A retry's step message may arrive a little before its due time (clocks differ by that much).
DUE_TOLERANCE_S = 1.0


@dataclass(frozen=True, slots=True)
class Claim:
    execution_id: Any
    team_id: Any
    run_id: int
    node_id: str
    attempt: int
    arrived: list[str]
    owner: str
    graph: CompiledVersion
    execution_facts: dict[str, Any]
    execution_inputs: dict[str, Any]
    # Seconds the execution has left before its deadline (None: no deadline).
    execution_left_s: float | None
    # The outputs of the nodes whose data edges into this one were taken, by node id.
    source_outputs: dict[str, Any]
    max_parallel: int


# One statement, its own transaction: lock the execution (so a pause or cancel committed first
# is seen, and event numbers stay in commit order), move the run Queued → Running with a lease
# from the database clock only while the execution runs, write `node.started` with the next
# sequence number, and read what the node needs: the execution's facts and its inputs' outputs.
CLAIM_SQL = """
WITH e AS (
    SELECT id, team_id, workflow_version_id, state, trigger, started_at, deadline_at, max_parallel
    FROM executions_execution WHERE id = %(e)s FOR NO KEY UPDATE
), r AS (
    UPDATE executions_noderun SET state = 'running', attempt = attempt + 1, lease_owner = %(owner)s,
        lease_expires_at = now() + make_interval(secs => %(lease)s), started_at = now(), finished_at = NULL,
        progress = NULL, message = '', dispatched_at = NULL, due_at = NULL
    WHERE id = %(run)s AND execution_id = %(e)s AND state = 'queued'
        AND (due_at IS NULL OR due_at <= now() + make_interval(secs => %(tolerance)s))
        AND EXISTS (SELECT 1 FROM e WHERE e.state = 'running')
    RETURNING node_id, node_kind, attempt, arrived_edges, input_sources
), s AS (
    UPDATE executions_execution AS x SET event_seq = x.event_seq + 1 FROM r WHERE x.id = %(e)s
    RETURNING x.event_seq
), written AS (
    INSERT INTO executions_executionevent (execution_id, seq, type, node_id, data, at)
    SELECT %(e)s, s.event_seq, 'node.started', r.node_id, jsonb_build_object('attempt', r.attempt), %(at)s
    FROM r, s
)
SELECT e.team_id, e.workflow_version_id, e.state, e.trigger, e.started_at, e.deadline_at, e.max_parallel,
    r.node_id, r.attempt, r.arrived_edges, s.event_seq,
    (SELECT jsonb_object_agg(source.node_id, source.output) FROM executions_noderun AS source
     WHERE source.execution_id = %(e)s AND source.node_id = ANY(r.input_sources)),
    CASE WHEN r.node_kind = 'input' THEN (SELECT inputs FROM executions_execution WHERE id = %(e)s) END
FROM e JOIN r ON true JOIN s ON true
"""


def claim_parameters(execution_id: Any, run_id: int) -> dict[str, Any]:
    """CLAIM_SQL's parameters: a fresh lease owner, the lease length, the event's time."""
    return {"e": execution_id, "run": run_id, "owner": new_lease_owner(), "lease": settings.EXECUTION_LEASE_S,
            "tolerance": DUE_TOLERANCE_S, "at": timezone.now()}


def claim(execution_id: Any, run_id: int) -> Claim | None:
    """Queued → Running with a fresh lease, only while the execution is running."""
    parameters = claim_parameters(execution_id, run_id)
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, parameters)
        found = cursor.fetchone()
    if found is None:
        if not _took_over_dead_owner(execution_id, run_id):
            return None
        parameters["at"] = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(CLAIM_SQL, parameters)
            found = cursor.fetchone()
        if found is None:
            return None
    return claimed_from_row(parameters, found)


def claimed_from_row(parameters: dict[str, Any], found: Any) -> Claim:
    """The claim a CLAIM_SQL row answers; its `node.started` leaves after commit."""
    execution_id, run_id, at = parameters["e"], parameters["run"], parameters["at"]
    (team_id, version_id, _, trigger, started_at, deadline_at, max_parallel, node_id, attempt, arrived, seq,
     source_outputs, inputs) = found
    publish_batch_to_group_on_commit(execution_group(execution_id), [event_message(
        execution_id=str(execution_id), seq=seq, event_type=ev.NODE_STARTED, node_id=node_id, at=at,
        data={"attempt": attempt})])
    graph = compiled(version_id)
    left = (deadline_at - timezone.now()).total_seconds() if deadline_at is not None else None
    return Claim(
        execution_id=execution_id, team_id=team_id, run_id=run_id, node_id=node_id, attempt=attempt,
        arrived=list(arrived), owner=parameters["owner"], graph=graph,
        execution_facts={"id": str(execution_id), "workflow": graph.workflow.name, "trigger": trigger,
                         "started_at": _iso(started_at)},
        execution_inputs=_decoded(inputs), execution_left_s=left, source_outputs=_decoded(source_outputs),
        max_parallel=max_parallel)


def _decoded(value: Any) -> dict[str, Any]:
    """A jsonb value read with a raw cursor (Django's driver setup returns jsonb as text)."""
    if value is None:
        return {}
    return dict(orjson.loads(value) if isinstance(value, str | bytes) else value)


def _took_over_dead_owner(execution_id: Any, run_id: int) -> bool:
    """The run is Running under a process of this host that died (its message came back through
    `reject_on_worker_lost`): end that attempt now rather than wait for the lease to lapse."""
    row = (NodeRun.objects.filter(pk=run_id, execution_id=execution_id, state="running")
           .values_list("lease_owner", flat=True).first())
    if row is None or not owner_is_dead_here(row):
        return False
    with transaction.atomic():
        books = Books.open(execution_id)
        if books is None or books.state.value != "running":
            return False
        current = books._update_runs("SELECT node_id, lease_owner FROM executions_noderun WHERE id = %s "
                                     "AND state = 'running'", [run_id])
        if not current or not owner_is_dead_here(current[0][1]):
            return False
        taken = lose_lease(books, run_id=run_id, node_id=current[0][0], reason="its worker process died")
        books.dispatches = [item for item in books.dispatches if item.run_id != run_id]
        books.close()
        return taken


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None
