"""The calendar rules of scheduled jobs: the next run after an instant, in the society's zone, returned in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from shared_billing.protocol import ScheduleCadence
from sync_server.scheduling.calendar import (
    Cadence,
    next_daily,
    next_interval,
    next_monthly,
    next_run,
    parse_local_time,
    previous_month,
)

INDIA = ZoneInfo("Asia/Kolkata")
LONDON = ZoneInfo("Europe/London")
HALF_PAST_MIDNIGHT = time(0, 30)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_monthly_run_on_the_first_is_the_evening_before_in_utc() -> None:
    # 2026-12-01 00:30 IST is 2026-11-30 19:00 UTC.
    assert next_monthly(utc(2026, 11, 15, 0, 0), 1, HALF_PAST_MIDNIGHT, INDIA) == utc(2026, 11, 30, 19, 0)
    assert next_monthly(utc(2026, 11, 30, 18, 59), 1, HALF_PAST_MIDNIGHT, INDIA) == utc(2026, 11, 30, 19, 0)


def test_monthly_run_is_strictly_after_the_instant() -> None:
    # At the run's own instant the next one is a month on (a job that just ran is not due again).
    assert next_monthly(utc(2026, 11, 30, 19, 0), 1, HALF_PAST_MIDNIGHT, INDIA) == utc(2026, 12, 31, 19, 0)


def test_monthly_run_after_the_31st_february_and_year_end() -> None:
    # From 31 January the 28th comes in February; from the 28th of February, March's.
    assert next_monthly(utc(2027, 1, 31, 12, 0), 28, time(9, 0), INDIA) == utc(2027, 2, 28, 3, 30)
    assert next_monthly(utc(2027, 2, 28, 4, 0), 28, time(9, 0), INDIA) == utc(2027, 3, 28, 3, 30)
    # Past December's day: January of the next year.
    assert next_monthly(utc(2026, 12, 31, 20, 0), 1, HALF_PAST_MIDNIGHT, INDIA) == utc(2027, 1, 31, 19, 0)
    assert next_monthly(utc(2026, 12, 20, 0, 0), 15, time(10, 0), INDIA) == utc(2027, 1, 15, 4, 30)


def test_monthly_day_must_exist_every_month() -> None:
    with pytest.raises(ValueError, match=r"1\.\.28"):
        next_monthly(utc(2026, 1, 1), 29, HALF_PAST_MIDNIGHT, INDIA)


def test_daily_run_today_or_tomorrow() -> None:
    assert next_daily(utc(2026, 12, 1, 20, 0), time(2, 0), INDIA) == utc(2026, 12, 1, 20, 30)
    assert next_daily(utc(2026, 12, 1, 20, 30), time(2, 0), INDIA) == utc(2026, 12, 2, 20, 30)
    assert next_daily(utc(2026, 12, 31, 21, 0), time(2, 0), INDIA) == utc(2027, 1, 1, 20, 30)


def test_daily_run_follows_local_time_across_summer_time() -> None:
    # London: 02:00 local is 02:00 UTC in winter and 01:00 UTC in summer (clocks go forward on 29 March 2026).
    assert next_daily(utc(2026, 3, 27, 12, 0), time(2, 0), LONDON) == utc(2026, 3, 28, 2, 0)
    assert next_daily(utc(2026, 3, 29, 12, 0), time(2, 0), LONDON) == utc(2026, 3, 30, 1, 0)
    # Back on 25 October 2026.
    assert next_daily(utc(2026, 10, 24, 12, 0), time(2, 0), LONDON) == utc(2026, 10, 25, 2, 0)


def test_a_time_in_the_skipped_hour_runs_once_that_day() -> None:
    # 01:30 does not exist in London on 29 March 2026: it runs at 01:30 UTC (02:30 BST), once.
    first = next_daily(utc(2026, 3, 28, 12, 0), time(1, 30), LONDON)
    assert first == utc(2026, 3, 29, 1, 30)
    assert next_daily(first, time(1, 30), LONDON) == utc(2026, 3, 30, 0, 30)


def test_a_time_in_the_repeated_hour_runs_once_that_day() -> None:
    # 01:30 happens twice in London on 25 October 2026 (BST, then GMT): the first one, and not again that day.
    first = next_daily(utc(2026, 10, 24, 12, 0), time(1, 30), LONDON)
    assert first == utc(2026, 10, 25, 0, 30)
    assert next_daily(first, time(1, 30), LONDON) == utc(2026, 10, 26, 1, 30)


def test_monthly_run_in_a_summer_time_zone() -> None:
    # The first of April is in summer time, the first of March is not.
    assert next_monthly(utc(2026, 2, 15), 1, HALF_PAST_MIDNIGHT, LONDON) == utc(2026, 3, 1, 0, 30)
    assert next_monthly(utc(2026, 3, 15), 1, HALF_PAST_MIDNIGHT, LONDON) == utc(2026, 3, 31, 23, 30)


def test_interval_and_the_dispatch() -> None:
    start = utc(2026, 12, 1, 10, 0)
    assert next_interval(start, 90) == utc(2026, 12, 1, 11, 30)
    assert next_run(Cadence(ScheduleCadence.INTERVAL, every_minutes=0.5), start, INDIA) == utc(2026, 12, 1, 10, 0, 30)
    assert next_run(Cadence(ScheduleCadence.DAILY, at=time(2, 0)), start, INDIA) == utc(2026, 12, 1, 20, 30)
    monthly = Cadence(ScheduleCadence.MONTHLY, day_of_month=1, at=HALF_PAST_MIDNIGHT)
    assert next_run(monthly, start, INDIA) == utc(2026, 12, 31, 19, 0)
    with pytest.raises(ValueError, match="positive"):
        next_interval(start, 0)
    with pytest.raises(ValueError, match="day of the month"):
        next_run(Cadence(ScheduleCadence.MONTHLY, at=HALF_PAST_MIDNIGHT), start, INDIA)


def test_a_job_missed_for_months_is_due_once() -> None:
    # The server was down from October to March: after the run in March, the next is April's, not November's.
    monthly = Cadence(ScheduleCadence.MONTHLY, day_of_month=1, at=HALF_PAST_MIDNIGHT)
    ran_at = utc(2027, 3, 10, 8, 0)
    assert next_run(monthly, ran_at, INDIA) == utc(2027, 3, 31, 19, 0)


def test_previous_month_is_the_local_one() -> None:
    assert previous_month(utc(2026, 11, 30, 19, 0), INDIA) == "2026-11"  # 1 December in India
    assert previous_month(utc(2026, 11, 30, 18, 29), INDIA) == "2026-10"  # still 30 November there
    assert previous_month(utc(2026, 12, 31, 19, 0), INDIA) == "2026-12"
    assert previous_month(utc(2027, 1, 15), INDIA) == "2026-12"


@pytest.mark.parametrize("text", ["24:00", "7:30", "07:60", "0730", "", "07:30:00"])
def test_local_times_are_hh_mm(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_local_time(text)
    assert parse_local_time("23:59") == time(23, 59)
