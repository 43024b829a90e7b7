"""Consumption rules: registers, multiplier, plausible rollover, replacement pairs (docs/domain.md "Consumption")."""

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shared_billing.consumption import (
    MeterRegister,
    RegisterKind,
    is_plausible_rollover,
    meter_consumption,
    replacement_consumption,
)
from shared_billing.errors import BelowPrevious, TooManyDigits

D = Decimal
FIVE = MeterRegister(dials=5)


def test_ordinary_consumption_applies_the_multiplier():
    used = meter_consumption(MeterRegister(dials=6, decimals=1, multiplier=D(40)), D("100.5"), D("102.7"))
    assert (used.units, used.rollover) == (D("88.0"), False)
    assert used.explanation == ("Meter: (102.7 − 100.5) × 40 = 88.0 units",)


def test_consumption_register_reads_the_units_directly():
    used = meter_consumption(MeterRegister(dials=4, multiplier=D(2), kind=RegisterKind.CONSUMPTION), None, D(150))
    assert used.units == D(300)


def test_rollover_is_multiplied_and_explained():
    used = meter_consumption(MeterRegister(dials=5, multiplier=D(10)), D(99950), D(120))
    assert used.units == D(1700)
    assert "rolled over at 100000 (5 dials)" in used.explanation[0]


def test_a_drop_that_is_no_plausible_rollover_is_refused_with_the_flag():
    with pytest.raises(BelowPrevious) as caught:
        meter_consumption(FIVE, D(4620), D(4500))
    error = caught.value
    assert error.code == "reading.below_previous"
    assert error.details["flag"] == "below_previous"
    assert "not near the maximum" in error.details["reason"]
    assert "replaced meter or a typo" in error.message


def test_a_large_current_value_is_no_rollover():
    with pytest.raises(BelowPrevious, match="is not small"):
        meter_consumption(FIVE, D(99950), D(20000))


def test_a_rollover_beyond_the_expected_window_is_refused():
    assert is_plausible_rollover(FIVE, D(99950), D(120), expected_max_units=D(200))
    with pytest.raises(BelowPrevious, match="above the expected 150"):
        meter_consumption(FIVE, D(99950), D(120), expected_max_units=D(150))


def test_values_beyond_the_dials_are_refused():
    with pytest.raises(TooManyDigits):
        meter_consumption(FIVE, D(99950), D(100000))


def test_replacement_with_a_drop_on_the_old_meter_is_refused():
    with pytest.raises(BelowPrevious):
        replacement_consumption(FIVE, D(4620), D(4500), FIVE, D(0), D(75))


def test_replacement_uses_each_meters_multiplier():
    old, new = MeterRegister(5, multiplier=D(2)), MeterRegister(6, multiplier=D(5))
    used = replacement_consumption(old, D(4500), D(4620), new, D(10), D(25))
    assert used.units == D(240 + 75)


def test_at_most_one_rollover_a_period():
    with pytest.raises(BelowPrevious, match="Both the old and the new meter"):
        replacement_consumption(FIVE, D(99950), D(10), FIVE, D(99990), D(5))


@given(
    st.integers(min_value=1, max_value=8),
    st.sampled_from([D(1), D(2), D("0.5"), D(40)]),
    st.data(),
)
def test_rollover_consumption_is_below_the_register_range_times_multiplier(dials, multiplier, data):
    register = MeterRegister(dials=dials, multiplier=multiplier)
    top = 10**dials - 1
    previous = D(data.draw(st.integers(min_value=0, max_value=top)))
    current = D(data.draw(st.integers(min_value=0, max_value=top)))
    assume(current < previous)
    if is_plausible_rollover(register, previous, current):
        used = meter_consumption(register, previous, current)
        assert used.rollover
        assert 0 < used.units < register.capacity * multiplier
        assert used.units < D("0.2") * register.capacity * multiplier
    else:
        with pytest.raises(BelowPrevious):
            meter_consumption(register, previous, current)
