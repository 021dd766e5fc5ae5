"""The `loop` control node: its `body` workflow once per item of `over`, results in order.

Contract:

* `over` is an expression over the loop's `inputs` (plus `execution`, `secrets`) that
  must give a list (a tuple or range counts); anything else is `invalid_input`.
* `body` is a workflow reference resolved with `context.resolve_workflow(ref)`; no
  resolver → `loop_unavailable`, an unknown reference → `unknown_workflow` (neither
  retryable). Bodies may contain loops, at most `MAX_LOOP_DEPTH` deep
  (`loop_too_deep`).
* Each item runs through the reference executor (`local.run_workflow`, the same rules
  as the distributed engine). A body with exactly one input node gets the item as
  that input's value; with none, the item is not passed; with several, the item must
  be an object keyed by input node id. Unknown keys, missing required inputs and
  interactive inputs without a value fail the item.
* An item's result is the value of the body's single output node, or an object keyed
  by output node id when it has none or several (an output node that did not
  complete is null / absent).
* Up to `context.max_parallel` items (the workflow's `settings.max_parallel`,
  default `DEFAULT_LOOP_PARALLEL`) run at once on threads; `value` lists the results
  in item order. Progress is reported as items finish.
* When the loop itself is told to stop (`reporter.should_stop()`), items stop at their
  next safe point and the loop fails `cancelled` (or `timeout` past its deadline).
* A failing item stops the others at their next safe point and fails the loop with
  `loop_item_failed`, naming the lowest failing item index, the body node and its
  error; retryable when that error was. Body nodes log through the loop's reporter
  (prefixed `item N: node:`), from worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from executions.runtime.contract import NodeContext, NodeFailure, NodeOutcome, Reporter
from executions.runtime.flow import FlowIndex, expression_context
from executions.runtime.operators import stopped
from executions.runtime.ports import describe
from executions.runtime.transforms import evaluate_or_fail
from workflows.domain import ControlNode, InputNode, OutputNode, Workflow

if TYPE_CHECKING:
    from executions.runtime.local import RunResult

DEFAULT_LOOP_PARALLEL = 4
MAX_LOOP_DEPTH = 8


class _ItemReporter:
    """Passes a body's log lines to the loop's reporter, marked with the item index."""

    def __init__(self, parent: Reporter, item: int) -> None:
        self.parent = parent
        self.prefix = f"item {item}: "

    def progress(self, fraction: float, message: str = "") -> None:
        return None

    def log(self, level: str, message: str) -> None:
        self.parent.log(level, self.prefix + message)

    def should_stop(self) -> bool:
        return self.parent.should_stop()


def _failure(node: ControlNode, code: str, message: str, retryable: bool = False,
             **details: Any) -> NodeFailure:
    return NodeFailure(message, code=code, retryable=retryable,
                       details={"node_id": node.id, **details})


def _body(context: NodeContext, node: ControlNode) -> Workflow:
    if context.depth >= MAX_LOOP_DEPTH:
        raise _failure(node, "loop_too_deep",
                       f"Loop {node.id!r} is nested {MAX_LOOP_DEPTH} loops deep; does its body "
                       "run itself? Break the recursion.")
    if context.resolve_workflow is None:
        raise _failure(node, "loop_unavailable",
                       f"Loop {node.id!r} cannot resolve its body {node.body!r} here.")
    try:
        return context.resolve_workflow(node.body or "")
    except NodeFailure:
        raise
    except Exception as error:
        raise _failure(node, "unknown_workflow",
                       f"Loop {node.id!r}: its body {node.body!r} is not a workflow this team "
                       f"can run ({error}); set body to an existing workflow.") from error


def _items(context: NodeContext, node: ControlNode) -> list[Any]:
    names = expression_context(context.inputs, execution=context.execution,
                               secrets=context.secrets)
    items = evaluate_or_fail(node.over or "", names, f"loop {node.id!r} (over)",
                             {"node_id": node.id, "field": "over"})
    if isinstance(items, tuple | range):
        items = list(items)
    if not isinstance(items, list):
        raise _failure(node, "invalid_input",
                       f"Loop {node.id!r}: over ({node.over!r}) gave {describe(items)}, not a "
                       "list; make it give the items to run the body for.")
    return items


def _item_inputs(node: ControlNode, input_ids: list[str], item: Any, position: int
                 ) -> Mapping[str, Any]:
    if len(input_ids) == 1:
        return {input_ids[0]: item}
    if not input_ids:
        return {}
    if not isinstance(item, dict):
        raise _failure(node, "invalid_input",
                       f"Loop {node.id!r}: item {position} is {describe(item)}, but the body has "
                       f"several inputs ({', '.join(input_ids)}); give each item as an object "
                       "keyed by input node id.", item=position)
    return item


def _item_result(result: RunResult, output_ids: list[str]) -> Any:
    if len(output_ids) == 1:
        return result.outputs.get(output_ids[0])
    return dict(result.outputs)


def _item_failure(node: ControlNode, position: int, result: RunResult) -> NodeFailure:
    error = result.error or {}
    if result.state == "waiting_for_input":
        waiting = ", ".join(result.waiting_for)
        return _failure(node, "loop_item_failed",
                        f"Loop {node.id!r}: item {position} needs input {waiting}, which a loop "
                        "body cannot ask for; pass it in the item or give it a default.",
                        item=position)
    node_error = error.get("details", {}).get("node_error", {})
    retryable = bool(node_error.get("retryable", False))
    message = node_error.get("message") or error.get("message", result.state)
    where = f" at node {error['node_id']!r}" if "node_id" in error else ""
    return _failure(node, "loop_item_failed",
                    f"Loop {node.id!r}: item {position} failed{where}: {message}",
                    retryable=retryable, item=position, body_node_id=error.get("node_id"),
                    body_error=node_error or error)


def run_loop(context: NodeContext) -> NodeOutcome:
    from executions.runtime.local import run_workflow

    node = context.node
    assert isinstance(node, ControlNode)
    body = _body(context, node)
    items = _items(context, node)
    input_ids = [key for key, inner in body.nodes.items() if isinstance(inner, InputNode)]
    output_ids = [key for key, inner in body.nodes.items() if isinstance(inner, OutputNode)]
    prepared = [_item_inputs(node, input_ids, item, position)
                for position, item in enumerate(items)]
    index = FlowIndex(body)
    stop = threading.Event()
    parent = context.reporter

    def should_stop() -> bool:
        return stop.is_set() or parent.should_stop()

    def run_item(position: int) -> RunResult:
        result = run_workflow(
            body, prepared[position], resolve_workflow=context.resolve_workflow,
            execution=context.execution, secrets=context.secrets,
            allowed_hosts=context.allowed_hosts, reporter=_ItemReporter(parent, position),
            deadline=context.deadline, should_stop=should_stop, depth=context.depth + 1,
            index=index, execution_id=context.execution_id)
        if result.state != "completed":
            stop.set()
        return result

    results: list[RunResult | None] = [None] * len(items)
    finished = 0
    lock = threading.Lock()

    def record(position: int, result: RunResult) -> None:
        nonlocal finished
        with lock:
            results[position] = result
            finished += 1
            done = finished
        parent.progress(done / len(items), f"{done} of {len(items)} items")

    workers = max(1, min(context.max_parallel or DEFAULT_LOOP_PARALLEL, len(items)))
    if workers == 1:
        for position in range(len(items)):
            if should_stop():
                break
            record(position, run_item(position))
    else:
        with ThreadPoolExecutor(max_workers=workers,
                                thread_name_prefix=f"loop-{node.id}") as pool:
            futures = [pool.submit(_guarded, run_item, record, position, should_stop)
                       for position in range(len(items))]
            for future in futures:
                future.result()
    if parent.should_stop():
        # Items stopped because the loop itself was told to stop: say that, not "item N".
        raise stopped(context)
    for position, result in enumerate(results):
        if result is not None and result.state != "completed":
            raise _item_failure(node, position, result)
    if any(result is None for result in results):
        raise stopped(context)
    return NodeOutcome(outputs={"value": [_item_result(result, output_ids)
                                          for result in results if result is not None]})


def _guarded(run_item: Callable[[int], RunResult], record: Callable[[int, RunResult], None],
             position: int, should_stop: Callable[[], bool]) -> None:
    """Skip an item whose turn comes after the loop was told to stop."""
    if should_stop():
        return
    record(position, run_item(position))
