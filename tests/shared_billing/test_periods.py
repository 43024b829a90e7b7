"""Billing periods: day counts, the Delhi pro-ration factor, splitting at tariff changes (docs/domain.md)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_billing.errors import PeriodError
from shared_billing.periods import BillingPeriod, DayCount, DaySpan, billed_days, split_units_by_days

D = Decimal
TPDDL = BillingPeriod(date(2015, 6, 17), date(2015, 7, 17))


def test_first_and_last_counts_both_dates():
    span = billed_days(TPDDL, DayCount.FIRST_AND_LAST)
    assert span.days == 31
    assert [(part.days, part.month_days) for part in span.month_parts()] == [(14, 30), (17, 31)]
    assert span.factor(4) == D("1.0151")
    assert span.explain_factor(4) == "14/30 + 17/31 = 1.015053… → 1.0151 (rounded to 4 places)"
    assert DaySpan(date(2015, 6, 1), date(2015, 6, 30)).explain_factor(4) == "30/30 = 1.0000"


def test_first_not_last_stops_the_day_before():
    span = billed_days(TPDDL, DayCount.FIRST_NOT_LAST)
    assert (span.first_on, span.last_on, span.days) == (date(2015, 6, 17), date(2015, 7, 16), 30)
    assert span.factor(4) == D("0.9828")  # 14/30 + 16/31 = 0.98279…


def test_calendar_month_is_factor_one():
    span = billed_days(BillingPeriod.month(2024, 2), DayCount.CALENDAR_MONTH)
    assert (span.days, span.factor(4)) == (29, D(1))


def test_calendar_month_refuses_part_months():
    with pytest.raises(PeriodError) as caught:
        billed_days(BillingPeriod(date(2025, 11, 3), date(2025, 11, 30)), DayCount.CALENDAR_MONTH)
    assert caught.value.code == "period.invalid"


def test_a_period_ending_before_it_starts_is_refused():
    with pytest.raises(PeriodError):
        billed_days(BillingPeriod(date(2025, 11, 3), date(2025, 11, 1)), DayCount.FIRST_AND_LAST)
    with pytest.raises(PeriodError):
        billed_days(BillingPeriod(date(2025, 11, 3), date(2025, 11, 3)), DayCount.FIRST_NOT_LAST)


def test_split_cuts_before_each_change_inside_the_span():
    span = DaySpan(date(2015, 6, 1), date(2015, 6, 30))
    pieces = span.split([date(2015, 6, 16), date(2015, 6, 1), date(2015, 8, 1)])
    assert [(piece.first_on.day, piece.last_on.day) for piece in pieces] == [(1, 15), (16, 30)]


def test_units_split_by_days_sum_exactly():
    spans = [DaySpan(date(2015, 6, 17), date(2015, 6, 30)), DaySpan(date(2015, 7, 1), date(2015, 7, 17))]
    assert split_units_by_days(D(350), spans) == [D("158.06"), D("191.94")]


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@given(
    days,
    st.integers(min_value=0, max_value=400),
    st.lists(st.integers(min_value=0, max_value=400), max_size=5),
    st.decimals(min_value=0, max_value=100000, places=3, allow_nan=False, allow_infinity=False),
)
def test_splitting_a_period_never_changes_the_total_units(first, length, offsets, units):
    span = DaySpan(first, first + timedelta(days=length))
    pieces = span.split(first + timedelta(days=offset) for offset in offsets)
    assert sum(piece.days for piece in pieces) == span.days
    parts = split_units_by_days(units, pieces)
    assert sum(parts) == units
    assert all(part >= 0 for part in parts)


@given(days, st.integers(min_value=0, max_value=800))
def test_factor_is_close_to_days_over_a_month(first, length):
    span = DaySpan(first, first + timedelta(days=length))
    assert D(span.days) / 31 - D("0.0001") <= span.factor(4) <= D(span.days) / 28 + D("0.0001")
