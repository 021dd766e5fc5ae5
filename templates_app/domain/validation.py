"""Checking parameter values against their JSON Schema, with errors per parameter.

The schema compiled by ``parameters.parameters_json_schema`` is the single
source of truth: the server validates with ``jsonschema``'s plain 2020-12
validator, with no extension and no format checker, so what it accepts is
exactly what the published schema accepts. Errors come back one per problem,
each naming the top-level parameter it belongs to and the path inside it; a
failure inside a named validator's subschema carries that validator's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from templates_app.domain.custom_validators import CUSTOM_VALIDATORS
from templates_app.domain.parameters import (
    VALIDATOR_KEYWORD,
    ParameterDefinition,
    definition_schema,
    parameters_json_schema,
)

# jsonschema's keyword → the stable error code a client sees.
_CODES = {
    "required": "required",
    "type": "invalid_type",
    "minLength": "too_short",
    "maxLength": "too_long",
    "minItems": "too_few_items",
    "maxItems": "too_many_items",
    "minimum": "too_small",
    "maximum": "too_large",
    "pattern": "pattern_mismatch",
    "enum": "not_allowed",
    "additionalProperties": "unknown_parameter",
    "not": "template_syntax",
}


@dataclass(frozen=True)
class ParameterError:
    """One problem with one parameter's value."""

    parameter: str
    path: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"parameter": self.parameter, "path": self.path, "code": self.code,
                "message": self.message}


def _join(path: list[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(error: ValidationError) -> list[tuple[list[str | int], str, str]]:
    """(path, code, message) triples; one jsonschema error may name several properties."""
    path: list[str | int] = list(error.absolute_path)
    code = _CODES.get(str(error.validator), "invalid")
    # jsonschema types these as "value or unset"; every error below carries them.
    expected: Any = error.validator_value
    instance: Any = error.instance
    schema: Any = error.schema
    named = schema.get(VALIDATOR_KEYWORD) if isinstance(schema, dict) else None
    if named in CUSTOM_VALIDATORS:
        return [(path, "custom_validator", CUSTOM_VALIDATORS[named].message)]
    if error.validator == "required":
        missing = [name for name in expected if name not in (instance or {})]
        return [([*path, name], code, "is required") for name in missing]
    if error.validator == "additionalProperties":
        declared = set((schema or {}).get("properties", {}))
        extra = [name for name in (instance or {}) if name not in declared]
        return [([*path, name], code, "is not a parameter of this template") for name in extra]
    if error.validator == "enum":
        listed = ", ".join(repr(v) for v in expected[:20])
        return [(path, code, f"must be one of {listed}")]
    if error.validator == "not":
        if isinstance(instance, str) and "\x00" in instance:
            return [(path, "forbidden_character", "must not contain the NUL character (U+0000)")]
        return [(path, code, "must not contain template syntax ({{, {% or {#})")]
    if error.validator == "type":
        return [(path, code, f"must be of type {error.validator_value}")]
    if error.validator == "pattern":
        return [(path, code, f"must match the pattern {error.validator_value}")]
    if error.validator in {"minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems"}:
        bound = {"minLength": "at least {} characters", "maxLength": "at most {} characters",
                 "minimum": "at least {}", "maximum": "at most {}",
                 "minItems": "at least {} items", "maxItems": "at most {} items"}[str(error.validator)]
        return [(path, code, "must be " + bound.format(error.validator_value))]
    return [(path, code, error.message)]


def _errors(schema: dict[str, Any], values: Any) -> list[ParameterError]:
    validator = Draft202012Validator(schema)
    found: list[ParameterError] = []
    for error in validator.iter_errors(values):
        for path, code, message in _describe(error):
            parameter = str(path[0]) if path else ""
            found.append(ParameterError(parameter=parameter, path=_join(path), code=code, message=message))
    unique = {(e.parameter, e.path, e.code, e.message): e for e in found}
    return sorted(unique.values(), key=lambda e: (e.parameter, e.path, e.code))


def validate_parameters(
    definitions: tuple[ParameterDefinition, ...], values: Mapping[str, Any]
) -> list[ParameterError]:
    """Every problem with ``values`` (after defaults are applied), sorted by parameter."""
    if not isinstance(values, Mapping):
        return [ParameterError(parameter="", path="", code="invalid_type",
                               message="parameters must be an object of name → value")]
    return _errors(parameters_json_schema(definitions), dict(values))


def value_problems(definition: ParameterDefinition, value: Any) -> list[str]:
    """Messages for one value against one definition (used to check defaults)."""
    return [f"{e.path + ': ' if e.path else ''}{e.message}" for e in _errors(definition_schema(definition), value)]


def apply_defaults(
    definitions: tuple[ParameterDefinition, ...], values: Mapping[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``values`` with defaults of missing parameters filled in, and which were applied.

    Only top-level parameters get defaults here: an object parameter's value
    is given whole or its default is used whole, so nothing is half-filled.
    """
    filled = dict(values)
    applied: list[dict[str, Any]] = []
    for definition in definitions:
        if definition.name not in filled and definition.has_default:
            filled[definition.name] = definition.default
            applied.append({"parameter": definition.name, "value": definition.default})
    return filled, applied
