"""Shared-meter (water motor) allocation: per-flat half-up (seed) and largest remainder (new tariffs)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_billing.errors import SharedMeterError, SharedMeterIncomplete, SharedMeterUnallocatable
from shared_billing.money import round_units
from shared_billing.shared_meters import SharedMeterUse, allocate_shares, exact_share
from shared_billing.tariffs import ShareRounding

D = Decimal
PER_UNIT = ShareRounding.PER_UNIT_HALF_UP
LARGEST = ShareRounding.LARGEST_REMAINDER
MOTOR_B = {"B17-FF": D(77), "B17-SF": D(110), "B18-FF": D(110), "B18-SF": D(111)}


def test_largest_remainder_domain_example():
    shares = allocate_shares(D(100), {"A": D(1), "B": D(1), "C": D(1)}, LARGEST)
    assert shares == {"A": D("33.34"), "B": D("33.33"), "C": D("33.33")}
    assert sum(shares.values()) == D(100)


def test_per_unit_rounding_need_not_sum_to_the_meter():
    shares = allocate_shares(D(100), {"A": D(1), "B": D(1), "C": D(1)}, PER_UNIT)
    assert shares == {"A": D("33.33"), "B": D("33.33"), "C": D("33.33")}


def test_per_unit_domain_example_share_is_39_63():
    # docs/domain.md "The seed-compatible bill": 210 × 77 / 408 = 39.632… → 39.63
    assert allocate_shares(D(210), MOTOR_B, PER_UNIT)["B17-FF"] == D("39.63")


def test_exact_ties_round_half_up_per_unit():
    # 0.05 over two equal flats: exactly 0.025 each → 0.03 each per flat (seed), 0.03 + 0.02 by remainder.
    assert allocate_shares(D("0.05"), {"A": D(1), "B": D(1)}, PER_UNIT) == {"A": D("0.03"), "B": D("0.03")}
    assert allocate_shares(D("0.05"), {"A": D(1), "B": D(1)}, LARGEST) == {"A": D("0.03"), "B": D("0.02")}


def test_largest_remainder_ties_do_not_depend_on_mapping_order():
    forward = allocate_shares(D(100), {"A": D(1), "B": D(1), "C": D(1)}, LARGEST)
    backward = allocate_shares(D(100), {"C": D(1), "B": D(1), "A": D(1)}, LARGEST)
    assert forward == backward


def test_zero_use_members_get_zero():
    shares = allocate_shares(D(10), {"A": D(3), "B": D(0)}, LARGEST)
    assert shares == {"A": D("10.00"), "B": D("0.00")}


def test_nothing_to_share_gives_zero_shares():
    assert allocate_shares(D(0), {"A": D(0), "B": D(0)}, LARGEST) == {"A": D("0.00"), "B": D("0.00")}


def test_motor_units_without_member_use_are_unallocatable():
    with pytest.raises(SharedMeterUnallocatable) as caught:
        allocate_shares(D(5), {"A": D(0)}, PER_UNIT)
    assert caught.value.code == "bill.shared_meter_unallocatable"


def test_negative_figures_are_refused():
    with pytest.raises(SharedMeterError):
        allocate_shares(D(5), {"A": D(-1), "B": D(3)}, PER_UNIT)


def test_for_member_with_a_missing_flat_is_incomplete():
    members = dict(MOTOR_B, **{"B18-SF": None})
    with pytest.raises(SharedMeterIncomplete) as caught:
        SharedMeterUse.for_member("MOTOR-B", D(210), members, "B17-FF", PER_UNIT)
    assert caught.value.code == "bill.shared_meter_incomplete"
    assert caught.value.details == {"meter": "MOTOR-B", "missing": "B18-SF"}


def test_for_member_keeps_the_group_figures():
    use = SharedMeterUse.for_member("MOTOR-B", D(210), MOTOR_B, "B17-FF", LARGEST)
    assert (use.own_units, use.group_units, use.share_units) == (D(77), D(408), D("39.63"))


def test_for_member_refuses_a_flat_not_on_the_meter():
    with pytest.raises(SharedMeterError, match="not served"):
        SharedMeterUse.for_member("MOTOR-B", D(210), MOTOR_B, "C8-SF", PER_UNIT)


def test_largest_remainder_share_needs_the_whole_group():
    use = SharedMeterUse("MOTOR-B", D(210), D(77), D(408))
    with pytest.raises(SharedMeterError, match="for_member"):
        use.share(LARGEST)
    assert use.share(PER_UNIT) == D("39.63")


def test_inconsistent_figures_are_refused():
    with pytest.raises(SharedMeterError, match="exceed"):
        SharedMeterUse("MOTOR-B", D(210), D(500), D(408))
    with pytest.raises(SharedMeterError, match=r"within 0\.01"):
        SharedMeterUse("MOTOR-B", D(210), D(77), D(408), share_units=D("40"))
    with pytest.raises(SharedMeterUnallocatable):
        SharedMeterUse("MOTOR-B", D(210), D(0), D(0))


units = st.decimals(min_value=0, max_value=5000, places=2, allow_nan=False, allow_infinity=False)
members = st.dictionaries(st.text(alphabet="ABCDEF0123456789-", min_size=1, max_size=6), units, min_size=1, max_size=12)


@given(units, members.filter(lambda m: sum(m.values()) > 0))
def test_largest_remainder_sums_exactly_and_stays_within_a_hundredth(meter_units, member_units):
    shares = allocate_shares(meter_units, member_units, LARGEST)
    assert sum(shares.values()) == meter_units
    total = sum(member_units.values())
    for member, share in shares.items():
        assert abs(share - exact_share(meter_units, member_units[member], total)) < D("0.01")
        assert share.as_tuple().exponent == -2


@given(units, members.filter(lambda m: sum(m.values()) > 0))
def test_largest_remainder_does_not_depend_on_member_order(meter_units, member_units):
    reversed_units = dict(reversed(list(member_units.items())))
    assert allocate_shares(meter_units, member_units, LARGEST) == allocate_shares(meter_units, reversed_units, LARGEST)


@given(units, members.filter(lambda m: sum(m.values()) > 0))
def test_per_unit_shares_are_each_within_half_a_hundredth(meter_units, member_units):
    shares = allocate_shares(meter_units, member_units, PER_UNIT)
    total = sum(member_units.values())
    for member, share in shares.items():
        assert abs(share - exact_share(meter_units, member_units[member], total)) <= D("0.005")


fine_units = st.decimals(min_value=0, max_value=5000, places=3, allow_nan=False, allow_infinity=False)


@given(fine_units, members.filter(lambda m: sum(m.values()) > 0))
def test_largest_remainder_sums_to_the_meter_units_rounded_to_a_hundredth(meter_units, member_units):
    shares = allocate_shares(meter_units, member_units, LARGEST)
    assert sum(shares.values()) == round_units(meter_units, 2)
