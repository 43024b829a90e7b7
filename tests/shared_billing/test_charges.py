"""Levies, minimum charge, subsidies, bands, per-kW fixed charges and overrides on the general tariff model."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_billing.bill_lines import LineCode
from shared_billing.billing import compute_bill
from shared_billing.energy import Bands, FlatRate, Slab, Slabs
from shared_billing.errors import MissingSanctionedLoad, TariffError
from shared_billing.levies import Levy, LevyBase, Subsidy
from shared_billing.periods import BillingPeriod, DayCount
from shared_billing.schedules import TariffSchedule
from shared_billing.shared_meters import SharedMeterUse
from shared_billing.tariffs import FixedBasis, RateOverride, ShareRounding, Tariff

D = Decimal
SLABS = Slabs((Slab(D(0), D(100), D("4.00")), Slab(D(101), D(300), D("6.00")), Slab(D(301), None, D("8.00"))))


def make_tariff(**overrides: Any) -> Tariff:
    values: dict[str, Any] = {
        "code": "T",
        "name": "Test",
        "energy": SLABS,
        "fixed_by_unit_type": {"*": D(50)},
        "share_rounding": ShareRounding.PER_UNIT_HALF_UP,
    }
    values.update(overrides)
    return Tariff(**values)


def line(bill, code):
    return next(item for item in bill.lines if item.code == code)


def test_levies_apply_in_order_on_their_bases():
    levies = (
        Levy("surcharge", "Surcharge on duty-inclusive amount", 2, LevyBase.SUBTOTAL, percent=D(2)),
        Levy("duty", "Electricity duty", 1, LevyBase.CHARGES, percent=D(5)),
        Levy("fuel", "Fuel adjustment", 3, LevyBase.UNITS, rate_per_unit=D("0.25")),
        Levy("meter", "Meter levy", 4, LevyBase.FIXED, percent=D(10)),
        Levy("green", "Green cess", 5, LevyBase.ENERGY, percent=D(1)),
    )
    bill = compute_bill(make_tariff(levies=levies), unit_type="2BHK", own_units=D(150))
    # energy 100 × 4 + 50 × 6 = 700; fixed 50; charges 750
    assert [item.code for item in bill.lines] == [
        "energy",
        "energy",
        "fixed",
        "levy:duty",
        "levy:surcharge",
        "levy:fuel",
        "levy:meter",
        "levy:green",
        "round_off",
    ]
    assert line(bill, "levy:duty").amount == D("37.50")  # 5% of 750
    assert line(bill, "levy:surcharge").amount == D("15.75")  # 2% of 787.50
    assert line(bill, "levy:fuel").amount == D("37.50")  # 150 × 0.25
    assert line(bill, "levy:meter").amount == D("5.00")
    assert line(bill, "levy:green").amount == D("7.00")
    assert bill.total == D("852.75")
    assert "Electricity duty: 5% of charges ₹750.00 = ₹37.50" in bill.trace


def test_minimum_charge_tops_up_before_levies():
    duty = Levy("duty", "Duty", 1, LevyBase.CHARGES, percent=D(10))
    bill = compute_bill(make_tariff(minimum_charge=D(200), levies=(duty,)), unit_type="2BHK", own_units=D(10))
    # energy 40 + fixed 50 = 90 < 200: top-up 110; duty on 200
    assert line(bill, "minimum_charge").amount == D("110.00")
    assert line(bill, "levy:duty").amount == D("20.00")
    assert bill.total == D("220.00")


def test_minimum_charge_met_adds_no_line():
    bill = compute_bill(make_tariff(minimum_charge=D(60)), unit_type="2BHK", own_units=D(10))
    assert LineCode.MINIMUM_CHARGE not in [item.code for item in bill.lines]
    assert any("meets it" in step for step in bill.trace)


def test_minimum_charge_is_pro_rated():
    tariff = make_tariff(minimum_charge=D(200), day_count=DayCount.FIRST_AND_LAST)
    bill = compute_bill(
        tariff, unit_type="2BHK", own_units=D(0), period=BillingPeriod(date(2025, 6, 1), date(2025, 6, 15))
    )
    # factor 0.5: fixed 25, minimum 100 → top-up 75
    assert line(bill, "minimum_charge").amount == D("75.00")


def test_subsidies_are_negative_lines():
    subsidies = (
        Subsidy("lifeline", "Lifeline", LevyBase.UNITS, rate_per_unit=D("1.20"), up_to_units=D(100)),
        Subsidy("small", "Small users", LevyBase.ENERGY, percent=D(50), when_units_at_most=D(200)),
    )
    bill = compute_bill(make_tariff(subsidies=subsidies), unit_type="2BHK", own_units=D(150))
    assert line(bill, "subsidy:lifeline").amount == D("-120.00")
    assert line(bill, "subsidy:small").amount == D("-350.00")
    large = compute_bill(make_tariff(subsidies=subsidies), unit_type="2BHK", own_units=D(250))
    assert "subsidy:small" not in [item.code for item in large.lines]
    assert any("not granted, 250 units > 200" in step for step in large.trace)


def test_bands_price_every_unit_at_the_band_of_the_total():
    bands = Bands((Slab(D(0), D(100), D(3)), Slab(D(101), D(300), D(5)), Slab(D(301), None, D(7))))
    bill = compute_bill(make_tariff(energy=bands), unit_type="2BHK", own_units=D(150))
    energy = line(bill, "energy")
    assert (energy.quantity, energy.rate, energy.amount) == (D(150), D(5), D("750.00"))
    assert compute_bill(make_tariff(energy=bands), unit_type="2BHK", own_units=D(100)).lines[0].rate == D(3)
    assert compute_bill(make_tariff(energy=bands), unit_type="2BHK", own_units=D("100.5")).lines[0].rate == D(5)


def test_fixed_charge_per_kw_of_sanctioned_load():
    tariff = make_tariff(fixed_basis=FixedBasis.KW, fixed_by_unit_type={"*": D(20)}, day_count=DayCount.FIRST_AND_LAST)
    period = BillingPeriod(date(2015, 6, 17), date(2015, 7, 17))
    bill = compute_bill(tariff, unit_type="x", own_units=D(0), period=period, sanctioned_load_kw=D(3))
    fixed = line(bill, "fixed")
    assert (fixed.quantity, fixed.amount) == (D("3.0453"), D("60.91"))  # 3 kW × 1.0151 × ₹20
    with pytest.raises(MissingSanctionedLoad) as caught:
        compute_bill(tariff, unit_type="x", own_units=D(0), period=period)
    assert caught.value.code == "bill.no_sanctioned_load"


def test_a_schedule_reused_across_bills_prices_each_as_a_fresh_one():
    # A schedule keeps the lines that do not depend on the units for the next bill (a bill run prices hundreds
    # with one): they must be the account's own, down to how its figures are written (5 and 5.0 kW print apart).
    tariff = make_tariff(fixed_basis=FixedBasis.KW, fixed_by_unit_type={"*": D(20)}, day_count=DayCount.FIRST_AND_LAST)
    period = BillingPeriod(date(2015, 6, 17), date(2015, 7, 17))
    schedule = TariffSchedule((tariff,))
    terms: list[dict[str, Any]] = [
        {"sanctioned_load_kw": D(5)},
        {"sanctioned_load_kw": D("5.0")},
        {"sanctioned_load_kw": D(5), "rate_override": RateOverride(D(9), D(0))},
        {"sanctioned_load_kw": D(5), "rate_override": RateOverride(D(9), D(0), reason="staff quarters")},
        {"sanctioned_load_kw": D(5)},
    ]
    for units, account in zip((D(10), D(10), D(120), D(120), D(300)), terms, strict=True):
        reused = compute_bill(schedule, unit_type="x", own_units=units, period=period, **account)
        fresh = compute_bill(tariff, unit_type="x", own_units=units, period=period, **account)
        assert reused == fresh
    first, second = (compute_bill(schedule, unit_type="x", own_units=D(10), period=period, **terms[i]) for i in (0, 1))
    assert "(5 kW sanctioned)" in line(first, "fixed").description
    assert "(5.0 kW sanctioned)" in line(second, "fixed").description


def test_shared_meter_share_is_priced_on_the_slabs_with_the_flats_units():
    motor = SharedMeterUse("MOTOR-B", D(210), D(77), D(408))
    bill = compute_bill(make_tariff(), unit_type="2BHK", own_units=D(77), shared=[motor])
    energy = [item for item in bill.lines if item.code == "energy"]
    assert [(item.quantity, item.amount) for item in energy] == [(D(100), D("400.00")), (D("16.63"), D("99.78"))]
    assert any("39.63 units" in step and "priced with the other units" in step for step in bill.trace)


def test_rate_override_replaces_the_slabs():
    override = RateOverride(D(9), D(0), reason="concession")
    bill = compute_bill(make_tariff(), unit_type="2BHK", own_units=D(150), rate_override=override)
    assert [(item.code, item.amount) for item in bill.lines[:2]] == [("energy", D("1350.00")), ("fixed", D("0.00"))]


def test_a_waived_fixed_charge_alone_keeps_the_tariffs_energy_charge():
    plain = compute_bill(make_tariff(), unit_type="2BHK", own_units=D(150))
    waived = compute_bill(make_tariff(), unit_type="2BHK", own_units=D(150), rate_override=RateOverride(None, D(0)))
    energy = [(item.quantity, item.amount) for item in waived.lines if item.code == "energy"]
    assert energy == [(item.quantity, item.amount) for item in plain.lines if item.code == "energy"]
    assert [item.amount for item in waived.lines if item.code == "fixed"] == [D("0.00")]
    assert not any("rate override" in step for step in waived.trace if "Energy" in step or "units ×" in step)
    with pytest.raises(ValueError, match="changes the rate, the fixed charge or both"):
        RateOverride(None, None)


def test_levy_and_subsidy_validation():
    with pytest.raises(TariffError, match="needs base `units`"):
        Levy("fuel", "Fuel", 1, LevyBase.CHARGES, rate_per_unit=D(1))
    with pytest.raises(TariffError, match="either `percent` or `rate_per_unit`"):
        Levy("duty", "Duty", 1, LevyBase.CHARGES)
    with pytest.raises(TariffError, match="unknown levy base 'Gross!'") as caught:
        Levy("duty", "Duty", 1, "Gross!", percent=D(5))
    assert caught.value.details["problem"] == "unknown_levy_base"
    # A well-formed name is a recurring charge's or an earlier levy's code: the tariff knows whether it exists.
    with pytest.raises(TariffError, match="unknown levy base 'gross'") as caught:
        make_tariff(levies=(Levy("duty", "Duty", 1, "gross", percent=D(5)),))
    assert (caught.value.details["problem"], caught.value.details["field"]) == ("unknown_levy_base", "levies[0].base")
    with pytest.raises(TariffError, match="two levies with order 1"):
        make_tariff(
            levies=(Levy("a", "A", 1, LevyBase.ENERGY, percent=D(1)), Levy("b", "B", 1, LevyBase.FIXED, percent=D(1)))
        )
    with pytest.raises(TariffError, match="lower-case"):
        Levy("Duty!", "Duty", 1, LevyBase.ENERGY, percent=D(1))


money = st.decimals(min_value=0, max_value=20, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def general_tariffs(draw):
    limits = sorted(draw(st.sets(st.integers(min_value=1, max_value=2000), max_size=4)))
    starts = [0, *(limit + 1 for limit in limits)]
    ranges = tuple(
        Slab(D(start), D(end) if end is not None else None, draw(money))
        for start, end in zip(starts, [*limits, None], strict=True)
    )
    energy = draw(st.sampled_from([FlatRate(draw(money)), Slabs(ranges), Bands(ranges)]))
    levies = tuple(
        Levy(f"l{index}", f"Levy {index}", index, base, percent=draw(money))
        if base != LevyBase.UNITS
        else Levy(f"l{index}", f"Levy {index}", index, base, rate_per_unit=draw(money))
        for index, base in enumerate(draw(st.lists(st.sampled_from(list(LevyBase)), max_size=3)))
    )
    return make_tariff(
        energy=energy,
        fixed_by_unit_type={"*": draw(money) * 100},
        minimum_charge=draw(st.none() | money.map(lambda amount: amount * 50)),
        levies=levies,
        subsidies=tuple(
            draw(
                st.lists(
                    st.builds(
                        Subsidy,
                        st.just("s"),
                        st.just("S"),
                        st.just(LevyBase.ENERGY),
                        percent=st.decimals(0, 100, places=1),
                    ),
                    max_size=1,
                )
            )
        ),
        day_count=DayCount.FIRST_AND_LAST,
    )


@given(
    general_tariffs(),
    st.decimals(min_value=0, max_value=5000, places=2, allow_nan=False, allow_infinity=False),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    st.integers(min_value=0, max_value=70),
    st.decimals(min_value=-5000, max_value=5000, places=2, allow_nan=False, allow_infinity=False),
)
def test_total_is_the_sum_of_the_lines_for_any_tariff(tariff, units, start, length, arrears):
    period = BillingPeriod(start, start + timedelta(days=length))
    bill = compute_bill(tariff, unit_type="2BHK", own_units=units, period=period, arrears=arrears)
    assert bill.total == sum(item.amount for item in bill.lines[:-1])
    assert sum(item.amount for item in bill.lines) == bill.payable
    assert bill.payable == bill.payable.to_integral_value()
    assert abs(bill.round_off) <= D("0.50")
    assert all(item.amount.as_tuple().exponent == -2 for item in bill.lines)
    energy_units = [item.quantity for item in bill.lines if item.code == "energy"]
    assert sum(energy_units) == units
    assert len(bill.trace) >= len(bill.lines)
