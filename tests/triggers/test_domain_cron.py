"""Cron due times on a zone's wall clock: DST both ways, seconds, catch-up plans. No database."""

from __future__ import annotations

import datetime as dt

import pytest

from executions.triggers.domain.cron import (
    CatchUp,
    CronError,
    Plan,
    latest_due,
    next_due,
    parse,
    plan_tick,
)

UTC = dt.UTC
GRACE = dt.timedelta(seconds=60)


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


def series(expression: str, zone: str, start: dt.datetime, count: int) -> list[dt.datetime]:
    cron, moment, found = parse(expression, zone), start, []
    for _ in range(count):
        moment = next_due(cron, moment)
        found.append(moment)
    return found


def test_a_0230_daily_schedule_on_the_spring_forward_day_fires_once_at_0330_new_time() -> None:
    # New York, 2026-03-08: 02:00 EST becomes 03:00 EDT; 02:30 never happens on the clock.
    due = series("30 2 * * *", "America/New_York", at(2026, 3, 7, 12), 3)
    assert due == [at(2026, 3, 8, 7, 30), at(2026, 3, 9, 6, 30), at(2026, 3, 10, 6, 30)]
    assert due[0].astimezone(parse("* * * * *", "America/New_York").zone).strftime("%H:%M %Z") == "03:30 EDT"


def test_a_gap_time_and_the_real_time_it_lands_on_fire_once() -> None:
    # Every 15 minutes: 02:00-02:45 do not exist and land on 03:00-03:45, which fire anyway.
    due = series("*/15 * * * *", "America/New_York", at(2026, 3, 8, 6, 40), 6)
    assert due == [at(2026, 3, 8, 6, 45), at(2026, 3, 8, 7, 0), at(2026, 3, 8, 7, 15), at(2026, 3, 8, 7, 30),
                   at(2026, 3, 8, 7, 45), at(2026, 3, 8, 8, 0)]


def test_a_0130_daily_schedule_on_the_fall_back_day_fires_once_at_the_first_0130() -> None:
    # New York, 2026-11-01: 01:00-01:59 happens twice (EDT, then EST).
    due = series("30 1 * * *", "America/New_York", at(2026, 11, 1, 0), 2)
    assert due == [at(2026, 11, 1, 5, 30), at(2026, 11, 2, 6, 30)]
    # Asked from inside the second 01:xx (06:10 UTC = 01:10 EST), the next is the next day's.
    assert next_due(parse("30 1 * * *", "America/New_York"), at(2026, 11, 1, 6, 10)) == at(2026, 11, 2, 6, 30)


def test_an_hourly_schedule_skips_the_repeated_hour() -> None:
    due = series("0 * * * *", "America/New_York", at(2026, 11, 1, 3, 30), 4)
    # 00:00 EDT, 01:00 EDT, then 02:00 EST: the second 01:00 (06:00 UTC) does not fire.
    assert due == [at(2026, 11, 1, 4), at(2026, 11, 1, 5), at(2026, 11, 1, 7), at(2026, 11, 1, 8)]


def test_per_second_schedules_in_the_repeated_hour_jump_to_its_end() -> None:
    cron = parse("* * * * * *", "America/New_York")
    assert next_due(cron, at(2026, 11, 1, 6, 0, 1)) == at(2026, 11, 1, 7, 0, 0)


def test_six_fields_put_the_seconds_first_and_utc_is_plain() -> None:
    assert series("*/20 * * * * *", "UTC", at(2026, 1, 1, 0, 0, 5), 3) == [
        at(2026, 1, 1, 0, 0, 20), at(2026, 1, 1, 0, 0, 40), at(2026, 1, 1, 0, 1, 0)]
    assert series("@daily", "Europe/Paris", at(2026, 1, 1, 12), 1) == [at(2026, 1, 1, 23)]


@pytest.mark.parametrize(("expression", "zone", "message"), [
    ("* * *", "UTC", "cron has 3 fields"),
    ("61 * * * *", "UTC", "is not a valid cron expression"),
    ("0 0 30 2 *", "UTC", "cannot be scheduled"),
    ("", "UTC", "cron is a cron expression"),
    ("* * * * *", "Mars/Olympus", "Unknown time zone"),
    ("* * * * *", "", "IANA zone"),
])
def test_bad_expressions_and_zones_are_refused_with_a_reason(expression, zone, message) -> None:
    with pytest.raises(CronError) as refused:
        parse(expression, zone)
    assert message in str(refused.value)


EVERY_MINUTE = parse("* * * * *", "UTC")


@pytest.mark.parametrize("policy", list(CatchUp))
def test_an_on_time_due_time_fires_under_every_policy(policy) -> None:
    plan = plan_tick(EVERY_MINUTE, due=at(2026, 1, 1, 9, 0), now=at(2026, 1, 1, 9, 0, 30), policy=policy, grace=GRACE)
    assert plan == Plan(fire=at(2026, 1, 1, 9, 0), next_run_at=at(2026, 1, 1, 9, 1), skipped=False)


def test_after_downtime_all_fires_each_missed_due_time_oldest_first() -> None:
    plan = plan_tick(EVERY_MINUTE, due=at(2026, 1, 1, 9, 0), now=at(2026, 1, 1, 9, 10, 30), policy=CatchUp.ALL,
                     grace=GRACE)
    assert plan == Plan(fire=at(2026, 1, 1, 9, 0), next_run_at=at(2026, 1, 1, 9, 1), skipped=False)


def test_after_downtime_once_and_skip_fire_the_current_due_time_when_it_is_on_time() -> None:
    for policy in (CatchUp.ONCE, CatchUp.SKIP):
        plan = plan_tick(EVERY_MINUTE, due=at(2026, 1, 1, 9, 0), now=at(2026, 1, 1, 9, 10, 30), policy=policy,
                         grace=GRACE)
        assert plan == Plan(fire=at(2026, 1, 1, 9, 10), next_run_at=at(2026, 1, 1, 9, 11), skipped=True)


def test_after_downtime_once_fires_the_latest_missed_and_skip_fires_nothing() -> None:
    daily = parse("0 9 * * *", "Europe/Paris")
    once = plan_tick(daily, due=at(2026, 1, 1, 8), now=at(2026, 1, 4, 12), policy=CatchUp.ONCE, grace=GRACE)
    skip = plan_tick(daily, due=at(2026, 1, 1, 8), now=at(2026, 1, 4, 12), policy=CatchUp.SKIP, grace=GRACE)
    assert once == Plan(fire=at(2026, 1, 4, 8), next_run_at=at(2026, 1, 5, 8), skipped=True)
    assert skip == Plan(fire=None, next_run_at=at(2026, 1, 5, 8), skipped=True)


def test_a_day_of_per_second_downtime_is_planned_without_walking_every_second() -> None:
    cron = parse("* * * * * *", "UTC")
    assert latest_due(cron, now=at(2026, 1, 2, 0, 0, 0, 500000), not_before=at(2026, 1, 1)) == at(2026, 1, 2)
    plan = plan_tick(cron, due=at(2026, 1, 1), now=at(2026, 1, 2, 0, 0, 0, 500000), policy=CatchUp.ONCE, grace=GRACE)
    assert plan == Plan(fire=at(2026, 1, 2), next_run_at=at(2026, 1, 2, 0, 0, 1), skipped=True)
