"""Estimated reads (average of the last 3 actual months, at most 2 in a row) and the true-up (docs/domain.md)."""

from decimal import Decimal

import pytest

from shared_billing.billing import compute_bill
from shared_billing.energy import Slab, Slabs
from shared_billing.errors import EstimateLimitReached, NoConsumptionHistory
from shared_billing.estimates import BilledEstimate, estimate_consumption, true_up
from shared_billing.periods import BillingPeriod
from shared_billing.tariffs import Tariff, blessings_tariff

D = Decimal


def test_estimate_is_the_average_of_the_last_three_actual_months():
    used = estimate_consumption([D(500), D(100), D(110), D(111)], consecutive_estimates=0)
    assert (used.units, used.estimated) == (D(107), True)
    assert "(100 + 110 + 111) ÷ 3 = 107 units" in used.explanation[0]


def test_estimate_rounds_half_up_to_whole_units():
    assert estimate_consumption([D(100), D(100), D(101)], consecutive_estimates=1).units == D(100)
    assert estimate_consumption([D(1), D(2)], consecutive_estimates=0).units == D(2)  # 1.5 → 2


def test_a_third_estimate_in_a_row_asks_for_a_visit():
    with pytest.raises(EstimateLimitReached) as caught:
        estimate_consumption([D(100)] * 3, consecutive_estimates=2)
    assert caught.value.code == "consumption.estimate_limit"


def test_no_history_cannot_be_estimated():
    with pytest.raises(NoConsumptionHistory):
        estimate_consumption([], consecutive_estimates=0)


def test_true_up_rerates_each_estimated_month_and_nets_off_what_was_billed():
    tariff = blessings_tariff()
    months = [BillingPeriod.month(2025, 9), BillingPeriod.month(2025, 10)]  # 30 and 31 days
    billed = [
        BilledEstimate(period, D(107), compute_bill(tariff, unit_type="2BHK", own_units=D(107), period=period).total)
        for period in months
    ]
    # Actual read in November: 400 units since the last actual read, over 30 + 31 + 30 days.
    result = true_up(
        tariff, estimated=billed, current=BillingPeriod.month(2025, 11), actual_units=D(400), unit_type="2BHK"
    )
    assert [row.actual_units for row in result.periods] == [D("131.87"), D("136.26")]
    assert result.current_units == D("131.87")
    assert sum(row.actual_units for row in result.periods) + result.current_units == D(400)
    # Flat ₹12: (131.87 − 107) × 12 = 298.44 and (136.26 − 107) × 12 = 351.12
    assert [row.difference for row in result.periods] == [D("298.44"), D("351.12")]
    assert result.adjustment == D("649.56")
    bill = compute_bill(
        tariff,
        unit_type="2BHK",
        own_units=result.current_units,
        period=BillingPeriod.month(2025, 11),
        adjustments=[result.as_adjustment()],
    )
    adjustment = next(line for line in bill.lines if line.code == "adjustment")
    assert adjustment.amount == D("649.56")
    assert any("re-rated" in step for step in bill.trace)


def test_true_up_rerates_on_the_slabs_month_by_month():
    slabs = Slabs((Slab(D(0), D(100), D(4)), Slab(D(101), None, D(6))))
    tariff = Tariff(code="S", name="S", energy=slabs, fixed_by_unit_type={"*": D(0)})
    june, july = BillingPeriod.month(2025, 6), BillingPeriod.month(2025, 7)
    estimate = BilledEstimate(june, D(150), D("700.00"))  # 100 × 4 + 50 × 6
    result = true_up(tariff, estimated=[estimate], current=july, actual_units=D(61), unit_type="*")
    (row,) = result.periods
    assert row.actual_units == D(30)  # 61 units over 30 + 31 days
    assert (row.rerated_charges, row.difference) == (D("120.00"), D("-580.00"))
    assert result.adjustment == D("-580.00")
