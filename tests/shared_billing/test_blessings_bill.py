"""Bills under the seed-compatible tariff, checked to the paisa against the worked example of docs/domain.md."""

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_billing.billing import BillLine, LineCode, compute_bill
from shared_billing.errors import BelowPrevious, SharedMeterError, UnknownUnitType
from shared_billing.money import round_rupee, round_units
from shared_billing.shared_meters import SharedMeterUse
from shared_billing.tariffs import RateOverride, ShareRounding, Tariff, blessings_tariff

D = Decimal
MOTOR_B = {"B17-FF": D(77), "B17-SF": D(110), "B18-FF": D(110), "B18-SF": D(111)}


def make_motor_use(**overrides: Any) -> SharedMeterUse:
    values: dict[str, Any] = {
        "meter_number": "MOTOR-B",
        "meter_units": D(210),
        "own_units": D(77),
        "group_units": D(408),
    }
    values.update(overrides)
    return SharedMeterUse(**values)


def test_domain_worked_example_b17_ff_november_2025():
    bill = compute_bill(blessings_tariff(), unit_type="5BHK", own_units=D(77), shared=[make_motor_use()])
    assert bill.lines == [
        BillLine("energy", "Energy", D(77), D(12), D("924.00")),
        BillLine("shared_meter", "Shared meter MOTOR-B share", D("39.63"), D(12), D("475.56")),
        BillLine("fixed", "Fixed charge (5BHK)", D(1), D(2311), D("2311.00")),
        BillLine("round_off", "Round-off", D(1), None, D("0.44")),
    ]
    # 116.63 units × ₹12 = 1399.56, + ₹2311 = ₹3710.56, payable ₹3711 (round-off +0.44)
    assert sum(line.amount for line in bill.lines[:2]) == D("1399.56")
    assert (bill.total, bill.round_off, bill.payable) == (D("3710.56"), D("0.44"), D("3711"))
    assert str(bill.payable) == "3711.00"


def test_domain_worked_example_from_the_whole_group():
    use = SharedMeterUse.for_member("MOTOR-B", D(210), MOTOR_B, "B17-FF", ShareRounding.PER_UNIT_HALF_UP)
    bill = compute_bill(blessings_tariff(), unit_type="5BHK", own_units=D(77), shared=[use])
    assert bill.payable == D(3711)


def test_trace_explains_each_figure():
    bill = compute_bill(blessings_tariff(), unit_type="5BHK", own_units=D(77), shared=[make_motor_use()])
    text = "\n".join(bill.trace)
    for figure in ("77 units × ₹12 = ₹924.00", "39.632352", "39.63 units", "₹475.56", "₹2311.00", "₹3710.56"):
        assert figure in text
    assert bill.trace[-1].endswith("₹3711.00, round-off +₹0.44")


def test_payable_rounds_half_a_rupee_up_not_to_even():
    # 1474.50 → 1475 (banker's rounding would give 1474)
    bill = compute_bill(blessings_tariff(), unit_type="2BHK", own_units=D(0), arrears=D("0.50"))
    assert (bill.total, bill.payable, bill.round_off) == (D("1474.50"), D(1475), D("0.50"))


def test_fixed_charge_applies_at_zero_consumption():
    bill = compute_bill(blessings_tariff(), unit_type="VILLA", own_units=D(0))
    assert [line.code for line in bill.lines] == ["energy", "fixed", "round_off"]
    assert bill.payable == D(1857)
    assert bill.round_off == 0


def test_rate_override_prices_every_unit_and_drops_the_fixed_charge():
    override = RateOverride(rate_per_unit=D(9), fixed_charge=D(0), reason="seed concession")
    bill = compute_bill(
        blessings_tariff(),
        unit_type="2BHK",
        own_units=D(77),
        shared=[make_motor_use()],
        rate_override=override,
    )
    amounts = {line.code: line.amount for line in bill.lines}
    assert amounts == {
        "energy": D("693.00"),
        "shared_meter": D("356.67"),
        "fixed": D("0.00"),
        "round_off": D("0.33"),
    }
    assert bill.payable == D(1050)
    assert bill.trace[0] == "Billed under tariff BLESSINGS (Blessings City (seed-compatible))"
    assert "rate override: seed concession" in bill.trace[1]


def test_rate_override_without_fixed_charge_keeps_the_tariffs():
    bill = compute_bill(blessings_tariff(), unit_type="4BHK", own_units=D(10), rate_override=RateOverride(D(9)))
    assert bill.payable == D(90 + 1890)


def test_arrears_and_credits_get_their_own_line():
    debit = compute_bill(blessings_tariff(), unit_type="2BHK", own_units=D(1), arrears=D("100.25"))
    credit = compute_bill(blessings_tariff(), unit_type="2BHK", own_units=D(1), arrears=D(-100))
    assert debit.lines[-2] == BillLine("arrears", "Arrears", D(1), None, D("100.25"))
    assert credit.lines[-2].description == "Credit brought forward"
    assert credit.payable == D(12 + 1474 - 100)


def test_credit_larger_than_the_bill_never_prints_negative_zero():
    bill = compute_bill(blessings_tariff(), unit_type="2BHK", own_units=D(0), arrears=D("-1474.30"))
    assert (str(bill.total), str(bill.payable), str(bill.round_off)) == ("-0.30", "0.00", "0.30")


def test_unknown_unit_type_is_a_clear_error():
    with pytest.raises(UnknownUnitType, match="PENTHOUSE"):
        compute_bill(blessings_tariff(), unit_type="PENTHOUSE", own_units=D(1))


def test_consumption_below_zero_is_refused_as_below_previous():
    with pytest.raises(BelowPrevious):
        compute_bill(blessings_tariff(), unit_type="2BHK", own_units=D(-1))


def test_shared_meter_must_carry_the_same_own_units():
    with pytest.raises(SharedMeterError, match="differ"):
        compute_bill(blessings_tariff(), unit_type="5BHK", own_units=D(78), shared=[make_motor_use()])


def test_a_shared_meter_listed_twice_is_refused():
    with pytest.raises(SharedMeterError, match="more than once: MOTOR-B"):
        compute_bill(blessings_tariff(), unit_type="5BHK", own_units=D(77), shared=[make_motor_use()] * 2)


def test_one_line_per_shared_meter():
    uses = [make_motor_use(), make_motor_use(meter_number="MOTOR-C", meter_units=D(50), group_units=D(154))]
    bill = compute_bill(blessings_tariff(), unit_type="5BHK", own_units=D(77), shared=uses)
    assert [line.quantity for line in bill.lines if line.code == LineCode.SHARED_METER] == [
        D("39.63"),
        D("25.00"),
    ]


def test_largest_remainder_tariff_uses_the_group_allocation():
    tariff = Tariff.from_dict({**blessings_tariff().to_dict(), "share_rounding": "largest_remainder"})
    members = {"A": D(1), "B": D(1), "C": D(1)}
    first = SharedMeterUse.for_member("M", D(100), members, "A", tariff.share_rounding)
    bill = compute_bill(tariff, unit_type="2BHK", own_units=D(1), shared=[first])
    assert bill.lines[1].quantity == D("33.34")
    with pytest.raises(SharedMeterError, match="for_member"):
        compute_bill(tariff, unit_type="2BHK", own_units=D(1), shared=[SharedMeterUse("M", D(100), D(1), D(3))])


def test_tariff_that_does_not_bill_shared_meters_says_so():
    tariff = Tariff.from_dict({**blessings_tariff().to_dict(), "bill_shared_meters": False})
    bill = compute_bill(tariff, unit_type="5BHK", own_units=D(77), shared=[make_motor_use()])
    assert LineCode.SHARED_METER not in [line.code for line in bill.lines]
    assert any("MOTOR-B: not billed" in step for step in bill.trace)


units = st.decimals(min_value=0, max_value=99999, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def bill_inputs(draw):
    own = draw(units)
    uses = []
    for number in range(draw(st.integers(min_value=0, max_value=3))):
        others = draw(units)
        uses.append(SharedMeterUse(f"MOTOR-{number}", draw(units), own, own + others + D(1)))
    override = draw(
        st.none() | st.builds(RateOverride, st.decimals(0, 20, places=2), st.none() | st.decimals(0, 3000, places=2))
    )
    arrears = draw(st.decimals(min_value=-10000, max_value=10000, places=2))
    unit_type = draw(st.sampled_from(["2BHK", "4BHK", "5BHK", "VILLA", "SCO"]))
    return {
        "unit_type": unit_type,
        "own_units": own,
        "shared": uses,
        "rate_override": override,
        "arrears": arrears,
    }


@given(bill_inputs())
def test_total_is_the_sum_of_the_lines_and_round_off_within_half_a_rupee(inputs):
    bill = compute_bill(blessings_tariff(), **inputs)
    assert bill.lines[-1].code == LineCode.ROUND_OFF
    assert bill.total == sum(line.amount for line in bill.lines[:-1])
    assert sum(line.amount for line in bill.lines) == bill.payable
    assert bill.round_off == bill.payable - bill.total == bill.lines[-1].amount
    assert D("-0.50") <= bill.round_off <= D("0.50")
    assert bill.payable == bill.payable.to_integral_value()
    assert all(line.amount.as_tuple().exponent == -2 for line in bill.lines)


@given(bill_inputs().filter(lambda inputs: inputs["rate_override"] is None))
def test_bill_matches_the_seed_formula(inputs):
    # Seed: (flat units + Σ motor shares rounded to 0.01) × ₹12 + fixed + arrears, rounded to the rupee.
    tariff = blessings_tariff()
    shares = sum((round_units(use.meter_units * use.own_units / use.group_units, 2) for use in inputs["shared"]), D(0))
    seed_total = (inputs["own_units"] + shares) * 12 + tariff.fixed_by_unit_type[inputs["unit_type"]]
    bill = compute_bill(tariff, **inputs)
    assert bill.total == seed_total + inputs["arrears"]
    assert bill.payable == round_rupee(seed_total + inputs["arrears"])
