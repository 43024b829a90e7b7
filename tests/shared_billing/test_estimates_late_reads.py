"""The true-up when an estimated month's own reading arrived after it was billed: that month keeps its units."""

from decimal import Decimal

from shared_billing.billing import compute_bill
from shared_billing.estimates import BilledEstimate, true_up
from shared_billing.periods import BillingPeriod
from shared_billing.tariffs import blessings_tariff

D = Decimal
NOV, DEC, JAN = BillingPeriod.month(2025, 11), BillingPeriod.month(2025, 12), BillingPeriod.month(2026, 1)


def test_a_month_read_late_is_rerated_on_its_own_units_and_the_rest_split_by_days():
    tariff = blessings_tariff()  # ₹12 a unit and a fixed charge for a 2BHK
    charged = {p: compute_bill(tariff, unit_type="2BHK", own_units=D(230), period=p).total for p in (NOV, DEC)}
    billed = [
        BilledEstimate(NOV, D(230), charged[NOV], actual_units=D(300)),
        BilledEstimate(DEC, D(230), charged[DEC]),
    ]
    result = true_up(tariff, estimated=billed, current=JAN, actual_units=D(920), unit_type="2BHK")
    nov, dec = result.periods
    assert nov.actual_units == D(300)  # its own reading: the 70 units the estimate missed come back
    assert dec.actual_units + result.current_units == D(620)  # the rest, over December and January by days
    assert dec.actual_units == D("310.00")  # 31 + 31 days
    assert nov.difference == D("840.00")  # 70 × ₹12
    assert "read late" in result.trace[0]


def test_known_parts_that_exceed_the_total_fall_back_to_days():
    tariff = blessings_tariff()
    charged = compute_bill(tariff, unit_type="2BHK", own_units=D(100), period=NOV).total
    billed = [BilledEstimate(NOV, D(100), charged, actual_units=D(500))]
    result = true_up(tariff, estimated=billed, current=DEC, actual_units=D(305), unit_type="2BHK")
    assert [row.actual_units for row in result.periods] == [D("150.00")]  # 305 over 30 + 31 days
    assert result.current_units == D("155.00")
