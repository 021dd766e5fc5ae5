"""The audit hash and time format as PostgreSQL expressions, shared by the append and the verifier.

`domain.entry_hash` defines the hash; `entry_hash_sql` writes the same
computation in SQL so the single-statement append (`services`) can hash in
PostgreSQL around the parts only the database knows. `time_text_sql` is
`domain.format_time` in SQL, used by the append and by the verifier's row
stream (`selectors.verification_rows`), so the time format exists once.

Recomputing every stored hash in SQL was evaluated for verification and not
adopted: see "Verification" in docs/audit.md for the measurements.
"""

from __future__ import annotations

from typing import Final

from audit import domain


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


HASH_PREFIX_SQL: Final = _sql_literal(domain.HASH_PREFIX.decode())


def time_text_sql(column: str) -> str:
    """`domain.format_time` in SQL: ISO 8601 UTC with microseconds and a `Z`."""
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def entry_hash_sql(*, prev_hash: str, team_json: str, sequence: str, time_text: str, rest_json: str) -> str:
    """SQL for `domain.entry_hash`: hex SHA-256 of the prefix and the canonical array.

    Arguments are SQL expressions: `prev_hash` the 64 hex characters,
    `team_json` the team id as a JSON value (`"<uuid>"` or `null`), `sequence`
    an integer, `time_text` as `time_text_sql` writes it, and `rest_json` the
    canonical encoding of the fields from `actor_id` on, with the array's
    closing bracket: `7,"ada",…,"pytest"]`. None of the first four needs JSON
    escaping, so they are spliced in as text.
    """
    return (
        f"""encode(sha256(convert_to({HASH_PREFIX_SQL} || '["' || {prev_hash} || '",' || {team_json} """
        f"""|| ',' || {sequence} || ',"' || {time_text} || '",' || {rest_json}, 'UTF8')), 'hex')"""
    )
