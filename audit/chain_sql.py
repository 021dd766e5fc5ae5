"""The audit hash as a PostgreSQL expression: one builder for the append and the verifier.

`domain.entry_hash` defines the hash; this module writes the same computation
in SQL so PostgreSQL can do it next to the data. The append (`services`) uses
it with the fields from `actor_id` on already encoded by orjson and passed as
one parameter; the verifier (`verification`) uses it with those fields
encoded from the stored columns. Both share `entry_hash_sql`, so the prefix,
the array's layout and the time format exist once.

Encoding the stored columns in SQL matches orjson exactly for what the writer
produces: PostgreSQL's JSON string escaping (`to_json`, `array_to_json`, jsonb
output) is byte for byte orjson's (`\\"`, `\\\\`, `\\b \\f \\n \\r \\t`, other
control characters as lowercase `\\u00xx`, everything else raw UTF-8), and
`COLLATE "C"` orders object keys by code point as `OPT_SORT_KEYS` does.
Where SQL cannot be sure to match — details that are not a flat object of
strings, booleans, nulls and integers (floats print differently, nesting
would need recursion) — `stored_entry_hash_sql` yields NULL, and the
verifier hashes those rows in Python instead.
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


# The details object as orjson writes it (compact, keys sorted by code point), or NULL when a
# value is not a string, boolean, null or an integer PostgreSQL prints exactly as orjson does
# (numeric text without a point, at most 17 digits: inside int64; jsonb never prints exponents).
_FLAT_DETAILS_JSON = """CASE WHEN jsonb_typeof({details}) = 'object' THEN (
    SELECT '{{' || coalesce(string_agg(to_json(key)::text || ':' || value::text, ',' ORDER BY key COLLATE "C"), '')
           || '}}'
           || CASE WHEN coalesce(bool_and(
                  jsonb_typeof(value) IN ('string', 'boolean', 'null')
                  OR (jsonb_typeof(value) = 'number' AND strpos(value::text, '.') = 0
                      AND length(value::text) <= 18)), true) THEN '' END
    FROM jsonb_each({details})) END"""


def stored_entry_hash_sql(table: str = "") -> str:
    """SQL recomputing a stored row's hash from its columns (NULL where SQL cannot be sure).

    `table` qualifies the columns (`"entry."`); the encoding of each column is
    the one the verifier's Python path reads (`selectors` fetches the same
    expressions), so the two agree wherever this is not NULL.
    """
    column = table.__add__
    strings = ", ".join(column(name) for name in (
        "actor_name", "actor_type", "event_type", "target_type", "target_id", "target_name",
    ))
    # array_to_json writes '["a","b",null]': the same escaping as orjson, commas and all.
    middle = f"array_to_json(ARRAY[{strings}, {column('execution_id')}::text, {column('reason')}])::text"
    tail = f"array_to_json(ARRAY[host({column('ip_address')}), {column('user_agent')}])::text"
    rest_json = (
        f"coalesce({column('actor_id')}::text, 'null') || ',' || btrim({middle}, '[]') || ',' "
        f"|| {_FLAT_DETAILS_JSON.format(details=column('details'))} || ',' || substr({tail}, 2)"
    )
    return entry_hash_sql(
        prev_hash=column("prev_hash"),
        team_json=f"""coalesce('"' || {column('team_id')}::text || '"', 'null')""",
        sequence=column("sequence"),
        time_text=time_text_sql(column("occurred_at")),
        rest_json=rest_json,
    )
