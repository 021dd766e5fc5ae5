"""Input, output and control nodes (branch, merge, parallel, join); loop is in loop.py.

Contracts:

* `input`: outputs `value` = `flow.input_node_value(node, context.execution_inputs)`
  (raises InputRequired for an interactive input without a value).
* `output`: outputs `value` = its `value` input.
* `branch`: forwards `value`; `NodeOutcome.decision` = its `condition` is truthy
  over its inputs (an expression failure fails the attempt, `expression_failed`).
* `merge`, `parallel`: forward `value`.
* `join`: `value` = the list of values that arrived (`resolve_inputs` gives a join
  the list in document order of its taken data edges); always a list — of one when
  one path arrived, empty when only control edges were taken.
"""

from __future__ import annotations

from executions.runtime.contract import NodeContext, NodeOutcome
from executions.runtime.flow import branch_decision, input_node_value
from workflows.domain import ControlNode, InputNode


def run_input(context: NodeContext) -> NodeOutcome:
    node = context.node
    assert isinstance(node, InputNode)
    return NodeOutcome(outputs={"value": input_node_value(node, context.execution_inputs)})


def run_output(context: NodeContext) -> NodeOutcome:
    return NodeOutcome(outputs={"value": context.inputs.get("value")})


def run_forward(context: NodeContext) -> NodeOutcome:
    return NodeOutcome(outputs={"value": context.inputs.get("value")})


def run_branch(context: NodeContext) -> NodeOutcome:
    node = context.node
    assert isinstance(node, ControlNode)
    decision = branch_decision(node, context.inputs, execution=context.execution,
                               secrets=context.secrets)
    return NodeOutcome(outputs={"value": context.inputs.get("value")}, decision=decision)


def run_join(context: NodeContext) -> NodeOutcome:
    arrived = context.inputs.get("value")
    return NodeOutcome(outputs={"value": arrived if isinstance(arrived, list) else []})
