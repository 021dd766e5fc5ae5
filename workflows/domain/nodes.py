"""Node kinds: input, output, instrument, operator and control."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from workflows.domain.types import ANY, ARRAY, DataType
from workflows.domain.values import (
    DEFAULT_PORT_NAME,
    ControlType,
    JsonValue,
    NodeKind,
    NodeMetadata,
    PortDefinition,
    Position,
    RetryPolicy,
)


@dataclass(slots=True, kw_only=True)
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


@dataclass(slots=True, kw_only=True)
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


@dataclass(slots=True, kw_only=True)
class OutputNode(Node):
    kind: ClassVar[NodeKind] = NodeKind.OUTPUT

    data_type: DataType = ANY

    def input_ports(self) -> tuple[PortDefinition, ...]:
        return (PortDefinition(name=DEFAULT_PORT_NAME, data_type=self.data_type),)

    def _kind_fields(self) -> dict[str, Any]:
        return {"data_type": str(self.data_type)}


@dataclass(slots=True, kw_only=True)
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


@dataclass(slots=True, kw_only=True)
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


@dataclass(slots=True, kw_only=True)
class OperatorNode(_TaskNode):
    """A registered operation such as ``template`` or ``json_parse``."""

    kind: ClassVar[NodeKind] = NodeKind.OPERATOR

    operator: str = ""

    @property
    def type_name(self) -> str:
        return self.operator

    def _kind_fields(self) -> dict[str, Any]:
        return {"operator": self.operator} | self._task_fields()


@dataclass(slots=True, kw_only=True)
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
