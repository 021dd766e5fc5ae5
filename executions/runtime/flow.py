"""The pure rules of data flow between nodes: which edges are taken, when a node may
run, what its inputs are, and whether its outputs fit its ports.

The distributed engine and the in-process reference executor (`local.py`) both
settle nodes with these functions and nothing else, so they agree by
construction. docs/executions.md, "Data flow and node semantics", states the
rules in prose; each function's docstring states its contract.

Vocabulary:

* A node *settles* as `completed`, `skipped` or `failed` (`Settled`).
* When its source settles, an edge settles as taken or dead (`EdgeSettlement`);
  a dead edge carries why (`SKIP_BRANCH_NOT_TAKEN`, `SKIP_UPSTREAM_SKIPPED`,
  `SKIP_UPSTREAM_FAILED`).
* From the counts of its incoming edges (pending, taken, dead) a node's
  `readiness` is run, wait or skip (with the reason).

`FlowIndex` holds a workflow's edges by source and by target in document order;
build it once per workflow version (it is immutable) and pass it around.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from executions.runtime.contract import InputRequired, NodeFailure
from executions.runtime.ports import conforms, describe, input_ports, output_ports, preview
from executions.runtime.transforms import apply_transform, evaluate_or_fail, expression_context
from workflows.domain import (
    ConditionalEdge,
    ControlNode,
    ControlType,
    DataEdge,
    Edge,
    InputNode,
    Node,
    OutputNode,
    Workflow,
)
from workflows.domain.values import RetryPolicy

__all__ = [
    "SKIP_BRANCH_NOT_TAKEN",
    "SKIP_DISABLED",
    "SKIP_EXECUTION_STOPPED",
    "SKIP_UPSTREAM_FAILED",
    "SKIP_UPSTREAM_SKIPPED",
    "Arrival",
    "EdgeSettlement",
    "FlowIndex",
    "InputProblem",
    "Readiness",
    "Settled",
    "Verdict",
    "apply_transform",
    "backoff_delay_s",
    "branch_decision",
    "check_outputs",
    "edge_taken",
    "expression_context",
    "input_node_value",
    "ordered_arrivals",
    "readiness",
    "resolve_inputs",
    "settle_outgoing",
    "start_input_problems",
    "strongest_reason",
    "workflow_outputs",
]

SKIP_BRANCH_NOT_TAKEN = "branch not taken"
SKIP_UPSTREAM_SKIPPED = "upstream skipped"
SKIP_UPSTREAM_FAILED = "upstream failed"
SKIP_DISABLED = "disabled"
# Not an edge rule: what the reference executor writes on nodes left unsettled when an
# execution stops after a failure (error policy `stop`).
SKIP_EXECUTION_STOPPED = "execution stopped"

# When a node's dead edges died for different reasons, the strongest names the skip.
_REASON_RANK = {SKIP_BRANCH_NOT_TAKEN: 1, SKIP_UPSTREAM_SKIPPED: 2, SKIP_UPSTREAM_FAILED: 3}


class Settled(StrEnum):
    """How a node settled, as far as its outgoing edges care."""

    COMPLETED = "completed"
    SKIPPED = "skipped"
    FAILED = "failed"


class Verdict(StrEnum):
    RUN = "run"
    WAIT = "wait"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class EdgeSettlement:
    """An edge once its source settled: taken, or dead with the reason it died."""

    taken: bool
    reason: str | None = None


TAKEN = EdgeSettlement(True)
DEAD_BRANCH = EdgeSettlement(False, SKIP_BRANCH_NOT_TAKEN)
DEAD_SKIPPED = EdgeSettlement(False, SKIP_UPSTREAM_SKIPPED)
DEAD_FAILED = EdgeSettlement(False, SKIP_UPSTREAM_FAILED)


@dataclass(frozen=True, slots=True)
class Readiness:
    verdict: Verdict
    reason: str | None = None


RUN = Readiness(Verdict.RUN)
WAIT = Readiness(Verdict.WAIT)


@dataclass(frozen=True, slots=True)
class Arrival:
    """A taken data edge into a node, with the outputs of its source node."""

    edge: DataEdge
    outputs: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class InputProblem:
    """Why an execution's inputs cannot start it (`unknown_input`, `missing_input`,
    `invalid_input`), naming the input node."""

    node_id: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"node_id": self.node_id, "code": self.code, "message": self.message}


class FlowIndex:
    """A workflow's edges by source and by target, each list in document order.

    Build once per workflow version (`FlowIndex(workflow)`, O(nodes + edges)); the
    engine asks it for the edges to settle and to count, never scanning all edges.
    """

    __slots__ = ("edge_order", "incoming", "nodes", "outgoing", "workflow")

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.nodes: dict[str, Node] = workflow.nodes
        self.outgoing: dict[str, list[Edge]] = {node_id: [] for node_id in workflow.nodes}
        self.incoming: dict[str, list[Edge]] = {node_id: [] for node_id in workflow.nodes}
        self.edge_order: dict[str, int] = {}
        for position, (edge_id, edge) in enumerate(workflow.edges.items()):
            self.edge_order[edge_id] = position
            self.outgoing.setdefault(edge.source, []).append(edge)
            self.incoming.setdefault(edge.target, []).append(edge)

    def incoming_count(self, node_id: str) -> int:
        """How many edges the node waits on: its pending count at start."""
        return len(self.incoming[node_id])

    def sources(self) -> list[str]:
        """Nodes with no incoming edges, in document order: ready at start."""
        return [node_id for node_id, edges in self.incoming.items() if not edges]

    def data_edges_into(self, node_id: str) -> list[DataEdge]:
        return [edge for edge in self.incoming[node_id] if isinstance(edge, DataEdge)]


# ------------------------------------------------------------------ edges


def branch_decision(
    node: ControlNode,
    inputs: Mapping[str, Any],
    *,
    execution: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> bool:
    """A branch's own outcome: its `condition`, evaluated over its inputs, is truthy.

    A branch forwards `value` unchanged, so evaluating over its outputs gives the same
    answer (what `edge_taken` does when no recorded decision is at hand, e.g. after
    `skip_node` with a substitute output). Raises NodeFailure(`expression_failed`).
    """
    if not node.condition:
        return True
    context = expression_context(inputs, execution=execution, secrets=secrets)
    return bool(evaluate_or_fail(node.condition, context, f"branch {node.id!r}",
                          {"node_id": node.id, "field": "condition"}))


def edge_taken(
    edge: Edge,
    *,
    source: Node,
    state: Settled | str,
    outputs: Mapping[str, Any] | None = None,
    decision: bool | None = None,
    execution: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> EdgeSettlement:
    """Settle one edge whose `source` node just settled in `state`.

    * Source skipped → dead (`upstream skipped`); failed → dead (`upstream failed`).
    * Source completed: a conditional edge is taken iff its `condition` is truthy with
      `inputs` = the source's outputs by port name (plus `execution`, `secrets`), else
      dead (`branch not taken`). A data or control edge is taken — except out of a
      `branch`, where it is taken only when the branch's `decision` was True (None:
      computed from `outputs` with `branch_decision`), else dead (`branch not taken`).

    A condition that cannot be evaluated raises NodeFailure(`expression_failed`, not
    retryable): settle edges before recording the source Completed, and record the
    source's attempt as failed instead.
    """
    if state == Settled.SKIPPED:
        return DEAD_SKIPPED
    if state == Settled.FAILED:
        return DEAD_FAILED
    if state != Settled.COMPLETED:
        raise ValueError(f"an edge settles when its source settles, not when it is {state!r}")
    source_outputs = outputs if outputs is not None else {}
    if isinstance(edge, ConditionalEdge):
        context = expression_context(source_outputs, execution=execution, secrets=secrets)
        truthy = evaluate_or_fail(edge.condition, context, f"conditional edge {edge.id!r}",
                           {"edge_id": edge.id, "field": "condition"})
        return TAKEN if truthy else DEAD_BRANCH
    if isinstance(source, ControlNode) and source.control is ControlType.BRANCH:
        if decision is None:
            decision = branch_decision(source, source_outputs, execution=execution,
                                       secrets=secrets)
        return TAKEN if decision else DEAD_BRANCH
    return TAKEN


def settle_outgoing(
    index: FlowIndex,
    node_id: str,
    *,
    state: Settled | str,
    outputs: Mapping[str, Any] | None = None,
    decision: bool | None = None,
    execution: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> list[tuple[Edge, EdgeSettlement]]:
    """Every outgoing edge of a node that settled, with its settlement, in document order.
    Raises NodeFailure like `edge_taken` (nothing is settled then)."""
    source = index.nodes[node_id]
    return [
        (edge, edge_taken(edge, source=source, state=state, outputs=outputs, decision=decision,
                          execution=execution, secrets=secrets))
        for edge in index.outgoing[node_id]
    ]


# ------------------------------------------------------------------ readiness


def strongest_reason(first: str | None, second: str | None) -> str | None:
    """Of two dead-edge reasons, the one that names a skip: upstream failed, then upstream
    skipped, then branch not taken. An engine keeping one reason per node folds with it."""
    if first is None:
        return second
    if second is None:
        return first
    return first if _REASON_RANK.get(first, 0) >= _REASON_RANK.get(second, 0) else second


def readiness(
    node: Node,
    *,
    pending: int,
    taken: int,
    dead: int,
    dead_reason: str | None = None,
) -> Readiness:
    """Whether a node runs, waits or is skipped, from the counts of its incoming edges.

    * A disabled node is skipped (`disabled`) whatever the counts: ask at start.
    * A node without incoming edges runs.
    * `merge` runs as soon as one edge is taken; it is skipped when all are dead.
    * `join` waits until no edge is pending; it runs if at least one was taken, and is
      skipped only when all are dead.
    * Any other node waits until no edge is pending; it runs if none is dead, else it is
      skipped with `dead_reason` (the strongest reason among its dead edges).

    The engine decides each node once: a merge that already ran ignores later arrivals.
    """
    if not node.enabled:
        return Readiness(Verdict.SKIP, SKIP_DISABLED)
    if pending == 0 and taken == 0 and dead == 0:
        return RUN
    control = node.control if isinstance(node, ControlNode) else None
    if control is ControlType.MERGE:
        if taken > 0:
            return RUN
        if pending > 0:
            return WAIT
        return Readiness(Verdict.SKIP, dead_reason or SKIP_BRANCH_NOT_TAKEN)
    if pending > 0:
        return WAIT
    if control is ControlType.JOIN:
        if taken > 0:
            return RUN
        return Readiness(Verdict.SKIP, dead_reason or SKIP_BRANCH_NOT_TAKEN)
    if dead > 0:
        return Readiness(Verdict.SKIP, dead_reason or SKIP_BRANCH_NOT_TAKEN)
    return RUN


# ------------------------------------------------------------------ inputs


def resolve_inputs(
    node: Node,
    arrivals: Iterable[Arrival],
    *,
    execution: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A node's input values by port name, from the taken data edges into it.

    `arrivals` are the taken data edges into the node with their sources' outputs, in
    document order — for a `merge`, in order of arrival (the first one wins). Each value
    is the source port's value after the edge's transform; a source whose outputs lack
    the port (skipped without a substitute) gives nothing. Several values for one port:
    a `join` gets the list of them (a join's port is always a list, even of one); a
    `merge` the first; any other node the list in the given order. A port with no value
    gets its declared default; a required port without one raises NodeFailure
    (`invalid_input`), as does a value that does not fit the port's data type.
    Transform failures raise NodeFailure (`expression_failed` / `invalid_input`).
    """
    collected: dict[str, list[Any]] = {}
    for arrival in arrivals:
        edge = arrival.edge
        outputs = arrival.outputs
        if edge.source_port not in outputs:
            continue
        value = outputs[edge.source_port]
        if edge.transform is not None:
            value = apply_transform(edge, value, source_outputs=outputs, execution=execution,
                                    secrets=secrets)
        collected.setdefault(edge.target_port, []).append(value)
    control = node.control if isinstance(node, ControlNode) else None
    resolved: dict[str, Any] = {}
    for port in input_ports(node):
        values = collected.pop(port.name, None)
        if values is None:
            if port.required and port.default is None:
                raise NodeFailure(
                    f"Input port {port.name!r} of node {node.id!r} has no value: the edge "
                    "feeding it carried none (was its source skipped without a substitute "
                    "output?). Connect a value, or give the port a default.",
                    code="invalid_input", retryable=False,
                    details={"node_id": node.id, "port": port.name},
                )
            resolved[port.name] = port.default
            continue
        if control is ControlType.JOIN:
            resolved[port.name] = values
            continue
        value = values[0] if control is ControlType.MERGE or len(values) == 1 else values
        if not conforms(value, port.data_type):
            raise NodeFailure(
                f"Input port {port.name!r} of node {node.id!r} expects {port.data_type}, but "
                f"got {describe(value)} ({preview(value)}); convert it upstream or with an "
                "edge transform.",
                code="invalid_input", retryable=False,
                details={"node_id": node.id, "port": port.name,
                         "expected": str(port.data_type), "found": describe(value)},
            )
        resolved[port.name] = value
    # Ports a node does not declare keep their values (a type allowing extra ports).
    for name, values in collected.items():
        resolved[name] = values[0] if len(values) == 1 else values
    return resolved


def input_node_value(node: InputNode, provided: Mapping[str, Any]) -> Any:
    """The value of an `input` node: the execution's input for its id (null counts as not
    given), else its `default`, else — if `interactive` — raises InputRequired with the
    prompt, else if `required` raises NodeFailure(`missing_input`), else None.

    A given value or default must fit the node's `data_type` (an integer is a number),
    else NodeFailure(`invalid_input`).
    """
    value = provided.get(node.id)
    if value is None:
        value = node.default
    if value is None:
        if node.interactive:
            raise InputRequired(node.id, node.prompt or f"Provide a value for {node.name!r}.")
        if node.required:
            raise NodeFailure(
                f"Input {node.id!r} is required and was not given; pass it in the "
                "execution's inputs or give the input node a default.",
                code="missing_input", retryable=False, details={"node_id": node.id},
            )
        return None
    if not conforms(value, node.data_type):
        raise NodeFailure(
            f"Input {node.id!r} expects {node.data_type}, but got {describe(value)} "
            f"({preview(value)}).",
            code="invalid_input", retryable=False,
            details={"node_id": node.id, "expected": str(node.data_type),
                     "found": describe(value)},
        )
    return value


def start_input_problems(workflow: Workflow, inputs: Mapping[str, Any]) -> list[InputProblem]:
    """Why `inputs` cannot start an execution of `workflow`; empty when they can.

    Every key must be the id of an enabled input node; each value must fit its node's
    type; a required, non-interactive input without a value or default is missing.
    Interactive inputs without a value are not problems: the execution will ask.
    """
    problems: list[InputProblem] = []
    input_nodes = {node_id: node for node_id, node in workflow.nodes.items()
                   if isinstance(node, InputNode)}
    for key in inputs:
        if key not in input_nodes:
            known = ", ".join(sorted(input_nodes)) or "none"
            problems.append(InputProblem(
                str(key), "unknown_input",
                f"{key!r} is not an input node of this workflow; its inputs are: {known}.",
            ))
    for node_id, node in input_nodes.items():
        if not node.enabled:
            continue
        try:
            input_node_value(node, inputs)
        except InputRequired:
            continue
        except NodeFailure as failure:
            problems.append(InputProblem(node_id, failure.code, failure.message))
    return problems


# ------------------------------------------------------------------ outputs


def check_outputs(node: Node, outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The outputs as a plain dict when they fit the node's declared output ports: every
    port present, no undeclared port, each value of the port's type (`any`/`json` accept
    anything). Otherwise NodeFailure(`output_mismatch`, not retryable)."""
    ports = output_ports(node)
    checked: dict[str, Any] = {}
    for port in ports:
        if port.name not in outputs:
            raise NodeFailure(
                f"Node {node.id!r} produced no value for its output port {port.name!r}.",
                code="output_mismatch", retryable=False,
                details={"node_id": node.id, "port": port.name},
            )
        value = outputs[port.name]
        if not conforms(value, port.data_type):
            raise NodeFailure(
                f"Output port {port.name!r} of node {node.id!r} is declared {port.data_type}, "
                f"but the node produced {describe(value)} ({preview(value)}); declare the port "
                "with a type that fits (any, json) or change what the node produces.",
                code="output_mismatch", retryable=False,
                details={"node_id": node.id, "port": port.name,
                         "expected": str(port.data_type), "found": describe(value)},
            )
        checked[port.name] = value
    if len(checked) != len(outputs):
        extra = sorted(str(name) for name in outputs if name not in checked)
        raise NodeFailure(
            f"Node {node.id!r} produced values for undeclared output ports {extra}.",
            code="output_mismatch", retryable=False,
            details={"node_id": node.id, "ports": extra},
        )
    return checked


def workflow_outputs(workflow: Workflow, node_outputs: Mapping[str, Mapping[str, Any]]
                     ) -> dict[str, Any]:
    """An execution's `outputs`: the `value` of every output node that completed, keyed by
    output node id (`node_outputs` holds the outputs of completed nodes only)."""
    return {
        node_id: node_outputs[node_id].get("value")
        for node_id, node in workflow.nodes.items()
        if isinstance(node, OutputNode) and node_id in node_outputs
    }


# ------------------------------------------------------------------ retries


def backoff_delay_s(policy: RetryPolicy | None, attempt: int) -> float:
    """Seconds to wait before attempt `attempt + 1` after attempt `attempt` failed:
    `delay_ms * backoff_multiplier ** (attempt - 1)`, capped at one hour."""
    if policy is None or policy.delay_ms <= 0:
        return 0.0
    delay = policy.delay_ms / 1000 * max(policy.backoff_multiplier, 1.0) ** max(attempt - 1, 0)
    return float(min(delay, 3600.0))


def ordered_arrivals(index: FlowIndex, node_id: str, taken_edge_ids: Iterable[str],
                     outputs_of: Mapping[str, Mapping[str, Any]]) -> list[Arrival]:
    """The arrivals for `resolve_inputs` from the ids of taken edges into a node and the
    outputs of completed nodes: data edges only, in document order (a convenience for
    engines that keep taken edge ids; a merge's caller orders by arrival itself)."""
    taken = set(taken_edge_ids)
    return [
        Arrival(edge, outputs_of.get(edge.source, {}))
        for edge in index.data_edges_into(node_id)
        if edge.id in taken
    ]
