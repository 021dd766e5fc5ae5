"""Parameter definitions of a template version, and their JSON Schema.

A definition is plain JSON (what the API accepts and serves)::

    {"name": "tone", "display_name": "Tone", "description": "How replies sound",
     "type": "enum", "choices": ["friendly", "formal"], "required": false,
     "default": "friendly",
     "constraints": {"min_length": 1, "max_length": 80, "min_value": 0, "max_value": 1,
                     "pattern": "^[a-z]+$", "one_of": [...], "validators": ["slug"]},
     "items": {...a definition without name, for arrays...},
     "properties": [...definitions, for objects...],
     "ui": {"widget": "select", "placeholder": "", "help_text": "", "group": "Style",
            "order": 2}}

``parse_parameters`` turns that into typed definitions and reports every
problem at once; ``parameters_json_schema`` compiles them to a JSON Schema
(2020-12) that a client can render as a form and that ``validation``
checks values against. The schema is the whole truth: named validators
compile to standard keywords (``custom_validators``), so a client that
validates with any JSON Schema library accepts exactly what the server does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from templates_app.domain import patterns
from templates_app.domain.custom_validators import CUSTOM_VALIDATORS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# UI hint: the named validators of a parameter (annotation only).
CUSTOM_VALIDATORS_KEYWORD = "x-symphony-validators"
# Marks the ``allOf`` subschema a named validator compiled to (annotation only),
# so an error inside it can be reported with the validator's message.
VALIDATOR_KEYWORD = "x-symphony-validator"
MAX_PARAMETERS = 100
MAX_DEPTH = 4
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MODEL_ID_PATTERN = patterns.MODEL_ID
TEMPLATE_SYNTAX_PATTERN = r"\{[{%#]"
# Text no string value may hold: template syntax (see definition_schema), and the NUL
# character, which PostgreSQL's jsonb cannot store.
FORBIDDEN_TEXT_PATTERN = TEMPLATE_SYNTAX_PATTERN + r"|\x00"
DATA_TYPE_PATTERN = (
    r"^(any|string|number|integer|boolean|object|array|bytes|json|"
    r"array<(any|string|number|integer|boolean|object|array|bytes|json)>)$"
)


class ParameterType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    ENUM = "enum"
    ARRAY = "array"
    OBJECT = "object"
    MODEL_ID = "model_id"
    DATA_TYPE = "data_type"
    EXPRESSION = "expression"


TEXT_TYPES = {ParameterType.STRING, ParameterType.MODEL_ID, ParameterType.EXPRESSION}
NUMBER_TYPES = {ParameterType.INTEGER, ParameterType.FLOAT}

# Widgets each type may ask for; the first is the default.
WIDGETS: dict[ParameterType, tuple[str, ...]] = {
    ParameterType.STRING: ("text", "textarea", "password", "code", "select", "radio"),
    ParameterType.INTEGER: ("number", "slider", "select", "radio"),
    ParameterType.FLOAT: ("number", "slider"),
    ParameterType.BOOLEAN: ("checkbox", "toggle"),
    ParameterType.ENUM: ("select", "radio"),
    ParameterType.ARRAY: ("tags", "multiselect", "json", "textarea"),
    ParameterType.OBJECT: ("fieldset", "json"),
    ParameterType.MODEL_ID: ("model_picker", "text", "select"),
    ParameterType.DATA_TYPE: ("select", "text"),
    ParameterType.EXPRESSION: ("code", "text"),
}
DATA_TYPES = ("any", "string", "number", "integer", "boolean", "object", "array", "bytes", "json")


@dataclass(frozen=True)
class DefinitionProblem:
    """Something wrong with a parameter definition, and where (``tone.default``)."""

    path: str
    message: str
    code: str = "invalid_parameter_definition"

    def to_dict(self) -> dict[str, str]:
        return {"field": self.path, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Constraints:
    min_length: int | None = None
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    pattern: str | None = None
    one_of: tuple[Any, ...] | None = None
    validators: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("min_length", "max_length", "min_value", "max_value", "pattern"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.one_of is not None:
            out["one_of"] = list(self.one_of)
        if self.validators:
            out["validators"] = list(self.validators)
        return out


@dataclass(frozen=True)
class UiHints:
    widget: str
    placeholder: str = ""
    help_text: str = ""
    group: str = ""
    order: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"widget": self.widget, "placeholder": self.placeholder, "help_text": self.help_text,
                "group": self.group, "order": self.order}


@dataclass(frozen=True)
class Choice:
    value: str | int | float | bool
    label: str


_MISSING: Any = object()


@dataclass(frozen=True)
class ParameterDefinition:
    """One parameter (or an array's item, whose ``name`` is empty)."""

    name: str
    type: ParameterType
    display_name: str = ""
    description: str = ""
    required: bool = False
    default: Any = _MISSING
    constraints: Constraints = field(default_factory=Constraints)
    choices: tuple[Choice, ...] = ()
    items: ParameterDefinition | None = None
    properties: tuple[ParameterDefinition, ...] = ()
    ui: UiHints = field(default_factory=lambda: UiHints(widget="text"))

    @property
    def has_default(self) -> bool:
        return self.default is not _MISSING

    @property
    def label(self) -> str:
        return self.display_name or self.name.replace("_", " ").capitalize()

    def to_dict(self) -> dict[str, Any]:
        """The definition back as JSON, normalized (defaults filled in)."""
        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
            out["display_name"] = self.label
        out["description"] = self.description
        out["type"] = str(self.type)
        if self.name:
            out["required"] = self.required
        if self.has_default:
            out["default"] = self.default
        out["constraints"] = self.constraints.to_dict()
        if self.choices:
            out["choices"] = [{"value": choice.value, "label": choice.label} for choice in self.choices]
        if self.items is not None:
            out["items"] = self.items.to_dict()
        if self.properties:
            out["properties"] = [prop.to_dict() for prop in self.properties]
        out["ui"] = self.ui.to_dict()
        return out


class ParameterDefinitionError(ValueError):
    """The definitions are invalid; ``problems`` lists every reason."""

    def __init__(self, problems: list[DefinitionProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems[:5]))


# ---------------------------------------------------------------- parsing


class _Parser:
    def __init__(self) -> None:
        self.problems: list[DefinitionProblem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(DefinitionProblem(path=path, message=message))

    def definitions(self, raw: object, path: str, depth: int) -> tuple[ParameterDefinition, ...]:
        if not isinstance(raw, list):
            self.problem(path or "parameters", "must be a list of parameter definitions")
            return ()
        if len(raw) > MAX_PARAMETERS:
            self.problem(path or "parameters", f"at most {MAX_PARAMETERS} parameters")
            return ()
        parsed: list[ParameterDefinition] = []
        seen: set[str] = set()
        for index, item in enumerate(raw):
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str) and NAME_PATTERN.match(name):
                where = f"{path}.{name}" if path else name
            else:
                where = f"{path or 'parameters'}[{index}]"
            definition = self.definition(item, where, depth, named=True)
            if definition is None:
                continue
            if definition.name in seen:
                self.problem(where, f"duplicate parameter name {definition.name!r}")
                continue
            seen.add(definition.name)
            parsed.append(definition)
        return tuple(parsed)

    def definition(self, raw: object, path: str, depth: int, *, named: bool) -> ParameterDefinition | None:
        if not isinstance(raw, dict):
            self.problem(path, "must be an object")
            return None
        known = {"name", "display_name", "description", "type", "required", "default", "constraints",
                 "choices", "items", "properties", "ui"}
        for key in sorted(set(raw) - known):
            self.problem(f"{path}.{key}", "unknown field")
        before = len(self.problems)
        name = raw.get("name", "")
        if named:
            if not isinstance(name, str) or not NAME_PATTERN.match(name):
                self.problem(f"{path}.name", "must be an identifier: letters, digits and underscores, "
                                              "not starting with a digit, at most 64 characters")
                return None
        elif "name" in raw:
            self.problem(f"{path}.name", "array items have no name")
        try:
            kind = ParameterType(str(raw.get("type")))
        except ValueError:
            allowed = ", ".join(t.value for t in ParameterType)
            self.problem(f"{path}.type", f"must be one of {allowed}")
            return None
        display_name = self.text(raw, "display_name", path, 200)
        description = self.text(raw, "description", path, 2000)
        required = raw.get("required", False)
        if not isinstance(required, bool):
            self.problem(f"{path}.required", "must be true or false")
            required = False
        constraints = self.constraints(raw.get("constraints", {}), f"{path}.constraints", kind)
        choices: tuple[Choice, ...] = ()
        if kind is ParameterType.ENUM:
            choices = self.choices(raw.get("choices"), f"{path}.choices")
        elif "choices" in raw:
            self.problem(f"{path}.choices", "only enum parameters have choices; use constraints.one_of")
        items = None
        if kind is ParameterType.ARRAY:
            if depth >= MAX_DEPTH:
                self.problem(path, f"parameters nest at most {MAX_DEPTH} levels")
            elif "items" not in raw:
                self.problem(f"{path}.items", "an array parameter needs an items definition")
            else:
                items = self.definition(raw["items"], f"{path}.items", depth + 1, named=False)
        elif "items" in raw:
            self.problem(f"{path}.items", "only array parameters have items")
        properties: tuple[ParameterDefinition, ...] = ()
        if kind is ParameterType.OBJECT:
            if depth >= MAX_DEPTH:
                self.problem(path, f"parameters nest at most {MAX_DEPTH} levels")
            else:
                properties = self.definitions(raw.get("properties"), f"{path}.properties", depth + 1)
                if not properties and "properties" in raw and raw["properties"] == []:
                    self.problem(f"{path}.properties", "an object parameter needs at least one property")
        elif "properties" in raw:
            self.problem(f"{path}.properties", "only object parameters have properties")
        ui = self.ui(raw.get("ui", {}), f"{path}.ui", kind, bool(choices) or constraints.one_of is not None)
        if len(self.problems) > before:
            return None
        definition = ParameterDefinition(
            name=name if named else "", type=kind, display_name=display_name, description=description,
            required=required, constraints=constraints, choices=choices, items=items,
            properties=properties, ui=ui,
        )
        if "default" in raw:
            definition = self.with_default(definition, raw["default"], f"{path}.default")
        return definition

    def text(self, raw: dict[str, Any], key: str, path: str, limit: int) -> str:
        value = raw.get(key, "")
        if not isinstance(value, str) or len(value) > limit:
            self.problem(f"{path}.{key}", f"must be text of at most {limit} characters")
            return ""
        return value

    def constraints(self, raw: object, path: str, kind: ParameterType) -> Constraints:
        if not isinstance(raw, dict):
            self.problem(path, "must be an object")
            return Constraints()
        known = {"min_length", "max_length", "min_value", "max_value", "pattern", "one_of", "validators"}
        for key in sorted(set(raw) - known):
            self.problem(f"{path}.{key}", "unknown constraint")
        lengths_apply = kind in TEXT_TYPES or kind is ParameterType.ARRAY
        values: dict[str, Any] = {}
        for key in ("min_length", "max_length"):
            if key in raw:
                value = raw[key]
                if not lengths_apply:
                    self.problem(f"{path}.{key}", "applies to text and array parameters only")
                elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    self.problem(f"{path}.{key}", "must be a non-negative integer")
                else:
                    values[key] = value
        for key in ("min_value", "max_value"):
            if key in raw:
                value = raw[key]
                if kind not in NUMBER_TYPES:
                    self.problem(f"{path}.{key}", "applies to integer and float parameters only")
                elif isinstance(value, bool) or not isinstance(value, int | float):
                    self.problem(f"{path}.{key}", "must be a number")
                else:
                    values[key] = value
        if values.get("min_length", 0) > values.get("max_length", float("inf")):
            self.problem(path, "min_length is greater than max_length")
        if values.get("min_value", float("-inf")) > values.get("max_value", float("inf")):
            self.problem(path, "min_value is greater than max_value")
        if "pattern" in raw:
            pattern = raw["pattern"]
            if kind not in TEXT_TYPES:
                self.problem(f"{path}.pattern", "applies to text parameters only")
            elif not isinstance(pattern, str) or len(pattern) > 500:
                self.problem(f"{path}.pattern", "must be a regular expression of at most 500 characters")
            else:
                try:
                    re.compile(pattern)
                except re.error as error:
                    self.problem(f"{path}.pattern", f"is not a valid regular expression: {error}")
                else:
                    values["pattern"] = pattern
        one_of = None
        if "one_of" in raw:
            candidates = raw["one_of"]
            if kind in {ParameterType.BOOLEAN, ParameterType.ENUM, ParameterType.OBJECT, ParameterType.ARRAY}:
                self.problem(f"{path}.one_of", "applies to text and number parameters only")
            elif not isinstance(candidates, list) or not candidates or len(candidates) > 500:
                self.problem(f"{path}.one_of", "must be a non-empty list of at most 500 values")
            elif not all(_scalar_matches(kind, value) for value in candidates):
                self.problem(f"{path}.one_of", f"every value must be a {kind.value}")
            else:
                one_of = tuple(candidates)
        validators: tuple[str, ...] = ()
        if "validators" in raw:
            names = raw["validators"]
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                self.problem(f"{path}.validators", "must be a list of validator names")
            else:
                unknown = [n for n in names if n not in CUSTOM_VALIDATORS]
                if unknown:
                    self.problem(f"{path}.validators", f"unknown validators {', '.join(unknown)}; "
                                                       f"known: {', '.join(sorted(CUSTOM_VALIDATORS))}")
                else:
                    validators = tuple(dict.fromkeys(names))
        return Constraints(one_of=one_of, validators=validators, **values)

    def choices(self, raw: object, path: str) -> tuple[Choice, ...]:
        if not isinstance(raw, list) or not raw or len(raw) > 500:
            self.problem(path, "an enum parameter needs a non-empty list of at most 500 choices")
            return ()
        parsed: list[Choice] = []
        for index, item in enumerate(raw):
            value, label = item, None
            if isinstance(item, dict):
                value, label = item.get("value"), item.get("label")
                if set(item) - {"value", "label"}:
                    self.problem(f"{path}[{index}]", "a choice has only value and label")
            if isinstance(value, dict | list) or value is None:
                self.problem(f"{path}[{index}]", "a choice value must be text, a number or a boolean")
                continue
            if label is not None and not isinstance(label, str):
                self.problem(f"{path}[{index}].label", "must be text")
                continue
            parsed.append(Choice(value=value, label=label if label is not None else str(value)))
        values = [choice.value for choice in parsed]
        if len({(type(v).__name__, v) for v in values}) != len(values):
            self.problem(path, "choices must be distinct")
        return tuple(parsed)

    def ui(self, raw: object, path: str, kind: ParameterType, has_choices: bool) -> UiHints:
        if not isinstance(raw, dict):
            self.problem(path, "must be an object")
            return UiHints(widget=WIDGETS[kind][0])
        for key in sorted(set(raw) - {"widget", "placeholder", "help_text", "group", "order"}):
            self.problem(f"{path}.{key}", "unknown UI hint")
        allowed = WIDGETS[kind]
        default_widget = "select" if has_choices and "select" in allowed else allowed[0]
        widget = raw.get("widget", default_widget)
        if widget not in allowed:
            self.problem(f"{path}.widget", f"a {kind.value} parameter can use {', '.join(allowed)}")
            widget = default_widget
        order = raw.get("order", 0)
        if isinstance(order, bool) or not isinstance(order, int):
            self.problem(f"{path}.order", "must be an integer")
            order = 0
        return UiHints(widget=widget, placeholder=self.text(raw, "placeholder", path, 200),
                       help_text=self.text(raw, "help_text", path, 1000),
                       group=self.text(raw, "group", path, 100), order=order)

    def with_default(self, definition: ParameterDefinition, default: Any, path: str) -> ParameterDefinition:
        # The default must pass the parameter's own schema, or every form
        # pre-filled with it would be refused.
        from templates_app.domain.validation import value_problems

        problems = value_problems(definition, default)
        for message in problems:
            self.problem(path, f"the default is invalid: {message}")
        if problems:
            return definition
        return replace(definition, default=default)


def _scalar_matches(kind: ParameterType, value: Any) -> bool:
    if kind is ParameterType.INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is ParameterType.FLOAT:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)


def parse_parameters(raw: object) -> tuple[ParameterDefinition, ...]:
    """Typed definitions from JSON; ParameterDefinitionError lists every problem."""
    parser = _Parser()
    definitions = parser.definitions(raw, "", 0)
    if parser.problems:
        raise ParameterDefinitionError(parser.problems)
    return definitions


def ordered(definitions: tuple[ParameterDefinition, ...]) -> list[ParameterDefinition]:
    """Definitions in form order: by UI order, then as declared."""
    return sorted(definitions, key=lambda d: d.ui.order)


# ---------------------------------------------------------------- JSON Schema


def definition_schema(definition: ParameterDefinition) -> dict[str, Any]:
    """The JSON Schema (2020-12) of one parameter's value."""
    kind = definition.type
    constraints = definition.constraints
    schema: dict[str, Any] = {}
    if definition.name:
        schema["title"] = definition.label
    if definition.description:
        schema["description"] = definition.description
    validators = list(constraints.validators)
    if kind in TEXT_TYPES or kind is ParameterType.DATA_TYPE:
        schema["type"] = "string"
    elif kind is ParameterType.INTEGER:
        schema["type"] = "integer"
    elif kind is ParameterType.FLOAT:
        schema["type"] = "number"
    elif kind is ParameterType.BOOLEAN:
        schema["type"] = "boolean"
    elif kind is ParameterType.ENUM:
        schema["enum"] = [choice.value for choice in definition.choices]
    elif kind is ParameterType.ARRAY:
        schema["type"] = "array"
        assert definition.items is not None
        schema["items"] = definition_schema(definition.items)
    elif kind is ParameterType.OBJECT:
        schema.update(_object_schema(definition.properties))
    if kind is ParameterType.MODEL_ID:
        schema["pattern"] = MODEL_ID_PATTERN
    if kind is ParameterType.DATA_TYPE:
        schema["enum"] = [*DATA_TYPES, *[f"array<{t}>" for t in DATA_TYPES]]
    if kind is ParameterType.EXPRESSION and "expression" not in validators:
        validators.insert(0, "expression")
    if kind is ParameterType.ARRAY:
        if constraints.min_length is not None:
            schema["minItems"] = constraints.min_length
        if constraints.max_length is not None:
            schema["maxItems"] = constraints.max_length
    else:
        if constraints.min_length is not None:
            schema["minLength"] = constraints.min_length
        if constraints.max_length is not None:
            schema["maxLength"] = constraints.max_length
    if constraints.min_value is not None:
        schema["minimum"] = constraints.min_value
    if constraints.max_value is not None:
        schema["maximum"] = constraints.max_value
    all_of: list[dict[str, Any]] = []
    if constraints.pattern is not None:
        if "pattern" in schema:
            all_of.append({"pattern": constraints.pattern})
        else:
            schema["pattern"] = constraints.pattern
    for name in validators:
        all_of.append({**CUSTOM_VALIDATORS[name].schema, VALIDATOR_KEYWORD: name})
    if all_of:
        schema["allOf"] = all_of
    if constraints.one_of is not None:
        schema["enum"] = list(constraints.one_of)
    if kind in {ParameterType.STRING, ParameterType.MODEL_ID}:
        # Values are rendered into strings the engine later reads as
        # templates; template syntax in a value would run at execution time
        # (e.g. read secrets), so it is refused. Expression parameters exist
        # for deliberately passing an expression. (Their pattern, like the
        # model id's, already excludes the NUL character.)
        schema["not"] = {"type": "string", "pattern": FORBIDDEN_TEXT_PATTERN}
    if validators:
        schema[CUSTOM_VALIDATORS_KEYWORD] = validators
    if definition.has_default:
        schema["default"] = definition.default
    hints: dict[str, Any] = {"type": kind.value, **definition.ui.to_dict()}
    if definition.choices:
        hints["choices"] = [{"value": c.value, "label": c.label} for c in definition.choices]
    schema["x-symphony"] = hints
    return schema


def _object_schema(definitions: tuple[ParameterDefinition, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {d.name: definition_schema(d) for d in definitions},
        "required": [d.name for d in definitions if d.required],
        "additionalProperties": False,
    }


def parameters_json_schema(definitions: tuple[ParameterDefinition, ...], *, title: str = "") -> dict[str, Any]:
    """The whole parameter set as one JSON Schema 2020-12 object schema."""
    schema: dict[str, Any] = {"$schema": SCHEMA_DIALECT}
    if title:
        schema["title"] = title
    schema.update(_object_schema(definitions))
    groups: list[str] = []
    for definition in ordered(definitions):
        if definition.ui.group and definition.ui.group not in groups:
            groups.append(definition.ui.group)
    schema["x-symphony-order"] = [d.name for d in ordered(definitions)]
    schema["x-symphony-groups"] = groups
    return schema
