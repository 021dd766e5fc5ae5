"""The event type registry and its documentation agree."""

from __future__ import annotations

import re
from pathlib import Path

from audit.event_types import EVENT_TYPES, matching

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit-events.md"


def test_docs_list_exactly_the_registered_types() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", DOC.read_text(), flags=re.MULTILINE))
    assert documented == set(EVENT_TYPES)


def test_types_are_dotted_lowercase_with_a_description() -> None:
    for name, description in EVENT_TYPES.items():
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", name), name
        assert description.strip(), name


def test_matching_exact_and_prefix() -> None:
    assert matching("member.added") == ["member.added"]
    assert matching("member.*") == ["member.added", "member.removed", "member.role_changed"]
    assert matching("member") == []
    assert matching("nothing.*") == []
