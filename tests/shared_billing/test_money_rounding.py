"""Money and unit rounding: ROUND_HALF_UP on Decimal (docs/domain.md "Rounding"; the seed's banker's rounding)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_billing.money import round_paise, round_rupee, round_units

D = Decimal


def test_round_rupee_rounds_half_up_not_to_even():
    # The seed used float + round(): round(1234.5) == 1234 (banker's rounding). A bill must say 1235.
    assert round(1234.5) == 1234
    assert round_rupee(D("1234.5")) == D("1235")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("0.5", "1"), ("2.5", "3"), ("0.49", "0"), ("3710.56", "3711"), ("3710.44", "3710"), ("-0.5", "-1")],
)
def test_round_rupee_examples(amount, expected):
    assert round_rupee(D(amount)) == D(expected)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("2.675", "2.68"), ("0.005", "0.01"), ("1.004", "1.00"), ("1399.56", "1399.56"), ("-0.005", "-0.01")],
)
def test_round_paise_examples(amount, expected):
    # 2.675 is the classic float trap: round(2.675, 2) == 2.67 because the float is 2.67499999…
    result = round_paise(D(amount))
    assert result == D(expected)
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize("amount", ["-0.004", "-0.0", "-0"])
def test_round_paise_never_returns_negative_zero(amount):
    assert str(round_paise(D(amount))) == "0.00"


@pytest.mark.parametrize("amount", ["-0.004", "-0.49", "-0"])
def test_round_rupee_never_returns_negative_zero(amount):
    assert str(round_rupee(D(amount))) == "0"


def test_round_units_to_places():
    assert round_units(D("39.6323529"), 2) == D("39.63")
    assert round_units(D("39.625"), 2) == D("39.63")
    assert round_units(D("116.5"), 0) == D("117")


def test_round_units_refuses_negative_places():
    with pytest.raises(ValueError, match="places"):
        round_units(D(1), -1)


money = st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False, allow_infinity=False)


@given(money)
def test_round_paise_is_within_half_a_paisa(amount):
    rounded = round_paise(amount)
    assert abs(rounded - amount) <= D("0.005")
    assert round_paise(rounded) == rounded


@given(money)
def test_round_rupee_is_within_half_a_rupee_and_whole(amount):
    rounded = round_rupee(amount)
    assert abs(rounded - amount) <= D("0.5")
    assert rounded == rounded.to_integral_value()
