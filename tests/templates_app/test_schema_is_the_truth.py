"""The published parameter JSON Schema is the whole truth (issue 10, defect 4). No database.

Named validators compile to standard JSON Schema; the server validates with
a plain Draft 2020-12 validator over that schema and nothing else. These
tests pin the compiled patterns down, check that they mean the same in
Python's ``re`` and ECMA-262, that every expression/template the patterns
accept is one the graph core accepts, and that every value set the catalog's
published schemas accept makes a valid workflow.
"""

from __future__ import annotations

import re
from re import _constants as sre_constants  # the parser ``re`` itself uses; sre_* are deprecated
from re import _parser as sre_parse
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from templates_app.catalog import ENTRIES
from templates_app.domain import patterns
from templates_app.domain.custom_validators import CUSTOM_VALIDATORS
from templates_app.domain.instantiation import instantiate_document
from templates_app.domain.parameters import parameters_json_schema, parse_parameters
from templates_app.domain.validation import validate_parameters
from tests.templates_app.conftest import PROPERTY_SETTINGS
from tests.templates_app.schema_values import refused_values, valid_values
from workflows.catalog import builtin_catalog
from workflows.domain import validate_document
from workflows.domain.expressions import check_expression, check_template

CATALOG = builtin_catalog()
PATTERNS = {name: validator.schema["pattern"] for name, validator in CUSTOM_VALIDATORS.items()
            if "pattern" in validator.schema}
PATTERNS["model_id"] = patterns.MODEL_ID
# Bounded so the suite stays fast; HYPOTHESIS_PROFILE=thorough (`make test-thorough`) runs
# 25 times more. Strings drawn from the expression pattern are long (hundreds of
# characters) and each makes a workflow the graph core parses, so fewer of those.
PATTERN_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=max(PROPERTY_SETTINGS.max_examples // 4, 10))
CATALOG_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=max(PROPERTY_SETTINGS.max_examples // 4, 10))
EXPRESSION_CATALOG_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=max(PROPERTY_SETTINGS.max_examples // 8, 5))


def has_expressions(entry: dict[str, Any]) -> bool:
    return any(p["type"] == "expression" for p in entry["version"]["parameters"])


def schema_of(entry: dict[str, Any]) -> dict[str, Any]:
    return parameters_json_schema(parse_parameters(entry["version"]["parameters"]), title=entry["name"])


def accepts(definitions: Any, name: str, value: Any) -> bool:
    return [e for e in validate_parameters(definitions, {name: value}) if e.parameter == name] == []


# --- the compiled schema -------------------------------------------------------------------


def test_every_named_validator_compiles_to_standard_keywords_inside_all_of() -> None:
    definitions = parse_parameters([
        {"name": "code", "type": "string", "constraints": {"max_length": 10, "validators": ["language_code"]}},
        {"name": "tags", "type": "array", "items": {"type": "string"}, "constraints": {"validators": ["unique_items"]}},
        {"name": "rule", "type": "expression"},
    ])
    schema = parameters_json_schema(definitions)
    Draft202012Validator.check_schema(schema)
    code = schema["properties"]["code"]
    assert code["x-symphony-validators"] == ["language_code"]
    assert code["allOf"] == [{"pattern": "^[a-z]{2,3}(?:-[A-Z]{2}|-[A-Z][a-z]{3})?(?![\\s\\S])$",
                              "x-symphony-validator": "language_code"}]
    assert schema["properties"]["tags"]["allOf"] == [{"uniqueItems": True, "x-symphony-validator": "unique_items"}]
    rule = schema["properties"]["rule"]
    assert rule["x-symphony-validators"] == ["expression"]
    assert rule["allOf"] == [{"maxLength": 10_000, "pattern": patterns.EXPRESSION,
                              "x-symphony-validator": "expression"}]


def test_the_localize_template_publishes_its_language_rule_as_a_pattern() -> None:
    entry = next(e for e in ENTRIES if e["name"] == "Localize UI strings")
    target = schema_of(entry)["properties"]["target_language"]
    client = Draft202012Validator(target)  # no extension, no format checker: what a form library runs
    assert [client.is_valid(v) for v in ["pt-BR", "zh-Hant", "fr", "english", "pt-br", "en\n", "e"]] == [
        True, True, True, False, False, False, False]


def test_a_failing_named_validator_reports_its_own_code_and_message() -> None:
    definitions = parse_parameters([
        {"name": "code", "type": "string", "constraints": {"validators": ["language_code"]}},
        {"name": "tags", "type": "array", "items": {"type": "string"}, "constraints": {"validators": ["unique_items"]}},
        {"name": "site", "type": "string", "constraints": {"validators": ["http_url"]}},
    ])
    errors = validate_parameters(definitions, {"code": "english", "tags": ["a", "a"], "site": "ftp://x"})
    assert [e.to_dict() for e in errors] == [
        {"parameter": "code", "path": "code", "code": "custom_validator",
         "message": "must be a language code such as en, pt-BR or zh-Hant"},
        {"parameter": "site", "path": "site", "code": "custom_validator",
         "message": "must be an http:// or https:// URL (no blanks or control characters)"},
        {"parameter": "tags", "path": "tags", "code": "custom_validator", "message": "must not repeat items"},
    ]


# --- the patterns mean the same in Python and ECMA-262 --------------------------------------


def test_the_blank_class_is_exactly_what_python_strips() -> None:
    blank = re.compile(f"[{patterns.WHITESPACE_CLASS_BODY}]")
    assert [c for c in range(0x110000) if blank.fullmatch(chr(c))] == [
        c for c in range(0x110000) if chr(c).isspace()]


def _dialect_risks(parsed: Any, inside_lookahead: bool = False) -> list[str]:
    """Constructs that Python's ``re`` and ECMA-262 read differently."""
    risks: list[str] = []
    items = list(parsed)
    for index, (op, argument) in enumerate(items):
        if op is sre_constants.IN:
            for inner_op, inner in argument:
                if inner_op is sre_constants.CATEGORY and not inside_lookahead:
                    risks.append(f"class shorthand {inner}")
        elif op is sre_constants.CATEGORY and not inside_lookahead:
            risks.append(f"class shorthand {argument}")
        elif op is sre_constants.AT and argument is sre_constants.AT_END:
            previous = items[index - 1] if index else None
            if not (previous and previous[0] is sre_constants.ASSERT_NOT):
                risks.append("$ without the nothing-follows look-ahead")
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            _low, high, body = argument
            if high not in (sre_constants.MAXREPEAT, 1) and any(
                    sub_op is sre_constants.IN and any(o is sre_constants.NEGATE for o, _ in sub_arg)
                    for sub_op, sub_arg in body):
                risks.append("a bounded repeat of a negated class (ECMA-262 counts astral characters twice)")
            risks += _dialect_risks(body, inside_lookahead)
        elif op is sre_constants.SUBPATTERN:
            risks += _dialect_risks(argument[-1], inside_lookahead)
        elif op is sre_constants.BRANCH:
            for branch in argument[1]:
                risks += _dialect_risks(branch, inside_lookahead)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            risks += _dialect_risks(argument[1], inside_lookahead=True)
    return risks


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_patterns_use_only_what_both_dialects_read_alike(name: str) -> None:
    assert _dialect_risks(sre_parse.parse(PATTERNS[name])) == []


def test_the_dialect_check_notices_a_risky_pattern() -> None:
    assert _dialect_risks(sre_parse.parse(r"^\d+$")) == ["class shorthand CATEGORY_DIGIT",
                                                         "$ without the nothing-follows look-ahead"]


@pytest.mark.parametrize("value,accepted", [
    ("ok", True), ("  x  ", True), ("\ufeff", True), ("", False), (" \t\n\r\x0b\x0c", False),
    ("\u3000\u2028\x85\xa0", False), ("\x1c\x1f", False)])
def test_non_blank_means_what_python_strip_means(value: str, accepted: bool) -> None:
    definitions = parse_parameters([{"name": "text", "type": "string", "constraints": {"validators": ["non_blank"]}}])
    assert accepts(definitions, "text", value) is accepted is bool(value.strip())


@pytest.mark.parametrize("value,accepted", [
    ("https://example.com", True), ("http://example.com/a b", False), ("https://example.com/path?q=1#top", True),
    ("https://", False), ("HTTP://example.com", False), ("https://exa mple.com", False),
    ("https://example.com\n", False), ("ftp://example.com", False), ("https://user@host:8080/", True),
    ("https:///path", False), ("https://example.com/\x7f", False)])
def test_http_url_is_a_pattern(value: str, accepted: bool) -> None:
    definitions = parse_parameters([{"name": "url", "type": "string", "constraints": {"validators": ["http_url"]}}])
    assert accepts(definitions, "url", value) is accepted


@pytest.mark.parametrize("validator,value,accepted", [
    ("slug", "a-b-1", True), ("slug", "a--b", False), ("slug", "a-b\n", False),
    ("email", "a@b.co", True), ("email", "a b@c.d", False), ("email", "a@b.co\n", False),
    ("identifier", "_x1", True), ("identifier", "1x", False), ("identifier", "x\n", False),
    ("language_code", "en", True), ("language_code", "en-US\n", False)])
def test_a_trailing_newline_is_refused_as_ecma_262_refuses_it(validator: str, value: str, accepted: bool) -> None:
    definitions = parse_parameters([{"name": "v", "type": "string", "constraints": {"validators": [validator]}}])
    assert accepts(definitions, "v", value) is accepted


def test_unique_items_follows_json_schema_equality() -> None:
    definitions = parse_parameters([{"name": "v", "type": "array", "items": {"type": "float"},
                                     "constraints": {"validators": ["unique_items"]}}])
    assert (accepts(definitions, "v", [1, 2]), accepts(definitions, "v", [1, 1.0])) == (True, False)


# --- the regular part of the expression language ---------------------------------------------


@pytest.mark.parametrize("entry", [e for e in ENTRIES if has_expressions(e)], ids=lambda e: e["slug"])
def test_the_catalog_expressions_are_in_the_regular_part(entry: dict[str, Any]) -> None:
    expression = re.compile(patterns.EXPRESSION)
    values = [p["default"] for p in entry["version"]["parameters"] if p["type"] == "expression"]
    values += [v for example in entry["version"]["examples"] for k, v in example["parameters"].items()
               if k in {"transform", "keep_when"}]
    assert values and all(expression.search(value) for value in values)


@pytest.mark.parametrize("value", [
    "item", "item.price * 2 > 10 and not item.hidden", "(item.a + item.b) * 2", "not (item.a or item.b)",
    "item | default('x') | upper", "item is not none", "'@' in item", "item not in ['a', 'b']",
    "inputs['a b'][0].c", "-item ** 2 // 3 % 4", "item | round(2) >= 0.5"])
def test_ordinary_expressions_are_in_the_regular_part(value: str) -> None:
    assert re.search(patterns.EXPRESSION, value)
    assert check_expression(value) is None


@pytest.mark.parametrize("value", [
    "", "   ", "item if item else 0", "item ~ 'x'", "range(3)", "((item))", "item.__class__", "item | format",
    "unknown.name", "item is defined in item", "item\n", "item[01]", "'a\\'b'", "{'a': 1}", "item and"])
def test_outside_the_regular_part_is_refused(value: str) -> None:
    assert not re.search(patterns.EXPRESSION, value)


@PATTERN_SETTINGS
@given(st.from_regex(patterns.EXPRESSION))
def test_every_expression_the_pattern_accepts_is_valid(value: str) -> None:
    assert check_expression(value) is None


@PATTERN_SETTINGS
@given(st.from_regex(patterns.TEMPLATE))
def test_every_template_the_pattern_accepts_is_valid(value: str) -> None:
    assert check_template(value) is None


def test_templates_hold_placeholders_and_no_other_jinja_syntax() -> None:
    template = re.compile(patterns.TEMPLATE)
    assert [bool(template.search(v)) for v in [
        "Hello {{ inputs.name | title }}!", "no braces", "a { b } c }}", "{{item}}{{ item }}",
        "{% if x %}", "{# note #}", "{{ item ", "{{{ item }}", "{{ item -}}"]] == [
        True, True, True, True, False, False, False, False, False]


# --- what the catalog's published schemas accept instantiates ----------------------------------


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["slug"])
def test_values_the_published_schema_accepts_make_a_valid_workflow(entry: dict[str, Any]) -> None:
    version = entry["version"]
    definitions = parse_parameters(version["parameters"])
    schema = schema_of(entry)
    client = Draft202012Validator(schema)

    @(EXPRESSION_CATALOG_SETTINGS if has_expressions(entry) else CATALOG_SETTINGS)
    @given(valid_values(schema))
    def check(values: dict[str, Any]) -> None:
        assert client.is_valid(values)
        assert validate_parameters(definitions, values) == []
        result = instantiate_document(version["document"], definitions, values)
        assert [issue.to_dict() for issue in validate_document(result.document, catalog=CATALOG).errors] == []

    check()


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["slug"])
def test_values_the_published_schema_refuses_are_refused_naming_the_parameter(entry: dict[str, Any]) -> None:
    definitions = parse_parameters(entry["version"]["parameters"])
    schema = schema_of(entry)

    @(EXPRESSION_CATALOG_SETTINGS if has_expressions(entry) else CATALOG_SETTINGS)
    @given(refused_values(schema))
    def check(case: tuple[dict[str, Any], str]) -> None:
        values, name = case
        errors = validate_parameters(definitions, values)
        assert errors and {error.parameter for error in errors} == {name}

    check()


def test_a_nul_character_is_refused_by_the_schema_not_by_the_database() -> None:
    definitions = parse_parameters([{"name": "text", "type": "string"},
                                    {"name": "items", "type": "array", "items": {"type": "string"}}])
    errors = validate_parameters(definitions, {"text": "a\x00b", "items": ["ok", "\x00"]})
    assert [e.to_dict() for e in errors] == [
        {"parameter": "items", "path": "items[1]", "code": "forbidden_character",
         "message": "must not contain the NUL character (U+0000)"},
        {"parameter": "text", "path": "text", "code": "forbidden_character",
         "message": "must not contain the NUL character (U+0000)"},
    ]
