"""Semantic version constraints resolve to the highest matching version (no database)."""

from __future__ import annotations

import pytest

from templates_app.domain.versions import Version, VersionConstraint, VersionError, resolve_version

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
