"""Starting executions: a new run of a pinned workflow version, and re-runs reusing what succeeded."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from executions import auditing
from executions.domain import (
    Command,
    CommandRefused,
    ExecutionState,
    NodeRunState,
    check_command,
)
from executions.engine import creating
from executions.engine import events as ev
from executions.engine.books import Books
from executions.engine.graphs import CompiledVersion, compiled
from executions.engine.recording import close_claiming
from executions.engine.stepping import body_resolver, run_kept_after_start, start_inline_capacity
from executions.models import Execution, NodeRun, Trigger
from executions.runtime import registry
from executions.runtime.flow import Settled, settle_outgoing, start_input_problems
from executions.services.availability import node_views
from executions.services.errors import refused
from executions.triggers import concurrency
from instruments.availability import require_models_available
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import Conflict, ValidationFailed
from symphony_site.events import run_after_commit
from teams.access import require_role
from teams.roles import Role
from workflows.models import Workflow, WorkflowVersion
from workflows.selectors import version_of


def _check_inputs(graph: CompiledVersion, inputs: Any) -> dict[str, Any]:
    if inputs is None:
        inputs = {}
    if not isinstance(inputs, dict):
        raise ValidationFailed("inputs is an object keyed by input node id.",
                               details=[{"field": "inputs", "code": "invalid", "message": "expected an object"}])
    problems = start_input_problems(graph.workflow, inputs)
    if problems:
        raise ValidationFailed(
            f"The inputs cannot start this workflow: {problems[0].message}",
            details=[{"field": f"inputs.{problem.node_id}", **problem.to_dict()} for problem in problems])
    return inputs


def _node_runs(execution: Execution, graph: CompiledVersion) -> list[dict[str, Any]]:
    """Each node's run, `creating.RUN_COLUMNS`, in the graph's order."""
    resolve = body_resolver(execution.team_id)
    runs = []
    for node_id, facts in graph.facts.items():
        queue = facts.queue
        if facts.kind == "control" and facts.type_name == "loop":
            queue = registry.queue_for(facts.node, resolve_workflow=resolve)
        runs.append({"node_id": node_id, "node_kind": facts.kind, "node_type": facts.type_name[:200],
                     "queue": queue, "max_attempts": facts.max_attempts, "pending_inputs": facts.incoming})
    return runs


class _Limited(Exception):
    """The team has a concurrency limit and the start holds no admission yet: nothing was written."""

    def __init__(self, team_limit: tuple[int, str] | None) -> None:
        super().__init__("the team has a concurrency limit")
        self.team_limit = team_limit


def _create(*, actor: Actor, origin: Origin, workflow: Workflow, version: WorkflowVersion,
            graph: CompiledVersion, inputs: dict[str, Any], trigger: str,
            rerun_of: Execution | None, admitted: bool = True) -> tuple[Execution, Books]:
    """The pending execution and its node runs (one statement, `creating`) and its books.

    Unless `admitted` (the caller holds the admission, or needs none), nothing is written when
    the team has a concurrency limit: `_Limited` then carries that limit, for the caller to take
    the admission and create again."""
    workflow_settings = graph.workflow.settings
    now = timezone.now()
    timeout = workflow_settings.timeout_s
    execution = Execution(
        id=uuid.uuid4(), team_id=workflow.team_id, workflow=workflow, workflow_version=version,
        state=ExecutionState.PENDING.value, inputs=inputs, trigger=trigger,
        started_by=actor.user if actor.is_user else None, started_by_name=actor.name[:150],
        rerun_of=rerun_of, created_at=now, updated_at=now,
        error_policy=str(workflow_settings.error_policy),
        max_parallel=max(1, workflow_settings.max_parallel or settings.EXECUTION_DEFAULT_MAX_PARALLEL),
        timeout_s=float(timeout) if timeout else None, node_count=len(graph.facts))
    written, limit_of_team = creating.insert(execution, _node_runs(execution, graph), always=admitted)
    if not written:
        raise _Limited(limit_of_team)
    books = Books.of(execution, actor=actor, origin=origin)
    books.record_transition(None, ExecutionState.PENDING.value, actor=actor,
                            reason="re-run" if rerun_of is not None else "created", at=now)
    books.event(ev.EXECUTION_CREATED, trigger=trigger, version=version.version,
                **({"rerun_of": str(rerun_of.pk)} if rerun_of is not None else {}))
    return execution, books


def begin(books: Books, *, reason: str, details: dict[str, Any] | None = None,
          reused: list[tuple[str, Any]] | None = None, inline_capacity: int = 0) -> None:
    """Pending → running: skip disabled nodes, settle reused ones, queue the sources, dispatch.

    At a plain start, up to `inline_capacity` cheap sources are kept in `books.inline` instead of
    sent: the caller claims them when it closes the books (`recording.close_claiming`) and runs
    them after commit."""
    books.move(ExecutionState.RUNNING, reason=reason, audit_type="execution.started", details=details)
    sources = books.graph.index.sources()
    if not reused and books.plain_start(sources):
        # What the lines below do for such a start, in one statement.
        books.queue_sources(sources, inline_capacity=inline_capacity)
        return
    books.skip_disabled_at_start()
    if reused:
        books.settle((node_id, settle_outgoing(books.graph.index, node_id, state=Settled.COMPLETED,
                                               outputs=output or {}))
                     for node_id, output in reused)
    books.queue_ready(sources)
    # Nothing has failed at start (a re-run copies completed nodes only).
    if books.gate(failures_possible=False) is ExecutionState.RUNNING:
        books.finish_if_done(books.dispatch(report=True))


def _authorize(actor: Actor, team: Any, *, action: str) -> None:
    """Operators and above start executions; a system actor (a schedule, a webhook, a "run
    after" rule, a workflow retry) acts for the team whose editor configured it."""
    if not actor.is_system:
        require_role(actor.user, team, Role.OPERATOR, action=action)


def execution_start(*, actor: Actor, origin: Origin, workflow: Workflow, version: str | None = None,
                    inputs: Any = None, trigger: str = Trigger.MANUAL, start: bool = True) -> Execution:
    """A new execution of `workflow` (its current version unless `version` names one), started
    unless `start` is False (then it waits, pending, for the `start` command). Under a
    concurrency limit it may be queued or cancelled instead, or refused (docs/triggers.md)."""
    _authorize(actor, workflow.team, action="start executions")
    if workflow.is_archived:
        raise Conflict("This workflow is archived; archived workflows cannot run.")
    stored = version_of(workflow, version)
    graph = compiled(stored.pk)
    checked = _check_inputs(graph, inputs)
    # Every model node must be able to run for this team: 409 naming each one that cannot.
    require_models_available(workflow.team, graph.workflow)
    with transaction.atomic():
        admission = concurrency.ADMITTED
        # A workflow's own limit is known here: take the admission first. Otherwise the insert
        # reads the team's limit and writes nothing if there is one; then the admission is taken
        # (the team's lock, before any row of this start exists) and the rows written after it.
        admitted = not start
        if start and concurrency.workflow_limit(workflow) is not None:
            admission, admitted = concurrency.admission_for(workflow=workflow), True
        create = functools.partial(_create, actor=actor, origin=origin, workflow=workflow, version=stored,
                                   graph=graph, inputs=checked, trigger=trigger, rerun_of=None)
        try:
            execution, books = create(admitted=admitted)
        except _Limited as limited:
            admission = concurrency.admission_for(workflow=workflow, known_team_limit=limited.team_limit)
            execution, books = create()
        details = {"version": stored.version, "trigger": trigger, "inputs": sorted(checked)}
        if start:
            capacity = start_inline_capacity()
            concurrency.settle_admission(books, admission, begin=lambda: begin(
                books, reason="started", details=details, inline_capacity=capacity))
        else:
            auditing.audit_execution(execution=execution, actor=actor, origin=origin,
                                     event_type="execution.created", workflow_name=workflow.name,
                                     details=details)
        # Cheap sources kept for this process are claimed with the closing write (Running under
        # this process's lease when the start commits) and run here after commit, with what
        # they make ready, instead of paying a step message each (issue 11's inline steps; see
        # docs/spec-deviations.md). If this process dies first, their leases lapse and the
        # reaper queues them again, as for any claimed run.
        kept = close_claiming(books)
        if kept:
            run_after_commit(functools.partial(run_kept_after_start, execution.pk, kept))
    return execution


def execution_rerun(*, actor: Actor, origin: Origin, execution: Execution, reason: str = "",
                    trigger: str = Trigger.RERUN) -> Execution:
    """A new execution of the same version and inputs that reuses every completed node's output
    and runs the rest (execution-semantics.md, "Failure"); `trigger` is `retry` for the
    automatic retries of `settings.retry_workflow`."""
    _authorize(actor, execution.team, action="re-run executions")
    current = ExecutionState(execution.state)
    try:
        check_command(current, {}, Command.RERUN, all_views=lambda: node_views(execution.pk))
    except CommandRefused as error:
        raise refused(error) from None
    workflow = execution.workflow
    version = execution.workflow_version
    graph = compiled(version.pk)
    with transaction.atomic():
        # The original's row lock: its state cannot change under us (it is terminal; the lock
        # also orders two re-runs of it).
        original = Execution.objects.select_for_update(no_key=True).get(pk=execution.pk)
        if original.state != current.value:
            return execution_rerun(actor=actor, origin=origin, execution=original, reason=reason,
                                   trigger=trigger)
        admission = concurrency.admission_for(workflow=workflow)
        completed = list(NodeRun.objects.filter(execution=original, state=NodeRunState.COMPLETED.value)
                         .values("node_id", "output", "inputs", "usage", "cached", "started_at",
                                 "finished_at", "reused_from_id"))
        rerun, books = _create(actor=actor, origin=origin, workflow=workflow, version=version, graph=graph,
                               inputs=dict(original.inputs or {}), trigger=trigger, rerun_of=original)
        runs = {run.node_id: run for run in NodeRun.objects.filter(execution=rerun,
                                                                   node_id__in=[c["node_id"] for c in completed])}
        for done in completed:
            run = runs[done["node_id"]]
            run.state = NodeRunState.COMPLETED.value
            run.output, run.inputs, run.usage, run.cached = done["output"], done["inputs"], done["usage"], done["cached"]
            run.started_at, run.finished_at = done["started_at"], done["finished_at"]
            run.reused_from_id = original.pk
            run.pending_inputs = 0
        NodeRun.objects.bulk_update(list(runs.values()), ["state", "output", "inputs", "usage", "cached",
                                                          "started_at", "finished_at", "reused_from",
                                                          "pending_inputs"], batch_size=2000)
        auditing.audit_execution(execution=original, actor=actor, origin=origin, event_type="execution.rerun",
                                 reason=reason, workflow_name=workflow.name,
                                 details={"rerun": str(rerun.pk), "reused_nodes": len(completed)})
        concurrency.settle_admission(books, admission, begin=lambda: begin(
            books, reason=reason or f"re-run of {original.pk}",
            details={"version": version.version, "trigger": trigger, "rerun_of": str(original.pk),
                     "reused_nodes": len(completed)},
            reused=[(done["node_id"], done["output"]) for done in completed]))
        books.close()
    return rerun
