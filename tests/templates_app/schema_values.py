"""Values drawn from a template's published parameter JSON Schema, and values it refuses.

Valid values come from hypothesis-jsonschema, one strategy per parameter
schema as published. The object level (required names, optional names, no
others) is composed here rather than by ``from_schema`` on the whole object:
hypothesis-jsonschema rebuilds each property's strategy on every draw of an
object, and an ``expression`` parameter's pattern takes about a second to
build. Strategies are cached by the parameter schema less its annotations
(title, description, default, ``x-`` hints), which change nothing a
validator checks.

Refused values are a valid set with one parameter replaced: by a mutation of
its valid value (one character more, a trailing newline, a bound crossed, an
item repeated, the wrong JSON type) or by any JSON value, kept only when a
plain Draft 2020-12 validator (what a client runs) refuses the result.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {}
_ANNOTATIONS = {"title", "description", "default", "$schema"}

JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=8,
)


def _without_annotations(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {key: _without_annotations(value) for key, value in schema.items()
                if key not in _ANNOTATIONS and not key.startswith("x-")}
    if isinstance(schema, list):
        return [_without_annotations(item) for item in schema]
    return schema


def _one_pattern_each(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema once per pattern it holds, with only that pattern.

    hypothesis-jsonschema cannot merge two patterns: it draws from the string
    schema's own pattern and filters by the others, which fails too often when
    the other is the stricter (``^https://`` with the ``http_url`` pattern).
    Drawing from each pattern in turn and filtering by the whole schema finds
    values either way, and every value kept is one the whole schema accepts.
    """
    found = ([schema["pattern"]] if "pattern" in schema else []) + [
        part["pattern"] for part in schema.get("allOf", []) if "pattern" in part]
    if len(found) < 2:
        return [schema]
    rest = {key: value for key, value in schema.items() if key not in {"pattern", "allOf"}}
    rest["allOf"] = [{key: value for key, value in part.items() if key != "pattern"}
                     for part in schema.get("allOf", [])]
    return [{**rest, "pattern": pattern} for pattern in found]


def parameter_values(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values one published parameter schema accepts (hypothesis-jsonschema)."""
    checked = _without_annotations(schema)
    key = json.dumps(checked, sort_keys=True)
    if key not in _STRATEGIES:
        variants = _one_pattern_each(checked)
        strategy = st.one_of([from_schema(variant) for variant in variants])
        if len(variants) > 1:
            strategy = strategy.filter(Draft202012Validator(checked).is_valid)
        _STRATEGIES[key] = strategy
    return _STRATEGIES[key]


@st.composite
def valid_values(draw: st.DrawFn, schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter set the whole published schema accepts."""
    required = set(schema.get("required", []))
    values: dict[str, Any] = {}
    for name, property_schema in schema["properties"].items():
        if name in required or draw(st.booleans()):
            values[name] = draw(parameter_values(property_schema))
    return values


def _mutations(value: Any) -> list[Any]:
    """Values near ``value`` that may cross one of its rules."""
    out: list[Any] = [None, [value], {"value": value}]
    if isinstance(value, bool):
        out += [str(value).lower(), int(value)]
    elif isinstance(value, int):
        out += [value + 1, value - 1, value + 0.5, -value - 1, value * 1000 + 1, str(value), True]
    elif isinstance(value, float):
        out += [value + 1, value - 1, -value - 1, value * 1000 + 1, str(value), math.floor(value) + 0.5]
    elif isinstance(value, str):
        out += [value + "\n", "\n" + value, value + " ", " " + value, value + "x", "x" + value, value + "-",
                value[:-1], value[1:], value.upper(), value.lower(), value + "{{ secrets.key }}", value + "\x00",
                value * 3, "", " ", value + "\u3000", value + "é", 1]
    elif isinstance(value, list):
        out += [value + value[:1], value * 3, [], [*value, ""], [*value, 1], [*value, None], value[1:], "x"]
    return out


@st.composite
def refused_values(draw: st.DrawFn, schema: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(a parameter set the published schema refuses, the one parameter that makes it so)."""
    values = draw(valid_values(schema))
    name = draw(st.sampled_from(sorted(schema["properties"])))
    property_schema = schema["properties"][name]
    checker = Draft202012Validator(property_schema)
    if name in values:
        near = st.sampled_from(_mutations(values[name]))
    else:
        near = parameter_values(property_schema).flatmap(lambda v: st.sampled_from(_mutations(v)))
    replacement = draw((near | JSON_VALUES).filter(lambda candidate: not checker.is_valid(candidate)))
    values[name] = replacement
    assert not Draft202012Validator(schema).is_valid(values)
    return values, name
