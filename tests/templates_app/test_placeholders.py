"""Placeholders: discovery with JSON paths, typed substitution, overrides, publish-time problems (no database)."""

from __future__ import annotations

import pytest

from templates_app.domain.instantiation import (
    InstantiationError,
    instantiate_document,
    template_problems,
    unused_parameters,
)
from templates_app.domain.overrides import OverrideError, apply_overrides
from templates_app.domain.parameters import parse_parameters
from templates_app.domain.placeholders import find_placeholders, substitute

DOCUMENT = {
    "name": "{{ params.title }}",
    "settings": {"max_parallel": "{{ params.parallel }}"},
    "nodes": [
        {"id": "a", "config": {
            "text": "Reply in {{ params.language }} to {{ inputs.ticket }} ({{params.language}})",
            "labels": "{{ params.labels }}",
            "upper": "{{ params.language | upper }}",
            "deep": {"list": ["{{ params.parallel }}", "static", {"flag": "{{ params.strict }}"}]},
            "runtime": "{{ inputs.ticket | lower }}",
            "joined": "Labels: {{ params.labels }}; strict={{ params.strict }}; none={{ params.note }}.",
        }},
    ],
}
DEFINITIONS = parse_parameters([
    {"name": "title", "type": "string", "default": "Triage"},
    {"name": "parallel", "type": "integer", "default": 4},
    {"name": "language", "type": "string", "required": True},
    {"name": "labels", "type": "array", "items": {"type": "string"}, "default": ["bug", "question"]},
    {"name": "strict", "type": "boolean", "default": True},
    {"name": "note", "type": "string"},
    {"name": "spare", "type": "string"},
])


def test_discovery_lists_paths_and_parameters_in_document_order() -> None:
    placeholders, problems = find_placeholders(DOCUMENT)
    assert problems == []
    assert [(p.path, p.parameters, p.whole) for p in placeholders] == [
        ("/name", ("title",), True),
        ("/settings/max_parallel", ("parallel",), True),
        ("/nodes/0/config/text", ("language",), False),
        ("/nodes/0/config/text", ("language",), False),
        ("/nodes/0/config/labels", ("labels",), True),
        ("/nodes/0/config/upper", ("language",), True),
        ("/nodes/0/config/deep/list/0", ("parallel",), True),
        ("/nodes/0/config/deep/list/2/flag", ("strict",), True),
        ("/nodes/0/config/joined", ("labels",), False),
        ("/nodes/0/config/joined", ("strict",), False),
        ("/nodes/0/config/joined", ("note",), False),
    ]
    assert unused_parameters(DOCUMENT, DEFINITIONS) == ["spare"]


def test_typed_substitution_keeps_runtime_expressions_byte_for_byte() -> None:
    values = {"title": "Triage", "parallel": 4, "language": "French", "labels": ["bug", "question"],
              "strict": True, "note": None, "spare": None}
    result = substitute(DOCUMENT, values)
    assert result == {
        "name": "Triage",
        "settings": {"max_parallel": 4},
        "nodes": [{"id": "a", "config": {
            "text": "Reply in French to {{ inputs.ticket }} (French)",
            "labels": ["bug", "question"],
            "upper": "FRENCH",
            "deep": {"list": [4, "static", {"flag": True}]},
            "runtime": "{{ inputs.ticket | lower }}",
            "joined": 'Labels: ["bug", "question"]; strict=true; none=.',
        }}],
    }
    assert DOCUMENT["settings"]["max_parallel"] == "{{ params.parallel }}"  # the template is not changed


def test_instantiation_applies_defaults_and_warns_about_unused_parameters() -> None:
    result = instantiate_document(DOCUMENT, DEFINITIONS, {"language": "German", "spare": "x"},
                                  name="My triage", deprecated=True)
    assert result.applied_defaults == [
        {"parameter": "title", "value": "Triage"}, {"parameter": "parallel", "value": 4},
        {"parameter": "labels", "value": ["bug", "question"]}, {"parameter": "strict", "value": True}]
    assert result.document["name"] == "My triage"
    assert result.document["version"] == "1.0.0"
    assert [w["code"] for w in result.warnings] == ["deprecated_template", "unused_parameter"]
    assert result.warnings[1]["parameter"] == "spare"


def test_invalid_parameters_list_every_failing_parameter() -> None:
    with pytest.raises(InstantiationError) as error:
        instantiate_document(DOCUMENT, DEFINITIONS, {"parallel": "four", "labels": [1], "bogus": True})
    assert [(p["parameter"], p["code"]) for p in error.value.problems] == [
        ("bogus", "unknown_parameter"), ("labels", "invalid_type"), ("language", "required"),
        ("parallel", "invalid_type")]
    assert error.value.problems[1]["path"] == "labels[0]"


def test_publish_problems_name_undeclared_and_mixed_placeholders() -> None:
    document = {"a": "{{ params.ghost }}", "b": "{{ params.title ~ inputs.x }}", "c": "{{ params }}",
                "d": "{{ params.title | nosuchfilter }}", "e": "{{ inputs.fine }}"}
    problems = template_problems(document, DEFINITIONS)
    assert [(p["path"], p["code"]) for p in problems] == [
        ("/b", "mixed_placeholder"), ("/c", "invalid_placeholder"), ("/d", "invalid_placeholder"),
        ("/a", "undeclared_parameter")]
    assert problems[3]["parameter"] == "ghost"


def test_overrides_by_json_path_with_node_ids() -> None:
    document = {"nodes": [{"id": "x", "config": {"a": 1}}, {"id": "y", "config": {"a": 2}}],
                "settings": {"max_parallel": 2}}
    result = apply_overrides(document, {"/nodes/@y/config/a": 20, "/settings/max_parallel": 8,
                                        "/nodes/0/config/b": "new"})
    assert result == {"nodes": [{"id": "x", "config": {"a": 1, "b": "new"}}, {"id": "y", "config": {"a": 20}}],
                      "settings": {"max_parallel": 8}}
    assert document["nodes"][1]["config"]["a"] == 2


def test_bad_overrides_are_all_reported() -> None:
    with pytest.raises(OverrideError) as error:
        apply_overrides({"nodes": [{"id": "x"}]}, {"/nodes/@zz/a": 1, "nodes/0": 1, "/nodes/5/a": 1,
                                                   "/missing/a": 1, "": 1})
    assert [p.path for p in error.value.problems] == ["/nodes/@zz/a", "nodes/0", "/nodes/5/a", "/missing/a", ""]


@pytest.mark.parametrize("index", ["\u0661", "\u00b2"])
def test_an_override_index_is_ascii_digits(index) -> None:
    """JSON Pointer (RFC 6901) indexes are ASCII digits: an Arabic-Indic one addressed element 1
    (`str.isdigit()` takes it, `int()` reads it), a superscript two answered Python's own
    "invalid literal for int()" instead of naming the index."""
    document = {"nodes": [{"id": "x", "config": {"a": 1}}, {"id": "y", "config": {"a": 2}}]}
    with pytest.raises(OverrideError) as error:
        apply_overrides(document, {f"/nodes/{index}/config/a": 20})
    assert [(p.path, p.message) for p in error.value.problems] == [
        (f"/nodes/{index}/config/a", f"/nodes/{index}/config/a: {index!r} is not an array index")]
    assert document["nodes"][1]["config"]["a"] == 2
