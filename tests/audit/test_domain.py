"""The pure chain core: encoding, hashing, scrubbing and every kind of break. No database."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit import domain

from .conftest import hypothesis_settings

TEAM = "6f1c3a52-0d4b-4c55-9a4e-5d2f7f0c9b11"


def fields(sequence: int, *, second: int | None = None, event_type: str = "team.updated",
           details: dict[str, Any] | None = None) -> tuple[Any, ...]:
    moment = dt.datetime(2026, 11, 21, 9, 0, second if second is not None else sequence % 60,
                         sequence, tzinfo=dt.UTC)
    return (TEAM, sequence, domain.format_time(moment), 7, "ada", "user", event_type, "teams.team",
            TEAM, "Acme", None, "", details or {"n": sequence}, "192.0.2.1", "pytest")


def chain(count: int) -> list[tuple[Any, ...]]:
    return list(domain.build_chain(fields(sequence) for sequence in range(1, count + 1)))


def test_domain_imports_no_django() -> None:
    probe = "import sys, audit.domain; print(sorted(m for m in sys.modules if m.startswith('django')))"
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert output.stdout.strip() == "[]"


def test_canonical_encoding_is_compact_json_with_sorted_keys_at_every_depth() -> None:
    encoded = domain.canonical_bytes("ab" * 32, fields(1, details={"b": 1, "a": {"y": [1, {"d": 2, "c": 3}], "x": None}}))
    assert encoded == (
        b'["' + b"ab" * 32 + b'","6f1c3a52-0d4b-4c55-9a4e-5d2f7f0c9b11",1,"2026-11-21T09:00:01.000001Z",7,"ada","user",'
        b'"team.updated","teams.team","6f1c3a52-0d4b-4c55-9a4e-5d2f7f0c9b11","Acme",null,"",'
        b'{"a":{"x":null,"y":[1,{"c":3,"d":2}]},"b":1},"192.0.2.1","pytest"]'
    )


def test_entry_hash_is_sha256_of_prefix_and_canonical_bytes() -> None:
    entry = fields(1)
    expected = hashlib.sha256(
        b'symphony-audit-v1\n["' + b"0" * 64 + b'",' + domain.canonical_bytes("x", entry)[5:]
    ).hexdigest()
    assert domain.entry_hash(domain.GENESIS_HASH, entry) == expected
    assert domain.entry_hash("1" * 64, entry) != expected


def test_format_time_is_utc_with_microseconds_and_refuses_naive_times() -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert domain.format_time(dt.datetime(2026, 1, 2, 5, 4, 5, tzinfo=plus_two)) == "2026-01-02T03:04:05.000000Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        domain.format_time(dt.datetime(2026, 1, 2))


def test_canonical_bytes_refuses_the_wrong_number_of_fields() -> None:
    with pytest.raises(ValueError, match="expected 15 hashed fields, got 14"):
        domain.canonical_bytes(domain.GENESIS_HASH, fields(1)[:-1])


def test_normalize_details_matches_what_jsonb_gives_back() -> None:
    normalized = domain.normalize_details(
        {"whole": 3.0, "big": 1e16, "huge": 10**30, "nan": float("nan"), "half": 0.5,
         "text": "a\x00b", 7: "seven", "nested": ({"set": {2, 1}},)}
    )
    assert normalized == {"whole": 3, "big": 10**16, "huge": str(10**30), "nan": "nan", "half": 0.5,
                          "text": "ab", "7": "seven", "nested": [{"set": [1, 2]}]}
    assert domain.normalize_details(None) == {}


def test_scrub_secrets_redacts_secret_keys_and_token_values_recursively() -> None:
    scrubbed = domain.scrub_secrets({
        "password": "hunter2", "api_key": "abc", "Authorization": "Token abc",
        "nested": [{"client_secret": "s", "token_id": "42", "note": "key is sym_abcdefghijklmnopqrstuv"}],
        "header": "Bearer abcdefghijklmnopqrstuvwxyz", "role": "admin",
    })
    assert scrubbed == {
        "password": "[redacted]", "api_key": "[redacted]", "Authorization": "[redacted]",
        "nested": [{"client_secret": "[redacted]", "token_id": "42", "note": "key is [redacted]"}],
        "header": "[redacted]", "role": "admin",
    }


def test_an_intact_chain_verifies() -> None:
    rows = chain(50)
    result = domain.verify_chain(rows, head=domain.ChainPoint(50, rows[-1][-1]))
    assert result.as_dict() == {"valid": True, "checked": 50, "first_break": None}
    assert result.last == domain.ChainPoint(50, rows[-1][-1])


def test_an_empty_chain_verifies_and_a_missing_first_entry_does_not() -> None:
    assert domain.verify_chain([]).as_dict() == {"valid": True, "checked": 0, "first_break": None}
    assert domain.verify_chain(chain(3)[1:]).as_dict() == {
        "valid": False, "checked": 0, "first_break": {"seq": 1, "reason": "deleted"}}


def _replace(row: tuple[Any, ...], name: str, value: Any) -> tuple[Any, ...]:
    items = list(row)
    items[1 + domain.HASHED_FIELDS.index(name)] = value
    return tuple(items)


def _rehash(row: tuple[Any, ...], prev_hash: str) -> tuple[Any, ...]:
    body = row[1 : 1 + domain.FIELD_COUNT]
    return (prev_hash, *body, domain.entry_hash(prev_hash, body))


def _forge(entry: tuple[Any, ...], prev_hash: str) -> tuple[Any, ...]:
    return (prev_hash, *entry, domain.entry_hash(prev_hash, entry))


def test_edited_entry_is_reported_at_its_sequence() -> None:
    rows = chain(10)
    rows[4] = _replace(rows[4], "actor_name", "mallory")
    assert domain.verify_chain(rows).as_dict() == {
        "valid": False, "checked": 4, "first_break": {"seq": 5, "reason": "edited"}}


def test_edited_and_rehashed_entry_is_reported_at_its_sequence() -> None:
    rows = chain(10)
    rows[4] = _rehash(_replace(rows[4], "reason", "covered up"), rows[3][-1])
    assert domain.verify_chain(rows).first_break == domain.ChainBreak(5, "edited")


def test_deleted_entry_is_reported_at_the_missing_sequence() -> None:
    rows = chain(10)
    del rows[6]
    assert domain.verify_chain(rows).first_break == domain.ChainBreak(7, "deleted")


def test_inserted_entry_is_reported_at_its_sequence() -> None:
    rows = chain(10)
    forged = _forge(fields(6, event_type="member.added"), rows[4][-1])
    # The forger renumbers the later entries to make room.
    shifted = [_replace(row, "sequence", row[2] + 1) for row in rows[5:]]
    tampered = [*rows[:5], forged, *shifted]
    assert domain.verify_chain(tampered).first_break == domain.ChainBreak(6, "inserted")


def test_duplicate_sequence_is_reported_as_inserted() -> None:
    rows = chain(5)
    tampered = [*rows[:3], _forge(fields(3), rows[2][-1]), *rows[3:]]
    assert domain.verify_chain(tampered).first_break == domain.ChainBreak(3, "inserted")


def test_reordered_entries_are_reported_at_the_first_moved_sequence() -> None:
    rows = chain(10)
    fifth, sixth = rows[4], rows[5]
    tampered = [*rows[:4], _replace(sixth, "sequence", 5), _replace(fifth, "sequence", 6), *rows[6:]]
    assert domain.verify_chain(tampered).first_break == domain.ChainBreak(5, "reordered")


def test_backdated_entry_is_reported_at_its_sequence() -> None:
    rows = chain(10)
    rows[5] = _replace(rows[5], "occurred_at", "2026-11-21T08:00:00.000000Z")
    assert domain.verify_chain(rows).first_break == domain.ChainBreak(6, "backdated")


def test_truncated_tail_is_caught_by_the_head_and_by_an_anchor() -> None:
    rows = chain(10)
    head = domain.ChainPoint(10, rows[-1][-1])
    assert domain.verify_chain(rows[:7], head=head).first_break == domain.ChainBreak(8, "truncated")
    anchor = domain.ChainPoint(9, rows[8][-1])
    # The head row was rewound too: only the anchor still knows.
    rewound = domain.ChainPoint(7, rows[6][-1])
    assert domain.verify_chain(rows[:7], head=rewound, anchor=anchor).first_break == domain.ChainBreak(8, "truncated")
    assert domain.verify_chain(rows, head=head, anchor=anchor).valid


def test_entries_appended_behind_the_head_are_reported_as_inserted() -> None:
    rows = chain(10)
    assert domain.verify_chain(rows, head=domain.ChainPoint(8, rows[7][-1])).first_break == domain.ChainBreak(9, "inserted")


def test_anchor_with_a_different_hash_is_reported_as_edited() -> None:
    rows = chain(10)
    assert domain.verify_chain(rows, anchor=domain.ChainPoint(4, "f" * 64)).first_break == domain.ChainBreak(4, "edited")


def test_chain_starting_at_a_checkpoint_verifies_from_there() -> None:
    rows = chain(10)
    start = domain.ChainPoint(4, rows[3][-1])
    assert domain.verify_chain(rows[4:], start=start).as_dict() == {"valid": True, "checked": 6, "first_break": None}
    assert domain.verify_chain(rows[5:], start=start).first_break == domain.ChainBreak(5, "deleted")


@hypothesis_settings
@given(
    position=st.integers(min_value=0, max_value=19),
    field=st.sampled_from([name for name in domain.HASHED_FIELDS if name not in ("sequence", "occurred_at")]),
    value=st.one_of(st.text(max_size=20), st.integers(), st.none(), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)),
)
def test_any_changed_field_breaks_the_chain_at_that_entry(position: int, field: str, value: Any) -> None:
    rows = chain(20)
    original = rows[position][1 + domain.HASHED_FIELDS.index(field)]
    rows[position] = _replace(rows[position], field, value)
    result = domain.verify_chain(rows)
    if value == original and type(value) is type(original):
        assert result.valid
    else:
        assert result.first_break == domain.ChainBreak(position + 1, "edited")
        assert result.checked == position


@hypothesis_settings
@given(details=st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text()),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
).map(lambda value: {"value": value}))
def test_normalized_details_encode_identically_after_a_json_round_trip(details: dict[str, Any]) -> None:
    import json

    normalized = domain.normalize_details(details)
    assert domain.normalize_details(normalized) == normalized
    round_tripped = json.loads(json.dumps(normalized))
    assert domain.canonical_bytes("", fields(1, details=round_tripped)) == domain.canonical_bytes("", fields(1, details=normalized))
