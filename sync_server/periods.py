"""Billing periods: the calendar month, in the society's time zone, that a reading's capture time falls in."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["financial_year", "month_days", "period_bounds", "period_of", "periods_ending", "previous_period"]


def period_of(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m")


def period_bounds(period: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the month as aware UTC datetimes."""
    first = date.fromisoformat(period + "-01")
    next_first = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    start = datetime.combine(first, time(), tz).astimezone(UTC)
    end = datetime.combine(next_first, time(), tz).astimezone(UTC)
    return start, end


def previous_period(period: str) -> str:
    first = date.fromisoformat(period + "-01")
    return (first - timedelta(days=1)).strftime("%Y-%m")


def periods_ending(period: str, count: int) -> list[str]:
    """The ``count`` periods up to and including ``period``, oldest first."""
    periods = [period]
    while len(periods) < count:
        periods.append(previous_period(periods[-1]))
    return periods[::-1]


def month_days(period: str) -> tuple[date, date]:
    """The first day of the period's month and the first of the next."""
    first = date.fromisoformat(f"{period}-01")
    return first, (first + timedelta(days=32)).replace(day=1)


def financial_year(period: str) -> str:
    """Indian financial year (April–March) of a period, as ``2025-26``."""
    year, month = (int(part) for part in period.split("-"))
    start = year if month >= 4 else year - 1
    return f"{start}-{(start + 1) % 100:02d}"
