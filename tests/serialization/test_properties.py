"""Round-trip properties over generated workflow documents: decode(encode(w)) == w."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given

from tests.serialization.profiles import serialization_settings
from tests.serialization.strategies import envelopes, json_values
from workflows.serialization import (
    decode,
    dumps_json,
    encode,
    loads_json,
    workflow_json_schema,
)

ALL_FORMATS = ["json", "msgpack", "zstd", "lz4", "json+zstd", "json+lz4", "msgpack+zstd"]
VALIDATOR = jsonschema.Draft202012Validator(workflow_json_schema())


def _identical(left: Any, right: Any) -> bool:
    """Equal, and of the same types throughout (1 == 1.0 == True in Python; not here)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(
            _identical(left[key], right[key]) for key in left
        )
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_identical, left, right))
    return left == right


@pytest.mark.parametrize("format_name", ALL_FORMATS)
@serialization_settings
@given(envelope=envelopes())
def test_every_format_round_trips_generated_workflows(format_name: str, envelope: dict) -> None:
    decoded = decode(encode(envelope, format_name))
    assert decoded == envelope
    assert _identical(decoded, envelope)


@pytest.mark.parametrize("format_name", ["json", "msgpack", "zstd", "lz4"])
@serialization_settings
@given(envelope=envelopes(unicode_heavy=True))
def test_unicode_heavy_workflows_round_trip(format_name: str, envelope: dict) -> None:
    assert _identical(decode(encode(envelope, format_name)), envelope)


@serialization_settings
@given(envelope=envelopes())
def test_generated_workflows_are_valid_against_the_json_schema(envelope: dict) -> None:
    assert list(VALIDATOR.iter_errors(envelope)) == []


@serialization_settings
@given(envelope=envelopes(unicode_heavy=True, max_nodes=3))
def test_unicode_heavy_workflows_are_valid_against_the_json_schema(envelope: dict) -> None:
    assert list(VALIDATOR.iter_errors(envelope)) == []


def _assert_keys_sorted(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    assert keys == sorted(keys)
    return dict(pairs)


@serialization_settings
@given(envelope=envelopes())
def test_json_text_round_trips_and_is_canonical(envelope: dict) -> None:
    text = dumps_json(envelope)
    assert _identical(loads_json(text), envelope)
    # Canonical: every object's keys are sorted, compact separators, no newline.
    json.loads(text, object_pairs_hook=_assert_keys_sorted)
    assert "\n" not in text
    pretty_text = dumps_json(envelope, pretty=True)
    json.loads(pretty_text, object_pairs_hook=_assert_keys_sorted)
    assert pretty_text.endswith("}\n")
    assert _identical(loads_json(pretty_text), envelope)


@serialization_settings
@given(envelope=envelopes())
def test_key_order_does_not_change_the_bytes(envelope: dict) -> None:
    reordered = json.loads(
        json.dumps(envelope), object_pairs_hook=lambda pairs: dict(reversed(pairs))
    )
    assert dumps_json(reordered) == dumps_json(envelope)
    assert dumps_json(reordered, pretty=True) == dumps_json(envelope, pretty=True)


@serialization_settings
@given(value=json_values)
def test_arbitrary_values_inside_config_round_trip_through_the_compact_layout(value: Any) -> None:
    envelope = {
        "schema_version": "1.0.0",
        "created_with": "symphony 0.1.0",
        "workflow": {
            "id": "w",
            "name": "values",
            "nodes": [
                {
                    "id": "n",
                    "kind": "operator",
                    "name": "n",
                    "operator": "x",
                    "config": {"v": value},
                }
            ],
            "edges": [],
            "unknown_field": value,
        },
    }
    for format_name in ("msgpack", "json"):
        assert _identical(decode(encode(envelope, format_name)), envelope)
