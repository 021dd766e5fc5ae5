"""Turning a template version into a workflow document: the pure pipeline.

parameters → defaults → JSON Schema validation (errors per parameter) →
placeholder substitution → overrides → the document, with warnings. The
caller (``templates_app.services``) then runs the graph core's full
validation and creates the workflow.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from templates_app.domain.overrides import OverrideError, apply_overrides
from templates_app.domain.parameters import ParameterDefinition
from templates_app.domain.placeholders import (
    SubstitutionError,
    find_placeholders,
    referenced_parameters,
    substitute,
)
from templates_app.domain.validation import apply_defaults, validate_parameters

ENVELOPE_KEYS = {"schema_version", "workflow"}


@dataclass
class InstantiationResult:
    document: dict[str, Any]
    warnings: list[dict[str, Any]] = field(default_factory=list)
    applied_defaults: list[dict[str, Any]] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)


class InstantiationError(ValueError):
    """Instantiation refused; ``problems`` lists every reason (per parameter where it applies)."""

    def __init__(self, message: str, problems: list[dict[str, Any]]) -> None:
        self.problems = problems
        super().__init__(message)


def bare_workflow(document: Any) -> Any:
    """The workflow object, whether given bare or inside its versioned envelope."""
    if isinstance(document, dict) and "workflow" in document and "schema_version" in document:
        return document["workflow"]
    return document


def template_problems(document: Any, definitions: tuple[ParameterDefinition, ...]) -> list[dict[str, Any]]:
    """What makes a template unpublishable: bad placeholders and undeclared parameters."""
    placeholders, problems = find_placeholders(document)
    declared = {definition.name for definition in definitions}
    out = [problem.to_dict() for problem in problems]
    for placeholder in placeholders:
        for name in placeholder.parameters:
            if name not in declared:
                out.append({"path": placeholder.path, "parameter": name, "code": "undeclared_parameter",
                            "message": f"{placeholder.source} names a parameter {name!r} that is not declared"})
    return out


def unused_parameters(document: Any, definitions: tuple[ParameterDefinition, ...]) -> list[str]:
    placeholders, _ = find_placeholders(document)
    used = set(referenced_parameters(placeholders))
    return [definition.name for definition in definitions if definition.name not in used]


def instantiate_document(
    document: Any,
    definitions: tuple[ParameterDefinition, ...],
    parameters: Mapping[str, Any],
    *,
    overrides: dict[str, Any] | None = None,
    name: str | None = None,
    deprecated: bool = False,
) -> InstantiationResult:
    """The workflow document a template version makes with ``parameters``."""
    workflow = bare_workflow(document)
    if not isinstance(parameters, Mapping):
        raise InstantiationError("parameters must be an object", [
            {"parameter": "", "path": "", "code": "invalid_type", "message": "parameters must be an object"}])
    filled, applied = apply_defaults(definitions, parameters)
    errors = validate_parameters(definitions, filled)
    if errors:
        names = ", ".join(dict.fromkeys(e.parameter for e in errors if e.parameter)) or "parameters"
        raise InstantiationError(f"Invalid parameters: {names}.", [e.to_dict() for e in errors])
    # Optional parameters given no value read as None (text: empty).
    context = {definition.name: None for definition in definitions} | filled
    try:
        result = substitute(copy.deepcopy(workflow), context)
    except SubstitutionError as error:
        raise InstantiationError("The template's placeholders could not be filled.",
                                 [p.to_dict() for p in error.problems]) from None
    if overrides:
        try:
            result = apply_overrides(result, overrides)
        except OverrideError as error:
            raise InstantiationError("Some overrides could not be applied.",
                                     [p.to_dict() for p in error.problems]) from None
    if not isinstance(result, dict):
        raise InstantiationError("The template does not hold a workflow object.", [
            {"path": "", "code": "invalid_template", "message": "the document is not an object"}])
    # A new workflow starts its own history and gets its own id.
    result.pop("id", None)
    result["version"] = "1.0.0"
    if name:
        result["name"] = name
    warnings: list[dict[str, Any]] = []
    if deprecated:
        warnings.append({"code": "deprecated_template",
                         "message": "This template is deprecated; its publisher no longer maintains it."})
    for unused in unused_parameters(workflow, definitions):
        if unused in parameters:
            warnings.append({"code": "unused_parameter", "parameter": unused,
                             "message": f"Parameter {unused!r} is not used by any placeholder of this version."})
    return InstantiationResult(document=result, warnings=warnings, applied_defaults=applied,
                               parameters=filled)
