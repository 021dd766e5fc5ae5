"""The checks behind ``validate_workflow``, written for speed on big workflows.

One pass over the nodes (ports, node types, config, control fields), one
pass over the edges (endpoints, duplicates, ports, types, expressions) that
also builds the integer graph index, then cheap passes over the index
(control-node rules, required inputs, connectivity, cycles). The index
becomes the workflow's cached analysis, so planning right after validation
costs no second build. The loops are written out by hand (local names,
integer keys, no helper calls on the common path) because this is the
10,000-node / 50,000-edge hot path of ``bench/graph``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

from workflows.domain.algorithms import GraphAnalysis
from workflows.domain.catalog import NodeTypeCatalog, NodeTypeDefinition, canonical_config
from workflows.domain.clean_edges import EXPRESSION_TRANSFORMS, Ports, index_clean_edges
from workflows.domain.expressions import check_expression, check_template
from workflows.domain.graph_index import GraphIndex, nodes_in_id_order
from workflows.domain.issues import IssueCode, ValidationIssue, ValidationResult
from workflows.domain.model import (
    ConditionalEdge,
    ControlEdge,
    ControlNode,
    ControlType,
    DataEdge,
    InputNode,
    InstrumentNode,
    Node,
    OperatorNode,
    Workflow,
    _TaskNode,
)
from workflows.domain.node_checks import DefinitionPorts, NodeChecks

if TYPE_CHECKING:
    from workflows.domain.validation import ValidationOptions


_builtin_ports: dict[tuple[Any, ...], tuple[Ports, Ports]] = {}


def _template_strings(
    value: Any, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string in a config that holds ``{`` (a possible placeholder), with its path."""
    if isinstance(value, str):
        if "{" in value:
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _template_strings(item, (*path, key))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _template_strings(item, (*path, position))


@dataclass(slots=True)
class _KnownType:
    """A node type as one validation has met it: the catalog's definition, its
    ports as ``_check_declared_ports`` wants them, and the canonical configs
    (``catalog.canonical_config``) already found clean for it."""

    definition: NodeTypeDefinition | None
    ports: DefinitionPorts | None
    clean_configs: set[bytes]


class Checker(NodeChecks):
    def __init__(
        self,
        workflow: Workflow,
        options: ValidationOptions,
        catalog: NodeTypeCatalog | None,
        result: ValidationResult,
    ) -> None:
        self.workflow = workflow
        self.options = options
        self.catalog = catalog
        self.errors = result.errors
        self.warnings = result.warnings
        self.ids = sorted(workflow.nodes)
        # zip/map rather than comprehensions: the same result, built at C speed.
        self.index_of = dict(zip(self.ids, range(len(self.ids)), strict=True))
        self.node_list: list[Node] = nodes_in_id_order(workflow, self.ids)
        self.inputs: list[Ports] = []
        self.outputs: list[Ports] = []
        self.filled: dict[tuple[int, str], str] = {}
        self.control_positions: list[int] = []

    def run(self) -> None:
        self._check_nodes()
        clean = index_clean_edges(
            self.workflow.edges,
            self.ids,
            self.index_of,
            self.node_list,
            self.inputs,
            self.outputs,
            check_types=self.options.check_types,
            check_expressions=self.options.check_expressions,
        )
        if clean is None:  # some edge has a problem: the careful pass words each one
            index, data_out, conditional_out = self._check_edges()
        else:
            index, data_out, conditional_out = clean.index, clean.data_out, clean.conditional_out
        analysis = GraphAnalysis.of_index(index)
        self.workflow.store_analysis(analysis)
        self._check_control_edges(index, conditional_out)
        if self.options.check_required_inputs:
            if clean is None:
                self._check_required_inputs()
            else:
                self._check_required_inputs_fed(clean.input_offsets, clean.fed)
        if self.options.check_connectivity:
            self._check_connectivity(index, data_out)
        if self.options.check_cycles and analysis.has_cycle:
            self._report_cycles(analysis)

    # -- nodes -------------------------------------------------------------------------

    def _builtin_node_ports(self, node: Node) -> tuple[Ports, Ports]:
        # Input, output and control ports depend only on kind and type: build once.
        key = (type(node), getattr(node, "data_type", None), getattr(node, "control", None))
        ports = _builtin_ports.get(key)
        if ports is None:
            ports = (node.input_ports(), node.output_ports())
            _builtin_ports[key] = ports
        return ports

    def _known_type(self, node: _TaskNode, type_name: str) -> _KnownType:
        assert self.catalog is not None
        definition = self.catalog.get(node.kind, type_name)
        ports = self._declared_ports_of(definition) if definition is not None else None
        return _KnownType(definition, ports, set())

    def _check_nodes(self) -> None:
        options = self.options
        catalog = self.catalog
        check_catalog = options.check_catalog
        check_expressions = options.check_expressions
        errors = self.errors
        inputs = self.inputs
        outputs = self.outputs
        # Big workflows repeat a handful of node types and configs, so within
        # one validation each type is looked up once (``_KnownType``) and each
        # (type, config) and config is checked once; a config is keyed by its
        # canonical JSON, as the catalog keys its own answers. Only clean
        # answers are kept: a config with problems is checked (and reported)
        # at every node.
        known_types: dict[type[Node], dict[str, _KnownType]] = {
            OperatorNode: {},
            InstrumentNode: {},
        }
        clean_templates: set[bytes] = set()
        for node in self.node_list:
            node_class = type(node)
            if node_class is OperatorNode or node_class is InstrumentNode:
                task: _TaskNode = node  # type: ignore[assignment]
                node_inputs: Ports = task.inputs
                node_outputs: Ports = task.outputs
                definition = None
                known = None
                type_name = task.operator if node_class is OperatorNode else task.model_id  # type: ignore[attr-defined]
                if catalog is not None and type_name:
                    known_of_class = known_types[node_class]
                    known = known_of_class.get(type_name)
                    if known is None:
                        known = known_of_class[type_name] = self._known_type(task, type_name)
                    definition = known.definition
                    if definition is not None:
                        node_inputs = node_inputs or definition.inputs
                        node_outputs = node_outputs or definition.outputs
                config_key = (
                    canonical_config(task.config)
                    if (check_catalog and definition is not None)
                    or (check_expressions and task.config)
                    else None
                )
                if check_catalog:
                    if known is None or config_key is None or config_key not in known.clean_configs:
                        errors_before = len(errors)
                        self._check_node_type(task, type_name, definition)
                        if (
                            definition is not None
                            and known is not None
                            and config_key is not None
                            and len(errors) == errors_before
                        ):
                            known.clean_configs.add(config_key)
                    if (
                        known is not None
                        and known.ports is not None
                        and (task.inputs or task.outputs)
                    ):
                        self._check_declared_ports(task, known.ports)
                if (
                    check_expressions
                    and task.config
                    and (config_key is None or config_key not in clean_templates)
                ):
                    errors_before = len(errors)
                    for key, value in task.config.items():
                        if type(value) is str:
                            if "{" in value:
                                problem = check_template(value)
                                if problem is not None:
                                    self._expression_issue(
                                        problem, ("config", key), node_id=task.id
                                    )
                        elif isinstance(value, dict | list):
                            for path, text in _template_strings(value, ("config", key)):
                                self._expression_issue(check_template(text), path, node_id=task.id)
                    if config_key is not None and len(errors) == errors_before:
                        clean_templates.add(config_key)
                inputs.append(node_inputs)
                outputs.append(node_outputs)
            else:
                if isinstance(node, _TaskNode):  # a subclass someone added: no fast path
                    node_inputs, node_outputs = node.input_ports(), node.output_ports()
                else:
                    node_inputs, node_outputs = self._builtin_node_ports(node)
                inputs.append(node_inputs)
                outputs.append(node_outputs)
                if node_class is ControlNode:
                    self.control_positions.append(len(inputs) - 1)
                    self._check_control_fields(node)  # type: ignore[arg-type]

    # -- edges -------------------------------------------------------------------------

    def _check_edges(self) -> tuple[GraphIndex, bytearray, bytearray]:
        options = self.options
        check_types = options.check_types
        check_expressions = options.check_expressions
        errors = self.errors
        edges = self.workflow.edges
        ids = self.ids
        lookup = self.index_of.get
        inputs = self.inputs
        outputs = self.outputs
        size = len(ids)
        successors: list[list[int]] = [[] for _ in range(size)]
        predecessors: list[list[int]] = [[] for _ in range(size)]
        dangling: list[str] = []
        self_loops: list[str] = []
        control_pairs: set[int] = set()
        other_connections: set[tuple[Any, ...]] = set()
        data_out = bytearray(size)
        conditional_out = bytearray(size)
        filled = self.filled
        many_inputs = [
            type(node) is ControlNode and node.accepts_many_inputs for node in self.node_list
        ]
        merge_connections: set[tuple[str, str, str, str]] = set()
        self._merge_connections = merge_connections

        for edge_id, edge in edges.items():
            source = lookup(edge.source)
            target = lookup(edge.target)
            if source is None or target is None:
                dangling.append(edge_id)
                missing = edge.source if source is None else edge.target
                errors.append(
                    ValidationIssue(
                        code=IssueCode.INVALID_EDGE,
                        message=(
                            f"Edge {edge_id!r} refers to node {missing!r}, which does not exist; "
                            "point it at an existing node or remove it."
                        ),
                        edge_id=edge_id,
                        found=missing,
                    )
                )
                continue
            if source == target:
                self_loops.append(edge_id)
                errors.append(
                    ValidationIssue(
                        code=IssueCode.INVALID_EDGE,
                        message=(
                            f"Edge {edge_id!r} connects node {edge.source!r} to itself; a node "
                            "cannot depend on itself — remove the edge or use a loop node."
                        ),
                        edge_id=edge_id,
                        node_id=edge.source,
                    )
                )
                continue
            edge_class = type(edge)
            if edge_class is DataEdge:
                data_edge: DataEdge = edge  # type: ignore[assignment]
                source_port_name = data_edge.source_port
                target_port_name = data_edge.target_port
                fill_key = (target, target_port_name)
                earlier = filled.get(fill_key)
                if earlier is None:
                    filled[fill_key] = edge_id
                elif self._refuse_second_feed(data_edge, earlier, many_inputs[target]):
                    continue
                data_out[source] = 1
                source_port = None
                for port in outputs[source]:
                    if port.name == source_port_name:
                        source_port = port
                        break
                target_port = None
                for port in inputs[target]:
                    if port.name == target_port_name:
                        target_port = port
                        break
                if source_port is None:
                    errors.append(self._unknown_port(edge_id, source, source_port_name, "output"))
                if target_port is None:
                    errors.append(self._unknown_port(edge_id, target, target_port_name, "input"))
                if data_edge.transform is not None:
                    self._check_transform(data_edge, check_expressions)
                elif check_types and source_port is not None and target_port is not None:
                    found = source_port.data_type
                    expected = target_port.data_type
                    if (
                        found is not expected
                        and expected.name != "any"
                        and found.name != "any"
                        and not found.is_assignable_to(expected)
                    ):
                        errors.append(
                            ValidationIssue(
                                code=IssueCode.TYPE_MISMATCH,
                                message=(
                                    f"Edge {edge_id!r} sends {found} from "
                                    f"{edge.source}.{source_port_name} into "
                                    f"{edge.target}.{target_port_name}, which expects "
                                    f"{expected}; connect a compatible port or add a transform."
                                ),
                                edge_id=edge_id,
                                port=target_port_name,
                                expected=str(expected),
                                found=str(found),
                            )
                        )
            elif edge_class is ControlEdge:
                pair = source * size + target
                if pair in control_pairs:
                    errors.append(self._duplicate(edge_id, edge.source, edge.target, edge.kind))
                    continue
                control_pairs.add(pair)
            elif isinstance(edge, ConditionalEdge):
                condition = edge.condition
                connection = (source, target, condition)
                if connection in other_connections:
                    errors.append(self._duplicate(edge_id, edge.source, edge.target, edge.kind))
                    continue
                other_connections.add(connection)
                conditional_out[source] = 1
                if check_expressions:
                    self._check_condition(edge_id, condition)
            successors[source].append(target)
            predecessors[target].append(source)

        index = GraphIndex(ids, self.index_of, successors, predecessors, dangling, self_loops)
        return index, data_out, conditional_out

    def _refuse_second_feed(self, edge: DataEdge, earlier: str, many_inputs: bool) -> bool:
        """A second data edge into an input port: fine for merge and join (unless
        it repeats a connection); otherwise an error. True when the edge is an
        exact duplicate and must be left out of the graph."""
        earlier_edge: DataEdge = self.workflow.edges[earlier]  # type: ignore[assignment]
        connections = self._merge_connections
        first = (earlier_edge.source, earlier_edge.source_port, edge.target, edge.target_port)
        connections.add(first)
        connection = (edge.source, edge.source_port, edge.target, edge.target_port)
        if connection in connections:
            self.errors.append(self._duplicate(edge.id, edge.source, edge.target, edge.kind))
            return True
        connections.add(connection)
        if not many_inputs:
            self.errors.append(
                ValidationIssue(
                    code=IssueCode.INVALID_EDGE,
                    message=(
                        f"Input port {edge.target_port!r} of node {edge.target!r} is already "
                        f"fed by edge {earlier!r}; an input takes one edge (gather several with "
                        "a merge or join node)."
                    ),
                    edge_id=edge.id,
                    node_id=edge.target,
                    port=edge.target_port,
                )
            )
        return False

    def _duplicate(self, edge_id: str, source: str, target: str, kind: str) -> ValidationIssue:
        return ValidationIssue(
            code=IssueCode.INVALID_EDGE,
            message=(
                f"Edge {edge_id!r} duplicates another {kind} connection from {source!r} to "
                f"{target!r}; remove one of them."
            ),
            edge_id=edge_id,
        )

    def _check_condition(self, edge_id: str, condition: str) -> None:
        if not condition.strip():
            self.errors.append(
                ValidationIssue(
                    code=IssueCode.INVALID_EXPRESSION,
                    message=(
                        f"Conditional edge {edge_id!r} has no condition; write one, e.g. "
                        "inputs.confidence < 0.6."
                    ),
                    edge_id=edge_id,
                    path=("condition",),
                )
            )
            return
        self._expression_issue(check_expression(condition), ("condition",), edge_id=edge_id)

    def _unknown_port(self, edge_id: str, node: int, port: str, direction: str) -> ValidationIssue:
        node_object = self.node_list[node]
        ports = self.outputs[node] if direction == "output" else self.inputs[node]
        known = sorted(item.name for item in ports)
        if known:
            choices = f"use one of {', '.join(known)}"
        else:
            choices = f"{node_object.kind} nodes have no {direction} port"
        return ValidationIssue(
            code=IssueCode.INVALID_EDGE,
            message=(
                f"Edge {edge_id!r} uses {direction} port {port!r} of node {node_object.id!r}, "
                f"which has no such port; {choices}."
            ),
            edge_id=edge_id,
            node_id=node_object.id,
            port=port,
        )

    def _check_transform(self, edge: DataEdge, check_expressions: bool) -> None:
        # A transform's result type is only known at run time, so edges with one
        # are not type-checked here; their expressions are.
        transform = edge.transform
        if transform is None or transform.type not in EXPRESSION_TRANSFORMS:
            return
        expression = transform.expression
        if expression is None:
            self.errors.append(
                ValidationIssue(
                    code=IssueCode.INVALID_EDGE,
                    message=(
                        f"The {transform.type} transform of edge {edge.id!r} needs config.expr, "
                        "an expression over item, e.g. item | lower."
                    ),
                    edge_id=edge.id,
                    path=("transform", "config", "expr"),
                )
            )
        elif check_expressions:
            self._expression_issue(
                check_expression(expression), ("transform", "config", "expr"), edge_id=edge.id
            )

    # -- passes over the index ---------------------------------------------------------

    def _check_control_edges(self, index: GraphIndex, conditional_out: bytearray) -> None:
        for position in self.control_positions:
            node: ControlNode = self.node_list[position]  # type: ignore[assignment]
            incoming = len(set(index.predecessors[position]))
            outgoing = len(set(index.successors[position]))
            problem = None
            if node.control is ControlType.BRANCH and not conditional_out[position]:
                problem = (
                    f"Branch {node.id!r} has no outgoing conditional edge; add conditional "
                    "edges (with conditions) to the paths it chooses between."
                )
            elif node.accepts_many_inputs and incoming < 2:
                problem = (
                    f"{str(node.control).capitalize()} {node.id!r} has {incoming} incoming "
                    "path(s); it gathers paths, so connect at least two (or remove it)."
                )
            elif node.control is ControlType.PARALLEL and outgoing < 2:
                problem = (
                    f"Parallel {node.id!r} has {outgoing} outgoing path(s); it fans out, so "
                    "connect at least two (or remove it)."
                )
            if problem is not None:
                self.errors.append(
                    ValidationIssue(
                        code=IssueCode.INVALID_CONTROL_NODE, message=problem, node_id=node.id
                    )
                )

    def _check_required_inputs(self) -> None:
        filled = self.filled
        for position, ports in enumerate(self.inputs):
            for port in ports:
                if port.required and port.default is None and (position, port.name) not in filled:
                    self._missing_input(position, port.name)

    def _check_required_inputs_fed(self, input_offsets: list[int], fed: bytearray) -> None:
        """``_check_required_inputs`` after the fast edge pass, which flags fed
        ports by slot. An edge feeds the first port with its name, so a port
        counts as fed when any port of the same name on its node is."""
        # Usually every required port is fed: look for one that is not over the
        # flat list of ports first (one loop, the cheap flag tested first), and
        # go node by node only when there is one.
        for port, port_fed in zip(chain.from_iterable(self.inputs), fed, strict=True):
            if not port_fed and port.required and port.default is None:
                break
        else:
            return
        for position, ports in enumerate(self.inputs):
            slot = input_offsets[position]
            for port in ports:
                if port.required and port.default is None and not fed[slot]:
                    fed_names = {
                        other.name
                        for offset, other in enumerate(ports)
                        if fed[input_offsets[position] + offset]
                    }
                    if port.name not in fed_names:
                        self._missing_input(position, port.name)
                slot += 1

    def _missing_input(self, position: int, port_name: str) -> None:
        node_id = self.ids[position]
        self.errors.append(
            ValidationIssue(
                code=IssueCode.MISSING_REQUIRED_INPUT,
                message=(
                    f"Required input {port_name!r} of node {node_id!r} is not "
                    "connected; connect a data edge to it, give the port a default, "
                    "or mark it not required."
                ),
                node_id=node_id,
                port=port_name,
            )
        )

    def _check_connectivity(self, index: GraphIndex, data_out: bytearray) -> None:
        issues = self.warnings if self.options.allow_orphan_nodes else self.errors
        successors = index.successors
        predecessors = index.predecessors
        for position, node in enumerate(self.node_list):
            if type(node) is InputNode:
                if not data_out[position]:
                    issues.append(
                        ValidationIssue(
                            code=IssueCode.DISCONNECTED_INPUT,
                            message=(
                                f"Input {node.id!r} is not connected to anything that uses its "
                                "value; connect its value port with a data edge or remove it."
                            ),
                            node_id=node.id,
                        )
                    )
            elif not successors[position] and not predecessors[position]:
                issues.append(
                    ValidationIssue(
                        code=IssueCode.ORPHAN_NODE,
                        message=(
                            f"Node {node.id!r} has no edges, so it never receives data or "
                            "runs in any order; connect it or remove it."
                        ),
                        node_id=node.id,
                    )
                )

    def _report_cycles(self, analysis: GraphAnalysis) -> None:
        for cycle in analysis.cycles():
            self.errors.append(
                ValidationIssue(
                    code=IssueCode.CYCLE_DETECTED,
                    message=(
                        "Cycle: " + " → ".join(cycle) + ". Workflows must be acyclic; remove "
                        "one of these edges, or repeat work with a loop node."
                    ),
                    path=tuple(cycle),
                    node_id=cycle[0],
                )
            )
