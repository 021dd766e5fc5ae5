"""The generated form reads posted strings back as typed values (no database)."""

from __future__ import annotations

from django.http import QueryDict

from templates_app.domain.parameters import parse_parameters
from templates_app.parameter_form import form_groups, read_form

DEFINITIONS = parse_parameters([
    {"name": "count", "type": "integer", "default": 2, "ui": {"group": "A", "order": 2}},
    {"name": "ratio", "type": "float", "ui": {"group": "A", "order": 1}},
    {"name": "strict", "type": "boolean", "default": True, "ui": {"group": "B"}},
    {"name": "labels", "type": "array", "items": {"type": "integer"}, "ui": {"widget": "tags", "group": "B"}},
    {"name": "lines", "type": "array", "items": {"type": "string"}, "ui": {"widget": "textarea"}},
    {"name": "picks", "type": "array", "items": {"type": "enum", "choices": [1, 2, 3]},
     "ui": {"widget": "multiselect"}},
    {"name": "limits", "type": "object", "properties": [{"name": "low", "type": "integer"},
                                                       {"name": "high", "type": "integer"}]},
    {"name": "raw", "type": "object", "properties": [{"name": "a", "type": "string"}], "ui": {"widget": "json"}},
    {"name": "level", "type": "enum", "choices": [1, 2]},
    {"name": "note", "type": "string"},
])


def test_posted_strings_become_typed_values() -> None:
    data = QueryDict(mutable=True)
    data.update({"param__count": "7", "param__ratio": "0.25", "param__labels": "1, 2,3",
                 "param__lines": "first\nsecond\n", "param__limits.low": "1", "param__raw": '{"a": "x"}',
                 "param__level": "2", "param__note": "  "})
    data.setlist("param__picks", ["1", "3"])
    assert read_form(DEFINITIONS, data) == {
        "count": 7, "ratio": 0.25, "strict": False, "labels": [1, 2, 3], "lines": ["first", "second"],
        "picks": [1, 3], "limits": {"low": 1}, "raw": {"a": "x"}, "level": 2}


def test_unparseable_values_are_kept_for_the_schema_to_refuse() -> None:
    values = read_form(DEFINITIONS, QueryDict("param__count=seven&param__ratio=x&param__raw={oops&param__strict=on"))
    assert values == {"count": "seven", "ratio": "x", "strict": True, "raw": "{oops"}


def test_groups_follow_first_field_order_and_fields_their_order() -> None:
    groups = form_groups(DEFINITIONS, {"count": 5}, {"count": ["must be at most 4"]})
    assert [(group.name, [f.name for f in group.fields]) for group in groups] == [
        ("B", ["strict", "labels"]), ("", ["lines", "picks", "limits", "raw", "level", "note"]),
        ("A", ["ratio", "count"])]
    count = groups[2].fields[1]
    assert (count.value, count.errors, count.input_type) == (5, ["must be at most 4"], "number")
    assert [child.html_name for child in groups[1].fields[2].children] == ["param__limits.low", "param__limits.high"]
