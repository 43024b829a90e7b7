"""Charges as data: recurring charges with their own levies, levy bases naming charges, payable rounding, the one
rounding rule for levies on split bills, subsidies that never make a bill a credit, and the bill's trace."""

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_billing.billing import compute_bill
from shared_billing.energy import FlatRate
from shared_billing.errors import TariffError
from shared_billing.levies import Levy, LevyBase, Subsidy
from shared_billing.periods import BillingPeriod, DayCount
from shared_billing.recurring_charges import RecurringCharge
from shared_billing.schedules import TariffSchedule
from shared_billing.tariff_file import parse_tariff_toml
from shared_billing.tariffs import PayableRounding, Tariff

D = Decimal
KERALA = Path(__file__).resolve().parents[2] / "assets" / "tariffs" / "kerala-style-domestic.toml"
NOVEMBER = BillingPeriod(date(2024, 11, 1), date(2024, 11, 30))
JUNE = BillingPeriod(date(2015, 6, 1), date(2015, 6, 30))
METER_RENT = RecurringCharge("meter_rent", "Meter rent", {"*": D(6)})


def make_tariff(**overrides: Any) -> Tariff:
    values: dict[str, Any] = {
        "code": "T",
        "name": "Test",
        "energy": FlatRate(D("0.10")),
        "fixed_by_unit_type": {"*": D(50)},
        "day_count": DayCount.FIRST_AND_LAST,
    }
    values.update(overrides)
    return Tariff(**values)


def amounts(bill) -> dict[str, Decimal]:
    found: dict[str, Decimal] = {}
    for line in bill.lines:
        found[line.code] = found.get(line.code, D(0)) + line.amount
    return found


def test_the_kerala_style_example_taxes_the_meter_rent_on_its_own():
    schedule = parse_tariff_toml(KERALA.read_bytes(), source=KERALA.name)
    bill = compute_bill(schedule, unit_type="2BHK", own_units=D(120), period=NOVEMBER)
    # 50 × 3.30 + 50 × 4.15 + 20 × 5.25 = 165.00 + 207.50 + 105.00
    assert amounts(bill) == {
        "energy": D("477.50"),
        "fixed": D("45.00"),
        "charge:meter_rent": D("6.00"),
        "levy:duty": D("47.75"),  # 10 % of the energy only
        "levy:meter_rent_gst": D("1.08"),  # 18 % of the ₹6 rent only
        "levy:cess": D("12.00"),  # 120 × 0.10
        "round_off": D("-0.33"),
    }
    assert (bill.total, bill.payable) == (D("589.33"), D("589.00"))
    assert "GST on meter rent: 18% of Meter rent ₹6.00 = ₹1.08" in bill.trace
    assert "Energy subtotal: ₹477.50" in bill.trace
    assert (
        "Billed under tariff KL-DOM-EXAMPLE (Kerala-style domestic (illustrative)), version from 01-11-2024"
        in bill.trace
    )


def test_a_recurring_charge_is_pro_rated_and_skipped_for_types_it_does_not_list():
    common_area = RecurringCharge("common_area", "Common-area charge", {"2BHK": D(100), "4BHK": D(150)})
    gst = Levy("gst", "GST on common area", 1, "common_area", percent=D(18))
    tariff = make_tariff(recurring_charges=(METER_RENT, common_area), levies=(gst,))
    half = BillingPeriod(date(2015, 6, 1), date(2015, 6, 15))  # 15/30 = 0.5
    flat = compute_bill(tariff, unit_type="4BHK", own_units=D(0), period=half)
    assert amounts(flat)["charge:meter_rent"] == D("3.00")
    assert amounts(flat)["charge:common_area"] == D("75.00")
    assert amounts(flat)["levy:gst"] == D("13.50")
    shop = compute_bill(tariff, unit_type="SCO", own_units=D(0), period=half)
    assert "charge:common_area" not in amounts(shop)
    assert "levy:gst" not in amounts(shop)  # nothing to tax, so no ₹0.00 line
    assert "Common-area charge: not charged to unit type SCO" in shop.trace
    assert "GST on common area: not charged, this bill has no Common-area charge" in shop.trace


def test_a_levy_base_may_be_a_group_of_charges_or_an_earlier_levy():
    levies = (
        Levy("duty", "Duty", 1, ("energy", "meter_rent"), percent=D(10)),
        Levy("cess", "Cess on duty", 2, "duty", percent=D(5)),
        Levy("surcharge", "Surcharge", 3, LevyBase.SUBTOTAL, percent=D(1)),
    )
    bill = compute_bill(make_tariff(recurring_charges=(METER_RENT,), levies=levies), unit_type="*", own_units=D(1000))
    # energy 100.00, fixed 50.00, rent 6.00; duty 10 % of 106.00; cess 5 % of 10.60; surcharge 1 % of 166.60 + 0.53
    assert amounts(bill)["levy:duty"] == D("10.60")
    assert amounts(bill)["levy:cess"] == D("0.53")
    assert amounts(bill)["levy:surcharge"] == D("1.67")  # 1 % of 167.13
    assert "Duty: 10% of energy + Meter rent ₹106.00 = ₹10.60" in bill.trace


@pytest.mark.parametrize(
    ("levies", "field", "message"),
    [
        ((Levy("gst", "GST", 1, "meter_rnt", percent=D(18)),), "levies[0].base", "unknown levy base 'meter_rnt'"),
        # a levy is computed on levies of a lower order only: the duty is not known yet when the cess is computed
        (
            (Levy("cess", "Cess", 1, "duty", percent=D(5)), Levy("duty", "Duty", 2, "energy", percent=D(10))),
            "levies[0].base",
            "unknown levy base 'duty'",
        ),
        ((Levy("meter_rent", "Rent tax", 1, "energy", percent=D(1)),), "levies[0].code", "already the name"),
    ],
)
def test_a_base_must_name_something_the_bill_has(levies, field, message):
    with pytest.raises(TariffError, match=message) as caught:
        make_tariff(recurring_charges=(METER_RENT,), levies=levies)
    assert caught.value.details["field"] == field


def test_bases_that_cannot_be_added_and_codes_that_are_taken_are_refused():
    with pytest.raises(TariffError, match="`units` is a base on its own"):
        Levy("fuel", "Fuel", 1, ("units", "energy"), rate_per_unit=D(1))
    with pytest.raises(TariffError, match="a name twice"):
        Levy("duty", "Duty", 1, ("energy", "energy"), percent=D(1))
    with pytest.raises(TariffError, match="already the name") as caught:
        make_tariff(recurring_charges=(RecurringCharge("energy", "Energy again", {"*": D(1)}),))
    assert caught.value.details["field"] == "recurring_charges[0].code"
    with pytest.raises(TariffError, match="two recurring_charges with code meter_rent"):
        make_tariff(recurring_charges=(METER_RENT, METER_RENT))


def test_levy_and_subsidy_percent_are_bounded():
    with pytest.raises(TariffError, match="percent 800 is more than 100") as caught:
        Levy("duty", "Duty", 1, "energy", percent=D(800))
    assert caught.value.details["problem"] == "out_of_bounds"
    with pytest.raises(TariffError, match="percent 200 is more than 100"):
        Subsidy("all", "All of it", "energy", percent=D(200))


def test_a_subsidy_takes_the_charges_to_zero_at_most():
    lifeline = Subsidy("lifeline", "Lifeline", "units", rate_per_unit=D(5))
    tariff = make_tariff(fixed_by_unit_type={"*": D(10)}, subsidies=(lifeline,))
    bill = compute_bill(tariff, unit_type="*", own_units=D(100), arrears=D(-40))
    # energy 10.00 + fixed 10.00 = 20.00; 100 × ₹5 would be −500.00: limited to −20.00
    assert amounts(bill)["subsidy:lifeline"] == D("-20.00")
    assert bill.total == D("-40.00")  # only the stated credit brought forward is a credit
    assert any("limited to −₹20.00" in step for step in bill.trace)


@pytest.mark.parametrize(
    ("rounding", "payable", "round_off_lines"),
    [
        (PayableRounding.RUPEE, D("589.00"), [D("-0.33")]),
        (PayableRounding.TEN_PAISE, D("589.30"), [D("-0.03")]),
        (PayableRounding.NONE, D("589.33"), []),
    ],
)
def test_payable_rounding_is_a_tariff_setting(rounding, payable, round_off_lines):
    text = KERALA.read_text(encoding="utf-8").replace('payable_rounding = "rupee"', f'payable_rounding = "{rounding}"')
    bill = compute_bill(parse_tariff_toml(text), unit_type="*", own_units=D(120), period=NOVEMBER)
    assert bill.payable == payable
    assert [line.amount for line in bill.lines if line.code == "round_off"] == round_off_lines
    assert sum(line.amount for line in bill.lines) == payable
    assert bill.round_off == payable - bill.total


def test_ten_paise_rounds_five_paise_up():
    tariff = make_tariff(
        energy=FlatRate(D("0.05")), fixed_by_unit_type={"*": D(0)}, payable_rounding=PayableRounding.TEN_PAISE
    )
    bill = compute_bill(tariff, unit_type="*", own_units=D(1))
    assert (bill.total, bill.payable, bill.round_off) == (D("0.05"), D("0.10"), D("0.05"))


def _split_schedule(duty_b: Decimal) -> TariffSchedule:
    duty_a = Levy("duty", "Duty", 1, "energy", percent=D(5))
    return TariffSchedule(
        (
            make_tariff(effective_from=date(2015, 1, 1), levies=(duty_a,)),
            make_tariff(
                effective_from=date(2015, 6, 16),
                fixed_by_unit_type={"*": D(60)},
                levies=(Levy("duty", "Duty", 1, "energy", percent=duty_b),),
            ),
        )
    )


def test_a_levy_the_same_in_every_part_is_computed_once_on_the_whole_bill():
    bill = compute_bill(_split_schedule(D(5)), unit_type="*", own_units=D(2002), period=JUNE)
    # 1001 units a half → energy ₹100.10 each; per part 5 % = 5.005 → 5.01 twice = 10.02; on the whole ₹200.20: 10.01
    duty = [line for line in bill.lines if line.code == "levy:duty"]
    assert [(line.description, line.quantity, line.amount) for line in duty] == [
        ("Duty (5% of energy)", D("200.20"), D("10.01"))
    ]
    assert any("(the whole bill's: ₹100.10 + ₹100.10, the same levy in every part)" in step for step in bill.trace)


def test_a_levy_that_changes_at_the_split_is_computed_per_part():
    bill = compute_bill(_split_schedule(D(6)), unit_type="*", own_units=D(2002), period=JUNE)
    duty = [(line.description, line.amount) for line in bill.lines if line.code == "levy:duty"]
    assert duty == [
        ("Duty (5% of energy), 01-06-2015 to 15-06-2015", D("5.01")),  # 5.005
        ("Duty (6% of energy), 16-06-2015 to 30-06-2015", D("6.01")),  # 6.006
    ]


def test_a_split_bill_trace_names_each_version_and_subtotal():
    bill = compute_bill(_split_schedule(D(5)), unit_type="*", own_units=D(2002), period=JUNE)
    assert any(
        step.startswith("Part 1: 01-06-2015 to 15-06-2015, 15 days, tariff T (Test), version from 01-01-2015")
        for step in bill.trace
    )
    assert any("tariff T (Test), version from 16-06-2015; factor 15/30 = 0.5000" in step for step in bill.trace)
    # part 1: 100.10 + 25.00 fixed, + its share of the duty 5.00 or 5.01 (largest remainder); part 2 likewise with 30.00
    subtotals = [step for step in bill.trace if step.startswith("Part ") and "subtotal" in step]
    assert subtotals[0].startswith("Part 1 subtotal: charges ₹125.10, with its levies and subsidies ₹130.1")
    assert subtotals[1].startswith("Part 2 subtotal: charges ₹130.10, with its levies and subsidies ₹135.1")
    assert bill.total == D("125.10") + D("130.10") + D("10.01")


@st.composite
def two_version_schedules(draw):
    def levies() -> tuple[Levy, ...]:
        chosen = draw(st.lists(st.sampled_from(["energy", "fixed", "charges", "subtotal", "meter_rent"]), max_size=3))
        return tuple(
            Levy(f"l{index}", f"Levy {index}", index, base, percent=draw(st.sampled_from([D(1), D("2.5"), D(5)])))
            for index, base in enumerate(chosen)
        )

    rent = RecurringCharge("meter_rent", "Meter rent", {"*": draw(st.decimals(0, 20, places=2))})
    first = make_tariff(effective_from=date(2015, 1, 1), recurring_charges=(rent,), levies=levies())
    second_levies = draw(st.just(first.levies) | st.builds(lambda: levies()))
    subsidy = Subsidy("s", "S", "units", rate_per_unit=draw(st.decimals(0, 1, places=2)))
    second = make_tariff(
        effective_from=date(2015, 6, 16), recurring_charges=(rent,), levies=second_levies, subsidies=(subsidy,)
    )
    return TariffSchedule((first, second))


@given(two_version_schedules(), st.decimals(0, 3000, places=2), st.decimals(-500, 500, places=2))
def test_split_bills_add_up_and_are_never_a_credit_of_their_own(schedule, units, arrears):
    bill = compute_bill(schedule, unit_type="*", own_units=units, period=JUNE, arrears=arrears)
    assert sum(line.amount for line in bill.lines) == bill.payable
    own = sum((line.amount for line in bill.lines if line.code not in ("arrears", "round_off")), D(0))
    assert own >= 0
    assert all(line.amount.as_tuple().exponent == -2 for line in bill.lines)


def test_recurring_charges_and_group_bases_survive_the_stored_form():
    levy = Levy("duty", "Duty", 1, ("energy", "meter_rent"), percent=D(10))
    tariff = make_tariff(recurring_charges=(METER_RENT,), levies=(levy,), payable_rounding=PayableRounding.NONE)
    data = tariff.to_dict()
    assert data["recurring_charges"] == [
        {"code": "meter_rent", "name": "Meter rent", "monthly_by_unit_type": {"*": "6"}}
    ]
    assert data["levies"][0]["base"] == ["energy", "meter_rent"]
    assert data["payable_rounding"] == "none"
    assert Tariff.from_dict(data) == tariff
    # a tariff that uses none of them is stored exactly as before
    assert {"recurring_charges", "payable_rounding"}.isdisjoint(make_tariff().to_dict())


def test_the_tariff_file_names_the_line_of_a_bad_recurring_charge():
    text = KERALA.read_text(encoding="utf-8").replace('monthly_by_unit_type = { "*" = 6 }', "monthly = 6")
    with pytest.raises(TariffError) as caught:
        parse_tariff_toml(text, source="kerala.toml")
    assert "versions[0].recurring_charges[0]" in caught.value.message
    line = next(number for number, written in enumerate(text.splitlines(), 1) if written.startswith("monthly = 6"))
    assert caught.value.message.startswith(f"kerala.toml, line {line} (versions[0].recurring_charges[0].monthly)")
