""""Run after" rules: when workflow A ends (completed, or failed), start workflow B with A's
outputs as B's inputs. Both belong to one team.

A rule that would close a loop of rules (B already leads back to A, or A is B) is
refused when it is created or re-enabled: the team's rules are read and checked under
the team's rule lock, so two editors cannot close a loop between them. Chains that get
past this (rules are the team's, executions outlive them) stop at
TRIGGER_MAX_CHAIN_DEPTH, counted on each execution (`TriggeredBy.chain_depth`).
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from executions.engine.graphs import compiled
from executions.models import RunAfter
from executions.triggers.domain.graph import loop_closed_by
from executions.triggers.services.common import audit_trigger
from symphony_site.actors import Actor, Origin
from symphony_site.api.errors import Conflict, ValidationFailed
from teams.access import require_role
from teams.roles import Role
from workflows.models import Workflow

FIELDS = ("on_completed", "on_failed", "input_mapping", "enabled")


def _invalid(field: str, message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": field, "code": code, "message": message}])


def _node_ids(workflow: Workflow, kind: str) -> set[str]:
    graph = compiled(workflow.current_version_id)
    return {node_id for node_id, facts in graph.facts.items() if facts.kind == kind}


def _mapping(upstream: Workflow, downstream: Workflow, mapping: Any) -> dict[str, str]:
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise _invalid("input_mapping", "input_mapping is an object: input node id of the workflow to start "
                                        "→ output node id of the workflow that ended.")
    inputs, outputs = _node_ids(downstream, "input"), _node_ids(upstream, "output")
    for input_id, output_id in mapping.items():
        if input_id not in inputs:
            raise _invalid(f"input_mapping.{input_id}", f"{input_id!r} is not an input node of "
                                                        f"{downstream.name} (its inputs: {', '.join(sorted(inputs)) or 'none'}).")
        if not isinstance(output_id, str) or output_id not in outputs:
            raise _invalid(f"input_mapping.{input_id}", f"{output_id!r} is not an output node of "
                                                        f"{upstream.name} (its outputs: {', '.join(sorted(outputs)) or 'none'}).")
    return {str(key): str(value) for key, value in mapping.items()}


def _ends(on_completed: Any, on_failed: Any) -> tuple[bool, bool]:
    if not isinstance(on_completed, bool) or not isinstance(on_failed, bool):
        raise _invalid("on_completed", "on_completed and on_failed are true or false.")
    if not (on_completed or on_failed):
        raise _invalid("on_completed", "A rule starts its workflow on completion, on failure, or both.")
    return on_completed, on_failed


def _lock_rules(team_id: Any) -> None:
    """Serialise changes to one team's rules (the loop check reads them all)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"symphony.run_after:{team_id}"])


def _refuse_loop(team_id: Any, upstream: Workflow, downstream: Workflow, *, ignoring: Any = None) -> None:
    edges = [(str(source), str(target)) for source, target in
             RunAfter.objects.filter(team_id=team_id, enabled=True).exclude(pk=ignoring)
             .values_list("upstream_id", "downstream_id")]
    loop = loop_closed_by(edges, str(upstream.pk), str(downstream.pk))
    if loop is None:
        return
    names = {str(pk): name for pk, name in Workflow.objects.filter(pk__in=loop).values_list("pk", "name")}
    path = " → ".join(names.get(workflow_id, workflow_id) for workflow_id in loop)
    raise Conflict(f"This rule would close a loop of triggers: {path}.", code="trigger_loop",
                   details=[{"field": "after", "code": "trigger_loop", "path": loop}])


def run_after_create(*, actor: Actor, origin: Origin, downstream: Workflow, upstream: Workflow,
                     on_completed: Any = True, on_failed: Any = False, input_mapping: Any = None,
                     enabled: Any = True) -> RunAfter:
    """Start `downstream` when `upstream` ends. Editor role on the downstream's team."""
    require_role(actor.user, downstream.team, Role.EDITOR, action="manage triggers")
    if upstream.team_id != downstream.team_id:
        raise _invalid("after", "Workflow not found.", code="not_found")
    if downstream.is_archived:
        raise Conflict("This workflow is archived; archived workflows cannot be triggered.")
    if not isinstance(enabled, bool):
        raise _invalid("enabled", "enabled is true or false.")
    completed, failed = _ends(on_completed, on_failed)
    checked = _mapping(upstream, downstream, input_mapping)
    now = timezone.now()
    with transaction.atomic():
        _lock_rules(downstream.team_id)
        if enabled:
            _refuse_loop(downstream.team_id, upstream, downstream)
        if RunAfter.objects.filter(upstream=upstream, downstream=downstream).exists():
            raise Conflict(f"{downstream.name} already runs after {upstream.name}; change that rule instead.",
                           code="already_exists")
        rule = RunAfter.objects.create(team_id=downstream.team_id, upstream=upstream, downstream=downstream,
                                       on_completed=completed, on_failed=failed, input_mapping=checked,
                                       enabled=enabled, created_by=actor.user, created_at=now, updated_at=now)
        audit_trigger(actor=actor, origin=origin, team_id=downstream.team_id, event_type="run_after.created",
                      target_type="run_after", target_id=rule.pk, workflow_name=downstream.name,
                      details={"upstream": str(upstream.pk), "downstream": str(downstream.pk),
                               "on_completed": completed, "on_failed": failed, "input_mapping": checked,
                               "enabled": enabled})
    return rule


def run_after_update(*, actor: Actor, origin: Origin, rule: RunAfter, **changes: Any) -> RunAfter:
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise _invalid(unknown[0], f"{unknown[0]} cannot be changed (delete the rule and create another).")
    require_role(actor.user, rule.downstream.team, Role.EDITOR, action="manage triggers")
    with transaction.atomic():
        _lock_rules(rule.team_id)
        locked = RunAfter.objects.select_for_update().select_related("upstream", "downstream").get(pk=rule.pk)
        before = {name: getattr(locked, name) for name in FIELDS}
        after = {**before, **changes}
        if not isinstance(after["enabled"], bool):
            raise _invalid("enabled", "enabled is true or false.")
        after["on_completed"], after["on_failed"] = _ends(after["on_completed"], after["on_failed"])
        after["input_mapping"] = _mapping(locked.upstream, locked.downstream, after["input_mapping"])
        changed = {name: {"from": before[name], "to": after[name]} for name in FIELDS if before[name] != after[name]}
        if not changed:
            return locked
        if after["enabled"] and not before["enabled"]:
            _refuse_loop(locked.team_id, locked.upstream, locked.downstream, ignoring=locked.pk)
        for name in FIELDS:
            setattr(locked, name, after[name])
        locked.updated_at = timezone.now()
        locked.save()
        audit_trigger(actor=actor, origin=origin, team_id=locked.team_id, event_type="run_after.updated",
                      target_type="run_after", target_id=locked.pk, workflow_name=locked.downstream.name,
                      details={"upstream": str(locked.upstream_id), "downstream": str(locked.downstream_id),
                               "changed": changed})
    return locked


def run_after_delete(*, actor: Actor, origin: Origin, rule: RunAfter) -> None:
    require_role(actor.user, rule.downstream.team, Role.EDITOR, action="manage triggers")
    with transaction.atomic():
        deleted, _ = RunAfter.objects.filter(pk=rule.pk).delete()
        if deleted:
            audit_trigger(actor=actor, origin=origin, team_id=rule.team_id, event_type="run_after.deleted",
                          target_type="run_after", target_id=rule.pk, workflow_name=rule.downstream.name,
                          details={"upstream": str(rule.upstream_id), "downstream": str(rule.downstream_id)})
