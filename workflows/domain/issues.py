"""Validation issues, results and the stable error codes.

Every code is documented in ``docs/workflow-validation.md``; adding one here
means adding it there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workflows.domain.model import Workflow


class IssueCode(StrEnum):
    CYCLE_DETECTED = "cycle_detected"
    ORPHAN_NODE = "orphan_node"
    DISCONNECTED_INPUT = "disconnected_input"
    TYPE_MISMATCH = "type_mismatch"
    MISSING_REQUIRED_INPUT = "missing_required_input"
    DUPLICATE_NODE_ID = "duplicate_node_id"
    DUPLICATE_EDGE_ID = "duplicate_edge_id"
    INVALID_EDGE = "invalid_edge"
    UNKNOWN_NODE_TYPE = "unknown_node_type"
    INVALID_CONFIG = "invalid_config"
    INVALID_EXPRESSION = "invalid_expression"
    TOO_LARGE = "too_large"
    # Beyond the minimum list of workflow-format.md:
    INVALID_DOCUMENT = "invalid_document"
    INVALID_DATA_TYPE = "invalid_data_type"
    INVALID_CONTROL_NODE = "invalid_control_node"
    INVALID_PORT = "invalid_port"
    UNKNOWN_FIELD = "unknown_field"


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One problem: a stable code, a message that says how to fix it, and where it is.

    ``path`` is a list: the node ids of a cycle for ``cycle_detected``, or the
    keys and indices leading to the offending value in the document otherwise
    (``["nodes", 3, "data_type"]``). ``position`` is the character offset of an
    expression error inside the expression text.
    """

    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None
    port: str | None = None
    path: tuple[str | int, ...] | None = None
    expected: str | None = None
    found: str | None = None
    position: int | None = None

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"code": str(self.code), "message": self.message}
        if self.node_id is not None:
            result["node_id"] = self.node_id
        if self.edge_id is not None:
            result["edge_id"] = self.edge_id
        if self.port is not None:
            result["port"] = self.port
        if self.path is not None:
            result["path"] = list(self.path)
        if self.expected is not None:
            result["expected"] = self.expected
        if self.found is not None:
            result["found"] = self.found
        if self.position is not None:
            result["position"] = self.position
        return result


@dataclass(slots=True)
class ValidationResult:
    errors: list[ValidationIssue] = field(default_factory=list)
    warnings: list[ValidationIssue] = field(default_factory=list)
    # The workflow read from a valid document, so a caller that stores it need not read it twice.
    workflow: Workflow | None = field(default=None, compare=False, repr=False)

    @property
    def valid(self) -> bool:
        return not self.errors

    def codes(self) -> list[str]:
        """Every error code, in order (handy in tests and logs)."""
        return [str(issue.code) for issue in self.errors]

    def warning_codes(self) -> list[str]:
        return [str(issue.code) for issue in self.warnings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "errors": [issue.to_dict() for issue in self.errors],
            "warnings": [issue.to_dict() for issue in self.warnings],
        }


class DocumentError(ValueError):
    """A workflow document too broken to become a Workflow; ``issues`` says why."""

    def __init__(self, issues: list[ValidationIssue]) -> None:
        self.issues = list(issues)
        summary = "; ".join(issue.message for issue in self.issues[:3])
        more = f" (and {len(self.issues) - 3} more)" if len(self.issues) > 3 else ""
        super().__init__(f"invalid workflow document: {summary}{more}")
