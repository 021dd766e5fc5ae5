"""Streaming exports of audit entries as JSON, NDJSON or CSV, at flat memory.

PostgreSQL does the per-row work in C: CSV comes straight out of `COPY ... TO
STDOUT` and each JSON line out of `json_build_object`, and Python only passes
blocks of bytes along, so memory stays flat and throughput close to COPY's at
any size. Entries are exported oldest first with every hashed field plus
`prev_hash` and `hash`, so a JSON or NDJSON export can be re-verified offline
with `audit.domain.verify_chain` (see docs/audit.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from audit.domain import HASHED_FIELDS
from audit.models import AuditEntry

FORMATS: Final = {
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
}
COLUMNS: Final = ("id", *HASHED_FIELDS, "prev_hash", "hash")
# Free text a user or a client chose; a spreadsheet runs a cell starting with = + - @ tab or CR
# as a formula, so such cells get a leading apostrophe.
FREE_TEXT_COLUMNS: Final = frozenset({"actor_name", "target_type", "target_id", "target_name", "reason", "user_agent"})
FETCH_ROWS: Final = 2000
BLOCK_BYTES: Final = 256 * 1024

_UTC_TIME = "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
_EXPRESSIONS: Final = {
    "id": "id::text",
    "team_id": "team_id::text",
    "occurred_at": _UTC_TIME,
    "execution_id": "execution_id::text",
    "details": "details",
    "ip_address": "host(ip_address)",
}


def _expression(column: str) -> str:
    return _EXPRESSIONS.get(column, column)


def _neutralised(column: str) -> str:
    return (
        f"CASE WHEN left({column}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
        f"THEN '''' || {column} ELSE {column} END"
    )


def _ordered(queryset: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
    return queryset.order_by("occurred_at", "sequence")


def csv_stream(queryset: QuerySet[AuditEntry]) -> Iterator[bytes]:
    """A header line, then the rows from COPY, in blocks of about `BLOCK_BYTES`."""
    annotations = {
        f"export_{column}": RawSQL(
            _neutralised(column) if column in FREE_TEXT_COLUMNS else _expression(column), []
        )
        for column in COLUMNS
    }
    select = _ordered(queryset).annotate(**annotations).values_list(*annotations)
    sql, params = select.query.sql_with_params()
    yield (",".join(COLUMNS) + "\n").encode()
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
        block: list[bytes] = []
        size = 0
        for data in copy:
            block.append(bytes(data))
            size += len(data)
            if size >= BLOCK_BYTES:
                yield b"".join(block)
                block, size = [], 0
        if block:
            yield b"".join(block)


def _json_lines(queryset: QuerySet[AuditEntry]) -> Iterator[list[str]]:
    pairs = ", ".join(f"'{column}', {_expression(column)}" for column in COLUMNS)
    select = _ordered(queryset).annotate(export_line=RawSQL(f"json_build_object({pairs})::text", []))
    lines = select.values_list("export_line", flat=True).iterator(chunk_size=FETCH_ROWS)
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= FETCH_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def ndjson_stream(queryset: QuerySet[AuditEntry]) -> Iterator[bytes]:
    for chunk in _json_lines(queryset):
        yield ("\n".join(chunk) + "\n").encode()


def json_stream(queryset: QuerySet[AuditEntry]) -> Iterator[bytes]:
    yield b"["
    separator = "\n"
    for chunk in _json_lines(queryset):
        yield (separator + ",\n".join(chunk)).encode()
        separator = ",\n"
    yield b"\n]\n" if separator != "\n" else b"]\n"


STREAMS: Final = {"json": json_stream, "ndjson": ndjson_stream, "csv": csv_stream}


def stream(queryset: QuerySet[AuditEntry], export_format: str) -> Iterator[bytes]:
    """The export of `queryset` (any filters applied) in `export_format`, oldest first."""
    return STREAMS[export_format](queryset)
