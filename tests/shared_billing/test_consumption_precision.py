"""Consumption at the meter's precision: values and multipliers stored at 4 places still price like the dial."""

from decimal import Decimal

from shared_billing.billing import compute_bill
from shared_billing.consumption import MeterRegister, RegisterKind, meter_consumption
from shared_billing.estimates import BilledEstimate, true_up
from shared_billing.periods import BillingPeriod
from shared_billing.tariffs import blessings_tariff

D = Decimal


def test_stored_scale_values_give_units_at_the_meters_decimals():
    used = meter_consumption(MeterRegister(dials=5, multiplier=D("1.0000")), D("1000.0000"), D("1400.0000"))
    assert used.units == D(400)
    assert used.units.as_tuple().exponent == 0  # not 400.00000000
    assert used.explanation == ("Meter: (1400 − 1000) × 1 = 400 units",)


def test_the_register_difference_is_rounded_to_the_meters_decimals_and_the_multiplier_kept_exact():
    # The register is what has a precision; a fractional multiplier (CT ratio) still counts every part of a unit.
    one_place = MeterRegister(dials=6, decimals=1, multiplier=D("2.5000"))
    assert meter_consumption(one_place, D("100.1000"), D("100.3000")).units == D("0.5")
    whole = MeterRegister(dials=6, multiplier=D("1.5000"))
    assert str(meter_consumption(whole, D("100.0000"), D("101.0000")).units) == "1.5"
    # A stored value with more places than the meter shows is taken at the meter's precision, half up.
    assert meter_consumption(whole, D("100.0000"), D("101.5000")).units == D(3)  # 2 × 1.5
    ct = MeterRegister(dials=6, multiplier=D("40.0000"))
    assert str(meter_consumption(ct, D("100.0000"), D("102.0000")).units) == "80"  # not 8E+1
    register = MeterRegister(dials=4, multiplier=D("2.0000"), kind=RegisterKind.CONSUMPTION)
    assert str(meter_consumption(register, None, D("150.0000")).units) == "300"


def test_true_up_on_stored_values_matches_the_published_arithmetic():
    # The true-up worked example (tests/shared_billing/test_estimates.py) with the actual read as the server
    # stores it: 400 units, split 131.87 + 136.26 + 131.87, net ₹649.56 to the paisa.
    tariff = blessings_tariff()
    months = [BillingPeriod.month(2025, 9), BillingPeriod.month(2025, 10)]
    billed = [
        BilledEstimate(period, D(107), compute_bill(tariff, unit_type="2BHK", own_units=D(107), period=period).total)
        for period in months
    ]
    actual = meter_consumption(MeterRegister(dials=5, multiplier=D("1.0000")), D("20000.0000"), D("20400.0000"))
    result = true_up(
        tariff, estimated=billed, current=BillingPeriod.month(2025, 11), actual_units=actual.units, unit_type="2BHK"
    )
    assert [row.actual_units for row in result.periods] == [D("131.87"), D("136.26")]
    assert result.adjustment == D("649.56")
    assert all("0000" not in step for step in result.trace)
