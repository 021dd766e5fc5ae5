"""Edge kinds: data (with an optional transform), control and conditional."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from workflows.domain.values import DEFAULT_PORT_NAME, EdgeKind, JsonValue, TransformType


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


@dataclass(slots=True, kw_only=True)
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


@dataclass(slots=True, kw_only=True)
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


@dataclass(slots=True, kw_only=True)
class ControlEdge(Edge):
    kind: ClassVar[EdgeKind] = EdgeKind.CONTROL

    priority: int = 0

    def _kind_fields(self) -> dict[str, Any]:
        return {"target": self.target, "priority": self.priority}


@dataclass(slots=True, kw_only=True)
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
