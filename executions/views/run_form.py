"""The form of a workflow's input nodes: the Run page and the answer to a waiting input.

Each enabled `input` node becomes one field of the template pages' form code
(`templates_app.parameter_form`): its data type picks the widget, its name is
the label, its prompt the help text, its default the field's default. Posted
values come back typed through the same `read_form`, keyed by input node id,
so the engine's own input checks (`start_input_problems`, `provide_input`)
decide what is valid and their problems are shown at the fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from templates_app.domain.parameters import ParameterDefinition, ParameterType, UiHints
from templates_app.parameter_form import FIELD_PREFIX, FormGroup, form_groups, read_form
from workflows.domain import InputNode, Workflow

# Array item types a comma-separated "tags" field can hold; other arrays are typed as JSON.
_TAG_ITEMS = {"string": ParameterType.STRING, "integer": ParameterType.INTEGER, "number": ParameterType.FLOAT}


def input_nodes(workflow: Workflow) -> list[InputNode]:
    """The enabled input nodes, in document order."""
    return [node for node in workflow.nodes.values() if isinstance(node, InputNode) and node.enabled]


def definition_for(node: InputNode, *, asking: bool = False) -> ParameterDefinition:
    """One form field for an input node. `asking`: the run is waiting for this value now, so it
    is required and shows the node's prompt; on the Run page an interactive input may be left
    empty (the run then asks for it)."""
    data_type = node.data_type
    name = data_type.name
    extra: dict[str, Any] = {}
    if name == "string" or name == "bytes":
        kind, widget = ParameterType.STRING, "text"
    elif name == "integer":
        kind, widget = ParameterType.INTEGER, "number"
    elif name == "number":
        kind, widget = ParameterType.FLOAT, "number"
    elif name == "boolean":
        kind, widget = ParameterType.BOOLEAN, "checkbox"
    elif name == "array" and data_type.item_type.name in _TAG_ITEMS:
        kind, widget = ParameterType.ARRAY, "tags"
        extra["items"] = ParameterDefinition(name="", type=_TAG_ITEMS[data_type.item_type.name])
    else:  # objects, arrays of anything, `any` and `json`: typed as JSON (plain text stays text)
        kind, widget = ParameterType.OBJECT, "json"
    if node.default is not None and not asking:
        extra["default"] = node.default
    help_parts = [f"Type: {data_type}."]
    if node.prompt and not asking:  # while asking, the prompt is the form's question
        help_parts.insert(0, node.prompt)
    if node.interactive and not asking and node.default is None:
        help_parts.append("Leave it empty to be asked while the workflow runs.")
    elif kind is ParameterType.OBJECT:
        help_parts.append("JSON, or plain text for a string.")
    required = asking or (node.required and node.default is None and not node.interactive)
    return ParameterDefinition(
        name=node.id, type=kind, display_name=node.name or node.id, description=node.description or "",
        required=required, ui=UiHints(widget=widget, help_text=" ".join(help_parts)), **extra)


def definitions(nodes: Iterable[InputNode], *, asking: bool = False) -> tuple[ParameterDefinition, ...]:
    return tuple(definition_for(node, asking=asking) for node in nodes)


def groups(nodes: Iterable[InputNode], values: Mapping[str, Any] | None = None,
           errors: Mapping[str, list[str]] | None = None, *, asking: bool = False) -> list[FormGroup]:
    return form_groups(definitions(nodes, asking=asking), values, errors)


def read(nodes: Iterable[InputNode], data: Any, *, asking: bool = False) -> dict[str, Any]:
    """The posted values, typed, keyed by input node id; empty fields are left out."""
    return read_form(definitions(nodes, asking=asking), data)


def errors_by_node(details: Any) -> tuple[dict[str, list[str]], list[str]]:
    """A start's or an answer's problems at their input's field, and the ones that name no field
    (`inputs.<node id>` from `execution_start`, `value` from `provide_input` via `node_id`)."""
    by_node: dict[str, list[str]] = {}
    general: list[str] = []
    for problem in details if isinstance(details, list) else []:
        if not isinstance(problem, Mapping):
            continue
        field = str(problem.get("field") or "")
        node_id = str(problem.get("node_id") or "") or (field.removeprefix("inputs.") if field.startswith("inputs.") else "")
        message = str(problem.get("message") or "")
        if node_id:
            by_node.setdefault(node_id, []).append(message)
        else:
            general.append(message)
    return by_node, general


def field_errors(form: list[FormGroup]) -> list[dict[str, str]]:
    """Every field with an error, by its label, for the summary above the form (links to fields)."""
    return [{"id": f"f-{field.html_name}", "text": f"{field.label}: {error}"}
            for group in form for field in group.fields for error in field.errors]


def field_name(node_id: str) -> str:
    return f"{FIELD_PREFIX}{node_id}"
