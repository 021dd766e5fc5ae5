"""The parameter form of the template page: widgets from definitions, values back from POST.

Plain Python over the domain's definitions. `form_groups` lays the fields
out in the groups and order the UI hints ask for, each with the widget its
hint names; `read_form` turns the posted strings back into typed values
(numbers, booleans, lists, objects) so the JSON Schema check sees what an
API client would have sent. Empty optional fields are left out so their
defaults apply.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from templates_app.domain.parameters import (
    Choice,
    Constraints,
    ParameterDefinition,
    ParameterType,
    UiHints,
    ordered,
)

FIELD_PREFIX = "param__"


@dataclass
class FormField:
    definition: ParameterDefinition
    html_name: str
    value: Any
    errors: list[str] = field(default_factory=list)
    children: list[FormField] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def label(self) -> str:
        return self.definition.label

    @property
    def widget(self) -> str:
        return self.definition.ui.widget

    @property
    def kind(self) -> str:
        return self.definition.type.value

    @property
    def input_type(self) -> str:
        if self.definition.type in {ParameterType.INTEGER, ParameterType.FLOAT}:
            return "range" if self.widget == "slider" else "number"
        if self.widget == "password":
            return "password"
        if self.definition.constraints.validators and "http_url" in self.definition.constraints.validators:
            return "url"
        return "text"

    @property
    def step(self) -> str:
        return "1" if self.definition.type is ParameterType.INTEGER else "any"

    @property
    def choices(self) -> list[dict[str, Any]]:
        definition = self.definition
        if definition.choices:
            values = [(choice.value, choice.label) for choice in definition.choices]
        elif definition.constraints.one_of is not None:
            values = [(value, str(value)) for value in definition.constraints.one_of]
        elif definition.type is ParameterType.DATA_TYPE:
            from templates_app.domain.parameters import DATA_TYPES

            values = [(name, name) for name in [*DATA_TYPES, *[f"array<{t}>" for t in DATA_TYPES]]]
        elif definition.type is ParameterType.ARRAY and definition.items is not None and definition.items.choices:
            values = [(choice.value, choice.label) for choice in definition.items.choices]
        else:
            values = []
        selected = self.value if isinstance(self.value, list) else [self.value]
        return [{"value": str(value), "label": label, "selected": value in selected or str(value) in
                 [str(item) for item in selected]} for value, label in values]

    @property
    def text_value(self) -> str:
        """The value as the input shows it."""
        value = self.value
        if value is None:
            return ""
        if self.definition.type is ParameterType.ARRAY:
            if self.widget == "json":
                return json.dumps(value, ensure_ascii=False)
            separator = "\n" if self.widget == "textarea" else ", "
            return separator.join(str(item) for item in value) if isinstance(value, list) else str(value)
        if self.definition.type is ParameterType.OBJECT:
            return json.dumps(value, ensure_ascii=False, indent=2)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    @property
    def is_empty(self) -> bool:
        return self.value is None or self.value == "" or self.value == []

    @property
    def default_text(self) -> str:
        """The default as a person would type it ("" without one)."""
        if not self.definition.has_default:
            return ""
        default = self.definition.default
        if isinstance(default, str):
            return default
        return json.dumps(default, ensure_ascii=False)

    @property
    def checked(self) -> bool:
        return self.value is True

    @property
    def minimum(self) -> float | None:
        return self.definition.constraints.min_value

    @property
    def maximum(self) -> float | None:
        return self.definition.constraints.max_value


@dataclass
class FormGroup:
    name: str
    fields: list[FormField]


def _field(definition: ParameterDefinition, values: Mapping[str, Any], errors: Mapping[str, list[str]],
           prefix: str, path: str) -> FormField:
    value = values.get(definition.name, definition.default if definition.has_default else None)
    form_field = FormField(definition=definition, html_name=f"{prefix}{definition.name}", value=value,
                           errors=list(errors.get(path, [])))
    if definition.type is ParameterType.OBJECT and definition.ui.widget == "fieldset":
        inner = value if isinstance(value, Mapping) else {}
        form_field.children = [_field(child, inner, errors, f"{form_field.html_name}.", f"{path}.{child.name}")
                               for child in ordered(definition.properties)]
    return form_field


def form_groups(definitions: tuple[ParameterDefinition, ...], values: Mapping[str, Any] | None = None,
                errors: Mapping[str, list[str]] | None = None) -> list[FormGroup]:
    """Fields grouped by `ui.group` (groups in order of their first field), each sorted by `ui.order`."""
    groups: dict[str, FormGroup] = {}
    for definition in ordered(definitions):
        group = groups.setdefault(definition.ui.group, FormGroup(name=definition.ui.group, fields=[]))
        group.fields.append(_field(definition, values or {}, errors or {}, FIELD_PREFIX, definition.name))
    return list(groups.values())


def _scalar(definition: ParameterDefinition, raw: str) -> Any:
    """A posted string as the parameter's type; left as text when it does not parse (the schema says why)."""
    kind = definition.type
    text = raw.strip()
    if kind is ParameterType.INTEGER:
        try:
            return int(text)
        except ValueError:
            return raw
    if kind is ParameterType.FLOAT:
        try:
            number = float(text)
        except ValueError:
            return raw
        return int(number) if number.is_integer() and "." not in text else number
    if kind is ParameterType.BOOLEAN:
        return text.lower() in {"on", "true", "1", "yes"}
    if kind is ParameterType.ENUM:
        for choice in definition.choices:
            if str(choice.value) == raw:
                return choice.value
        return raw
    return raw


def _read(definition: ParameterDefinition, data: Any, name: str) -> tuple[bool, Any]:
    """(present, value) of one field from a QueryDict-like `data`."""
    kind = definition.type
    if kind is ParameterType.BOOLEAN:
        # An unchecked checkbox sends nothing: that is "false", not "missing".
        return True, name in data and _scalar(definition, data.get(name, ""))
    if kind is ParameterType.OBJECT and definition.ui.widget == "fieldset":
        value: dict[str, Any] = {}
        for child in definition.properties:
            present, child_value = _read(child, data, f"{name}.{child.name}")
            if present:
                value[child.name] = child_value
        return bool(value), value
    if kind is ParameterType.ARRAY and definition.ui.widget == "multiselect":
        items = definition.items
        raw_items = data.getlist(name) if hasattr(data, "getlist") else data.get(name, [])
        return bool(raw_items), [_scalar(items, item) if items else item for item in raw_items]
    raw = data.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return False, None
    if kind is ParameterType.OBJECT or (kind is ParameterType.ARRAY and definition.ui.widget == "json"):
        try:
            return True, json.loads(raw)
        except ValueError:
            return True, raw
    if kind is ParameterType.ARRAY:
        separator = "\n" if definition.ui.widget == "textarea" else ","
        parts = [part.strip() for part in raw.split(separator) if part.strip()]
        items = definition.items
        return True, [_scalar(items, part) if items else part for part in parts]
    return True, _scalar(definition, raw)


def read_form(definitions: tuple[ParameterDefinition, ...], data: Any) -> dict[str, Any]:
    """Typed parameter values from posted form data (field names `param__NAME`)."""
    values: dict[str, Any] = {}
    for definition in definitions:
        present, value = _read(definition, data, f"{FIELD_PREFIX}{definition.name}")
        if present:
            values[definition.name] = value
    return values


def errors_by_path(problems: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Instantiation problems keyed by parameter path (`limits.low`), for showing beside fields."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        path = str(problem.get("path") or problem.get("parameter") or "")
        found.setdefault(path, []).append(str(problem.get("message", "")))
    return found


# --- Forms from a JSON Schema (the workflow editor's node settings) -------------------------

SCHEMA_WIDGET = "x-symphony-widget"
LONG_TEXT = 500  # a string that may be longer than this gets a text area


def _schema_constraints(schema: Mapping[str, Any]) -> Constraints:
    minimum = schema.get("minimum", schema.get("exclusiveMinimum"))
    maximum = schema.get("maximum", schema.get("exclusiveMaximum"))
    pattern = schema.get("pattern")
    validators = ("http_url",) if isinstance(pattern, str) and pattern.startswith("^https?://") else ()
    return Constraints(min_length=schema.get("minLength"), max_length=schema.get("maxLength"),
                       min_value=minimum, max_value=maximum, pattern=pattern, validators=validators)


def definition_from_schema(name: str, schema: Mapping[str, Any], *, required: bool = False,
                           order: int = 0) -> ParameterDefinition:
    """One form field for a property of a JSON Schema object, typed and with the widget it needs."""
    hint = schema.get(SCHEMA_WIDGET, "")
    kind = schema.get("type")
    extra: dict[str, Any] = {}
    if "default" in schema:
        extra["default"] = schema["default"]
    if "enum" in schema:
        extra["choices"] = tuple(Choice(value=value, label=str(value)) for value in schema["enum"])
        parameter_type, widget = ParameterType.ENUM, "select"
    elif hint == "expression":
        parameter_type, widget = ParameterType.EXPRESSION, "code"
    elif kind == "string":
        is_url = str(schema.get("pattern", "")).startswith("^https?://")
        long_text = hint == "template" or (not is_url and schema.get("maxLength", 0) > LONG_TEXT)
        parameter_type, widget = ParameterType.STRING, "textarea" if long_text else "text"
    elif kind == "boolean":
        parameter_type, widget = ParameterType.BOOLEAN, "checkbox"
    elif kind == "integer":
        parameter_type, widget = ParameterType.INTEGER, "number"
    elif kind == "number":
        parameter_type, widget = ParameterType.FLOAT, "number"
    elif kind == "array" and (schema.get("items") or {}).get("type") == "string":
        parameter_type, widget = ParameterType.ARRAY, "tags"
        extra["items"] = ParameterDefinition(name="", type=ParameterType.STRING)
    else:  # objects, arrays of anything and schema-less values are edited as JSON
        parameter_type, widget = ParameterType.OBJECT, "json"
    return ParameterDefinition(
        name=name, type=parameter_type, description=str(schema.get("description", "")), required=required,
        constraints=_schema_constraints(schema), ui=UiHints(widget=widget, order=order), **extra)


def definitions_from_schema(schema: Mapping[str, Any]) -> tuple[ParameterDefinition, ...]:
    """The form of a JSON Schema object (a node type's `config_schema`), one field per property in
    the schema's order, so `form_groups`, `_field.html` and `read_form` serve it as they serve a
    template's parameters."""
    required = set(schema.get("required") or ())
    return tuple(definition_from_schema(name, property_schema, required=name in required, order=order)
                 for order, (name, property_schema) in enumerate((schema.get("properties") or {}).items()))
