"""Checks of a single node: its type and config against the catalog, its
declared ports against the type's, its control fields and expressions.
Mixed into ``checks.Checker``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from workflows.domain.catalog import NodeTypeCatalog, NodeTypeDefinition
from workflows.domain.expressions import ExpressionError, check_expression
from workflows.domain.issues import IssueCode, ValidationIssue
from workflows.domain.model import ControlNode, ControlType, PortDefinition, _TaskNode

if TYPE_CHECKING:
    from workflows.domain.validation import ValidationOptions


class DefinitionPorts(NamedTuple):
    """A catalog type's ports, looked up by name, and its required input names."""

    definition: NodeTypeDefinition
    inputs: dict[str, PortDefinition]
    outputs: dict[str, PortDefinition]
    required: tuple[str, ...]


class NodeChecks:
    errors: list[ValidationIssue]
    options: ValidationOptions
    catalog: NodeTypeCatalog | None

    def _check_node_type(self, node: _TaskNode, type_name: str, definition: Any) -> None:
        field_name = "model_id" if node.kind == "instrument" else "operator"
        if not type_name:
            self.errors.append(
                ValidationIssue(
                    code=IssueCode.UNKNOWN_NODE_TYPE,
                    message=(
                        f"Node {node.id!r} has no {field_name}; set it to a type from the "
                        "node-type catalog."
                    ),
                    node_id=node.id,
                    path=(field_name,),
                )
            )
            return
        if self.catalog is None:
            return
        if definition is None:
            self.errors.append(
                ValidationIssue(
                    code=IssueCode.UNKNOWN_NODE_TYPE,
                    message=(
                        f"Node {node.id!r} uses {node.kind} type {type_name!r}, which the "
                        "node-type catalog does not know; pick one listed by "
                        "GET /api/v1/node-types/."
                    ),
                    node_id=node.id,
                    path=(field_name,),
                    found=type_name,
                )
            )
            return
        try:
            problems = definition.config_problems(node.config)
        except RecursionError:
            problems = []
        for problem in problems:
            where = ".".join(str(part) for part in problem.path) or "config"
            self.errors.append(
                ValidationIssue(
                    code=IssueCode.INVALID_CONFIG,
                    message=(
                        f"Config of node {node.id!r} ({type_name}) at {where}: "
                        f"{problem.message}; fix it to match the type's config schema."
                    ),
                    node_id=node.id,
                    path=("config", *problem.path),
                )
            )

    def _declared_ports_of(self, definition: NodeTypeDefinition) -> DefinitionPorts:
        required = tuple(
            port.name for port in definition.inputs if port.required and port.default is None
        )
        return DefinitionPorts(
            definition, definition.inputs_by_name, definition.outputs_by_name, required
        )

    def _check_declared_ports(self, node: _TaskNode, ports: DefinitionPorts) -> None:
        """Declared ports must be the catalog type's ports (same name, compatible
        type), and must keep its required inputs; extra ports only where the type
        allows them. Values flow into an input, so the declared type must fit the
        catalog's; out of an output, so the catalog's must fit the declared."""
        definition, known_inputs, known_outputs, required = ports
        extra_allowed = definition.allows_extra_ports
        if node.inputs:
            required_found = 0
            for port in node.inputs:
                reference = known_inputs.get(port.name)
                if reference is None:
                    if not extra_allowed:
                        self._port_issue(node, port.name, "input", sorted(known_inputs))
                    continue
                if reference.required and reference.default is None:
                    required_found += 1
                if port.data_type is not reference.data_type and not (
                    port.data_type.is_assignable_to(reference.data_type)
                ):
                    self._port_type_issue(node, port.name, "input", reference, port)
            if required_found < len(required):
                declared = {port.name for port in node.inputs}
                for name in required:
                    if name not in declared:
                        self.errors.append(
                            ValidationIssue(
                                code=IssueCode.INVALID_PORT,
                                message=(
                                    f"Node {node.id!r} declares its inputs but leaves out "
                                    f"{name!r}, which {node.type_name} requires; declare it."
                                ),
                                node_id=node.id,
                                port=name,
                                path=("inputs",),
                            )
                        )
        for port in node.outputs:
            reference = known_outputs.get(port.name)
            if reference is None:
                if not extra_allowed:
                    self._port_issue(node, port.name, "output", sorted(known_outputs))
            elif port.data_type is not reference.data_type and not (
                reference.data_type.is_assignable_to(port.data_type)
            ):
                self._port_type_issue(node, port.name, "output", reference, port)

    def _port_issue(self, node: _TaskNode, name: str, direction: str, known: list[str]) -> None:
        choices = f"use one of {', '.join(known)}" if known else f"it has no {direction} ports"
        self.errors.append(
            ValidationIssue(
                code=IssueCode.INVALID_PORT,
                message=(
                    f"Node {node.id!r} declares {direction} port {name!r}, which "
                    f"{node.type_name} does not have; {choices}."
                ),
                node_id=node.id,
                port=name,
                path=(f"{direction}s",),
            )
        )

    def _port_type_issue(
        self,
        node: _TaskNode,
        name: str,
        direction: str,
        reference: PortDefinition,
        declared: PortDefinition,
    ) -> None:
        self.errors.append(
            ValidationIssue(
                code=IssueCode.INVALID_PORT,
                message=(
                    f"Node {node.id!r} declares {direction} port {name!r} as "
                    f"{declared.data_type}, but {node.type_name} has it as "
                    f"{reference.data_type}; use a compatible type."
                ),
                node_id=node.id,
                port=name,
                path=(f"{direction}s",),
                expected=str(reference.data_type),
                found=str(declared.data_type),
            )
        )

    def _check_control_fields(self, node: ControlNode) -> None:
        def misplaced(field_name: str, belongs_to: str) -> None:
            self.errors.append(
                ValidationIssue(
                    code=IssueCode.INVALID_CONTROL_NODE,
                    message=(
                        f"Control node {node.id!r} is a {node.control} but sets {field_name!r}, "
                        f"which only a {belongs_to} uses; remove it or change the control type."
                    ),
                    node_id=node.id,
                    path=(field_name,),
                )
            )

        if node.control is not ControlType.BRANCH and node.condition is not None:
            misplaced("condition", "branch")
        if node.control is not ControlType.LOOP:
            if node.over is not None:
                misplaced("over", "loop")
            if node.body is not None:
                misplaced("body", "loop")
        else:
            for field_name in ("over", "body"):
                if not getattr(node, field_name):
                    what = (
                        "an expression giving the items, e.g. inputs.items"
                        if field_name == "over"
                        else "the id of the workflow to run once per item"
                    )
                    self.errors.append(
                        ValidationIssue(
                            code=IssueCode.INVALID_CONTROL_NODE,
                            message=f"Loop {node.id!r} needs {field_name!r}: {what}.",
                            node_id=node.id,
                            path=(field_name,),
                        )
                    )
        if self.options.check_expressions:
            if node.condition:
                self._expression_issue(
                    check_expression(node.condition), ("condition",), node_id=node.id
                )
            if node.control is ControlType.LOOP and node.over:
                self._expression_issue(check_expression(node.over), ("over",), node_id=node.id)

    def _expression_issue(
        self, problem: ExpressionError | None, path: tuple[str | int, ...], **where: Any
    ) -> None:
        if problem is None:
            return
        if "node_id" in where:
            subject = f"node {where['node_id']!r}"
        else:
            subject = f"edge {where['edge_id']!r}"
        location = ".".join(str(part) for part in path)
        at = f" at position {problem.position}" if problem.position is not None else ""
        self.errors.append(
            ValidationIssue(
                code=IssueCode.INVALID_EXPRESSION,
                message=f"Expression in {subject} ({location}){at}: {problem.message}; fix it.",
                path=path,
                position=problem.position,
                **where,
            )
        )
