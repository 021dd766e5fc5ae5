"""The registry of node implementations, keyed by the catalog's type names.

The engine calls three functions and never learns what a node type does:

* `run_node(context) -> NodeOutcome` runs one attempt and checks the outputs against
  the node's declared ports. Every failure is a NodeFailure (an unexpected exception
  becomes `internal_error`, retryable); an interactive input without a value raises
  InputRequired (a NodeFailure subclass).
* `queue_for(node, resolve_workflow=None) -> "steps" | "io" | "models"`: the Celery
  queue group. Cheap operators and controls → steps; `http_request`, `delay` → io;
  instruments → models; a loop → io when its body (transitively) holds io or model
  nodes or cannot be resolved, else steps.
* `is_cheap(node) -> bool`: pure, bounded and fast (no I/O, no waiting, no unbounded
  loop over a body): eligible to run inline in the task that made it ready.

Keys: an operator by its `operator` name, a control node by its `control` type, an
instrument by its `model_id`; input and output nodes by kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from executions.runtime import controls, http_request, instruments, loop, operators, waits
from executions.runtime.contract import NodeContext, NodeFailure, NodeOutcome
from executions.runtime.flow import check_outputs
from workflows.domain import (
    ControlNode,
    InputNode,
    InstrumentNode,
    Node,
    OperatorNode,
    OutputNode,
    Workflow,
)
from workflows.domain.expressions import ExpressionEvaluationError, ExpressionSyntaxError

__all__ = [
    "QUEUE_IO",
    "QUEUE_MODELS",
    "QUEUE_STEPS",
    "Implementation",
    "NodeType",
    "is_cheap",
    "node_type",
    "queue_for",
    "register_instrument",
    "run_node",
]

QUEUE_STEPS = "steps"
QUEUE_IO = "io"
QUEUE_MODELS = "models"

# How deep `queue_for` follows loop bodies inside loop bodies before assuming io.
_MAX_BODY_DEPTH = 8

Implementation = Callable[[NodeContext], NodeOutcome]


@dataclass(frozen=True, slots=True)
class NodeType:
    """One runnable node type: what it does, where it runs, whether it may run inline."""

    run: Implementation
    queue: str = QUEUE_STEPS
    cheap: bool = True


_INPUT = NodeType(controls.run_input)
_OUTPUT = NodeType(controls.run_output)
_CONTROLS: dict[str, NodeType] = {
    "branch": NodeType(controls.run_branch),
    "merge": NodeType(controls.run_forward),
    "parallel": NodeType(controls.run_forward),
    "join": NodeType(controls.run_join),
    "loop": NodeType(loop.run_loop, queue=QUEUE_IO, cheap=False),
}
_OPERATORS: dict[str, NodeType] = {
    "template": NodeType(operators.run_template),
    "json_parse": NodeType(operators.run_json_parse),
    "json_format": NodeType(operators.run_json_format),
    "select": NodeType(operators.run_select),
    "map": NodeType(operators.run_map),
    "filter": NodeType(operators.run_filter),
    "reduce": NodeType(operators.run_reduce),
    "merge_objects": NodeType(operators.run_merge_objects),
    "log": NodeType(operators.run_log),
    "delay": NodeType(waits.run_delay, queue=QUEUE_IO, cheap=False),
    "http_request": NodeType(http_request.run_http_request, queue=QUEUE_IO, cheap=False),
}
_INSTRUMENTS: dict[str, NodeType] = {
    instruments.ECHO_MODEL: NodeType(instruments.run_echo, queue=QUEUE_MODELS, cheap=False),
}


def register_operator(name: str, node_type: NodeType) -> None:
    _OPERATORS[name] = node_type


def register_control(name: str, node_type: NodeType) -> None:
    _CONTROLS[name] = node_type


def register_instrument(model_id: str, run: Implementation, *, queue: str = QUEUE_MODELS
                        ) -> None:
    """Add a model implementation (the instruments issue registers real providers)."""
    _INSTRUMENTS[model_id] = NodeType(run, queue=queue, cheap=False)


def node_type(node: Node) -> NodeType | None:
    """The registered implementation of a node, or None when the platform has none."""
    node_class = type(node)
    if node_class is OperatorNode:
        return _OPERATORS.get(node.operator)  # type: ignore[attr-defined]
    if node_class is ControlNode:
        return _CONTROLS.get(str(node.control))  # type: ignore[attr-defined]
    if node_class is InputNode:
        return _INPUT
    if node_class is OutputNode:
        return _OUTPUT
    if node_class is InstrumentNode:
        return _INSTRUMENTS.get(node.model_id)  # type: ignore[attr-defined]
    return None


def _unavailable(node: Node) -> NodeFailure:
    if isinstance(node, InstrumentNode):
        return NodeFailure(
            f"Model {node.model_id!r} (node {node.id!r}) cannot run on this platform yet; "
            "use local/echo for tests and demos.",
            code="model_unavailable", retryable=False,
            details={"node_id": node.id, "model_id": node.model_id},
        )
    type_name = getattr(node, "operator", None) or getattr(node, "control", None) or node.kind
    return NodeFailure(
        f"Node {node.id!r} has type {type_name!r}, which this platform cannot run.",
        code="unknown_node_type", retryable=False, details={"node_id": node.id},
    )


def run_node(context: NodeContext) -> NodeOutcome:
    """Run one attempt of `context.node` and check its outputs against its ports.

    Raises NodeFailure (InputRequired for an input that must be asked for); never
    anything else. The outcome's outputs are a plain dict of exactly the declared ports.
    """
    node = context.node
    entry = node_type(node)
    if entry is None:
        raise _unavailable(node)
    try:
        outcome = entry.run(context)
    except NodeFailure:
        raise
    except (ExpressionEvaluationError, ExpressionSyntaxError) as error:
        raise NodeFailure(f"An expression of node {node.id!r} failed: {error}",
                          code="expression_failed", retryable=False,
                          details={"node_id": node.id}) from error
    except Exception as error:  # the contract: every failure is a NodeFailure
        raise NodeFailure(
            f"Node {node.id!r} failed unexpectedly ({type(error).__name__}: {error}).",
            code="internal_error", retryable=True, details={"node_id": node.id},
        ) from error
    outputs = check_outputs(node, outcome.outputs)
    return replace(outcome, outputs=outputs)


def is_cheap(node: Node) -> bool:
    """Pure, bounded and fast: may run inline in the task that made it ready."""
    entry = node_type(node)
    return entry is not None and entry.cheap


def queue_for(node: Node, *, resolve_workflow: Callable[[str], Workflow] | None = None) -> str:
    """The queue group a node runs on: `steps`, `io` or `models`."""
    return _queue(node, resolve_workflow, 0)


def _queue(node: Node, resolve_workflow: Callable[[str], Workflow] | None, depth: int) -> str:
    if isinstance(node, InstrumentNode):
        entry = _INSTRUMENTS.get(node.model_id)
        return entry.queue if entry is not None else QUEUE_MODELS
    if isinstance(node, ControlNode) and str(node.control) == "loop":
        if resolve_workflow is None or not node.body or depth >= _MAX_BODY_DEPTH:
            return QUEUE_IO
        try:
            body = resolve_workflow(node.body)
        except Exception:  # an unresolvable body fails when the loop runs; queue it safely
            return QUEUE_IO
        queues = {_queue(inner, resolve_workflow, depth + 1) for inner in body.nodes.values()}
        return QUEUE_IO if queues & {QUEUE_IO, QUEUE_MODELS} else QUEUE_STEPS
    entry = node_type(node)
    return entry.queue if entry is not None else QUEUE_STEPS
