"""The in-memory workflow: nodes, edges, ports and metadata.

Plain dataclasses so equality is structural (``Workflow.from_document(
w.to_document()) == w``). The workflow keeps a revision counter that every
mutating method bumps; derived facts (topological order, dependencies) are
cached against it, so code that edits a node's fields in place must call
``Workflow.mark_changed()`` afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from workflows.domain.types import ANY, ARRAY, DataType

if TYPE_CHECKING:
    from workflows.domain.algorithms import GraphAnalysis

JsonValue = Any  # a value made of dict/list/str/int/float/bool/None

ESTIMATED_DURATION_KEY = "estimated_duration_ms"
DEFAULT_PORT_NAME = "value"


class NodeKind(StrEnum):
    INPUT = "input"
    OUTPUT = "output"
    INSTRUMENT = "instrument"
    OPERATOR = "operator"
    CONTROL = "control"


class ControlType(StrEnum):
    BRANCH = "branch"
    MERGE = "merge"
    LOOP = "loop"
    PARALLEL = "parallel"
    JOIN = "join"


class EdgeKind(StrEnum):
    DATA = "data"
    CONTROL = "control"
    CONDITIONAL = "conditional"


class TransformType(StrEnum):
    MAP = "map"
    FILTER = "filter"
    REDUCE = "reduce"
    FLATTEN = "flatten"
    CUSTOM = "custom"


class ErrorPolicy(StrEnum):
    STOP = "stop"
    CONTINUE = "continue"
    PAUSE = "pause"


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix; naive times are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True)
class Position:
    x: float = 0
    y: float = 0

    def to_document(self) -> dict[str, Any]:
        return {"x": self.x, "y": self.y}


@dataclass(slots=True, kw_only=True)
class PortDefinition:
    name: str
    data_type: DataType = ANY
    required: bool = True
    default: JsonValue = None
    description: str = ""

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "name": self.name,
            "data_type": str(self.data_type),
            "required": self.required,
            "default": self.default,
        }
        if self.description:
            document["description"] = self.description
        return document


@dataclass(slots=True, kw_only=True)
class RetryPolicy:
    max_attempts: int = 1
    delay_ms: int = 0
    backoff_multiplier: float = 1.0

    def to_document(self) -> dict[str, Any]:
        return {
            "max_attempts": self.max_attempts,
            "delay_ms": self.delay_ms,
            "backoff_multiplier": self.backoff_multiplier,
        }


@dataclass(slots=True, kw_only=True)
class NodeMetadata:
    """Documentation for people plus ``custom`` keys for anything else."""

    documentation: str = ""
    examples: list[JsonValue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    custom: dict[str, JsonValue] = field(default_factory=dict)

    @property
    def estimated_duration_ms(self) -> float | None:
        """The planner's duration estimate, read from ``custom.estimated_duration_ms``."""
        value = self.custom.get(ESTIMATED_DURATION_KEY)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            return None
        return float(value)

    @estimated_duration_ms.setter
    def estimated_duration_ms(self, value: float | None) -> None:
        if value is None:
            self.custom.pop(ESTIMATED_DURATION_KEY, None)
        else:
            self.custom[ESTIMATED_DURATION_KEY] = value

    def get_custom(self, key: str, default: JsonValue = None) -> JsonValue:
        return self.custom.get(key, default)

    def set_custom(self, key: str, value: JsonValue) -> None:
        self.custom[key] = value

    def to_document(self) -> dict[str, Any]:
        return {
            "documentation": self.documentation,
            "examples": list(self.examples),
            "warnings": list(self.warnings),
            "custom": dict(self.custom),
        }


@dataclass(slots=True, kw_only=True)
class WorkflowMetadata:
    author: str = ""
    tags: list[str] = field(default_factory=list)
    category: str = ""
    icon: str = ""
    color: str = ""
    custom: dict[str, JsonValue] = field(default_factory=dict)

    def get_custom(self, key: str, default: JsonValue = None) -> JsonValue:
        return self.custom.get(key, default)

    def set_custom(self, key: str, value: JsonValue) -> None:
        self.custom[key] = value

    def to_document(self) -> dict[str, Any]:
        return {
            "author": self.author,
            "tags": list(self.tags),
            "category": self.category,
            "icon": self.icon,
            "color": self.color,
            "custom": dict(self.custom),
        }


@dataclass(slots=True, kw_only=True)
class WorkflowSettings:
    error_policy: ErrorPolicy = ErrorPolicy.STOP
    max_parallel: int | None = None
    timeout_s: float | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "error_policy": str(self.error_policy),
            "max_parallel": self.max_parallel,
            "timeout_s": self.timeout_s,
        }


# --------------------------------------------------------------------------- nodes


@dataclass(kw_only=True)
class Node:
    """Fields every node kind shares."""

    kind: ClassVar[NodeKind]

    id: str
    name: str = ""
    description: str = ""
    position: Position = field(default_factory=Position)
    enabled: bool = True
    metadata: NodeMetadata = field(default_factory=NodeMetadata)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = self.id

    def input_ports(self) -> tuple[PortDefinition, ...]:
        return ()

    def output_ports(self) -> tuple[PortDefinition, ...]:
        return ()

    def input_port(self, name: str) -> PortDefinition | None:
        return next((port for port in self.input_ports() if port.name == name), None)

    def output_port(self, name: str) -> PortDefinition | None:
        return next((port for port in self.output_ports() if port.name == name), None)

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "id": self.id,
            "kind": str(self.kind),
            "name": self.name,
            "description": self.description,
            "position": self.position.to_document(),
            "enabled": self.enabled,
            "metadata": self.metadata.to_document(),
        }
        document.update(self._kind_fields())
        return document

    def _kind_fields(self) -> dict[str, Any]:
        return {}


@dataclass(kw_only=True)
class InputNode(Node):
    kind: ClassVar[NodeKind] = NodeKind.INPUT

    data_type: DataType = ANY
    required: bool = True
    default: JsonValue = None
    interactive: bool = False
    prompt: str = ""

    def output_ports(self) -> tuple[PortDefinition, ...]:
        return (PortDefinition(name=DEFAULT_PORT_NAME, data_type=self.data_type),)

    def _kind_fields(self) -> dict[str, Any]:
        return {
            "data_type": str(self.data_type),
            "required": self.required,
            "default": self.default,
            "interactive": self.interactive,
            "prompt": self.prompt,
        }


@dataclass(kw_only=True)
class OutputNode(Node):
    kind: ClassVar[NodeKind] = NodeKind.OUTPUT

    data_type: DataType = ANY

    def input_ports(self) -> tuple[PortDefinition, ...]:
        return (PortDefinition(name=DEFAULT_PORT_NAME, data_type=self.data_type),)

    def _kind_fields(self) -> dict[str, Any]:
        return {"data_type": str(self.data_type)}


@dataclass(kw_only=True)
class _TaskNode(Node):
    """Shared by instruments and operators: declared ports, config, retry, timeout.

    Empty ``inputs``/``outputs`` mean "the catalog's default ports"; the
    validator resolves them against the node-type catalog.
    """

    config: dict[str, JsonValue] = field(default_factory=dict)
    inputs: list[PortDefinition] = field(default_factory=list)
    outputs: list[PortDefinition] = field(default_factory=list)
    retry: RetryPolicy | None = None
    timeout_s: float | None = None

    def input_ports(self) -> tuple[PortDefinition, ...]:
        return tuple(self.inputs)

    def output_ports(self) -> tuple[PortDefinition, ...]:
        return tuple(self.outputs)

    @property
    def type_name(self) -> str:
        raise NotImplementedError

    def _task_fields(self) -> dict[str, Any]:
        return {
            "config": dict(self.config),
            "inputs": [port.to_document() for port in self.inputs],
            "outputs": [port.to_document() for port in self.outputs],
            "retry": self.retry.to_document() if self.retry is not None else None,
            "timeout_s": self.timeout_s,
        }


@dataclass(kw_only=True)
class InstrumentNode(_TaskNode):
    """Calls a model; ``model_id`` is its type in the catalog."""

    kind: ClassVar[NodeKind] = NodeKind.INSTRUMENT

    model_id: str = ""
    model_version: str = ""

    @property
    def type_name(self) -> str:
        return self.model_id

    def _kind_fields(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "model_version": self.model_version} | (
            self._task_fields()
        )


@dataclass(kw_only=True)
class OperatorNode(_TaskNode):
    """A registered operation such as ``template`` or ``json_parse``."""

    kind: ClassVar[NodeKind] = NodeKind.OPERATOR

    operator: str = ""

    @property
    def type_name(self) -> str:
        return self.operator

    def _kind_fields(self) -> dict[str, Any]:
        return {"operator": self.operator} | self._task_fields()


@dataclass(kw_only=True)
class ControlNode(Node):
    """Branch, merge, loop, parallel or join.

    Every control node takes an optional ``value`` input of type ``any`` and
    forwards a ``value`` output; a loop's output is the array of its body's
    results. ``condition`` belongs to branch, ``over`` (an expression giving
    the items) and ``body`` (a workflow reference) to loop.
    """

    kind: ClassVar[NodeKind] = NodeKind.CONTROL

    control: ControlType = ControlType.MERGE
    condition: str | None = None
    over: str | None = None
    body: str | None = None

    def input_ports(self) -> tuple[PortDefinition, ...]:
        return (PortDefinition(name=DEFAULT_PORT_NAME, data_type=ANY, required=False),)

    def output_ports(self) -> tuple[PortDefinition, ...]:
        data_type = ARRAY if self.control is ControlType.LOOP else ANY
        return (PortDefinition(name=DEFAULT_PORT_NAME, data_type=data_type),)

    @property
    def accepts_many_inputs(self) -> bool:
        """Merge and join exist to gather several incoming paths into one port."""
        return self.control in (ControlType.MERGE, ControlType.JOIN)

    def _kind_fields(self) -> dict[str, Any]:
        return {
            "control": str(self.control),
            "condition": self.condition,
            "over": self.over,
            "body": self.body,
        }


NODE_CLASSES: dict[NodeKind, type[Node]] = {
    NodeKind.INPUT: InputNode,
    NodeKind.OUTPUT: OutputNode,
    NodeKind.INSTRUMENT: InstrumentNode,
    NodeKind.OPERATOR: OperatorNode,
    NodeKind.CONTROL: ControlNode,
}


# --------------------------------------------------------------------------- edges


@dataclass(slots=True, kw_only=True)
class Transform:
    type: TransformType
    config: dict[str, JsonValue] = field(default_factory=dict)

    @property
    def expression(self) -> str | None:
        value = self.config.get("expr")
        return value if isinstance(value, str) else None

    def to_document(self) -> dict[str, Any]:
        return {"type": str(self.type), "config": dict(self.config)}


@dataclass(kw_only=True)
class Edge:
    kind: ClassVar[EdgeKind]

    id: str
    source: str
    target: str

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "id": self.id,
            "kind": str(self.kind),
            "source": self.source,
        }
        document.update(self._kind_fields())
        return document

    def _kind_fields(self) -> dict[str, Any]:
        return {"target": self.target}

    def connection_key(self) -> tuple[str, ...]:
        """Two edges with the same key are a duplicate connection."""
        return (str(self.kind), self.source, self.target)


@dataclass(kw_only=True)
class DataEdge(Edge):
    kind: ClassVar[EdgeKind] = EdgeKind.DATA

    source_port: str = DEFAULT_PORT_NAME
    target_port: str = DEFAULT_PORT_NAME
    transform: Transform | None = None

    def _kind_fields(self) -> dict[str, Any]:
        return {
            "source_port": self.source_port,
            "target": self.target,
            "target_port": self.target_port,
            "transform": self.transform.to_document() if self.transform else None,
        }

    def connection_key(self) -> tuple[str, ...]:
        return (str(self.kind), self.source, self.source_port, self.target, self.target_port)


@dataclass(kw_only=True)
class ControlEdge(Edge):
    kind: ClassVar[EdgeKind] = EdgeKind.CONTROL

    priority: int = 0

    def _kind_fields(self) -> dict[str, Any]:
        return {"target": self.target, "priority": self.priority}


@dataclass(kw_only=True)
class ConditionalEdge(Edge):
    kind: ClassVar[EdgeKind] = EdgeKind.CONDITIONAL

    condition: str = ""
    label: str | None = None

    def _kind_fields(self) -> dict[str, Any]:
        return {"target": self.target, "condition": self.condition, "label": self.label}

    def connection_key(self) -> tuple[str, ...]:
        return (str(self.kind), self.source, self.target, self.condition)


EDGE_CLASSES: dict[EdgeKind, type[Edge]] = {
    EdgeKind.DATA: DataEdge,
    EdgeKind.CONTROL: ControlEdge,
    EdgeKind.CONDITIONAL: ConditionalEdge,
}


# ------------------------------------------------------------------------ workflow


@dataclass(kw_only=True)
class Workflow:
    id: str
    name: str
    description: str = ""
    version: str = "1.0.0"
    metadata: WorkflowMetadata = field(default_factory=WorkflowMetadata)
    settings: WorkflowSettings = field(default_factory=WorkflowSettings)
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[str, Edge] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    _revision: int = field(default=0, init=False, compare=False, repr=False)
    _analysis: tuple[int, GraphAnalysis] | None = field(
        default=None, init=False, compare=False, repr=False
    )

    # -- document round trip -------------------------------------------------

    @classmethod
    def from_document(cls, document: object) -> Workflow:
        """Build from the inner ``workflow`` object; raise DocumentError if broken."""
        from workflows.domain.document import workflow_from_document

        return workflow_from_document(document)

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "version": self.version,
            "metadata": self.metadata.to_document(),
            "settings": self.settings.to_document(),
            "nodes": [node.to_document() for node in self.nodes.values()],
            "edges": [edge.to_document() for edge in self.edges.values()],
        }
        if self.created_at is not None:
            document["created_at"] = format_time(self.created_at)
        if self.updated_at is not None:
            document["updated_at"] = format_time(self.updated_at)
        return document

    # -- nodes -------------------------------------------------------------------

    @property
    def revision(self) -> int:
        return self._revision

    def mark_changed(self) -> None:
        """Call after editing a node or edge in place, so cached analyses are dropped."""
        self._revision += 1

    @property
    def node_count(self) -> int:
        return len(self.nodes)

    @property
    def edge_count(self) -> int:
        return len(self.edges)

    def get_node(self, node_id: str) -> Node | None:
        return self.nodes.get(node_id)

    def has_node(self, node_id: str) -> bool:
        return node_id in self.nodes

    def add_node(self, node: Node) -> Node:
        if node.id in self.nodes:
            raise ValueError(f"node {node.id!r} already exists")
        self.nodes[node.id] = node
        self.mark_changed()
        return node

    def replace_node(self, node: Node) -> Node:
        if node.id not in self.nodes:
            raise KeyError(node.id)
        self.nodes[node.id] = node
        self.mark_changed()
        return node

    def remove_node(self, node_id: str) -> Node:
        """Remove a node and every edge that touches it."""
        node = self.nodes.pop(node_id)
        touching = [
            edge_id
            for edge_id, edge in self.edges.items()
            if edge.source == node_id or edge.target == node_id
        ]
        for edge_id in touching:
            del self.edges[edge_id]
        self.mark_changed()
        return node

    # -- edges -------------------------------------------------------------------

    def get_edge(self, edge_id: str) -> Edge | None:
        return self.edges.get(edge_id)

    def add_edge(self, edge: Edge, *, require_nodes: bool = True) -> Edge:
        """Add an edge. Endpoints must exist unless ``require_nodes`` is False
        (documents may reference missing nodes; validation reports those)."""
        if edge.id in self.edges:
            raise ValueError(f"edge {edge.id!r} already exists")
        if require_nodes:
            for endpoint in (edge.source, edge.target):
                if endpoint not in self.nodes:
                    raise ValueError(f"edge {edge.id!r} references unknown node {endpoint!r}")
        self.edges[edge.id] = edge
        self.mark_changed()
        return edge

    def remove_edge(self, edge_id: str) -> Edge:
        edge = self.edges.pop(edge_id)
        self.mark_changed()
        return edge

    def edges_from(self, node_id: str) -> list[Edge]:
        return [edge for edge in self.edges.values() if edge.source == node_id]

    def edges_to(self, node_id: str) -> list[Edge]:
        return [edge for edge in self.edges.values() if edge.target == node_id]

    def next_edge_id(self) -> str:
        """A fresh readable edge id (``e1``, ``e2``, …)."""
        number = len(self.edges) + 1
        while f"e{number}" in self.edges:
            number += 1
        return f"e{number}"

    # -- derived facts, cached against the revision ------------------------------

    def analysis(self) -> GraphAnalysis:
        """Graph facts (order, levels, dependencies), computed once per revision."""
        from workflows.domain.algorithms import GraphAnalysis

        cached = self._analysis
        if cached is not None and cached[0] == self._revision:
            return cached[1]
        analysis = GraphAnalysis.of(self)
        self._analysis = (self._revision, analysis)
        return analysis

    def store_analysis(self, analysis: GraphAnalysis) -> None:
        """Keep an analysis built elsewhere (validation builds one as it goes)
        for the current revision."""
        self._analysis = (self._revision, analysis)
