"""The COPY row stream the verifier reads gives exactly the values a typed cursor gives."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from audit import domain, selectors
from audit.services import record_event
from symphony_site.actors import Actor, Origin

from .conftest import AuditPersonas, hypothesis_settings

pytestmark = pytest.mark.django_db

# The columns as an ordinary cursor reads them (the verifier's previous row source): the reference.
REFERENCE_SQL = """
    SELECT prev_hash, team_id::text, sequence,
           to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           actor_id, actor_name, actor_type, event_type, target_type, target_id, target_name,
           execution_id::text, reason, details::text, host(ip_address), user_agent, hash
    FROM audit_auditentry WHERE team_id IS NULL ORDER BY sequence
"""

# Text that COPY and JSON both escape: backslashes, quotes, tabs, newlines, control characters,
# DEL, non-ASCII and astral characters, and COPY's own `\N` marker spelled out.
awkward_text = st.text(
    alphabet=st.sampled_from(['\\', '"', "\t", "\n", "\r", "\x01", "\x1f", "\x7f", "a", " ", "é", "😀",
                              "\u2028", "N", ",", ":", "[", "]"]),
    max_size=12,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | awkward_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(awkward_text, children, max_size=3),
    max_leaves=8,
)


def reference_rows() -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(REFERENCE_SQL)
        rows = cursor.fetchall()
    return [(*row[:13], orjson.loads(row[13]), *row[14:]) for row in rows]


@hypothesis_settings
@given(reason=awkward_text, target_name=awkward_text, details=st.dictionaries(awkward_text, json_values, max_size=4))
def test_copy_stream_rows_equal_cursor_rows(reason: str, target_name: str, details: dict[str, Any]) -> None:
    record_event(team=None, actor=Actor.system("system"), origin=Origin.task(), event_type="auth.login_failed", reason=reason,
                 target_name=target_name, details=details)
    streamed = list(selectors.verification_rows(selectors.Chain(team=None)))
    assert streamed == reference_rows()
    result = domain.verify_chain(streamed, head=selectors.chain_head(selectors.Chain(team=None)))
    assert result.as_dict() == {"valid": True, "checked": len(streamed), "first_break": None}


def test_a_break_stops_the_stream_and_leaves_the_callers_transaction_usable(
    people: AuditPersonas, tamper: Any
) -> None:
    for step in range(1, 6):
        record_event(team=people.team, actor=Actor.system("system"), origin=Origin.task(), event_type="team.updated", details={"step": step})
    assert tamper("UPDATE audit_auditentry SET reason = 'rewritten' WHERE team_id = %s AND sequence = 2",
                  [people.team.pk]) == 1
    # The test runs inside a transaction: verify nests in it, stops reading after the break
    # (psycopg cancels the rest of the COPY), and the transaction carries on.
    result = selectors.verify(selectors.Chain(people.team))
    assert result.as_dict() == {"valid": False, "checked": 1, "first_break": {"seq": 2, "reason": "edited"}}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_auditentry WHERE team_id = %s", [people.team.pk])
        assert cursor.fetchone() == (5,)
