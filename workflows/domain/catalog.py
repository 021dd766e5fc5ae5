"""The node-type catalog interface.

The catalog says which instrument and operator types exist, their default
ports and a JSON Schema for their ``config``. This module defines only the
shape; ``workflows/catalog.py`` fills one with the built-in types. There is
no process-wide default: every validation names its catalog (``None`` meaning,
explicitly, "check the graph alone"), so nothing validates against a catalog
it did not choose.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import jsonschema
import orjson
from jsonschema.exceptions import SchemaError

from workflows.domain.model import NodeKind, PortDefinition

CONFIG_ANSWER_CACHE_SIZE = 4_096


def canonical_config(config: object) -> bytes | None:
    """A config's JSON with sorted keys: equal for configs that validate alike.
    None when it cannot be encoded (non-string keys, say, or very deep nesting)."""
    try:
        return orjson.dumps(config, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return None


@dataclass(frozen=True, kw_only=True)
class ConfigProblem:
    """One way a config breaks its type's JSON Schema."""

    message: str
    path: tuple[str | int, ...] = ()


@dataclass(kw_only=True)
class NodeTypeDefinition:
    """One instrument model or operator type as the catalog declares it."""

    kind: NodeKind
    type_name: str
    title: str = ""
    description: str = ""
    inputs: tuple[PortDefinition, ...] = ()
    outputs: tuple[PortDefinition, ...] = ()
    config_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    example_config: dict[str, Any] = field(default_factory=dict)
    # A type whose ports depend on its config (a template with one input per
    # placeholder, say) accepts declared ports the catalog does not list.
    allows_extra_ports: bool = False

    _validator: Any = field(default=None, init=False, repr=False, compare=False)
    _answers: dict[bytes, tuple[ConfigProblem, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def inputs_by_name(self) -> dict[str, PortDefinition]:
        return {port.name: port for port in self.inputs}

    @property
    def outputs_by_name(self) -> dict[str, PortDefinition]:
        return {port.name: port for port in self.outputs}

    def config_problems(self, config: object, *, limit: int = 20) -> list[ConfigProblem]:
        """Every way ``config`` breaks the schema (at most ``limit``), best first.

        Many nodes of a workflow share a config, and schema validation costs
        tens of microseconds, so answers are remembered per canonical config.
        """
        key = canonical_config(config)
        if key is None:
            return self._problems(config, limit)
        cached = self._answers.get(key)
        if cached is None:
            cached = tuple(self._problems(config, limit))
            if len(self._answers) >= CONFIG_ANSWER_CACHE_SIZE:
                self._answers.clear()
            self._answers[key] = cached
        return list(cached) if cached else []

    def _problems(self, config: object, limit: int) -> list[ConfigProblem]:
        if self._validator is None:
            validator_class = jsonschema.validators.validator_for(self.config_schema)
            validator_class.check_schema(self.config_schema)
            self._validator = validator_class(self.config_schema)
        problems: list[ConfigProblem] = []
        errors = sorted(self._validator.iter_errors(config), key=lambda error: list(error.path))
        for error in errors[:limit]:
            problems.append(ConfigProblem(message=error.message, path=tuple(error.absolute_path)))
        return problems

    def to_dict(self) -> dict[str, Any]:
        """The API's node-type entry (``api.md``: ``GET /api/v1/node-types/``)."""
        return {
            "type": self.type_name,
            "kind": str(self.kind),
            "title": self.title,
            "description": self.description,
            "inputs": [port.to_document() for port in self.inputs],
            "outputs": [port.to_document() for port in self.outputs],
            "config_schema": self.config_schema,
            "example_config": self.example_config,
        }


@runtime_checkable
class NodeTypeCatalog(Protocol):
    """What validation needs from a catalog: look a type up by kind and name."""

    def get(self, kind: NodeKind | str, type_name: str) -> NodeTypeDefinition | None: ...


class InMemoryNodeTypeCatalog:
    """A dictionary-backed catalog; later issues register built-in types into one."""

    def __init__(self, definitions: Iterable[NodeTypeDefinition] = ()) -> None:
        self._definitions: dict[tuple[str, str], NodeTypeDefinition] = {}
        for definition in definitions:
            self.register(definition)

    def register(self, definition: NodeTypeDefinition) -> NodeTypeDefinition:
        key = (str(definition.kind), definition.type_name)
        if key in self._definitions:
            raise ValueError(f"{definition.kind} type {definition.type_name!r} already registered")
        try:
            jsonschema.validators.validator_for(definition.config_schema).check_schema(
                definition.config_schema
            )
        except SchemaError as error:
            raise ValueError(
                f"config schema of {definition.type_name!r} is not a valid JSON Schema: "
                f"{error.message}"
            ) from error
        self._definitions[key] = definition
        return definition

    def get(self, kind: NodeKind | str, type_name: str) -> NodeTypeDefinition | None:
        # NodeKind is a StrEnum: it hashes and compares like its string value.
        return self._definitions.get((kind, type_name))

    def __iter__(self) -> Iterator[NodeTypeDefinition]:
        return iter(
            sorted(self._definitions.values(), key=lambda item: (item.kind, item.type_name))
        )

    def __len__(self) -> int:
        return len(self._definitions)
