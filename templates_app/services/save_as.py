""""Save as template": a workflow's chosen values become parameters."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from symphony_site.actors import Actor, Origin
from templates_app.domain.instantiation import (
    bare_workflow,
)
from templates_app.domain.overrides import parse_pointer
from templates_app.models import Template, Visibility
from templates_app.services.preparation import (
    _field_error,
    _invalid,
)
from templates_app.services.publishing import template_publish

# ---------------------------------------------------------------- save as template


def _infer_definition(name: str, value: Any, spec: Mapping[str, Any]) -> dict[str, Any]:
    definition = {key: value for key, value in spec.items() if key not in {"path"}}
    definition["name"] = name
    if "type" not in definition:
        if isinstance(value, bool):
            definition["type"] = "boolean"
        elif isinstance(value, int):
            definition["type"] = "integer"
        elif isinstance(value, float):
            definition["type"] = "float"
        elif isinstance(value, list) and value and all(isinstance(item, str) for item in value):
            definition["type"] = "array"
            definition["items"] = {"type": "string"}
        elif isinstance(value, str):
            definition["type"] = "string"
            if "\n" in value or len(value) > 80:
                definition.setdefault("ui", {"widget": "textarea"})
        else:
            raise _field_error(f"parameters.{name}", "give a type for this value (it is not text, a number, "
                                                      "a boolean or a list of text)")
    definition.setdefault("default", value)
    return definition


def _placeholder(name: str) -> str:
    return "{{ params." + name + " }}"


def _replace_at(document: Any, pointer: str, name: str) -> Any:
    """The value at `pointer`, replaced in place by the placeholder for `name`."""
    tokens = parse_pointer(pointer)
    if not tokens:
        raise ValueError("cannot make the whole document a parameter")
    container = document
    for token in tokens[:-1]:
        container = _child(container, token)
    last = tokens[-1]
    if isinstance(container, dict):
        if last not in container:
            raise ValueError("nothing at this path")
        value, container[last] = container[last], _placeholder(name)
        return value
    index = _index(container, last)
    value, container[index] = container[index], _placeholder(name)
    return value


def _index(container: Any, token: str) -> int:
    if not isinstance(container, list):
        raise ValueError("the path goes through a value that is neither an object nor an array")
    if token.startswith("@"):
        for index, item in enumerate(container):
            if isinstance(item, dict) and item.get("id") == token[1:]:
                return index
        raise ValueError(f"no element with id {token[1:]!r}")
    # ASCII digits (RFC 6901): str.isdigit() alone takes a superscript two and other scripts' digits.
    if not (token.isascii() and token.isdigit()) or int(token) >= len(container):
        raise ValueError(f"no element {token!r}")
    return int(token)


def _child(container: Any, token: str) -> Any:
    if isinstance(container, dict):
        if token not in container:
            raise ValueError(f"{token!r} does not exist")
        return container[token]
    return container[_index(container, token)]


def template_from_workflow(
    *,
    actor: Actor,
    origin: Origin,
    workflow: Any,
    parameters: list[Mapping[str, Any]],
    name: str | None = None,
    description: str | None = None,
    category: str = "",
    tags: Iterable[str] | None = None,
    visibility: str = Visibility.TEAM,
    version: str = "1.0.0",
    changelog: str = "First version, saved from a workflow.",
) -> Template:
    """"Save as template": the workflow's current document with chosen values made parameters.

    `parameters` is a list of `{"path": JSON pointer, "name": ..., …optional
    definition fields}`; each value found at its path becomes the
    parameter's default, and the original values make the first example.
    """
    current = workflow.current_version
    document = copy.deepcopy(bare_workflow(current.document))
    definitions: list[dict[str, Any]] = []
    original: dict[str, Any] = {}
    problems: list[dict[str, Any]] = []
    for index, spec in enumerate(parameters):
        pointer, parameter = spec.get("path"), spec.get("name")
        if not isinstance(pointer, str) or not isinstance(parameter, str):
            problems.append({"field": f"parameters[{index}]", "code": "invalid",
                             "message": "each parameter needs a path and a name"})
            continue
        try:
            value = _replace_at(document, pointer, parameter)
        except ValueError as error:
            problems.append({"field": f"parameters[{index}].path", "code": "invalid_path",
                             "message": f"{pointer}: {error}"})
            continue
        if parameter in original:
            # One parameter may stand in several places; it is declared once.
            continue
        original[parameter] = value
        definitions.append(_infer_definition(parameter, value, spec))
    if problems:
        raise _invalid("Some parameters could not be made.", problems)
    document.pop("id", None)
    workflow_metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    return template_publish(
        actor=actor, origin=origin, team=workflow.team, name=name or workflow.name,
        description=description if description is not None else (document.get("description") or ""),
        category=category or workflow_metadata.get("category", "") or "",
        tags=list(tags) if tags is not None else list(workflow_metadata.get("tags") or []),
        visibility=visibility,
        version={"version": version, "document": document, "parameters": definitions, "changelog": changelog,
                 "examples": [{"name": f"As in {workflow.name}", "parameters": original}]},
    )
