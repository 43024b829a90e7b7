"""When a scheduled job runs next: pure functions of an instant, a cadence and the society's time zone.

Local times are the society's wall-clock times. On a day a zone skips the hour (spring forward), a time in the gap
runs at the same offset as before the change (an hour later on the clock); on a day a zone repeats an hour, the
job runs at the first of the two. Either way it runs once that day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared_billing.protocol import ScheduleCadence

__all__ = [
    "LATEST_DAY_OF_MONTH",
    "Cadence",
    "next_daily",
    "next_interval",
    "next_monthly",
    "next_run",
    "parse_local_time",
    "previous_month",
]

LATEST_DAY_OF_MONTH = 28  # every month has it, February included
_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class Cadence:
    """A job's cadence; only the fields of its kind are read (``day_of_month`` monthly, ``at`` monthly and daily,
    ``every_minutes`` interval)."""

    kind: ScheduleCadence
    day_of_month: int | None = None
    at: time | None = None
    every_minutes: float | None = None


def parse_local_time(text: str) -> time:
    """``"HH:MM"`` (24-hour) as a time; ValueError otherwise."""
    match = _HH_MM.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time written HH:MM (00:00 to 23:59)")
    return time(int(match.group(1)), int(match.group(2)))


def _at(day: date, at: time, tz: ZoneInfo) -> datetime:
    # fold=0: in a repeated hour the first occurrence; in a skipped hour the offset from before the change.
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def next_daily(after: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The first instant strictly after ``after`` that is ``at`` o'clock in ``tz``, in UTC."""
    today = after.astimezone(tz).date()
    for offset in range(3):  # today, tomorrow; a third day only if a zone change swallowed tomorrow's
        candidate = _at(today + timedelta(days=offset), at, tz)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a local time recurs within three days")


def _month_after(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def next_monthly(after: datetime, day_of_month: int, at: time, tz: ZoneInfo) -> datetime:
    """The first instant strictly after ``after`` that is day ``day_of_month`` (1–28) at ``at`` in ``tz``, in UTC."""
    if not 1 <= day_of_month <= LATEST_DAY_OF_MONTH:
        raise ValueError(f"day of month {day_of_month} is not within 1..{LATEST_DAY_OF_MONTH}")
    local = after.astimezone(tz)
    year, month = local.year, local.month
    for _ in range(2):  # this month's day if still ahead, otherwise next month's
        candidate = _at(date(year, month, day_of_month), at, tz)
        if candidate > after:
            return candidate
        year, month = _month_after(year, month)
    raise AssertionError("unreachable: next month's day is always ahead")


def next_interval(after: datetime, every_minutes: float) -> datetime:
    """``every_minutes`` after ``after`` (elapsed time: no calendar, no zone)."""
    if every_minutes <= 0:
        raise ValueError("an interval is a positive number of minutes")
    return after.astimezone(UTC) + timedelta(minutes=every_minutes)


def next_run(cadence: Cadence, after: datetime, tz: ZoneInfo) -> datetime:
    """The next run strictly after ``after`` for ``cadence``, in UTC. A job that missed several runs (a server
    down for months) is due once, then moves on from its run: missed runs are not made up one by one."""
    if cadence.kind == ScheduleCadence.INTERVAL:
        if cadence.every_minutes is None:
            raise ValueError("an interval cadence needs every_minutes")
        return next_interval(after, cadence.every_minutes)
    if cadence.at is None:
        raise ValueError(f"a {cadence.kind} cadence needs a local time")
    if cadence.kind == ScheduleCadence.DAILY:
        return next_daily(after, cadence.at, tz)
    if cadence.day_of_month is None:
        raise ValueError("a monthly cadence needs a day of the month")
    return next_monthly(after, cadence.day_of_month, cadence.at, tz)


def previous_month(instant: datetime, tz: ZoneInfo) -> str:
    """The calendar month before ``instant``'s month in ``tz``, written YYYY-MM (the period a month-start run
    bills: its readings are in)."""
    first = instant.astimezone(tz).date().replace(day=1)
    last_month = first - timedelta(days=1)
    return f"{last_month.year:04d}-{last_month.month:02d}"
