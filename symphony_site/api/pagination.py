"""Keyset (cursor) pagination: `?limit=&cursor=` → `{"results": [...], "next": cursor|null}`.

The cursor is an opaque, URL-safe encoding of the last row's ordering values,
so a page costs an index range scan however deep it is, and rows inserted
meanwhile neither repeat nor vanish. It is signed (django.core.signing, with
the secret key): the values go into a query as they are, and a made-up cursor
(["x", "not-a-uuid"] for a UUID column) was a 500 where it must be a 400. A view declares `ordering` as a tuple of
field names (each optionally prefixed with "-"); the last one must be unique.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.core import signing
from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

from symphony_site.api.errors import ValidationFailed

MAX_LIMIT = 200
# A cursor is django.core.signing's "payload:signature", both URL-safe base64.
CURSOR_PATTERN = "^[A-Za-z0-9_:-]*$"
CURSOR_SALT = "symphony.api.cursor"


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return dt.datetime.fromisoformat(value["t"])
        if "u" in value:
            return uuid.UUID(value["u"])
        raise ValueError("unknown cursor value")
    return value


def encode_cursor(values: Sequence[Any], scope: str) -> str:
    """A signed cursor, valid only for the list `scope` names (a cursor of one ordering is no
    position in another)."""
    return signing.dumps([_encode_value(v) for v in values], salt=f"{CURSOR_SALT}:{scope}")


def decode_cursor(cursor: str, width: int, scope: str) -> list[Any]:
    try:
        if re.fullmatch(CURSOR_PATTERN, cursor) is None:
            raise ValueError("not a cursor")
        values = signing.loads(cursor, salt=f"{CURSOR_SALT}:{scope}")
        if not isinstance(values, list) or len(values) != width:
            raise ValueError("wrong width")
        return [_decode_value(v) for v in values]
    except (ValueError, TypeError, UnicodeDecodeError, signing.BadSignature):
        raise ValidationFailed(
            "The cursor is not valid; use the `next` value from a previous page.",
            details=[{"field": "cursor", "message": "invalid cursor", "code": "invalid"}],
        ) from None


def parse_limit(raw: str | None, default: int, *, maximum: int = MAX_LIMIT) -> int:
    """`default` when absent; "limit=" is no integer, so 400 like "limit=abc". ASCII digits only:
    `int()` alone would also read " 2", "+2", "1_0" and other scripts' digits (an Arabic-Indic
    four as 4), none of them the schema's integer."""
    if raw is None:
        return default
    limit = int(raw) if raw.isascii() and raw.isdigit() else 0
    if not 1 <= limit <= maximum:
        raise ValidationFailed(
            f"limit must be an integer from 1 to {maximum}.",
            details=[{"field": "limit", "message": f"between 1 and {maximum}", "code": "invalid"}],
        )
    return limit


def keyset_filter(ordering: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows strictly after `values` in `ordering`: (a > x) OR (a = x AND b > y) …"""
    condition = Q()
    for index, field in enumerate(ordering):
        name = field.lstrip("-")
        lookup = "lt" if field.startswith("-") else "gt"
        clause = Q(**{f"{name}__{lookup}": values[index]})
        for previous, prior_field in enumerate(ordering[:index]):
            clause &= Q(**{prior_field.lstrip("-"): values[previous]})
        condition |= clause
    return condition


def cursor_scope(model: Any, ordering: Sequence[str]) -> str:
    """What a cursor is valid for: the model's list in this ordering."""
    return f"{model._meta.label}:{','.join(ordering)}"


def paginate_queryset(
    queryset: QuerySet[Any], ordering: Sequence[str], *, limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    queryset = queryset.order_by(*ordering)
    scope = cursor_scope(queryset.model, ordering)
    if cursor:
        queryset = queryset.filter(keyset_filter(ordering, decode_cursor(cursor, len(ordering), scope)))
    rows = list(queryset[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([_attribute(last, field.lstrip("-")) for field in ordering], scope)
    return rows, next_cursor


def _attribute(obj: Any, path: str) -> Any:
    if isinstance(obj, dict):  # a `.values()` row, keyed by the ordering's field names
        return obj[path]
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj


def paginated_response(
    request: Request,
    queryset: QuerySet[Any],
    ordering: Sequence[str],
    serializer: Any,
    *,
    default_limit: int = 50,
    context: dict[str, Any] | None = None,
) -> Response:
    """One page of `queryset` from the request's `limit` and `cursor`, in the list shape."""
    limit = parse_limit(request.query_params.get("limit"), default_limit)
    rows, next_cursor = paginate_queryset(queryset, ordering, limit=limit, cursor=request.query_params.get("cursor"))
    return Response({"results": serializer(rows, many=True, context=context or {}).data, "next": next_cursor})


def paginated_rows_response(
    request: Request,
    rows: QuerySet[Any],
    ordering: Sequence[str],
    shape: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    *,
    default_limit: int = 50,
) -> Response:
    """One page of a `.values()` queryset (holding the ordering's fields), each row shaped by
    `shape` (symphony_site/api/rows.py), in the list shape."""
    limit = parse_limit(request.query_params.get("limit"), default_limit)
    page, next_cursor = paginate_queryset(rows, ordering, limit=limit, cursor=request.query_params.get("cursor"))
    return Response({"results": shape(page), "next": next_cursor})


class KeysetPagination(BasePagination):
    default_limit = 50

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> list[Any]:
        ordering = getattr(view, "ordering", None) or ("-pk",)
        if isinstance(ordering, str):
            ordering = (ordering,)
        limit = parse_limit(request.query_params.get("limit"), self.default_limit)
        rows, self.next_cursor = paginate_queryset(
            queryset, ordering, limit=limit, cursor=request.query_params.get("cursor")
        )
        return rows

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"results": data, "next": self.next_cursor})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "nullable": True, "description": "Cursor of the next page."},
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
            {"name": "cursor", "in": "query", "required": False,
             "schema": {"type": "string", "pattern": CURSOR_PATTERN}},
        ]


CURSOR_PARAMETERS = [
    OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                     description=f"Page size, 1 to {MAX_LIMIT}."),
    OpenApiParameter("cursor", {"type": "string", "pattern": CURSOR_PATTERN},
                     description="The `next` value of the previous page (opaque; anything else is 400)."),
]
