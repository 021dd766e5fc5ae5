"""Signatures, payload mapping, the trigger graph and admission: the pure rules. No database."""

from __future__ import annotations

import pytest

from executions.triggers.domain.admission import Admission, Load, Verdict, admit
from executions.triggers.domain.graph import loop_closed_by
from executions.triggers.domain.mapping import (
    MappingError,
    apply_mapping,
    check_mapping,
    parse_path,
)
from executions.triggers.domain.signatures import SignatureRule, check, sign, signing_secret
from workflows.domain import ConcurrencyLimit, OnLimit

RULE = SignatureRule(header="X-Sig", algorithm="sha256", timestamp_header="X-Time", tolerance_s=300)
SECRET = "whsec_test"
BODY = b'{"ticket": {"subject": "Printer on fire"}}'


def headers(signature: str | None, stamp: str | None) -> dict[str, str]:
    found = {}
    if signature is not None:
        found["x-sig"] = signature
    if stamp is not None:
        found["x-time"] = stamp
    return found


def test_a_correct_signature_passes_with_or_without_the_algorithm_prefix() -> None:
    digest = sign(secret=SECRET, algorithm="sha256", timestamp=1_800_000_000, body=BODY)
    assert check(rule=RULE, secret=SECRET, headers=headers(digest, "1800000000"), body=BODY, now=1_800_000_010) is None
    assert check(rule=RULE, secret=SECRET, headers=headers(f"sha256={digest}", "1800000000"), body=BODY,
                 now=1_800_000_010) is None


@pytest.mark.parametrize(("given", "stamp", "now", "code"), [
    ("wrong", "1800000000", 1_800_000_000, "invalid_signature"),
    (None, "1800000000", 1_800_000_000, "missing_signature"),
    ("RIGHT", None, 1_800_000_000, "missing_signature"),
    ("RIGHT", "1800000000", 1_800_000_301, "stale_signature"),
    ("RIGHT", "1800000000", 1_799_999_699, "stale_signature"),
    ("RIGHT", "18e8", 1_800_000_000, "invalid_signature"),
    ("RIGHT-OTHER-BODY", "1800000000", 1_800_000_000, "invalid_signature"),
    ("RIGHT-OTHER-SECRET", "1800000000", 1_800_000_000, "invalid_signature"),
])
def test_wrong_missing_and_stale_signatures_are_refused(given, stamp, now, code) -> None:
    right = sign(secret=SECRET, algorithm="sha256", timestamp=1_800_000_000, body=BODY)
    replacements = {"RIGHT": right,
                    "RIGHT-OTHER-BODY": sign(secret=SECRET, algorithm="sha256", timestamp=1_800_000_000, body=b"{}"),
                    "RIGHT-OTHER-SECRET": sign(secret="whsec_other", algorithm="sha256", timestamp=1_800_000_000,
                                               body=BODY)}
    refusal = check(rule=RULE, secret=SECRET, headers=headers(replacements.get(given, given), stamp), body=BODY,
                    now=now)
    assert refusal is not None and refusal.code == code


def test_signing_secrets_depend_on_key_hook_and_salt() -> None:
    base = signing_secret(server_key="k", hook_id="h", salt="s")
    assert base.startswith("whsec_") and len(base) == 49
    assert base == signing_secret(server_key="k", hook_id="h", salt="s")
    assert len({base, signing_secret(server_key="k2", hook_id="h", salt="s"),
                signing_secret(server_key="k", hook_id="h2", salt="s"),
                signing_secret(server_key="k", hook_id="h", salt="s2")}) == 4


def test_json_paths_read_keys_indices_and_quoted_names() -> None:
    body = {"ticket": {"subject": "S", "tags": ["a", "b"], "a key": 1}}
    assert parse_path("$").read(body) == body
    assert parse_path("$.ticket.subject").read(body) == "S"
    assert parse_path("$.ticket.tags[1]").read(body) == "b"
    assert parse_path("$.ticket.tags[-1]").read(body) == "b"
    assert parse_path('$.ticket["a key"]').read(body) == 1
    assert parse_path("$.ticket.missing.deeper").read(body) is None
    assert parse_path("$.ticket.tags[5]").read(body) is None
    with pytest.raises(ValueError, match="unexpected"):
        parse_path("$.ticket..x")


def test_a_mapping_takes_paths_and_sandboxed_expressions() -> None:
    mapping = check_mapping({"subject": "$.ticket.subject", "shout": "inputs.ticket.subject | upper",
                             "agent": "item.headers['user-agent']"}, {"subject", "shout", "agent"})
    inputs = apply_mapping(mapping, body={"ticket": {"subject": "Hi"}}, headers={"user-agent": "curl"}, query={})
    assert inputs == {"subject": "Hi", "shout": "HI", "agent": "curl"}


@pytest.mark.parametrize(("mapping", "field", "message"), [
    ({"nope": "$.a"}, "input_mapping.nope", "'nope' is not an input node"),
    ({"subject": "$.a..b"}, "input_mapping.subject", "bad JSON path"),
    ({"subject": "__import__('os')"}, "input_mapping.subject", "bad expression"),
    ({"subject": "inputs.__class__"}, "input_mapping.subject", "bad expression"),
    ({"subject": 3}, "input_mapping.subject", "JSON path"),
    (["subject"], "input_mapping", "is an object"),
])
def test_bad_mappings_are_refused_naming_the_entry(mapping, field, message) -> None:
    with pytest.raises(MappingError) as refused:
        check_mapping(mapping, {"subject"})
    assert refused.value.field == field and message in refused.value.message


def test_without_a_mapping_the_body_is_the_inputs_object() -> None:
    assert apply_mapping(None, body={"a": 1}, headers={}, query={}) == {"a": 1}
    assert apply_mapping(None, body=None, headers={}, query={}) == {}
    with pytest.raises(MappingError, match="JSON object keyed by input node id"):
        apply_mapping(None, body=[1, 2], headers={}, query={})


def test_an_expression_that_fails_at_delivery_is_a_mapping_error() -> None:
    with pytest.raises(MappingError, match="failed"):
        apply_mapping({"x": "inputs.missing.deeper"}, body={}, headers={}, query={})


def test_a_rule_that_closes_a_loop_is_found_with_its_path() -> None:
    edges = [("a", "b"), ("b", "c"), ("x", "y")]
    assert loop_closed_by(edges, "c", "a") == ["c", "a", "b", "c"]
    assert loop_closed_by(edges, "a", "a") == ["a", "a"]
    assert loop_closed_by(edges, "b", "a") == ["b", "a", "b"]
    assert loop_closed_by(edges, "a", "c") is None
    assert loop_closed_by(edges, "y", "a") is None


LIMIT_2_QUEUE = ConcurrencyLimit(limit=2, on_limit=OnLimit.QUEUE)


@pytest.mark.parametrize(("workflow_load", "team_limit", "team_load", "expected"), [
    (Load(1, 0), None, Load(0, 0), Admission(Verdict.START)),
    (Load(2, 0), None, Load(0, 0), Admission(Verdict.QUEUE, "workflow", 2, 2)),
    (Load(1, 3), None, Load(0, 0), Admission(Verdict.QUEUE, "workflow", 2, 1)),
    (Load(0, 0), ConcurrencyLimit(limit=5, on_limit=OnLimit.CANCEL), Load(5, 0), Admission(Verdict.CANCEL, "team", 5, 5)),
    (Load(0, 0), ConcurrencyLimit(limit=5, on_limit=OnLimit.FAIL), Load(5, 0), Admission(Verdict.REFUSE, "team", 5, 5)),
    (Load(0, 0), ConcurrencyLimit(limit=5, on_limit=OnLimit.FAIL), Load(4, 9), Admission(Verdict.START)),
])
def test_admission_starts_when_there_is_room_and_nobody_waits_ahead(workflow_load, team_limit, team_load,
                                                                     expected) -> None:
    assert admit(workflow_limit=LIMIT_2_QUEUE, workflow_load=workflow_load, team_limit=team_limit,
                 team_load=team_load) == expected


@pytest.mark.parametrize("stamp", ["1800000000\u00b2", "\u0661\u0668\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660"])
def test_a_timestamp_in_other_digits_is_an_invalid_signature(stamp) -> None:
    """`str.isdigit()` takes a superscript two (then `int()` raised ValueError out of `check()`: the
    delivery answered 503 "try again" and logged an exception) and Arabic-Indic digits; the
    timestamp header is ASCII digits."""
    right = sign(secret=SECRET, algorithm="sha256", timestamp=1_800_000_000, body=BODY)
    refusal = check(rule=RULE, secret=SECRET, headers=headers(right, stamp), body=BODY, now=1_800_000_000)
    assert refusal is not None and refusal.code == "invalid_signature"
