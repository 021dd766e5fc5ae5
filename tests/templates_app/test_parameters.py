"""Parameter definitions: parsing, JSON Schema 2020-12, validation with errors per parameter (no database)."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from templates_app.domain.parameters import (
    ParameterDefinitionError,
    parameters_json_schema,
    parse_parameters,
)
from templates_app.domain.validation import apply_defaults, validate_parameters

DEFINITIONS = [
    {"name": "title", "type": "string", "required": True,
     "constraints": {"min_length": 3, "max_length": 20, "pattern": "^[A-Z]", "validators": ["non_blank"]},
     "ui": {"placeholder": "Weekly report", "group": "Basics", "order": 2}},
    {"name": "count", "type": "integer", "default": 5, "constraints": {"min_value": 1, "max_value": 10},
     "ui": {"widget": "slider", "group": "Basics", "order": 1}},
    {"name": "ratio", "type": "float", "constraints": {"min_value": 0, "max_value": 1}},
    {"name": "strict", "type": "boolean", "default": False},
    {"name": "tone", "type": "enum", "choices": [{"value": "formal", "label": "Formal"}, "casual"]},
    {"name": "labels", "type": "array", "items": {"type": "string", "constraints": {"max_length": 10}},
     "constraints": {"min_length": 1, "max_length": 3, "validators": ["unique_items"]}},
    {"name": "limits", "type": "object", "properties": [
        {"name": "low", "type": "integer", "required": True},
        {"name": "high", "type": "integer"}]},
    {"name": "model", "type": "model_id"},
    {"name": "output_type", "type": "data_type"},
    {"name": "condition", "type": "expression"},
    {"name": "language", "type": "string", "constraints": {"one_of": ["en", "fr"], "validators": ["language_code"]}},
]


def test_schema_is_valid_2020_12_and_exact_for_a_string() -> None:
    schema = parameters_json_schema(parse_parameters(DEFINITIONS))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["title"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["title"] == {
        "title": "Title", "type": "string", "minLength": 3, "maxLength": 20, "pattern": "^[A-Z]",
        "x-symphony-validators": ["non_blank"], "not": {"type": "string", "pattern": "\\{[{%#]|\\x00"},
        "allOf": [{"pattern": "[^\\t-\\r\\x1c- \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]",
                   "x-symphony-validator": "non_blank"}],
        "x-symphony": {"type": "string", "widget": "text", "placeholder": "Weekly report", "help_text": "",
                       "group": "Basics", "order": 2},
    }
    assert schema["properties"]["labels"]["minItems"] == 1
    assert schema["properties"]["labels"]["items"]["maxLength"] == 10
    assert schema["properties"]["limits"]["required"] == ["low"]
    assert schema["properties"]["tone"]["enum"] == ["formal", "casual"]
    assert schema["properties"]["tone"]["x-symphony"]["choices"] == [
        {"value": "formal", "label": "Formal"}, {"value": "casual", "label": "casual"}]
    assert schema["properties"]["condition"]["x-symphony-validators"] == ["expression"]
    # Stable sort by ui.order (default 0): declaration order breaks ties.
    assert schema["x-symphony-order"] == ["ratio", "strict", "tone", "labels", "limits", "model", "output_type",
                                          "condition", "language", "count", "title"]
    assert schema["x-symphony-groups"] == ["Basics"]


def test_valid_values_have_no_errors() -> None:
    definitions = parse_parameters(DEFINITIONS)
    values = {"title": "Weekly", "count": 3, "ratio": 0.5, "strict": True, "tone": "casual",
              "labels": ["a", "b"], "limits": {"low": 1, "high": 2}, "model": "openai/gpt-4o-mini",
              "output_type": "array<string>", "condition": "inputs.score > 0.5", "language": "fr"}
    assert validate_parameters(definitions, values) == []


def test_every_invalid_parameter_is_reported_once_with_a_code() -> None:
    definitions = parse_parameters(DEFINITIONS)
    values = {"count": 11, "ratio": "high", "strict": "yes", "tone": "angry", "labels": ["a", "a", "b", "c"],
              "limits": {"high": 2, "extra": 1}, "model": "bad model id", "output_type": "list",
              "condition": "inputs.score >", "language": "de", "unknown": 1}
    errors = [(e.parameter, e.path, e.code) for e in validate_parameters(definitions, values)]
    assert errors == [
        ("condition", "condition", "custom_validator"),
        ("count", "count", "too_large"),
        ("labels", "labels", "custom_validator"),
        ("labels", "labels", "too_many_items"),
        ("language", "language", "not_allowed"),
        ("limits", "limits.extra", "unknown_parameter"),
        ("limits", "limits.low", "required"),
        ("model", "model", "pattern_mismatch"),
        ("output_type", "output_type", "not_allowed"),
        ("ratio", "ratio", "invalid_type"),
        ("strict", "strict", "invalid_type"),
        ("title", "title", "required"),
        ("tone", "tone", "not_allowed"),
        ("unknown", "unknown", "unknown_parameter"),
    ]


def test_string_constraints_messages() -> None:
    definitions = parse_parameters(DEFINITIONS[:1])
    assert [e.to_dict() for e in validate_parameters(definitions, {"title": "ab"})] == [
        {"parameter": "title", "path": "title", "code": "pattern_mismatch", "message": "must match the pattern ^[A-Z]"},
        {"parameter": "title", "path": "title", "code": "too_short", "message": "must be at least 3 characters"},
    ]


def test_defaults_fill_missing_parameters_and_are_reported() -> None:
    definitions = parse_parameters(DEFINITIONS)
    filled, applied = apply_defaults(definitions, {"title": "Hello", "count": 2})
    assert applied == [{"parameter": "strict", "value": False}]
    assert filled == {"title": "Hello", "count": 2, "strict": False}


@pytest.mark.parametrize(
    "definitions,field,fragment",
    [
        ([{"name": "1bad", "type": "string"}], "parameters[0].name", "identifier"),
        ([{"name": "a", "type": "text"}], "a.type", "must be one of"),
        ([{"name": "a", "type": "string"}, {"name": "a", "type": "integer"}], "a", "duplicate"),
        ([{"name": "a", "type": "integer", "default": "x"}], "a.default", "the default is invalid"),
        ([{"name": "a", "type": "integer", "default": 11, "constraints": {"max_value": 10}}], "a.default",
         "at most 10"),
        ([{"name": "a", "type": "string", "constraints": {"min_length": 5, "max_length": 2}}], "a.constraints",
         "min_length is greater"),
        ([{"name": "a", "type": "string", "constraints": {"pattern": "("}}], "a.constraints.pattern",
         "not a valid regular expression"),
        ([{"name": "a", "type": "string", "constraints": {"validators": ["nope"]}}], "a.constraints.validators",
         "unknown validators nope"),
        ([{"name": "a", "type": "enum"}], "a.choices", "non-empty list"),
        ([{"name": "a", "type": "array"}], "a.items", "needs an items definition"),
        ([{"name": "a", "type": "boolean", "ui": {"widget": "slider"}}], "a.ui.widget", "can use checkbox, toggle"),
        ([{"name": "a", "type": "integer", "constraints": {"pattern": "x"}}], "a.constraints.pattern",
         "text parameters only"),
        ([{"name": "a", "type": "string", "colour": "red"}], "a.colour", "unknown field"),
        ("not a list", "parameters", "must be a list"),
    ],
)
def test_definition_problems_are_reported_with_their_place(definitions, field, fragment) -> None:
    with pytest.raises(ParameterDefinitionError) as error:
        parse_parameters(definitions)
    assert [(p.path, fragment in p.message) for p in error.value.problems] == [(field, True)]


def test_definitions_round_trip_normalized() -> None:
    definitions = parse_parameters(DEFINITIONS)
    again = parse_parameters([d.to_dict() for d in definitions])
    assert [d.to_dict() for d in again] == [d.to_dict() for d in definitions]
    assert definitions[1].to_dict() == {
        "name": "count", "display_name": "Count", "description": "", "type": "integer", "required": False,
        "default": 5, "constraints": {"min_value": 1, "max_value": 10},
        "ui": {"widget": "slider", "placeholder": "", "help_text": "", "group": "Basics", "order": 1},
    }
