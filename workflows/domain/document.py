"""Reading the workflow document (the inner ``workflow`` object) into the model.

The reader is lenient on purpose: it walks the whole document, records every
structural problem as a ValidationIssue (with the path to the bad value) and
keeps every node and edge it could read, so ``validate_document`` can report
structural and graph problems in one answer. ``Workflow.from_document`` is
the strict face of it: any error becomes a DocumentError.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from sys import intern
from typing import Any

from workflows.domain.document_fast import fast_edge, fast_node
from workflows.domain.document_fields import (
    MISSING,
    FieldReader,
    Path,
    parse_time,
    type_name,
)
from workflows.domain.issues import DocumentError, IssueCode, ValidationIssue
from workflows.domain.model import (
    DEFAULT_PORT_NAME,
    ConditionalEdge,
    ControlEdge,
    ControlNode,
    ControlType,
    DataEdge,
    Edge,
    EdgeKind,
    ErrorPolicy,
    InputNode,
    InstrumentNode,
    Node,
    NodeKind,
    NodeMetadata,
    OperatorNode,
    OutputNode,
    PortDefinition,
    Position,
    RetryPolicy,
    Transform,
    TransformType,
    Workflow,
    WorkflowMetadata,
    WorkflowSettings,
)
from workflows.domain.values import ConcurrencyLimit, OnLimit, WorkflowRetry

SEMANTIC_VERSION = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")

_COMMON_NODE_FIELDS = frozenset(
    {"id", "kind", "name", "description", "position", "enabled", "metadata"}
)
_TASK_FIELDS = frozenset({"config", "inputs", "outputs", "retry", "timeout_s"})
_NODE_FIELDS: dict[NodeKind, frozenset[str]] = {
    NodeKind.INPUT: _COMMON_NODE_FIELDS
    | {"data_type", "required", "default", "interactive", "prompt"},
    NodeKind.OUTPUT: _COMMON_NODE_FIELDS | {"data_type"},
    NodeKind.INSTRUMENT: _COMMON_NODE_FIELDS | _TASK_FIELDS | {"model_id", "model_version"},
    NodeKind.OPERATOR: _COMMON_NODE_FIELDS | _TASK_FIELDS | {"operator"},
    NodeKind.CONTROL: _COMMON_NODE_FIELDS | {"control", "condition", "over", "body"},
}
_EDGE_FIELDS: dict[EdgeKind, frozenset[str]] = {
    EdgeKind.DATA: frozenset(
        {"id", "kind", "source", "source_port", "target", "target_port", "transform"}
    ),
    EdgeKind.CONTROL: frozenset({"id", "kind", "source", "target", "priority"}),
    EdgeKind.CONDITIONAL: frozenset({"id", "kind", "source", "target", "condition", "label"}),
}
_WORKFLOW_FIELDS = frozenset(
    {
        "id",
        "name",
        "description",
        "version",
        "metadata",
        "settings",
        "nodes",
        "edges",
        "created_at",
        "updated_at",
    }
)


class DocumentReader(FieldReader):
    """Reads a document into a Workflow, collecting issues instead of raising."""

    def __init__(self, *, use_fast_paths: bool = True) -> None:
        super().__init__()
        self.use_fast_paths = use_fast_paths

    def read(self, document: object) -> Workflow | None:
        if not isinstance(document, dict):
            self._wrong_type((), "a workflow object", document)
            return None
        self._unknown_fields(document, _WORKFLOW_FIELDS, ())
        workflow_id = self._string(document, "id", (), default=None, nullable=True)
        workflow = Workflow(
            id=workflow_id or str(uuid.uuid4()),
            name=self._string(document, "name", (), required=True) or "",
            description=self._string(document, "description", ()) or "",
            version=self._version(document),
            metadata=self._workflow_metadata(document),
            settings=self._settings(document),
            created_at=self._time(document, "created_at"),
            updated_at=self._time(document, "updated_at"),
        )
        for node in self._nodes(document):
            workflow.nodes[node.id] = node
        for edge in self._edges(document):
            workflow.edges[edge.id] = edge
        return workflow

    def _version(self, document: Mapping[Any, Any]) -> str:
        version = self._string(document, "version", (), default="1.0.0") or "1.0.0"
        if not SEMANTIC_VERSION.match(version):
            self._error(
                IssueCode.INVALID_DOCUMENT,
                f"version {version!r} is not semantic; write MAJOR.MINOR.PATCH, e.g. 1.2.0.",
                ("version",),
                expected="MAJOR.MINOR.PATCH",
                found=version,
            )
            return "1.0.0"
        return version

    def _time(self, document: Mapping[Any, Any], key: str) -> datetime | None:
        text = self._string(document, key, (), default=None, nullable=True)
        if text is None:
            return None
        try:
            return parse_time(text)
        except ValueError:
            self._error(
                IssueCode.INVALID_DOCUMENT,
                f"{key} {text!r} is not an ISO 8601 time; write e.g. 2026-01-31T12:00:00Z.",
                (key,),
                found=text,
            )
            return None

    def _workflow_metadata(self, document: Mapping[Any, Any]) -> WorkflowMetadata:
        path: Path = ("metadata",)
        raw = self._object(document, "metadata", ())
        if raw is None:
            return WorkflowMetadata()
        self._unknown_fields(
            raw, frozenset({"author", "tags", "category", "icon", "color", "custom"}), path
        )
        return WorkflowMetadata(
            author=self._string(raw, "author", path) or "",
            tags=self._string_list(raw, "tags", path),
            category=self._string(raw, "category", path) or "",
            icon=self._string(raw, "icon", path) or "",
            color=self._string(raw, "color", path) or "",
            custom=self._json_object(raw, "custom", path),
        )

    def _settings(self, document: Mapping[Any, Any]) -> WorkflowSettings:
        path: Path = ("settings",)
        raw = self._object(document, "settings", ())
        if raw is None:
            return WorkflowSettings()
        self._unknown_fields(
            raw,
            frozenset(
                {"error_policy", "max_parallel", "timeout_s", "concurrency", "retry_workflow"}
            ),
            path,
        )
        policy_text = self._string(raw, "error_policy", path, default="stop") or "stop"
        try:
            policy = ErrorPolicy(policy_text)
        except ValueError:
            self._error(
                IssueCode.INVALID_DOCUMENT,
                f"settings.error_policy {policy_text!r} is unknown; use stop, continue or pause.",
                (*path, "error_policy"),
                expected="stop | continue | pause",
                found=policy_text,
            )
            policy = ErrorPolicy.STOP
        return WorkflowSettings(
            error_policy=policy,
            max_parallel=self._number(raw, "max_parallel", path, None, integer=True, minimum=1),
            timeout_s=self._number(raw, "timeout_s", path, None, exclusive_minimum=0),
            concurrency=self._concurrency(raw, path),
            retry_workflow=self._retry_workflow(raw, path),
        )

    def _concurrency(self, raw: Mapping[Any, Any], path: Path) -> ConcurrencyLimit | None:
        value = self._object(raw, "concurrency", path)
        if value is None:
            return None
        here = (*path, "concurrency")
        self._unknown_fields(value, frozenset({"limit", "on_limit"}), here)
        limit = self._number(value, "limit", here, 1, integer=True, minimum=1, nullable=False)
        on_limit_text = self._string(value, "on_limit", here, default="queue") or "queue"
        try:
            on_limit = OnLimit(on_limit_text)
        except ValueError:
            self._error(
                IssueCode.INVALID_DOCUMENT,
                f"settings.concurrency.on_limit {on_limit_text!r} is unknown; "
                "use queue, cancel or fail.",
                (*here, "on_limit"),
                expected="queue | cancel | fail",
                found=on_limit_text,
            )
            on_limit = OnLimit.QUEUE
        return ConcurrencyLimit(limit=int(limit), on_limit=on_limit)

    def _retry_workflow(self, raw: Mapping[Any, Any], path: Path) -> WorkflowRetry | None:
        value = self._object(raw, "retry_workflow", path)
        if value is None:
            return None
        here = (*path, "retry_workflow")
        self._unknown_fields(value, frozenset({"max_attempts", "backoff_s", "backoff_multiplier"}), here)
        return WorkflowRetry(
            max_attempts=int(
                self._number(value, "max_attempts", here, 2, integer=True, minimum=1, nullable=False)
            ),
            backoff_s=float(self._number(value, "backoff_s", here, 60.0, minimum=0, nullable=False)),
            backoff_multiplier=float(
                self._number(value, "backoff_multiplier", here, 1.0, minimum=1, nullable=False)
            ),
        )

    # -- nodes ----------------------------------------------------------------------

    def _nodes(self, document: Mapping[Any, Any]) -> list[Node]:
        raw_nodes = self._field(document, "nodes")
        if raw_nodes is MISSING or raw_nodes is None:
            return []
        if not isinstance(raw_nodes, list):
            self._wrong_type(("nodes",), "a list of nodes", raw_nodes)
            return []
        nodes: list[Node] = []
        seen: set[str] = set()
        for index, raw in enumerate(raw_nodes):
            node = self._node(raw, ("nodes", index))
            if node is None:
                continue
            if node.id in seen:
                self._error(
                    IssueCode.DUPLICATE_NODE_ID,
                    f"Node id {node.id!r} is used more than once; give each node its own id.",
                    ("nodes", index, "id"),
                    node_id=node.id,
                )
                continue
            node.id = intern(node.id)
            seen.add(node.id)
            nodes.append(node)
        return nodes

    def _node(self, raw: object, path: Path) -> Node | None:
        if self.use_fast_paths:
            node = fast_node(raw)
            if node is not None:
                return node
        if not isinstance(raw, dict):
            self._wrong_type(path, "a node object", raw)
            return None
        node_id = self._string(raw, "id", path, default=None, required=True)
        if not node_id:
            return None
        kind_text = self._field(raw, "kind")
        try:
            kind = NodeKind(kind_text) if isinstance(kind_text, str) else None
        except ValueError:
            kind = None
        if kind is None:
            self._error(
                IssueCode.INVALID_DOCUMENT,
                f"Node {node_id!r} has kind {kind_text!r}; use input, output, instrument, "
                f"operator or control.",
                (*path, "kind"),
                node_id=node_id,
                expected="input | output | instrument | operator | control",
                found=kind_text if isinstance(kind_text, str) else type_name(kind_text),
            )
            return None
        where: dict[str, Any] = {"node_id": node_id}
        self._unknown_fields(raw, _NODE_FIELDS[kind], path, **where)
        common: dict[str, Any] = {
            "id": node_id,
            "name": self._string(raw, "name", path, default=node_id, **where) or node_id,
            "description": self._string(raw, "description", path, **where) or "",
            "position": self._position(raw, path, **where),
            "enabled": self._boolean(raw, "enabled", path, True, **where),
            "metadata": self._node_metadata(raw, path, **where),
        }
        if kind is NodeKind.INPUT:
            return InputNode(
                **common,
                data_type=self._data_type(raw, "data_type", path, **where),
                required=self._boolean(raw, "required", path, True, **where),
                default=self._json(raw, "default", path, None, **where),
                interactive=self._boolean(raw, "interactive", path, False, **where),
                prompt=self._string(raw, "prompt", path, **where) or "",
            )
        if kind is NodeKind.OUTPUT:
            return OutputNode(**common, data_type=self._data_type(raw, "data_type", path, **where))
        if kind is NodeKind.INSTRUMENT:
            return InstrumentNode(
                **common,
                model_id=self._string(raw, "model_id", path, **where) or "",
                model_version=self._string(raw, "model_version", path, **where) or "",
                **self._task_fields(raw, path, **where),
            )
        if kind is NodeKind.OPERATOR:
            return OperatorNode(
                **common,
                operator=self._string(raw, "operator", path, **where) or "",
                **self._task_fields(raw, path, **where),
            )
        return self._control_node(raw, path, common, **where)

    def _control_node(
        self, raw: Mapping[Any, Any], path: Path, common: dict[str, Any], **where: Any
    ) -> ControlNode:
        control_text = self._field(raw, "control")
        try:
            control = ControlType(control_text) if isinstance(control_text, str) else None
        except ValueError:
            control = None
        if control is None:
            self._error(
                IssueCode.INVALID_CONTROL_NODE,
                f"Control node {common['id']!r} has control {control_text!r}; use branch, "
                f"merge, loop, parallel or join.",
                (*path, "control"),
                expected="branch | merge | loop | parallel | join",
                found=control_text if isinstance(control_text, str) else type_name(control_text),
                **where,
            )
            control = ControlType.MERGE
        return ControlNode(
            **common,
            control=control,
            condition=self._string(raw, "condition", path, None, nullable=True, **where),
            over=self._string(raw, "over", path, None, nullable=True, **where),
            body=self._string(raw, "body", path, None, nullable=True, **where),
        )

    def _position(self, raw: Mapping[Any, Any], path: Path, **where: Any) -> Position:
        value = self._object(raw, "position", path, **where)
        if value is None:
            return Position()
        position_path = (*path, "position")
        return Position(
            x=self._number(value, "x", position_path, 0, nullable=False, **where),
            y=self._number(value, "y", position_path, 0, nullable=False, **where),
        )

    def _node_metadata(self, raw: Mapping[Any, Any], path: Path, **where: Any) -> NodeMetadata:
        value = self._object(raw, "metadata", path, **where)
        if value is None:
            return NodeMetadata()
        metadata_path = (*path, "metadata")
        self._unknown_fields(
            value,
            frozenset({"documentation", "examples", "warnings", "custom"}),
            metadata_path,
            **where,
        )
        examples = self._json(value, "examples", metadata_path, [], **where)
        if not isinstance(examples, list):
            self._wrong_type((*metadata_path, "examples"), "a list", examples, **where)
            examples = []
        return NodeMetadata(
            documentation=self._string(value, "documentation", metadata_path, **where) or "",
            examples=list(examples),
            warnings=self._string_list(value, "warnings", metadata_path, **where),
            custom=self._json_object(value, "custom", metadata_path, **where),
        )

    def _task_fields(self, raw: Mapping[Any, Any], path: Path, **where: Any) -> dict[str, Any]:
        return {
            "config": self._json_object(raw, "config", path, **where),
            "inputs": self._ports(raw, "inputs", path, **where),
            "outputs": self._ports(raw, "outputs", path, **where),
            "retry": self._retry(raw, path, **where),
            "timeout_s": self._number(raw, "timeout_s", path, None, exclusive_minimum=0, **where),
        }

    def _ports(
        self, raw: Mapping[Any, Any], key: str, path: Path, **where: Any
    ) -> list[PortDefinition]:
        value = self._field(raw, key)
        if value is MISSING or value is None:
            return []
        if not isinstance(value, list):
            self._wrong_type((*path, key), "a list of ports", value, **where)
            return []
        ports: list[PortDefinition] = []
        names: set[str] = set()
        for index, port_raw in enumerate(value):
            port_path = (*path, key, index)
            if not isinstance(port_raw, dict):
                self._wrong_type(port_path, "a port object", port_raw, **where)
                continue
            self._unknown_fields(
                port_raw,
                frozenset({"name", "data_type", "required", "default", "description"}),
                port_path,
                **where,
            )
            name = self._string(port_raw, "name", port_path, default=None, required=True, **where)
            if not name:
                continue
            if name in names:
                self._error(
                    IssueCode.INVALID_PORT,
                    f"Port {name!r} is declared twice in {key}; rename or remove one.",
                    (*port_path, "name"),
                    port=name,
                    **where,
                )
                continue
            names.add(name)
            ports.append(
                PortDefinition(
                    name=name,
                    data_type=self._data_type(port_raw, "data_type", port_path, port=name, **where),
                    required=self._boolean(port_raw, "required", port_path, True, **where),
                    default=self._json(port_raw, "default", port_path, None, **where),
                    description=self._string(port_raw, "description", port_path, **where) or "",
                )
            )
        return ports

    def _retry(self, raw: Mapping[Any, Any], path: Path, **where: Any) -> RetryPolicy | None:
        value = self._object(raw, "retry", path, **where)
        if value is None:
            return None
        retry_path = (*path, "retry")
        self._unknown_fields(
            value,
            frozenset({"max_attempts", "delay_ms", "backoff_multiplier"}),
            retry_path,
            **where,
        )
        return RetryPolicy(
            max_attempts=self._number(
                value,
                "max_attempts",
                retry_path,
                1,
                integer=True,
                minimum=1,
                nullable=False,
                **where,
            ),
            delay_ms=self._number(
                value, "delay_ms", retry_path, 0, integer=True, minimum=0, nullable=False, **where
            ),
            backoff_multiplier=self._number(
                value, "backoff_multiplier", retry_path, 1.0, minimum=1, nullable=False, **where
            ),
        )

    # -- edges ----------------------------------------------------------------------

    def _edges(self, document: Mapping[Any, Any]) -> list[Edge]:
        raw_edges = self._field(document, "edges")
        if raw_edges is MISSING or raw_edges is None:
            return []
        if not isinstance(raw_edges, list):
            self._wrong_type(("edges",), "a list of edges", raw_edges)
            return []
        edges: list[Edge] = []
        seen: set[str] = set()
        for index, raw in enumerate(raw_edges):
            edge = self._edge(raw, ("edges", index))
            if edge is None:
                continue
            if edge.id in seen:
                self._error(
                    IssueCode.DUPLICATE_EDGE_ID,
                    f"Edge id {edge.id!r} is used more than once; give each edge its own id.",
                    ("edges", index, "id"),
                    edge_id=edge.id,
                )
                continue
            # Interned endpoints are the very objects of the node ids, so every
            # later lookup by id hits on identity with a cached hash.
            edge.source = intern(edge.source)
            edge.target = intern(edge.target)
            seen.add(edge.id)
            edges.append(edge)
        return edges

    def _edge(self, raw: object, path: Path) -> Edge | None:
        if self.use_fast_paths:
            edge = fast_edge(raw)
            if edge is not None:
                return edge
        if not isinstance(raw, dict):
            self._wrong_type(path, "an edge object", raw)
            return None
        edge_id = self._string(raw, "id", path, default=None, required=True)
        if not edge_id:
            return None
        where: dict[str, Any] = {"edge_id": edge_id}
        kind_text = self._field(raw, "kind")
        if kind_text is MISSING:
            kind_text = "data"
        try:
            kind = EdgeKind(kind_text) if isinstance(kind_text, str) else None
        except ValueError:
            kind = None
        if kind is None:
            self._error(
                IssueCode.INVALID_DOCUMENT,
                f"Edge {edge_id!r} has kind {kind_text!r}; use data, control or conditional.",
                (*path, "kind"),
                expected="data | control | conditional",
                found=kind_text if isinstance(kind_text, str) else type_name(kind_text),
                **where,
            )
            return None
        self._unknown_fields(raw, _EDGE_FIELDS[kind], path, **where)
        source = self._string(raw, "source", path, default=None, required=True, **where)
        target = self._string(raw, "target", path, default=None, required=True, **where)
        if not source or not target:
            return None
        if kind is EdgeKind.DATA:
            return DataEdge(
                id=edge_id,
                source=source,
                target=target,
                source_port=self._string(raw, "source_port", path, DEFAULT_PORT_NAME, **where)
                or DEFAULT_PORT_NAME,
                target_port=self._string(raw, "target_port", path, DEFAULT_PORT_NAME, **where)
                or DEFAULT_PORT_NAME,
                transform=self._transform(raw, path, **where),
            )
        if kind is EdgeKind.CONTROL:
            priority = self._number(raw, "priority", path, 0, integer=True, nullable=False, **where)
            return ControlEdge(id=edge_id, source=source, target=target, priority=priority)
        return ConditionalEdge(
            id=edge_id,
            source=source,
            target=target,
            condition=self._string(raw, "condition", path, required=True, **where) or "",
            label=self._string(raw, "label", path, None, nullable=True, **where),
        )

    def _transform(self, raw: Mapping[Any, Any], path: Path, **where: Any) -> Transform | None:
        value = self._object(raw, "transform", path, **where)
        if value is None:
            return None
        transform_path = (*path, "transform")
        self._unknown_fields(value, frozenset({"type", "config"}), transform_path, **where)
        type_text = self._field(value, "type")
        try:
            transform_type = TransformType(type_text) if isinstance(type_text, str) else None
        except ValueError:
            transform_type = None
        if transform_type is None:
            self._error(
                IssueCode.INVALID_EDGE,
                f"Transform type {type_text!r} is unknown; use map, filter, reduce, flatten "
                f"or custom.",
                (*transform_path, "type"),
                expected="map | filter | reduce | flatten | custom",
                found=type_text if isinstance(type_text, str) else type_name(type_text),
                **where,
            )
            return None
        return Transform(
            type=transform_type, config=self._json_object(value, "config", transform_path, **where)
        )


def read_document(
    document: object, *, use_fast_paths: bool = True
) -> tuple[Workflow | None, DocumentReader]:
    """Read leniently: the workflow built from every readable part, and the reader's issues."""
    reader = DocumentReader(use_fast_paths=use_fast_paths)
    try:
        workflow = reader.read(document)
    except RecursionError:
        reader.errors.append(
            ValidationIssue(
                code=IssueCode.INVALID_DOCUMENT,
                message="The document is nested too deeply to read; flatten it.",
            )
        )
        workflow = None
    return workflow, reader


def workflow_from_document(document: object) -> Workflow:
    workflow, reader = read_document(document)
    if reader.errors or workflow is None:
        raise DocumentError(reader.errors)
    return workflow
