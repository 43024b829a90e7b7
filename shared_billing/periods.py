"""Billing periods: which days a period bills, the pro-ration factor, and splitting at tariff changes.

docs/domain.md "Period pro-ration" (the Delhi method): slab factor = Σ over months of (days billed in that month ÷ days
in that month); the factor scales the fixed charge and the slab limits. Which days a period bills is a tariff
setting (``DayCount``): TPDDL counts both the first and the last date (17-06-2015 → 17-07-2015 bills 14 June
days and 17 July days), the Blessings bills are calendar months. Inside this module a period is turned into a
``DaySpan`` (first and last billed day, both included) once, so everything after works on plain day ranges.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from shared_billing.apportionment import largest_remainder
from shared_billing.bill_lines import about
from shared_billing.errors import PeriodError
from shared_billing.money import round_units

__all__ = [
    "BillingPeriod",
    "DayCount",
    "DaySpan",
    "MonthPart",
    "billed_days",
    "split_units_by_days",
]

_ONE_DAY = timedelta(days=1)


class DayCount(StrEnum):
    """Which days a period from ``start_on`` to ``end_on`` bills (a tariff setting, docs/domain.md).

    ``first_and_last``: both dates (the Delhi method; consecutive periods share their reading day).
    ``first_not_last``: from the first date to the day before the last (periods chain on reading days).
    ``calendar_month``: whole calendar months only, first to last day (the Blessings monthly bills).
    """

    FIRST_AND_LAST = "first_and_last"
    FIRST_NOT_LAST = "first_not_last"
    CALENDAR_MONTH = "calendar_month"


@dataclass(frozen=True)
class BillingPeriod:
    """A period as the bill states it: from ``start_on`` to ``end_on`` (usually the two reading dates)."""

    start_on: date
    end_on: date

    def __str__(self) -> str:
        return f"{self.start_on:%d-%m-%Y} to {self.end_on:%d-%m-%Y}"

    @classmethod
    def month(cls, year: int, month: int) -> BillingPeriod:
        """The calendar month ``year-month``, first to last day."""
        return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class MonthPart:
    """The days of a span that fall in one calendar month."""

    year: int
    month: int
    days: int
    month_days: int


@dataclass(frozen=True)
class DaySpan:
    """The days billed, ``first_on`` to ``last_on``, both included."""

    first_on: date
    last_on: date

    def __post_init__(self) -> None:
        if self.last_on < self.first_on:
            raise PeriodError(
                f"A period cannot end ({self.last_on}) before it starts ({self.first_on})",
                first=self.first_on.isoformat(),
                last=self.last_on.isoformat(),
            )

    def __str__(self) -> str:
        return f"{self.first_on:%d-%m-%Y} to {self.last_on:%d-%m-%Y}"

    @property
    def days(self) -> int:
        """How many days the span bills."""
        return (self.last_on - self.first_on).days + 1

    def month_parts(self) -> list[MonthPart]:
        """The span cut at month ends, in order."""
        parts: list[MonthPart] = []
        day = self.first_on
        while day <= self.last_on:
            month_days = calendar.monthrange(day.year, day.month)[1]
            month_end = day.replace(day=month_days)
            last = min(month_end, self.last_on)
            parts.append(MonthPart(day.year, day.month, (last - day).days + 1, month_days))
            day = last + _ONE_DAY
        return parts

    def _exact_factor(self) -> Decimal:
        return _exact_factor(self.first_on, self.last_on)

    def factor(self, places: int) -> Decimal:
        """Σ days billed in the month ÷ days in the month, rounded half-up to ``places`` (docs/domain.md "Period
        pro-ration").

        Rounded so that the figure printed on the bill is the one every scaled amount was computed from
        (a consumer can redo 40 × 1.0151 = 40.60 by hand).
        """
        return round_units(self._exact_factor(), places)

    def explain_factor(self, places: int) -> str:
        """``14/30 + 17/31 = 1.015053… → 1.0151``: the factor as computed and as rounded (just ``= 1`` when exact)."""
        return _explained_factor(self.first_on, self.last_on, places)

    def overlap(self, first_on: date, last_on: date | None) -> DaySpan | None:
        """The part of this span from ``first_on`` to ``last_on`` (``None``: open-ended), or ``None``."""
        first = max(self.first_on, first_on)
        last = self.last_on if last_on is None else min(self.last_on, last_on)
        return DaySpan(first, last) if first <= last else None

    def split(self, change_dates: Iterable[date]) -> list[DaySpan]:
        """Cut the span before each date inside it (a change on day d starts a new span on d)."""
        cuts = sorted({day for day in change_dates if self.first_on < day <= self.last_on})
        spans: list[DaySpan] = []
        first = self.first_on
        for day in cuts:
            spans.append(DaySpan(first, day - _ONE_DAY))
            first = day
        spans.append(DaySpan(first, self.last_on))
        return spans


# A bill run prices every unit of a block over the same days: the factor and its words are worked out once.
@functools.lru_cache(maxsize=256)
def _exact_factor(first_on: date, last_on: date) -> Decimal:
    parts = DaySpan(first_on, last_on).month_parts()
    exact = sum((Fraction(part.days, part.month_days) for part in parts), Fraction(0))
    return Decimal(exact.numerator) / Decimal(exact.denominator)


@functools.lru_cache(maxsize=256)
def _explained_factor(first_on: date, last_on: date, places: int) -> str:
    span = DaySpan(first_on, last_on)
    terms = " + ".join(f"{part.days}/{part.month_days}" for part in span.month_parts())
    exact, rounded = span._exact_factor(), span.factor(places)
    if exact == rounded:
        return f"{terms} = {rounded}"
    return f"{terms} = {about(exact)} → {rounded} (rounded to {places} places)"


def billed_days(period: BillingPeriod, day_count: DayCount) -> DaySpan:
    """The days ``period`` bills under ``day_count``; ``PeriodError`` if the period cannot be billed that way."""
    if day_count == DayCount.FIRST_AND_LAST:
        return DaySpan(period.start_on, period.end_on)
    if day_count == DayCount.FIRST_NOT_LAST:
        if period.end_on <= period.start_on:
            raise PeriodError(
                f"Period {period} bills no day when the last date is not counted",
                start=period.start_on.isoformat(),
                end=period.end_on.isoformat(),
            )
        return DaySpan(period.start_on, period.end_on - _ONE_DAY)
    if day_count == DayCount.CALENDAR_MONTH:
        span = DaySpan(period.start_on, period.end_on)
        month_end = calendar.monthrange(period.end_on.year, period.end_on.month)[1]
        if period.start_on.day != 1 or period.end_on.day != month_end:
            raise PeriodError(
                f"Period {period} is not whole calendar months, which this tariff bills",
                start=period.start_on.isoformat(),
                end=period.end_on.isoformat(),
            )
        return span
    raise ValueError(f"unknown day count {day_count!r}")


def split_units_by_days(units: Decimal, spans: list[DaySpan]) -> list[Decimal]:
    """Allocate ``units`` over ``spans`` in proportion to their days (docs/domain.md "Tariff change inside a period").

    Largest remainder at 0.01 unit (or at the units' own precision when finer), so the parts always sum to
    ``units`` exactly; one span gets ``units`` unchanged.
    """
    if len(spans) == 1:
        return [units]
    exponent = units.as_tuple().exponent
    assert isinstance(exponent, int)
    places = max(2, -exponent)
    weights = {index: Decimal(span.days) for index, span in enumerate(spans)}
    parts = largest_remainder(units, weights, places)
    return [parts[index] for index in range(len(spans))]
