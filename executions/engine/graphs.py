"""A stored workflow version as the engine reads it, built once per process.

Versions are immutable, so a version's parsed graph, its edges by source and
target (`FlowIndex`) and the per-node facts the engine asks for on every step
are built on first use and kept, keyed by version id (a bounded LRU).
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from executions.runtime import registry
from executions.runtime.flow import FlowIndex
from workflows.domain import (
    ControlNode,
    InputNode,
    InstrumentNode,
    Node,
    OperatorNode,
    Plan,
    RetryPolicy,
    Workflow,
    plan_workflow,
)

CACHE_SIZE = 64


@dataclass(frozen=True, slots=True)
class NodeFacts:
    """What the engine needs to know about one node, computed once per version."""

    node: Node
    kind: str
    # The catalog type whose duration history estimates this node: operator name, control
    # type, model id, or the kind for input and output nodes.
    type_name: str
    cheap: bool
    # Its queue, except for loops whose queue depends on their body (see `queue_of`).
    queue: str
    incoming: int
    max_attempts: int
    retry: RetryPolicy | None
    timeout_s: float | None
    is_input: bool
    is_merge: bool


@dataclass(slots=True)
class CompiledVersion:
    version_id: uuid.UUID
    checksum: str
    workflow: Workflow
    index: FlowIndex
    facts: dict[str, NodeFacts]
    has_interactive_inputs: bool = False
    _plan: Plan | None = field(default=None, repr=False)

    def plan(self) -> Plan:
        if self._plan is None:
            self._plan = plan_workflow(self.workflow)
        return self._plan


def type_name_of(node: Node) -> str:
    if isinstance(node, OperatorNode):
        return node.operator
    if isinstance(node, InstrumentNode):
        return node.model_id
    if isinstance(node, ControlNode):
        return str(node.control)
    return str(node.kind)


def _facts(node: Node, index: FlowIndex) -> NodeFacts:
    retry = getattr(node, "retry", None)
    timeout = getattr(node, "timeout_s", None)
    control = node.control if isinstance(node, ControlNode) else None
    return NodeFacts(
        node=node, kind=str(node.kind), type_name=type_name_of(node), cheap=registry.is_cheap(node),
        queue=registry.queue_for(node), incoming=index.incoming_count(node.id),
        max_attempts=max(1, retry.max_attempts) if retry is not None else 1, retry=retry,
        timeout_s=float(timeout) if timeout else None, is_input=isinstance(node, InputNode),
        is_merge=str(control) == "merge")


def compile_workflow(workflow: Workflow, *, version_id: uuid.UUID, checksum: str) -> CompiledVersion:
    index = FlowIndex(workflow)
    facts = {node_id: _facts(node, index) for node_id, node in workflow.nodes.items()}
    interactive = any(isinstance(node, InputNode) and node.interactive for node in workflow.nodes.values())
    return CompiledVersion(version_id=version_id, checksum=checksum, workflow=workflow, index=index,
                           facts=facts, has_interactive_inputs=interactive)


_cache: OrderedDict[uuid.UUID, CompiledVersion] = OrderedDict()
_lock = threading.Lock()


def graph_of_document(document: dict[str, Any]) -> Workflow:
    """The graph of a stored version's inner workflow object. Stored versions were validated
    when saved, so reading them back skips validation (the one place to switch to a shared
    version → graph helper)."""
    return Workflow.from_document(document)


def compiled(version_id: uuid.UUID | str) -> CompiledVersion:
    """The compiled graph of a stored version (loaded and built on first use in this process)."""
    key = version_id if isinstance(version_id, uuid.UUID) else uuid.UUID(str(version_id))
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    from workflows.models import WorkflowVersion

    version = WorkflowVersion.objects.only("id", "checksum", "document").get(pk=key)
    built = compile_workflow(graph_of_document(version.workflow_document), version_id=key,
                             checksum=version.checksum)
    with _lock:
        _cache[key] = built
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return built
