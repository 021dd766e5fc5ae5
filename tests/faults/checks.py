"""What the fault suite asserts after its faults, counted from the database's rows.

For every execution: the state, node states, errors and outputs the reference executor
computes for the same version and inputs (tests/executions/oracle.py); event numbers 1..n with
no gap or repeat; for every node run, one `node.started` per attempt, one `node.retrying` per
attempt after the first, exactly one terminal event matching its state and at most one
`node.queued` (a successor is dispatched once)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from executions.engine.bodies import resolve_body
from executions.models import Execution, ExecutionEvent, NodeRun
from tests.executions.oracle import assert_agrees, reference

TERMINAL_EVENT = {"completed": "node.completed", "failed": "node.failed", "skipped": "node.skipped"}
EXECUTION_END = {"completed": "execution.completed", "failed": "execution.failed"}


@dataclass
class Findings:
    executions: int = 0
    nodes: int = 0
    lost: int = 0
    duplicated: int = 0
    disagreeing: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, kind: str, text: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.problems) < 50:
            self.problems.append(f"{kind}: {text}")


def check_all(expected_by_key: dict[tuple[Any, str], Any]) -> Findings:
    """`expected_by_key`: the reference executor's results by (version id, inputs as JSON);
    computed here for any other execution."""
    findings = Findings()
    for execution in Execution.objects.order_by("created_at"):
        findings.executions += 1
        key = (execution.workflow_version_id, json.dumps(execution.inputs, sort_keys=True))
        if key not in expected_by_key:
            team_id = execution.team_id
            expected_by_key[key] = reference(
                execution, resolve_workflow=lambda name, team_id=team_id: resolve_body(team_id, name))
        check_execution(execution, expected_by_key[key], findings)
    return findings


def check_execution(execution: Execution, expected: Any, findings: Findings) -> None:
    label = f"execution {execution.pk} ({execution.workflow_version.workflow.name})"
    if execution.state not in ("completed", "failed", "cancelled"):
        findings.problem("lost", f"{label} is still {execution.state}")
        return
    try:
        assert_agrees(execution, expected)
    except AssertionError as error:
        findings.problem("disagreeing", f"{label}: not what the reference executor computes ({error!r:.300})")
    events = list(ExecutionEvent.objects.filter(execution=execution).order_by("seq")
                  .values_list("seq", "type", "node_id", "data"))
    seqs = [seq for seq, *_ in events]
    if seqs != list(range(1, len(seqs) + 1)):
        repeated = [seq for seq, number in Counter(seqs).items() if number > 1]
        kind = "duplicated" if repeated else "lost"
        findings.problem(kind, f"{label}: event numbers are not 1..{len(seqs)}")
    ends = Counter(event_type for _, event_type, _, _ in events if event_type in EXECUTION_END.values())
    wanted_end = EXECUTION_END.get(execution.state)
    if wanted_end is not None and ends[wanted_end] != 1:
        findings.problem("lost" if ends[wanted_end] == 0 else "duplicated",
                         f"{label}: {ends[wanted_end]} {wanted_end} events")
    by_node: dict[str, Counter[str]] = defaultdict(Counter)
    for _, event_type, node_id, _ in events:
        if node_id:
            by_node[node_id][event_type] += 1
    for run in NodeRun.objects.filter(execution=execution):
        findings.nodes += 1
        check_run(run, by_node[run.node_id], label, findings)


def check_run(run: NodeRun, counts: Counter[str], label: str, findings: Findings) -> None:
    where = f"{label} node {run.node_id}"
    if run.state not in TERMINAL_EVENT:
        findings.problem("lost", f"{where} is still {run.state}")
        return
    compare(findings, where, "node.started", counts["node.started"], run.attempt)
    compare(findings, where, "node.retrying", counts["node.retrying"], max(run.attempt - 1, 0))
    for state, event_type in TERMINAL_EVENT.items():
        compare(findings, where, event_type, counts[event_type], 1 if run.state == state else 0)
    if counts["node.queued"] > 1:
        findings.problem("duplicated", f"{where}: queued (dispatched) {counts['node.queued']} times")


def compare(findings: Findings, where: str, event_type: str, found: int, wanted: int) -> None:
    if found < wanted:
        findings.problem("lost", f"{where}: {found} {event_type} events, {wanted} expected")
    elif found > wanted:
        findings.problem("duplicated", f"{where}: {found} {event_type} events, {wanted} expected")


def next_start_after(run_id: int, attempt: int) -> dt.datetime | None:
    """When the attempt after `attempt` of this run started (None: there was none)."""
    run = NodeRun.objects.filter(pk=run_id).values_list("execution_id", "node_id").first()
    if run is None:
        return None
    found = (ExecutionEvent.objects.filter(execution_id=run[0], node_id=run[1], type="node.started",
                                           data__attempt=attempt + 1).values_list("at", flat=True).first())
    return found
