"""Claiming queued node runs: Queued → Running with a lease each, in one statement.

The step task claims the runs its message names (`claim_batch`, its own transaction); the
record of a batch claims the cheap runs its task keeps for inline in the same pipeline as its
closing write (`recording`), so they cost no transaction of their own. Either way the claim is
the same statement, and it takes only runs still queued while the execution runs: a
duplicate, late or refused message claims nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from executions.engine import events as ev
from executions.engine.books import Books
from executions.engine.graphs import CompiledVersion, compiled
from executions.engine.leases import new_lease_owner, owner_is_dead_here
from executions.engine.outcomes import lose_lease
from executions.models import NodeRun, event_message
from symphony_site import prepared
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
# is seen, and event numbers stay in commit order), move the named runs Queued → Running with a
# lease from the database clock only while the execution runs, write one `node.started` each
# with the next sequence numbers (in the order the runs were named), and read what the nodes
# need: the execution's facts and their inputs' outputs (one lookup per source node on the
# (execution, node) key: filtering the execution's runs instead made each step of a long chain
# read every run before it). A batch's runs share one lease owner, but each row keeps its own
# lease: one taken over does not touch the others.
CLAIM_SQL = """
WITH e AS (
    SELECT id, team_id, workflow_version_id, state, trigger, started_at, deadline_at, max_parallel
    FROM executions_execution WHERE id = %(e)s FOR NO KEY UPDATE
), r AS (
    UPDATE executions_noderun SET state = 'running', attempt = attempt + 1, lease_owner = %(owner)s,
        lease_expires_at = now() + make_interval(secs => %(lease)s), started_at = now(), finished_at = NULL,
        progress = NULL, message = '', dispatched_at = NULL, due_at = NULL
    WHERE id = ANY(%(runs)s::bigint[]) AND execution_id = %(e)s AND state = 'queued'
        AND (due_at IS NULL OR due_at <= now() + make_interval(secs => %(tolerance)s))
        AND EXISTS (SELECT 1 FROM e WHERE e.state = 'running')
    RETURNING id, node_id, node_kind, attempt, arrived_edges, input_sources
), n AS (
    SELECT r.*, row_number() OVER (ORDER BY array_position(%(runs)s::bigint[], r.id)) AS k,
        count(*) OVER () AS total
    FROM r
), s AS (
    UPDATE executions_execution AS x SET event_seq = x.event_seq + (SELECT count(*) FROM r)
    WHERE x.id = %(e)s AND EXISTS (SELECT 1 FROM r)
    RETURNING x.event_seq
), written AS (
    INSERT INTO executions_executionevent (execution_id, seq, type, node_id, data, at)
    SELECT %(e)s, s.event_seq - n.total + n.k, 'node.started', n.node_id, jsonb_build_object('attempt', n.attempt),
        %(at)s
    FROM n, s
)
SELECT e.team_id, e.workflow_version_id, e.state, e.trigger, e.started_at, e.deadline_at, e.max_parallel,
    n.id, n.node_id, n.attempt, n.arrived_edges, s.event_seq - n.total + n.k,
    (SELECT jsonb_object_agg(source.node_id, source.output)
     FROM unnest(n.input_sources) AS wanted(node_id)
     JOIN executions_noderun AS source ON source.execution_id = %(e)s AND source.node_id = wanted.node_id),
    CASE WHEN n.node_kind = 'input' THEN (SELECT inputs FROM executions_execution WHERE id = %(e)s) END
FROM e JOIN n ON true JOIN s ON true
ORDER BY n.k
"""


def claim_parameters(execution_id: Any, run_ids: Sequence[int]) -> dict[str, Any]:
    """CLAIM_SQL's parameters: a fresh lease owner, the lease length, the events' time."""
    return {"e": execution_id, "runs": list(run_ids), "owner": new_lease_owner(),
            "lease": settings.EXECUTION_LEASE_S, "tolerance": DUE_TOLERANCE_S, "at": timezone.now()}


def claim(execution_id: Any, run_id: int) -> Claim | None:
    """Queued → Running with a fresh lease, only while the execution is running."""
    claimed = claim_batch(execution_id, [run_id])
    return claimed[0] if claimed else None


def claim_batch(execution_id: Any, run_ids: Sequence[int]) -> list[Claim]:
    """The runs of `run_ids` still queued, Running under one fresh lease owner (one statement),
    only while the execution is running; in the order named."""
    parameters = claim_parameters(execution_id, run_ids)
    with prepared.cursor() as cursor:
        cursor.execute(CLAIM_SQL, parameters, prepare=True)
        found = cursor.fetchall()
    if not found:
        if not _took_over_dead_owner(execution_id, run_ids):
            return []
        parameters["at"] = timezone.now()
        with prepared.cursor() as cursor:
            cursor.execute(CLAIM_SQL, parameters, prepare=True)
            found = cursor.fetchall()
    return claimed_from_rows(parameters, found)


def claimed_from_rows(parameters: dict[str, Any], found: Sequence[Any]) -> list[Claim]:
    """The claims CLAIM_SQL's rows answer; their `node.started` events leave after commit, as one
    batch."""
    claims, messages = claims_and_events(parameters, found)
    if messages:
        publish_batch_to_group_on_commit(execution_group(parameters["e"]), messages)
    return claims


def claims_and_events(parameters: dict[str, Any], found: Sequence[Any]
                      ) -> tuple[list[Claim], list[dict[str, Any]]]:
    """The claims CLAIM_SQL's rows answer, and their `node.started` events as channel messages
    (for the caller to publish after commit)."""
    if not found:
        return [], []
    execution_id, at = parameters["e"], parameters["at"]
    claims = []
    messages = []
    for row in found:
        (team_id, version_id, _, trigger, started_at, deadline_at, max_parallel, run_id, node_id, attempt, arrived,
         seq, source_outputs, inputs) = row
        messages.append(event_message(execution_id=str(execution_id), seq=seq, event_type=ev.NODE_STARTED,
                                      node_id=node_id, at=at, data={"attempt": attempt}))
        graph = compiled(version_id)
        left = (deadline_at - timezone.now()).total_seconds() if deadline_at is not None else None
        claims.append(Claim(
            execution_id=execution_id, team_id=team_id, run_id=run_id, node_id=node_id, attempt=attempt,
            arrived=list(arrived), owner=parameters["owner"], graph=graph,
            execution_facts={"id": str(execution_id), "workflow": graph.workflow.name, "trigger": trigger,
                             "started_at": _iso(started_at)},
            execution_inputs=_decoded(inputs), execution_left_s=left, source_outputs=_decoded(source_outputs),
            max_parallel=max_parallel))
    return claims, messages


def _decoded(value: Any) -> dict[str, Any]:
    """A jsonb value read with a raw cursor (Django's driver setup returns jsonb as text)."""
    if value is None:
        return {}
    return dict(orjson.loads(value) if isinstance(value, str | bytes) else value)


def _took_over_dead_owner(execution_id: Any, run_ids: Sequence[int]) -> bool:
    """Runs that are Running under a process of this host that died (their message came back
    through `reject_on_worker_lost`): end those attempts now rather than wait for the leases to
    lapse. Answers whether any was taken over."""
    rows = list(NodeRun.objects.filter(pk__in=list(run_ids), execution_id=execution_id, state="running")
                .values_list("lease_owner", flat=True))
    if not any(owner_is_dead_here(owner) for owner in rows):
        return False
    with transaction.atomic():
        books = Books.open(execution_id)
        if books is None or books.state.value != "running":
            return False
        current = books._update_runs("SELECT id, node_id, lease_owner FROM executions_noderun WHERE id = ANY(%s) "
                                     "AND execution_id = %s AND state = 'running' ORDER BY id",
                                     [list(run_ids), execution_id])
        taken = [run_id for run_id, node_id, owner in current if owner_is_dead_here(owner)
                 and lose_lease(books, run_id=run_id, node_id=node_id, reason="its worker process died")]
        # The runs taken over are claimed again by this task: no message of their own.
        books.dispatches = [item for item in books.dispatches if item.run_id not in taken]
        books.close()
        return bool(taken)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None
