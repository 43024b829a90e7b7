"""Tariff files: read from bytes (UTF-8, a byte-order mark dropped), every figure finite and bounded, refused at
its line (docs/tariff-format.md, "Bounds" and "Encoding")."""

from decimal import Decimal

import pytest

from shared_billing.errors import TariffError, TariffFileError
from shared_billing.tariff_data import checked_amount, decimal_from_data, whole_from_data
from shared_billing.tariff_file import parse_tariff_toml
from tests.shared_billing.test_tariff_file import line_with

D = Decimal

TEXT = """\
format = 1
code = "BOUNDS"
name = "Bounds tariff"
day_count = "first_and_last"

[[versions]]
effective_from = 2015-04-01
fixed_by_unit_type = { "*" = 40 }
minimum_charge = 100

[versions.energy]
kind = "slabs"
slabs = [
    { from = 0, to = 200, rate = 4.00 },
    { from = 201, rate = 5.95 },
]
"""


def refusal(source: str | bytes) -> TariffFileError:
    with pytest.raises(TariffFileError) as caught:
        parse_tariff_toml(source, source="bounds.toml")
    return caught.value


# Encoding.


def test_bytes_parse_as_the_same_tariff_as_text():
    assert parse_tariff_toml(TEXT.encode("utf-8")) == parse_tariff_toml(TEXT)


def test_a_byte_order_mark_is_dropped_from_bytes_and_from_text():
    expected = parse_tariff_toml(TEXT)
    assert parse_tariff_toml(b"\xef\xbb\xbf" + TEXT.encode("utf-8")) == expected
    assert parse_tariff_toml("\ufeff" + TEXT) == expected


def test_line_numbers_stay_right_after_a_byte_order_mark():
    text = TEXT.replace("rate = 5.95", "rate = -5.95")
    error = refusal(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert error.details["line"] == str(line_with(text, "-5.95"))


def test_bytes_that_are_not_utf8_are_refused_with_the_line_and_byte():
    data = TEXT.replace("Bounds tariff", "Délhi tariff").encode("cp1252")
    error = refusal(data)
    offset = data.index(b"\xe9")
    assert error.details == {
        "source": "bounds.toml",
        "line": "3",
        "byte": str(offset),
        "key": "",
        "problem": "not_utf8",
    }
    assert error.message.startswith(f"bounds.toml, line 3 (byte {offset}): not UTF-8 text (byte 0xe9)")


def test_a_file_cut_inside_a_character_is_not_utf8():
    data = TEXT.encode("utf-8") + "# ₹".encode()[:-1]
    assert refusal(data).details["problem"] == "not_utf8"


# Figures: finite and bounded.


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("rate = 4.00", "rate = 1e30", "out_of_range"),
        ("rate = 4.00", "rate = 1000000000.01", "out_of_range"),
        ('"*" = 40', '"*" = 1e30', "out_of_range"),
        ("minimum_charge = 100", "minimum_charge = 10000000000", "out_of_range"),
        ("{ from = 201,", "{ from = 1e30,", "out_of_range"),
        ("to = 200,", "to = 1000000000001,", "out_of_range"),
        ("rate = 4.00", "rate = nan", "not_finite"),
        ("rate = 4.00", "rate = inf", "not_finite"),
        ("rate = 4.00", "rate = -inf", "not_finite"),
        ("rate = 4.00", 'rate = "NaN"', "not_finite"),
        ("rate = 4.00", 'rate = "-Infinity"', "not_finite"),
    ],
)
def test_a_figure_out_of_bounds_is_refused_at_its_line(old, new, problem):
    text = TEXT.replace(old, new, 1)
    error = refusal(text)
    assert (error.details["problem"], error.details["line"]) == (problem, str(line_with(text, new)))


def test_figures_at_the_bounds_are_accepted():
    text = TEXT.replace("rate = 4.00", "rate = 1000000000").replace("to = 200,", "to = 999999999999,")
    parse_tariff_toml(text.replace("{ from = 201,", "{ from = 1000000000000,"))
    error = refusal(
        text.replace("to = 999999999999,", "to = 1000000000000,").replace("{ from = 201,", "{ from = 1000000000001,")
    )
    assert (error.details["key"], error.details["problem"]) == ("versions[0].energy.slabs[1].from", "out_of_range")


def test_the_bound_is_named_in_the_message():
    assert "at most 1,000,000,000 " in refusal(TEXT.replace("rate = 4.00", "rate = 1e30")).message
    assert "at most 1,000,000,000,000 " in refusal(TEXT.replace("to = 200,", "to = 1e30,")).message


def test_checked_amount_bounds_units_and_amounts_apart():
    assert checked_amount("energy.slabs[0].to", D(10) ** 12) == D(10) ** 12
    assert checked_amount("up_to_units", D(10) ** 12) == D(10) ** 12
    assert checked_amount("anything", D(10) ** 12, units=True) == D(10) ** 12
    for what, units in (("rate", None), ("energy.slabs[0].to", False), ("fixed_by_unit_type[*]", None)):
        with pytest.raises(TariffError) as caught:
            checked_amount(what, D(10) ** 9 + 1, units=units)
        assert caught.value.details["problem"] == "out_of_range"


@pytest.mark.parametrize("value", [D("NaN"), D("Infinity"), D("-Infinity"), D("sNaN")])
def test_checked_amount_refuses_non_finite(value):
    with pytest.raises(TariffError) as caught:
        checked_amount("rate", value)
    assert caught.value.details["problem"] == "not_finite"


def test_data_readers_share_the_bounds():
    with pytest.raises(TariffError):
        decimal_from_data("rate", "1e30")
    with pytest.raises(TariffError):
        whole_from_data("order", 10**30)
    assert decimal_from_data("rate", "1E+9") == D(10) ** 9
