"""Small value types of the workflow model: kinds, ports, retry, metadata, settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from workflows.domain.types import ANY, DataType

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


class OnLimit(StrEnum):
    """What happens to a start past a concurrency limit (docs/triggers.md)."""

    QUEUE = "queue"
    CANCEL = "cancel"
    FAIL = "fail"


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


@dataclass(frozen=True, slots=True)
class ConcurrencyLimit:
    """`settings.concurrency`: at most `limit` executions of the workflow run at once."""

    limit: int
    on_limit: OnLimit = OnLimit.QUEUE

    def to_document(self) -> dict[str, Any]:
        return {"limit": self.limit, "on_limit": str(self.on_limit)}


@dataclass(frozen=True, slots=True)
class WorkflowRetry:
    """`settings.retry_workflow`: a failed execution is re-run (reusing completed outputs)
    until `max_attempts` runs in all, waiting `backoff_s` * `backoff_multiplier` ** (n - 1)."""

    max_attempts: int = 2
    backoff_s: float = 60.0
    backoff_multiplier: float = 1.0

    def delay_s(self, attempt: int) -> float:
        """The wait before the attempt after `attempt` (1 for the first run)."""
        return float(self.backoff_s) * float(self.backoff_multiplier) ** max(attempt - 1, 0)

    def to_document(self) -> dict[str, Any]:
        return {
            "max_attempts": self.max_attempts,
            "backoff_s": self.backoff_s,
            "backoff_multiplier": self.backoff_multiplier,
        }


@dataclass(slots=True, kw_only=True)
class WorkflowSettings:
    error_policy: ErrorPolicy = ErrorPolicy.STOP
    max_parallel: int | None = None
    timeout_s: float | None = None
    concurrency: ConcurrencyLimit | None = None
    retry_workflow: WorkflowRetry | None = None

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "error_policy": str(self.error_policy),
            "max_parallel": self.max_parallel,
            "timeout_s": self.timeout_s,
        }
        # Written only when set, so documents without them keep their canonical form (and
        # their checksums).
        if self.concurrency is not None:
            document["concurrency"] = self.concurrency.to_document()
        if self.retry_workflow is not None:
            document["retry_workflow"] = self.retry_workflow.to_document()
        return document
