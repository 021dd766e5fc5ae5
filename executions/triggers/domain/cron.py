"""When a schedule is due: cron expressions read on the wall clock of a time zone.

Pure Python (croniter and zoneinfo, no Django). The rules, also in docs/triggers.md:

* An expression has five fields (minute precision) or six with the seconds first
  (`*/5 * * * * *`: every five seconds); `@hourly`, `@daily`, … are accepted.
* It matches wall-clock times in the schedule's zone. A matching wall-clock time that
  happens twice (the hour repeated when clocks go back) fires once, at its first
  occurrence. One that never happens (skipped when clocks go forward) fires at the
  instant the clock would have shown it without the change, which reads as the same
  time plus the gap (02:30 → 03:30 on a one-hour spring-forward day); when that instant
  is also a matching time of its own, it fires once.
* Due times are strictly increasing instants in UTC, so a due time is never fired twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import croniter

# A schedule that matches nothing for this long (`0 0 30 2 *`) is refused.
SEARCH_LIMIT = dt.timedelta(days=366 * 5)
MAX_EXPRESSION_LENGTH = 120


class CronError(ValueError):
    """An expression or zone that cannot be used; the message says why."""


class CatchUp(StrEnum):
    """What a schedule does with due times missed while nothing ticked (downtime)."""

    SKIP = "skip"  # missed runs are dropped; the schedule resumes at its next due time
    ONCE = "once"  # one run stands for all the missed ones (for the latest)
    ALL = "all"  # every missed due time runs, oldest first


@dataclass(frozen=True, slots=True)
class Cron:
    expression: str
    zone: ZoneInfo
    with_seconds: bool

    def matches_after(self, local: dt.datetime) -> Iterator[dt.datetime]:
        """Naive wall-clock times matching the expression, strictly after `local` (naive)."""
        iterator = croniter(self.expression, local, ret_type=dt.datetime,
                            second_at_beginning=self.with_seconds)
        while True:
            yield iterator.get_next(dt.datetime)


def zone_of(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name or len(name) > 64:
        raise CronError("timezone is an IANA zone name such as Europe/Paris or UTC.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"Unknown time zone {name!r}; use an IANA name such as Europe/Paris or UTC.") from None


def known_zones() -> list[str]:
    return sorted(available_timezones())


def parse(expression: str, zone_name: str) -> Cron:
    """A checked expression in a zone, or CronError."""
    zone = zone_of(zone_name)
    if not isinstance(expression, str) or not expression.strip():
        raise CronError("cron is a cron expression such as '0 9 * * 1-5' (five fields, or six with "
                        "the seconds first).")
    text = " ".join(expression.split())
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise CronError(f"cron is at most {MAX_EXPRESSION_LENGTH} characters.")
    fields = text.split(" ")
    if not text.startswith("@") and len(fields) not in (5, 6):
        raise CronError(f"cron has {len(fields)} fields; use five (minute hour day month weekday) "
                        "or six with the seconds first.")
    with_seconds = len(fields) == 6
    if not croniter.is_valid(text, second_at_beginning=with_seconds):
        raise CronError(f"{text!r} is not a valid cron expression.")
    cron = Cron(expression=text, zone=zone, with_seconds=with_seconds)
    try:
        next_due(cron, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    except CronError:
        raise
    except (ValueError, KeyError, OverflowError) as error:
        raise CronError(f"{text!r} cannot be scheduled: {error}") from None
    return cron


def _instant(local: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of a naive wall-clock time: its first occurrence when it happens twice
    (fold=0), the pre-change offset when it does not happen at all (PEP 495)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)


def _repeated(local: dt.datetime, zone: ZoneInfo) -> bool:
    return local.replace(tzinfo=zone, fold=0).utcoffset() != local.replace(tzinfo=zone, fold=1).utcoffset()


def _end_of_repeat(local: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The first wall-clock time after `local` (inside a repeated hour's second pass) that
    happens once: every wall time before it maps onto the first pass, already gone. Found by
    bisection within one offset change, so a per-second schedule does not walk the hour."""
    first, second = local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1)
    low, high = local, local + abs((first.utcoffset() or dt.timedelta()) - (second.utcoffset() or dt.timedelta()))
    while high - low > dt.timedelta(microseconds=1):
        middle = low + (high - low) / 2
        if _repeated(middle, zone):
            low = middle
        else:
            high = middle
    return high


def next_due(cron: Cron, after: dt.datetime) -> dt.datetime:
    """The first due instant (UTC) strictly after `after` (an aware time)."""
    if after.tzinfo is None:
        raise ValueError("`after` must be an aware datetime")
    # Wall-clock times map onto instants in order (a repeated hour maps onto its first pass, a
    # skipped one past the gap), so no wall time before `after`'s own can be due after it. In
    # a repeated hour's second pass the first candidates map back onto the first pass and are
    # passed over by the loop.
    here = after.astimezone(cron.zone)
    local = here.replace(tzinfo=None, fold=0)
    if here.fold == 1:
        local = _end_of_repeat(local, cron.zone)
    local -= dt.timedelta(microseconds=1)
    limit = after + SEARCH_LIMIT
    for candidate in cron.matches_after(local):
        instant = _instant(candidate, cron.zone)
        if instant > after:
            return instant
        if instant > limit:
            break
    raise CronError(f"{cron.expression!r} never comes due.")


def due_between(cron: Cron, first: dt.datetime, until: dt.datetime, *, limit: int) -> list[dt.datetime]:
    """Due instants from `first` (itself a due time) up to and including `until`, at most `limit`."""
    found: list[dt.datetime] = []
    moment = first
    while moment <= until and len(found) < limit:
        found.append(moment)
        moment = next_due(cron, moment)
    return found


def latest_due(cron: Cron, *, now: dt.datetime, not_before: dt.datetime) -> dt.datetime:
    """The last due instant at or before `now`, given that `not_before` (at or before `now`)
    is a due instant. Searches back from `now` in doubling windows, so a long downtime costs
    a few steps rather than one per missed due time."""
    window = dt.timedelta(seconds=1)
    while True:
        start = max(now - window, not_before)
        found = next_due(cron, start - dt.timedelta(microseconds=1))
        if found <= now:
            while True:
                following = next_due(cron, found)
                if following > now:
                    return found
                found = following
        if start <= not_before:
            return not_before
        window *= 2


@dataclass(frozen=True, slots=True)
class Plan:
    """What one claim does for one schedule: fire `fire` (a due time, or None) and move the
    schedule's next run to `next_run_at`; `skipped` says whether missed due times were dropped."""

    fire: dt.datetime | None
    next_run_at: dt.datetime
    skipped: bool


def plan_tick(cron: Cron, *, due: dt.datetime, now: dt.datetime, policy: CatchUp,
              grace: dt.timedelta) -> Plan:
    """Decide for a schedule whose stored next run `due` is at or before `now`.

    A due time no older than `grace` is on time and fires under every policy. Older ones
    were missed (nothing ticked): `all` fires the oldest (the next claim takes the one
    after), `once` fires the latest missed one and drops the rest, `skip` drops them all —
    except that under both a due time that is on time still fires.
    """
    if now - due <= grace or policy is CatchUp.ALL:
        return Plan(fire=due, next_run_at=next_due(cron, due), skipped=False)
    latest = latest_due(cron, now=now, not_before=due)
    after_now = next_due(cron, latest)
    if now - latest <= grace or policy is CatchUp.ONCE:
        return Plan(fire=latest, next_run_at=after_now, skipped=latest != due)
    return Plan(fire=None, next_run_at=after_now, skipped=True)
