"""The hand-worked figures of the month-in-the-life test agree with docs/domain.md's worked examples."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.support.month_figures import expected_bill, indian_rupees, late_fee, motor_shares, rupees


def test_the_walkthrough_bill_of_5bhk_b17_ff() -> None:
    # docs/domain.md "The seed-compatible bill": 77 units, MOTOR-B 210 units over 408 units of its flats.
    shares = motor_shares(Decimal(210), {"B17-FF": Decimal(77), "others": Decimal(331)})
    assert shares["B17-FF"] == Decimal("39.63")
    bill = expected_bill(own_units=Decimal(77), share_units=shares["B17-FF"], unit_type="5BHK")
    assert (bill.own_energy, bill.shared_energy, bill.fixed) == (Decimal("924.00"), Decimal("475.56"), Decimal(2311))
    assert (bill.total, bill.round_off, bill.payable) == (Decimal("3710.56"), Decimal("0.44"), Decimal("3711.00"))


def test_shares_are_rounded_each_on_its_own() -> None:
    # Per flat, half-up (not largest remainder): 100 units over three equal flats is 33.33 each.
    assert motor_shares(Decimal(100), {"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)}) == dict.fromkeys(
        "abc", Decimal("33.33")
    )
    assert motor_shares(Decimal(50), {"a": Decimal(0)}) == {"a": Decimal("0.00")}


def test_special_rate_waives_the_fixed_charge_and_arrears_are_rounded_with_the_bill() -> None:
    bill = expected_bill(
        own_units=Decimal(100),
        unit_type="2BHK",
        rate_override=Decimal(9),
        fixed_waived=True,
        arrears=Decimal("-800.50"),
    )
    assert (bill.fixed, bill.total, bill.payable) == (Decimal("0.00"), Decimal("99.50"), Decimal("100.00"))
    assert bill.by_line == {"energy": Decimal("900.00"), "arrears": Decimal("-800.50"), "round_off": Decimal("0.50")}
    assert bill.charges == Decimal("900.50")


def test_rupee_rounding_is_half_up() -> None:
    assert (rupees(Decimal("1234.50")), rupees(Decimal("1234.49"))) == (Decimal("1235.00"), Decimal("1234.00"))


def test_late_fee_of_the_domain_example() -> None:
    # ₹3,711.00 due on 15 December 2025, paid on 4 January 2026: 20 days at 18 % a year.
    assert late_fee(Decimal("3711.00"), due_on=date(2025, 12, 15), paid_on=date(2026, 1, 4)) == Decimal("36.60")
    assert late_fee(Decimal("3711.00"), due_on=date(2025, 12, 15), paid_on=date(2025, 12, 15)) == Decimal("0.00")


def test_indian_grouping() -> None:
    assert [indian_rupees(Decimal(x)) for x in ("123456.5", "3711", "999.99", "10000000")] == [
        "₹1,23,456.50",
        "₹3,711.00",
        "₹999.99",
        "₹1,00,00,000.00",
    ]
