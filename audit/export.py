"""Streaming exports of audit entries as JSON, NDJSON or CSV, at flat memory.

Rows come from a server-side cursor in chunks, already converted to text by
PostgreSQL (times, ids, the details JSON), and are written out chunk by chunk.
Entries are exported oldest first, with every hashed field plus `prev_hash`
and `hash`, so an NDJSON or JSON export can be re-verified offline with
`audit.domain.verify_chain` (see docs/audit.md).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any, Final

import orjson
from django.db.models import F, Func, QuerySet, TextField
from django.db.models.functions import Cast

from audit.models import AuditEntry

FORMATS: Final = {
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
}
COLUMNS: Final = (
    "id",
    "team_id",
    "sequence",
    "occurred_at",
    "actor_id",
    "actor_name",
    "actor_type",
    "event_type",
    "target_type",
    "target_id",
    "target_name",
    "execution_id",
    "reason",
    "details",
    "ip_address",
    "user_agent",
    "prev_hash",
    "hash",
)
_DETAILS: Final = COLUMNS.index("details")
CHUNK_ROWS: Final = 2000

# A spreadsheet treats a cell starting with one of these as a formula.
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")

_UTC_TIME_TEMPLATE: Final = (
    "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
)


def export_rows(queryset: QuerySet[AuditEntry]) -> Iterator[tuple[Any, ...]]:
    """Rows in `COLUMNS` order, as text where PostgreSQL can convert cheaply, oldest first."""
    text = TextField()
    rows = (
        queryset.order_by()
        .annotate(
            export_id=Cast("id", text),
            export_team=Cast("team_id", text),
            export_time=Func(F("occurred_at"), template=_UTC_TIME_TEMPLATE, output_field=text),
            export_execution=Cast("execution_id", text),
            export_details=Cast("details", text),
            export_ip=Func(F("ip_address"), function="host", output_field=text),
        )
        .order_by("occurred_at", "sequence")
        .values_list(
            "export_id", "export_team", "sequence", "export_time", "actor_id", "actor_name", "actor_type",
            "event_type", "target_type", "target_id", "target_name", "export_execution", "reason",
            "export_details", "export_ip", "user_agent", "prev_hash", "hash",
        )
    )
    return rows.iterator(chunk_size=CHUNK_ROWS)


def _chunks(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _as_object(row: tuple[Any, ...]) -> dict[str, Any]:
    record = dict(zip(COLUMNS, row, strict=True))
    # The details arrive as jsonb text: pass them through without parsing.
    record["details"] = orjson.Fragment(row[_DETAILS] or "{}")
    return record


def ndjson_stream(rows: Iterable[tuple[Any, ...]]) -> Iterator[bytes]:
    dumps = orjson.dumps
    for chunk in _chunks(rows):
        yield b"".join(dumps(_as_object(row)) + b"\n" for row in chunk)


def json_stream(rows: Iterable[tuple[Any, ...]]) -> Iterator[bytes]:
    dumps = orjson.dumps
    yield b"["
    first = True
    for chunk in _chunks(rows):
        body = b",\n".join(dumps(_as_object(row)) for row in chunk)
        yield (b"\n" if first else b",\n") + body
        first = False
    yield b"\n]\n" if not first else b"]\n"


def neutralize_cell(value: Any) -> Any:
    """Prefix a text cell a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_stream(rows: Iterable[tuple[Any, ...]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for chunk in _chunks(rows):
        writer.writerows([neutralize_cell(cell) for cell in row] for row in chunk)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        # No rows: the header alone.
        yield buffer.getvalue().encode("utf-8")


STREAMS: Final = {"json": json_stream, "ndjson": ndjson_stream, "csv": csv_stream}


def stream(rows: Iterable[tuple[Any, ...]], export_format: str) -> Iterator[bytes]:
    return STREAMS[export_format](rows)
