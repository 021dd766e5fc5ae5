"""The pure versioning helpers: version numbers, the bump rule, checksums and diffs."""

from __future__ import annotations

import copy
import re

import pytest

from workflows import samples
from workflows.versioning import (
    SEMANTIC_VERSION_PATTERN,
    SemanticVersion,
    checksum,
    diff_documents,
    field_changes,
    is_empty_diff,
    next_version,
)


@pytest.mark.parametrize("text", ["1", "1.0", "01.0.0", "1.0.0-beta", "v1.0.0", "", "1.0.0 ", "1.0.0\n",
                                  "1\u0663.0.0", "\u0661.0.0"])
def test_bad_versions_are_refused(text) -> None:
    """Refused, and outside the pattern the API schema publishes for version numbers."""
    with pytest.raises(ValueError):
        SemanticVersion.parse(text)
    assert re.fullmatch(SEMANTIC_VERSION_PATTERN, text) is None


def test_versions_compare_as_numbers() -> None:
    assert SemanticVersion.parse("1.10.0") > SemanticVersion.parse("1.9.9")
    assert str(SemanticVersion.parse("2.0.11")) == "2.0.11"


def test_bump_rule() -> None:
    old = samples.linear()
    current = SemanticVersion(1, 4, 2)
    config_only = copy.deepcopy(old)
    config_only["nodes"][2]["config"]["temperature"] = 1.0
    assert str(next_version(current, old, config_only)) == "1.4.3"
    rewired = copy.deepcopy(old)
    rewired["edges"][2]["target"] = "prompt"
    assert str(next_version(current, old, rewired)) == "1.5.0"
    retyped = copy.deepcopy(old)
    retyped["nodes"][2]["model_id"] = "openai/gpt-4o"
    assert str(next_version(current, old, retyped)) == "1.5.0"


def test_checksum_ignores_key_order() -> None:
    assert checksum({"a": 1, "b": [1, 2]}) == checksum({"b": [1, 2], "a": 1})
    assert checksum({"a": 1}) != checksum({"a": 1.5})
    assert len(checksum({})) == 64


def test_field_changes_by_path() -> None:
    assert field_changes({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"b": 1, "c": 3}, "d": [1, 2], "e": 0}) == [
        {"field": "a.c", "from": 2, "to": 3}, {"field": "d", "from": [1], "to": [1, 2]},
        {"field": "e", "from": None, "to": 0}]
    assert field_changes(1, True) == [{"field": "", "from": 1, "to": True}]


def test_diff_of_identical_documents_is_empty() -> None:
    diff = diff_documents(samples.branching(), samples.branching())
    assert is_empty_diff(diff)


def test_diff_reports_removed_items_and_workflow_fields() -> None:
    new = samples.linear()
    new["name"] = "Other"
    removed_edge = new["edges"].pop()
    diff = diff_documents(samples.linear(), new)
    assert diff["edges"]["removed"] == [removed_edge]
    assert diff["workflow"] == [{"field": "name", "from": "Answer a question", "to": "Other"}]
    assert not is_empty_diff(diff)
