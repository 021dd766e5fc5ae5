"""The workflow graph core: pure Python, no Django (a test enforces it).

Public surface other parts of Symphony code against; see docs/graph-core.md.
"""

from workflows.domain.algorithms import CriticalPath, CycleError, Dependencies, GraphAnalysis
from workflows.domain.builder import WorkflowBuilder, WorkflowBuildError
from workflows.domain.catalog import (
    InMemoryNodeTypeCatalog,
    NodeTypeCatalog,
    NodeTypeDefinition,
)
from workflows.domain.issues import DocumentError, IssueCode, ValidationIssue, ValidationResult
from workflows.domain.model import (
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
from workflows.domain.plan import Plan, plan_workflow
from workflows.domain.types import DataType, DataTypeError
from workflows.domain.validation import ValidationOptions, validate_document, validate_workflow
from workflows.domain.values import ConcurrencyLimit, OnLimit, WorkflowRetry

__all__ = [
    "ConcurrencyLimit",
    "ConditionalEdge",
    "ControlEdge",
    "ControlNode",
    "ControlType",
    "CriticalPath",
    "CycleError",
    "DataEdge",
    "DataType",
    "DataTypeError",
    "Dependencies",
    "DocumentError",
    "Edge",
    "EdgeKind",
    "ErrorPolicy",
    "GraphAnalysis",
    "InMemoryNodeTypeCatalog",
    "InputNode",
    "InstrumentNode",
    "IssueCode",
    "Node",
    "NodeKind",
    "NodeMetadata",
    "NodeTypeCatalog",
    "NodeTypeDefinition",
    "OnLimit",
    "OperatorNode",
    "OutputNode",
    "Plan",
    "PortDefinition",
    "Position",
    "RetryPolicy",
    "Transform",
    "TransformType",
    "ValidationIssue",
    "ValidationOptions",
    "ValidationResult",
    "Workflow",
    "WorkflowBuildError",
    "WorkflowBuilder",
    "WorkflowMetadata",
    "WorkflowRetry",
    "WorkflowSettings",
    "plan_workflow",
    "validate_document",
    "validate_workflow",
]
