import pytest

from workflows.domain.types import (
    ANY,
    ARRAY,
    BOOLEAN,
    BYTES,
    INTEGER,
    JSON,
    NUMBER,
    OBJECT,
    STRING,
    DataType,
    DataTypeError,
    array_of,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("string", STRING),
        ("array", ARRAY),
        ("array<integer>", array_of(INTEGER)),
        ("array<array<string>>", array_of(array_of(STRING))),
        (" json ", JSON),
    ],
)
def test_parse(text, expected):
    assert DataType.parse(text) == expected


@pytest.mark.parametrize("text", ["str", "array<>", "array<foo>", "string<int>", "", "Array"])
def test_parse_refuses_unknown_types(text):
    with pytest.raises(DataTypeError):
        DataType.parse(text)


def test_parse_refuses_non_strings():
    with pytest.raises(DataTypeError):
        DataType.parse(3)  # type: ignore[arg-type]


def test_string_form_round_trips():
    for text in ["any", "array<array<number>>", "bytes", "array"]:
        assert str(DataType.parse(text)) == text


ALL_TYPES = [ANY, STRING, NUMBER, INTEGER, BOOLEAN, OBJECT, ARRAY, BYTES, JSON, array_of(STRING)]


@pytest.mark.parametrize(
    ("source", "target", "assignable"),
    [
        ("string", "any", True),
        ("array<string>", "any", True),
        ("integer", "number", True),
        ("number", "integer", False),
        ("string", "number", False),
        ("array<integer>", "array<number>", True),
        ("array<number>", "array<integer>", False),
        ("array<string>", "array", True),
        ("array", "array<string>", False),
        ("array<array<integer>>", "array<array<number>>", True),
        ("object", "json", False),
        ("json", "object", False),
        ("any", "string", False),
        ("bytes", "bytes", True),
        ("boolean", "integer", False),
    ],
)
def test_assignability_rules(source, target, assignable):
    assert DataType.parse(source).is_assignable_to(DataType.parse(target)) is assignable


@pytest.mark.parametrize("data_type", ALL_TYPES, ids=str)
def test_every_type_is_assignable_to_itself_and_to_any(data_type):
    assert data_type.is_assignable_to(data_type)
    assert data_type.is_assignable_to(ANY)
