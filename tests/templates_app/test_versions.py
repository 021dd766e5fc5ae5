"""Semantic version constraints resolve to the highest matching version (no database)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from templates_app.domain.versions import (
    CONSTRAINT_PATTERN,
    VERSION_PATTERN,
    Version,
    VersionConstraint,
    VersionError,
    resolve_version,
)
from tests.templates_app.conftest import PROPERTY_SETTINGS

AVAILABLE = ["0.1.0", "0.1.5", "0.2.0", "1.0.0", "1.2.0", "1.2.3", "1.2.9", "1.3.0", "1.10.0", "2.0.0", "2.1.4"]


@pytest.mark.parametrize(
    "constraint,expected",
    [
        ("latest", "2.1.4"),
        ("", "2.1.4"),
        ("*", "2.1.4"),
        (None, "2.1.4"),
        ("1.2.0", "1.2.0"),
        ("=1.2.3", "1.2.3"),
        ("1.2", "1.2.9"),
        ("1", "1.10.0"),
        (">=1.2,<2", "1.10.0"),
        (">=1.2 <1.3", "1.2.9"),
        (">= 1.2, < 2", "1.10.0"),
        (">1.2.3,<1.3", "1.2.9"),
        ("<=1.2", "1.2.9"),
        ("<1.2", "1.0.0"),
        (">1.2", "2.1.4"),
        ("^1.2", "1.10.0"),
        ("^1.2.5", "1.10.0"),
        ("^0.1", "0.1.5"),
        ("^0.1.2", "0.1.5"),
        ("^2", "2.1.4"),
        ("~1.2.3", "1.2.9"),
        ("~1.2", "1.2.9"),
        ("~1", "1.10.0"),
        ("~0.1.0", "0.1.5"),
        ("1.3.x", "1.3.0"),
        ("^0.2 || ~1.2", "1.2.9"),
        ("<0.2 || 2.0.0", "2.0.0"),
    ],
)
def test_resolution_table(constraint, expected) -> None:
    assert str(resolve_version(constraint, AVAILABLE)) == expected


@pytest.mark.parametrize("constraint", ["3.0.0", "^3", ">2.1.4", "~1.4", "<0.1.0", "1.2.4"])
def test_no_match_names_the_available_versions(constraint) -> None:
    with pytest.raises(VersionError) as error:
        resolve_version(constraint, AVAILABLE)
    assert "available: 2.1.4, 2.0.0, 1.10.0" in str(error.value)


@pytest.mark.parametrize("constraint", ["^", "abc", ">=1.2.3.4", "1.02", "~", "1.x.3", ">=", "||", 12])
def test_malformed_constraints_are_refused(constraint) -> None:
    with pytest.raises(VersionError):
        VersionConstraint.parse(constraint)


@pytest.mark.parametrize("text", ["1.2", "01.2.3", "1.2.3-beta", "v1.2.3", "", None, "1.2.3 "])
def test_versions_are_strict_major_minor_patch(text) -> None:
    if text == "1.2.3 ":
        assert Version.parse(text) == Version(1, 2, 3)
        return
    with pytest.raises(VersionError):
        Version.parse(text)


def test_versions_compare_as_numbers() -> None:
    assert Version.parse("1.10.0") > Version.parse("1.9.9")
    assert sorted(Version.parse(v) for v in ["1.10.0", "1.2.0", "1.9.0"]) == [
        Version(1, 2, 0), Version(1, 9, 0), Version(1, 10, 0)]
    assert str(Version(1, 10, 0)) == "1.10.0"


# --- the patterns published in the API schema accept exactly what the parsers read -------

_CONSTRAINT_ALPHABET = "0123456789.xX*v^~<>=|, \t\nlatestLATEST-+a\u00a0\u0663"


def _parses(text: str) -> bool:
    try:
        VersionConstraint.parse(text)
    except VersionError:
        return False
    return True


@PROPERTY_SETTINGS
@given(st.text(alphabet=_CONSTRAINT_ALPHABET, max_size=30))
def test_the_constraint_pattern_matches_exactly_what_parses(text: str) -> None:
    assert (re.fullmatch(CONSTRAINT_PATTERN, text) is not None) == _parses(text)


@PROPERTY_SETTINGS
@given(st.from_regex(CONSTRAINT_PATTERN, fullmatch=True).filter(lambda text: len(text) <= 200))
def test_every_string_of_the_constraint_pattern_parses(text: str) -> None:
    assert _parses(text)


@pytest.mark.parametrize("text", ["^1.2", " ~1.2.3 ", "> = 1, < 2", ">=1.0.0 <2 || 3.x.x", "LATEST", "",
                                  "*", "1.x", ",1.0.0,", "v1"])
def test_the_constraint_pattern_admits_the_documented_forms(text: str) -> None:
    assert re.fullmatch(CONSTRAINT_PATTERN, text) is not None and _parses(text)


@pytest.mark.parametrize("text", ["1.x.3", "^", "1||", "1 | 2", "=>1", "1.2.3.4", "\u0663.0.0", "latest||1"])
def test_the_constraint_pattern_refuses_what_does_not_parse(text: str) -> None:
    assert re.fullmatch(CONSTRAINT_PATTERN, text) is None and not _parses(text)


@PROPERTY_SETTINGS
@given(st.text(alphabet="0123456789. \t\nv\u0663", max_size=14))
def test_the_version_pattern_matches_exactly_what_parses(text: str) -> None:
    try:
        Version.parse(text)
        parsed = True
    except VersionError:
        parsed = False
    assert (re.fullmatch(VERSION_PATTERN, text) is not None) == parsed
