"""The capture screen's estimate of a unit's own charges (docs/domain.md "Expected window and estimate")."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_billing.billing import compute_bill
from shared_billing.charge_estimate import FAR_ABOVE_USUAL, estimate_own_charges, usual_month_units
from shared_billing.consumption import MeterRegister
from shared_billing.energy import Bands, FlatRate, Slab, Slabs
from shared_billing.errors import MissingSanctionedLoad
from shared_billing.levies import Levy, LevyBase
from shared_billing.plausibility import Usage
from shared_billing.tariffs import FixedBasis, Tariff, blessings_tariff

D = Decimal
SLABS = Slabs((Slab(D(0), D(100), D("4.00")), Slab(D(101), D(300), D("6.00")), Slab(D(301), None, D("8.00"))))


def tariff(**overrides: Any) -> Tariff:
    values: dict[str, Any] = {"code": "T", "name": "Test", "energy": SLABS, "fixed_by_unit_type": {"*": D(50)}}
    values.update(overrides)
    return Tariff(**values)


def test_energy_and_fixed_on_slabs_are_the_bills_own():
    estimate = estimate_own_charges(tariff(), unit_type="2BHK", units=D(150))
    # 100 × 4 + 50 × 6 = 700, fixed 50.
    assert (estimate.units, estimate.energy, estimate.fixed, estimate.total) == (D(150), D(700), D(50), D(750))
    assert estimate.usual_total is None
    assert not estimate.crosses_slab
    assert not estimate.far_above_usual


def test_crossing_into_a_dearer_slab_than_the_usual_month():
    estimate = estimate_own_charges(tariff(), unit_type="2BHK", units=D(120), usual_units=D(90))
    assert estimate.crosses_slab
    assert estimate.usual_total == D(410)  # 90 × 4 + 50
    assert not estimate.far_above_usual  # 100 × 4 + 20 × 6 + 50 = 570 < 1.5 × 410
    same_slab = estimate_own_charges(tariff(), unit_type="2BHK", units=D(250), usual_units=D(150))
    assert not same_slab.crosses_slab
    # The slab's limit itself is inside it; a fraction above is in the next one.
    assert not estimate_own_charges(tariff(), unit_type="2BHK", units=D(100), usual_units=D(50)).crosses_slab
    assert estimate_own_charges(tariff(), unit_type="2BHK", units=D("100.5"), usual_units=D(50)).crosses_slab


def test_a_lower_slab_than_usual_is_no_crossing():
    assert not estimate_own_charges(tariff(), unit_type="2BHK", units=D(50), usual_units=D(400)).crosses_slab


def test_bands_cross_too_and_a_flat_rate_never_does():
    bands = tariff(energy=Bands(SLABS.slabs))
    assert estimate_own_charges(bands, unit_type="*", units=D(101), usual_units=D(100)).crosses_slab
    flat = blessings_tariff()
    estimate = estimate_own_charges(flat, unit_type="2BHK", units=D(5000), usual_units=D(100))
    assert not estimate.crosses_slab
    assert estimate.far_above_usual  # 5000 × 12 + 1474 against 100 × 12 + 1474


def test_far_above_usual_is_at_the_threshold():
    flat = tariff(energy=FlatRate(D(10)), fixed_by_unit_type={"*": D(0)})
    usual = estimate_own_charges(flat, unit_type="*", units=D(150), usual_units=D(100))
    assert usual.usual_total is not None
    assert usual.total == FAR_ABOVE_USUAL * usual.usual_total
    assert usual.far_above_usual
    assert not estimate_own_charges(flat, unit_type="*", units=D(149), usual_units=D(100)).far_above_usual
    # Nothing to compare with: a zero-charge usual month never warns.
    assert not estimate_own_charges(flat, unit_type="*", units=D(10), usual_units=D(0)).far_above_usual


def test_per_kw_fixed_charge_needs_the_sanctioned_load():
    per_kw = tariff(fixed_basis=FixedBasis.KW, fixed_by_unit_type={"*": D(20)})
    estimate = estimate_own_charges(per_kw, unit_type="*", units=D(0), sanctioned_load_kw=D(3))
    assert (estimate.energy, estimate.fixed, estimate.total) == (D(0), D(60), D(60))
    with pytest.raises(MissingSanctionedLoad):
        estimate_own_charges(per_kw, unit_type="*", units=D(10))


def test_levies_are_in_the_total_and_it_is_rounded_as_a_bill():
    duty = Levy(code="duty", name="Duty", base=LevyBase.CHARGES, percent=D(5), order=1)
    estimate = estimate_own_charges(tariff(levies=(duty,)), unit_type="*", units=D("33.3"))
    # energy 133.20 + fixed 50 = 183.20; duty 9.16; 192.36 payable 192.
    assert (estimate.energy, estimate.fixed, estimate.total) == (D("133.20"), D(50), D(192))


def test_the_usual_month_from_the_daily_use_and_the_multiplier():
    usage = Usage(D(1000), datetime(2025, 6, 1, tzinfo=UTC), D(10), D(4), D(19), 4)
    assert usual_month_units(usage, MeterRegister(dials=6)) == D(304)  # 10 × 30.4375, whole units
    assert usual_month_units(usage, MeterRegister(dials=6, decimals=1, multiplier=D(2))) == D("608.8")


@given(st.integers(min_value=0, max_value=5000), st.integers(min_value=0, max_value=5000))
def test_the_estimate_is_compute_bill_for_one_month(units, usual):
    estimate = estimate_own_charges(tariff(), unit_type="*", units=D(units), usual_units=D(usual))
    bill = compute_bill(tariff(), unit_type="*", own_units=D(units))
    assert estimate.total == bill.payable
    assert estimate.usual_total == compute_bill(tariff(), unit_type="*", own_units=D(usual)).payable
    assert estimate.crosses_slab == (_slab_of(units) > _slab_of(usual))


def _slab_of(units: int) -> int:
    """Which of SLABS' three slabs (rates rising) the last unit falls in."""
    return 0 if units <= 100 else 1 if units <= 300 else 2
