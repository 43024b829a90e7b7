"""Ordinary consumption: (current − previous) × multiplier; a drop is refused until rollover rules exist."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_billing.consumption import subtractive_consumption
from shared_billing.errors import BelowPrevious, BillingError

D = Decimal


def test_consumption_is_the_difference():
    assert subtractive_consumption(D("4500"), D("4620")) == D("120")


def test_consumption_applies_the_multiplier_exactly():
    assert subtractive_consumption(D("100.5"), D("102.7"), multiplier=D("40")) == D("88.0")


def test_equal_values_are_zero_consumption():
    assert subtractive_consumption(D("1234"), D("1234")) == 0


def test_current_below_previous_is_refused_as_below_previous():
    # docs/domain.md "Rollover" example (99,950 → 00,120): a later issue turns plausible ones into 170 units.
    with pytest.raises(BelowPrevious) as caught:
        subtractive_consumption(D("99950"), D("120"))
    error = caught.value
    assert isinstance(error, BillingError)
    assert error.code == "reading.below_previous"
    assert error.details == {"previous": "99950", "current": "120"}
    assert "rollover" in error.message


@pytest.mark.parametrize("multiplier", [D(0), D(-1)])
def test_non_positive_multiplier_is_a_configuration_bug(multiplier):
    with pytest.raises(ValueError, match="multiplying factor"):
        subtractive_consumption(D(1), D(2), multiplier=multiplier)


register = st.decimals(min_value=0, max_value=999999, places=1, allow_nan=False, allow_infinity=False)


@given(register, register, st.sampled_from([D(1), D(2), D("40"), D("0.5")]))
def test_consumption_is_non_negative_and_exact(a, b, multiplier):
    previous, current = min(a, b), max(a, b)
    units = subtractive_consumption(previous, current, multiplier=multiplier)
    assert units >= 0
    assert units == (current - previous) * multiplier
