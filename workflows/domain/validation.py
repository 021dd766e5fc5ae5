"""The validation pipeline: every error and warning of a workflow, at once.

``validate_document`` takes anything (a parsed JSON body, garbage, something
huge) and never raises: size limits answer ``too_large`` before any other
work, the lenient reader reports structural problems, and the model checks
below report the rest. ``validate_workflow`` runs the same checks on a model.
Codes and their meaning: ``docs/workflow-validation.md``.

Paths: issues from reading the document carry a path from the document root
(``["nodes", 3, "data_type"]``); issues about a node or edge of the model
name it (``node_id``/``edge_id``) and carry a path inside it when useful
(``["config", "temperature"]``); a cycle's path is its node ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.domain.catalog import NodeTypeCatalog
from workflows.domain.checks import Checker
from workflows.domain.document import read_document
from workflows.domain.issues import IssueCode, ValidationIssue, ValidationResult
from workflows.domain.model import Workflow

DEFAULT_MAX_NODES = 10_000
DEFAULT_MAX_EDGES = 50_000


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationOptions:
    """Which checks run. Orphan nodes and unused inputs are warnings while
    ``allow_orphan_nodes`` is true, errors otherwise."""

    check_cycles: bool = True
    check_types: bool = True
    check_connectivity: bool = True
    allow_orphan_nodes: bool = True
    check_expressions: bool = True
    check_catalog: bool = True
    check_required_inputs: bool = True
    max_nodes: int = DEFAULT_MAX_NODES
    max_edges: int = DEFAULT_MAX_EDGES
    max_issues: int = 1_000


DEFAULT_OPTIONS = ValidationOptions()


def validate_document(
    document: object,
    *,
    catalog: NodeTypeCatalog | None,
    options: ValidationOptions | None = None,
) -> ValidationResult:
    """Validate the inner ``workflow`` object of a document. Never raises.

    ``catalog`` is required: the node types to check against, or ``None`` to
    check the graph alone (structure, ports, types, cycles) with no node types.
    """
    options = options or DEFAULT_OPTIONS
    try:
        too_large = _document_size_issue(document, options)
        if too_large is not None:
            return ValidationResult(errors=[too_large])
        workflow, reader = read_document(document)
        result = ValidationResult(errors=reader.errors, warnings=reader.warnings)
        if workflow is not None:
            _check(workflow, options, catalog, result)
            if result.valid:
                result.workflow = workflow
        return _capped(result, options)
    except Exception as error:  # the contract is "never raises"; say what broke instead
        return ValidationResult(errors=[_internal_error(error)])


def validate_workflow(
    workflow: Workflow,
    *,
    catalog: NodeTypeCatalog | None,
    options: ValidationOptions | None = None,
) -> ValidationResult:
    """Validate a model instance. Never raises. ``catalog`` as for ``validate_document``."""
    options = options or DEFAULT_OPTIONS
    try:
        too_large = _size_issue(workflow.node_count, workflow.edge_count, options)
        if too_large is not None:
            return ValidationResult(errors=[too_large])
        result = ValidationResult()
        _check(workflow, options, catalog, result)
        return _capped(result, options)
    except Exception as error:  # the contract is "never raises"; say what broke instead
        return ValidationResult(errors=[_internal_error(error)])


def _internal_error(error: Exception) -> ValidationIssue:
    return ValidationIssue(
        code=IssueCode.INVALID_DOCUMENT,
        message=(
            f"The workflow could not be validated (internal error: {type(error).__name__}); "
            "check the document's structure and report this."
        ),
    )


def _capped(result: ValidationResult, options: ValidationOptions) -> ValidationResult:
    result.errors = result.errors[: options.max_issues]
    result.warnings = result.warnings[: options.max_issues]
    return result


def _document_size_issue(document: object, options: ValidationOptions) -> ValidationIssue | None:
    if not isinstance(document, dict):
        return None
    nodes = document.get("nodes")
    edges = document.get("edges")
    node_count = len(nodes) if isinstance(nodes, list) else 0
    edge_count = len(edges) if isinstance(edges, list) else 0
    return _size_issue(node_count, edge_count, options)


def _size_issue(
    node_count: int, edge_count: int, options: ValidationOptions
) -> ValidationIssue | None:
    if node_count > options.max_nodes:
        return ValidationIssue(
            code=IssueCode.TOO_LARGE,
            message=(
                f"The workflow has {node_count} nodes; the limit is {options.max_nodes}. "
                "Split it into smaller workflows (a loop body can reference one)."
            ),
            path=("nodes",),
            expected=f"at most {options.max_nodes} nodes",
            found=str(node_count),
        )
    if edge_count > options.max_edges:
        return ValidationIssue(
            code=IssueCode.TOO_LARGE,
            message=(
                f"The workflow has {edge_count} edges; the limit is {options.max_edges}. "
                "Split it into smaller workflows."
            ),
            path=("edges",),
            expected=f"at most {options.max_edges} edges",
            found=str(edge_count),
        )
    return None


def _check(
    workflow: Workflow,
    options: ValidationOptions,
    catalog: NodeTypeCatalog | None,
    result: ValidationResult,
) -> None:
    Checker(workflow, options, catalog, result).run()
