"""The in-memory workflow: nodes, edges, ports and metadata.

Plain dataclasses so equality is structural (``Workflow.from_document(
w.to_document()) == w``). The workflow keeps a revision counter that every
mutating method bumps; derived facts (topological order, dependencies) are
cached against it, so code that edits a node's fields in place must call
``Workflow.mark_changed()`` afterwards.

Node kinds live in ``nodes.py``, edge kinds in ``edges.py`` and small value
types in ``values.py``; this module re-exports them all, so
``from workflows.domain.model import InputNode`` keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workflows.domain.edges import (
    EDGE_CLASSES,
    ConditionalEdge,
    ControlEdge,
    DataEdge,
    Edge,
    Transform,
)
from workflows.domain.nodes import (
    NODE_CLASSES,
    ControlNode,
    InputNode,
    InstrumentNode,
    Node,
    OperatorNode,
    OutputNode,
    _TaskNode,
)
from workflows.domain.values import (
    DEFAULT_PORT_NAME,
    ESTIMATED_DURATION_KEY,
    ControlType,
    EdgeKind,
    ErrorPolicy,
    JsonValue,
    NodeKind,
    NodeMetadata,
    PortDefinition,
    Position,
    RetryPolicy,
    TransformType,
    WorkflowMetadata,
    WorkflowSettings,
    format_time,
)

if TYPE_CHECKING:
    from workflows.domain.algorithms import Dependencies, GraphAnalysis

__all__ = [
    "DEFAULT_PORT_NAME",
    "EDGE_CLASSES",
    "ESTIMATED_DURATION_KEY",
    "NODE_CLASSES",
    "ConditionalEdge",
    "ControlEdge",
    "ControlNode",
    "ControlType",
    "DataEdge",
    "Edge",
    "EdgeKind",
    "ErrorPolicy",
    "InputNode",
    "InstrumentNode",
    "JsonValue",
    "Node",
    "NodeKind",
    "NodeMetadata",
    "OperatorNode",
    "OutputNode",
    "PortDefinition",
    "Position",
    "RetryPolicy",
    "Transform",
    "TransformType",
    "Workflow",
    "WorkflowMetadata",
    "WorkflowSettings",
    "_TaskNode",
    "format_time",
]


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

    def dependencies(self, node_id: str) -> Dependencies:
        """Direct and transitive predecessors and successors of a node (acyclic
        workflows); O(1) once computed, recomputed after any change."""
        return self.analysis().dependencies(node_id)

    def store_analysis(self, analysis: GraphAnalysis) -> None:
        """Keep an analysis built elsewhere (validation builds one as it goes)
        for the current revision."""
        self._analysis = (self._revision, analysis)
