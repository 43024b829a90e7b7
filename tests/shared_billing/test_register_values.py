"""Parsing typed register values: 0 ≤ value < 10**dials, at most the meter's decimals, ASCII digits only."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_billing.errors import (
    NegativeRegisterValue,
    RegisterValueError,
    TooManyDecimals,
    TooManyDigits,
)
from shared_billing.readings import format_register_value, parse_register_value

D = Decimal


@pytest.mark.parametrize(
    ("text", "dials", "decimals", "expected"),
    [
        ("0", 5, 0, "0"),
        ("00120", 5, 0, "120"),  # dials show leading zeros (docs/domain.md "Rollover" example 00,120)
        ("0000120", 6, 0, "120"),  # extra typed leading zeros do not make the value larger
        ("99999", 5, 0, "99999"),
        ("12345.6", 5, 1, "12345.6"),
        ("123.4", 6, 2, "123.40"),  # fewer decimals than the meter shows is fine
    ],
)
def test_parse_accepts_plain_values(text, dials, decimals, expected):
    value = parse_register_value(text, dials=dials, decimals=decimals)
    assert value == D(expected)
    assert str(value) == expected  # quantized to the meter's decimals


def test_parse_quantizes_to_meter_decimals():
    assert parse_register_value("7", dials=6, decimals=2).as_tuple().exponent == -2


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "1e3",
        "1E3",
        "NaN",
        "nan",
        "Infinity",
        "inf",
        "+5",
        "١٢",  # Arabic-Indic digits: Decimal("١٢") would accept them
        "５",  # full-width digit
        "१२",  # Devanagari digits
        " 12",
        "12 ",
        "12\n",
        "1,234",
        "1_000",
        "1.2.3",
        ".5",
        "5.",
        "0x10",
        "-",
        "--5",
        "12-",
        "abc",
    ],
)
def test_parse_rejects_non_numeric_text(text):
    with pytest.raises(RegisterValueError) as caught:
        parse_register_value(text, dials=6, decimals=1)
    assert type(caught.value) is RegisterValueError
    assert caught.value.code == "reading.invalid_value"
    assert caught.value.details == {"value": text}


@pytest.mark.parametrize("text", ["-5", "-0.5", "-0"])
def test_parse_rejects_negative_values(text):
    with pytest.raises(NegativeRegisterValue) as caught:
        parse_register_value(text, dials=6, decimals=1)
    assert caught.value.code == "reading.negative_value"
    assert "negative" in caught.value.message


def test_parse_rejects_more_digits_than_dials():
    with pytest.raises(TooManyDigits) as caught:
        parse_register_value("1234567", dials=6, decimals=0)
    assert caught.value.code == "reading.too_many_digits"
    assert caught.value.message == "Value 1234567 has 7 digits; meter has 6 dials"
    assert caught.value.details == {"value": "1234567", "dials": "6"}


def test_parse_handles_registers_wider_than_the_default_decimal_precision():
    text = "9" * 30 + ".999"
    assert str(parse_register_value(text, dials=30, decimals=3)) == text


def test_parse_rejects_value_equal_to_ten_to_the_dials():
    with pytest.raises(TooManyDigits):
        parse_register_value("100000", dials=5, decimals=0)


def test_parse_rejects_more_decimals_than_the_meter_shows():
    with pytest.raises(TooManyDecimals) as caught:
        parse_register_value("123.45", dials=6, decimals=1)
    assert caught.value.code == "reading.too_many_decimals"
    assert caught.value.message == "Value 123.45 has 2 decimal places; meter shows 1 decimal place"


def test_parse_rejects_any_fraction_on_a_meter_without_decimals():
    with pytest.raises(TooManyDecimals, match="has 1 decimal place; meter shows none"):
        parse_register_value("123.0", dials=6, decimals=0)


def test_every_rejection_has_a_distinct_code_under_one_base():
    classes = [RegisterValueError, NegativeRegisterValue, TooManyDigits, TooManyDecimals]
    assert len({cls.code for cls in classes}) == len(classes)
    assert all(issubclass(cls, RegisterValueError) for cls in classes)


@pytest.mark.parametrize(("dials", "decimals"), [(0, 0), (5, -1)])
def test_parse_refuses_impossible_meter_configuration(dials, decimals):
    with pytest.raises(ValueError, match="meter"):
        parse_register_value("1", dials=dials, decimals=decimals)


def test_format_refuses_values_with_more_decimals_than_the_meter():
    with pytest.raises(ValueError, match="decimal places"):
        format_register_value(D("1.25"), decimals=1)


@st.composite
def meter_and_value(draw):
    dials = draw(st.integers(min_value=1, max_value=9))
    decimals = draw(st.integers(min_value=0, max_value=3))
    scaled = draw(st.integers(min_value=0, max_value=10 ** (dials + decimals) - 1))
    return dials, decimals, D(scaled).scaleb(-decimals)


@given(meter_and_value())
def test_parse_round_trips_values_formatted_at_the_meter_decimals(case):
    dials, decimals, value = case
    text = format_register_value(value, decimals=decimals)
    assert text == f"{value:.{decimals}f}"
    parsed = parse_register_value(text, dials=dials, decimals=decimals)
    assert parsed == value
    assert format_register_value(parsed, decimals=decimals) == text


@given(st.text(max_size=12), st.integers(min_value=1, max_value=8), st.integers(min_value=0, max_value=3))
def test_parse_either_returns_an_in_range_value_or_raises_a_register_value_error(text, dials, decimals):
    try:
        value = parse_register_value(text, dials=dials, decimals=decimals)
    except RegisterValueError:
        return
    assert 0 <= value < 10**dials
    assert value.as_tuple().exponent == -decimals


def test_format_quantity_drops_trailing_zeros_without_exponent() -> None:
    from shared_billing.readings import format_quantity

    assert format_quantity(Decimal("77.00000000")) == "77"
    assert format_quantity(Decimal("100.0000")) == "100"
    assert format_quantity(Decimal("39.6300")) == "39.63"
