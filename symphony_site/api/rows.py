"""Read-only list rows as plain dictionaries, in exactly the shape the DRF serializers give.

A list page of 50 rows through ModelSerializers built ~250 model instances and ran a field
object per value (≈ 30 ms of a 48 ms workflows list, docs/operations.md "Load figures"). The
lists instead read `.values()` rows and shape them with plain functions; the serializers stay
the schema's description of the same shape, and tests compare both outputs row for row
(tests/api/test_list_rows.py). These helpers render each value as the DRF field would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from rest_framework.settings import api_settings

Stamp = Callable[[dt.datetime | None], str | None]


def timestamp(value: dt.datetime | None) -> str | None:
    """As DRF's DateTimeField renders it: in the current time zone, with DATETIME_FORMAT."""
    return timestamps()(value)


def timestamps() -> Stamp:
    """`timestamp` with the current time zone and DATETIME_FORMAT looked up once, for a page of rows:
    under ASGI the current time zone is a context-local, a dozen Python calls to read, and a page of
    50 rows formats 150-200 times (docs/operations.md, "Sixth session")."""
    zone = timezone.get_current_timezone()
    output_format = api_settings.DATETIME_FORMAT

    def stamp(value: dt.datetime | None) -> str | None:
        return None if value is None else value.astimezone(zone).strftime(output_format)

    return stamp


def text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
