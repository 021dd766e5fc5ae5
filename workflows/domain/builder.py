"""A fluent builder that reads like the workflow it makes.

    workflow = (
        WorkflowBuilder("Triage support tickets")
        .input("Ticket", data_type="string")
        .connect_to("Classify", target_port="text")
        .instrument("Classify", model_id="classifier", inputs={"text": "string"},
                    outputs={"label": "string", "confidence": "number"})
        .connect_to("Route", source_port="confidence")
        .control("Route", "branch")
        .conditional_edge("Route", "Escalate", "inputs.value < 0.6", label="unsure")
        ...
        .build(catalog=builtin_catalog())
    )

Each node method adds a node and makes it the *current* node; ``connect_to``,
``at`` and ``with_metadata`` apply to the current node. Node ids are derived
from names (``"Classify ticket"`` → ``classify_ticket``, a second one
``classify_ticket_2``); edges may name nodes by name or id, including nodes
added later, since references are resolved by ``build()``. ``build()``
validates and refuses an invalid workflow with every error at once.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from workflows.domain.catalog import NodeTypeCatalog
from workflows.domain.document import read_document
from workflows.domain.issues import ValidationResult
from workflows.domain.model import (
    DEFAULT_PORT_NAME,
    ConditionalEdge,
    ControlEdge,
    ControlNode,
    ControlType,
    DataEdge,
    Edge,
    ErrorPolicy,
    InputNode,
    InstrumentNode,
    Node,
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
from workflows.domain.types import DataType
from workflows.domain.validation import ValidationOptions, validate_workflow

PortsSpec = Mapping[str, str | DataType] | Iterable[PortDefinition] | None
NODE_METADATA_FIELDS = frozenset({"documentation", "examples", "warnings"})


class WorkflowBuildError(ValueError):
    """``build()`` found errors; ``result`` holds every one of them."""

    def __init__(self, result: ValidationResult) -> None:
        self.result = result
        lines = [f"{issue.code}: {issue.message}" for issue in result.errors]
        super().__init__("workflow is invalid:\n" + "\n".join(lines))


def slugify(name: str) -> str:
    """A readable id from a name: ascii, lower case, words joined by ``_``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
    return slug or "node"


def _ports(spec: PortsSpec, *, required: bool = True) -> list[PortDefinition]:
    if spec is None:
        return []
    if isinstance(spec, Mapping):
        return [
            PortDefinition(
                name=name,
                data_type=data_type
                if isinstance(data_type, DataType)
                else DataType.parse(data_type),
                required=required,
            )
            for name, data_type in spec.items()
        ]
    return list(spec)


def _data_type(value: str | DataType) -> DataType:
    return value if isinstance(value, DataType) else DataType.parse(value)


@dataclass(slots=True)
class _PendingEdge:
    kind: str
    source: str
    target: str
    options: dict[str, Any]


class WorkflowBuilder:
    def __init__(
        self,
        name: str,
        *,
        description: str = "",
        version: str = "1.0.0",
        workflow_id: str | None = None,
    ) -> None:
        self._workflow = Workflow(
            id=workflow_id or str(uuid.uuid4()), name=name, description=description, version=version
        )
        self._ids_by_name: dict[str, str] = {}
        self._current: Node | None = None
        self._edges: list[_PendingEdge] = []

    # -- workflow-level ------------------------------------------------------------

    def with_workflow_metadata(self, **fields: Any) -> WorkflowBuilder:
        """Set ``author``, ``tags``, ``category``, ``icon``, ``color``; other keys go to custom."""
        metadata: WorkflowMetadata = self._workflow.metadata
        for key, value in fields.items():
            if key in ("author", "tags", "category", "icon", "color"):
                setattr(metadata, key, value)
            else:
                metadata.custom[key] = value
        return self

    def with_settings(
        self,
        *,
        error_policy: ErrorPolicy | str = ErrorPolicy.STOP,
        max_parallel: int | None = None,
        timeout_s: float | None = None,
    ) -> WorkflowBuilder:
        self._workflow.settings = WorkflowSettings(
            error_policy=ErrorPolicy(error_policy), max_parallel=max_parallel, timeout_s=timeout_s
        )
        return self

    # -- nodes ---------------------------------------------------------------------

    def _add(self, node: Node) -> WorkflowBuilder:
        self._workflow.add_node(node)
        self._ids_by_name.setdefault(node.name, node.id)
        self._current = node
        return self

    def _new_id(self, name: str, node_id: str | None) -> str:
        if node_id is not None:
            return node_id
        base = slugify(name)
        candidate = base
        suffix = 2
        while self._workflow.has_node(candidate):
            candidate = f"{base}_{suffix}"
            suffix += 1
        return candidate

    def input(
        self,
        name: str,
        *,
        data_type: str | DataType = "any",
        required: bool = True,
        default: Any = None,
        interactive: bool = False,
        prompt: str = "",
        description: str = "",
        node_id: str | None = None,
    ) -> WorkflowBuilder:
        return self._add(
            InputNode(
                id=self._new_id(name, node_id),
                name=name,
                description=description,
                data_type=_data_type(data_type),
                required=required,
                default=default,
                interactive=interactive,
                prompt=prompt,
            )
        )

    def output(
        self,
        name: str,
        *,
        data_type: str | DataType = "any",
        description: str = "",
        node_id: str | None = None,
    ) -> WorkflowBuilder:
        return self._add(
            OutputNode(
                id=self._new_id(name, node_id),
                name=name,
                description=description,
                data_type=_data_type(data_type),
            )
        )

    def instrument(
        self,
        name: str,
        *,
        model_id: str,
        model_version: str = "",
        config: Mapping[str, Any] | None = None,
        inputs: PortsSpec = None,
        outputs: PortsSpec = None,
        retry: RetryPolicy | None = None,
        timeout_s: float | None = None,
        description: str = "",
        node_id: str | None = None,
    ) -> WorkflowBuilder:
        return self._add(
            InstrumentNode(
                id=self._new_id(name, node_id),
                name=name,
                description=description,
                model_id=model_id,
                model_version=model_version,
                config=dict(config or {}),
                inputs=_ports(inputs),
                outputs=_ports(outputs),
                retry=retry,
                timeout_s=timeout_s,
            )
        )

    def operator(
        self,
        name: str,
        *,
        operator: str,
        config: Mapping[str, Any] | None = None,
        inputs: PortsSpec = None,
        outputs: PortsSpec = None,
        retry: RetryPolicy | None = None,
        timeout_s: float | None = None,
        description: str = "",
        node_id: str | None = None,
    ) -> WorkflowBuilder:
        return self._add(
            OperatorNode(
                id=self._new_id(name, node_id),
                name=name,
                description=description,
                operator=operator,
                config=dict(config or {}),
                inputs=_ports(inputs),
                outputs=_ports(outputs),
                retry=retry,
                timeout_s=timeout_s,
            )
        )

    def control(
        self,
        name: str,
        control: ControlType | str,
        *,
        condition: str | None = None,
        over: str | None = None,
        body: str | None = None,
        description: str = "",
        node_id: str | None = None,
    ) -> WorkflowBuilder:
        return self._add(
            ControlNode(
                id=self._new_id(name, node_id),
                name=name,
                description=description,
                control=ControlType(control),
                condition=condition,
                over=over,
                body=body,
            )
        )

    def at(self, x: float, y: float) -> WorkflowBuilder:
        """Place the current node on the canvas."""
        self._require_current("at").position = Position(x, y)
        return self

    def with_metadata(self, **fields: Any) -> WorkflowBuilder:
        """Set the current node's ``documentation``, ``examples``, ``warnings``;
        any other key (e.g. ``estimated_duration_ms``) goes to ``custom``."""
        node = self._require_current("with_metadata")
        metadata: NodeMetadata = node.metadata
        for key, value in fields.items():
            if key in NODE_METADATA_FIELDS:
                setattr(metadata, key, value)
            else:
                metadata.custom[key] = value
        return self

    def disabled(self) -> WorkflowBuilder:
        self._require_current("disabled").enabled = False
        return self

    def _require_current(self, method: str) -> Node:
        if self._current is None:
            raise ValueError(f"{method}() applies to the last added node; add a node first")
        return self._current

    # -- edges ---------------------------------------------------------------------

    def connect_to(
        self,
        target: str,
        *,
        source_port: str = DEFAULT_PORT_NAME,
        target_port: str = DEFAULT_PORT_NAME,
        transform: Transform | None = None,
    ) -> WorkflowBuilder:
        """A data edge from the current node to ``target`` (a name or id)."""
        source = self._require_current("connect_to").id
        return self.data_edge(
            source, target, source_port=source_port, target_port=target_port, transform=transform
        )

    def data_edge(
        self,
        source: str,
        target: str,
        *,
        source_port: str = DEFAULT_PORT_NAME,
        target_port: str = DEFAULT_PORT_NAME,
        transform: Transform | None = None,
        transform_type: TransformType | str | None = None,
        expression: str | None = None,
    ) -> WorkflowBuilder:
        if transform is None and transform_type is not None:
            config = {"expr": expression} if expression is not None else {}
            transform = Transform(type=TransformType(transform_type), config=config)
        self._edges.append(
            _PendingEdge(
                "data",
                source,
                target,
                {"source_port": source_port, "target_port": target_port, "transform": transform},
            )
        )
        return self

    def control_edge(self, source: str, target: str, *, priority: int = 0) -> WorkflowBuilder:
        self._edges.append(_PendingEdge("control", source, target, {"priority": priority}))
        return self

    def conditional_edge(
        self, source: str, target: str, condition: str, *, label: str | None = None
    ) -> WorkflowBuilder:
        self._edges.append(
            _PendingEdge("conditional", source, target, {"condition": condition, "label": label})
        )
        return self

    # -- build ---------------------------------------------------------------------

    def _resolve(self, reference: str) -> str:
        """A name or an id to a node id; unknown references stay as written so
        validation reports them as ``invalid_edge``."""
        if reference in self._ids_by_name:
            return self._ids_by_name[reference]
        return reference

    def _make_edges(self, workflow: Workflow) -> None:
        for pending in self._edges:
            edge_id = workflow.next_edge_id()
            source = self._resolve(pending.source)
            target = self._resolve(pending.target)
            edge: Edge
            if pending.kind == "data":
                edge = DataEdge(id=edge_id, source=source, target=target, **pending.options)
            elif pending.kind == "control":
                edge = ControlEdge(id=edge_id, source=source, target=target, **pending.options)
            else:
                edge = ConditionalEdge(id=edge_id, source=source, target=target, **pending.options)
            workflow.add_edge(edge, require_nodes=False)

    def build(
        self,
        *,
        catalog: NodeTypeCatalog | None,
        options: ValidationOptions | None = None,
    ) -> Workflow:
        """The workflow, validated against ``catalog`` (``None``: the graph alone);
        raise WorkflowBuildError listing every error."""
        # Build from a copy so build() can be called again after more changes.
        workflow, reader = read_document(self._workflow.to_document())
        if workflow is None:
            raise WorkflowBuildError(ValidationResult(errors=reader.errors))
        self._make_edges(workflow)
        result = validate_workflow(workflow, options=options, catalog=catalog)
        result.errors[:0] = reader.errors
        if not result.valid:
            raise WorkflowBuildError(result)
        return workflow
