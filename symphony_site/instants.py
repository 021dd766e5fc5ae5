"""Moments typed by people and clients (query parameters, command options), read one way.

ISO 8601 allows UTC offsets up to ±24:00 and Python's `datetime` takes them; PostgreSQL refuses
any past ±15:59 (`?started_after=…-20:33` was a 500). A moment is therefore turned into UTC here,
before any query sees it; one that leaves the years 1 to 9999 on the way is refused like text
that is no time at all. A value with no offset is taken as UTC.
"""

from __future__ import annotations

import datetime as dt

from django.utils.dateparse import parse_date, parse_datetime


class NotAMoment(ValueError):
    """The text is no ISO 8601 time (or date, where dates are allowed); `str()` says why."""


def parse_moment(raw: str, *, dates: bool = False) -> dt.datetime:
    """`raw` as an aware datetime in UTC. With `dates`, a bare date is its midnight (UTC)."""
    try:
        moment = parse_datetime(raw)
        if moment is None and dates:
            day = parse_date(raw)
            if day is not None:
                moment = dt.datetime.combine(day, dt.time.min)
    except ValueError:  # well formed but impossible, e.g. month 13 or 25 o'clock
        moment = None
    if moment is None:
        raise NotAMoment("not an ISO 8601 date or time, e.g. 2026-11-21T09:30:00Z" if dates
                         else "not an ISO 8601 time")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01T00:00-01:00 is before year 1 in UTC
        raise NotAMoment("outside the years 1 to 9999 once in UTC") from None
