"""Tariff files (TOML): the examples load, and bad files are refused with the line at fault."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from shared_billing.energy import Bands, FlatRate, Slabs
from shared_billing.errors import TariffError, TariffFileError
from shared_billing.levies import LevyBase
from shared_billing.periods import DayCount
from shared_billing.tariff_file import parse_tariff_toml
from shared_billing.tariff_source import line_of, parse_field
from shared_billing.tariffs import FixedBasis, ShareRounding, Tariff

D = Decimal
TARIFFS = Path(__file__).resolve().parents[2] / "assets" / "tariffs"

GOOD = """\
format = 1
code = "TEST"
name = "Test tariff"
day_count = "first_and_last"

[[versions]]
effective_from = 2015-04-01
fixed_by_unit_type = { "*" = 40 }
minimum_charge = 100

[versions.energy]
kind = "slabs"
slabs = [
    { from = 0, to = 200, rate = 4.00 },
    { from = 201, to = 400, rate = 5.95 },
    { from = 401, rate = 7.30 },
]

[[versions.levies]]
code = "duty"
name = "Electricity duty"
order = 1
base = "charges"
percent = 5

[[versions]]
effective_from = 2016-04-01
fixed_basis = "kw"
fixed_by_unit_type = { "*" = 20 }

[versions.energy]
kind = "bands"
bands = [
    { from = 0, to = 100, rate = 3.00 },
    { from = 101, rate = 5.00 },
]

[[versions.subsidies]]
code = "lifeline"
name = "Lifeline subsidy"
base = "units"
rate_per_unit = "1.20"
up_to_units = 100
"""


def line_with(text, fragment, occurrence=1):
    """The 1-based number of the line containing ``fragment`` (its n-th occurrence)."""
    hits = [number for number, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return hits[occurrence - 1]


def refusal(text):
    with pytest.raises(TariffFileError) as caught:
        parse_tariff_toml(text, source="test.toml")
    error = caught.value
    assert error.code == "tariff.file_invalid"
    assert isinstance(error, TariffError)
    return error


def test_example_files_load():
    for path in sorted(TARIFFS.glob("*.toml")):
        schedule = parse_tariff_toml(path.read_text(encoding="utf-8"), source=str(path))
        assert schedule.versions, path


def test_a_full_file_builds_every_kind_of_rule():
    schedule = parse_tariff_toml(GOOD)
    first, second = schedule.versions
    assert (schedule.code, schedule.day_count) == ("TEST", DayCount.FIRST_AND_LAST)
    assert schedule.share_rounding is ShareRounding.LARGEST_REMAINDER
    assert isinstance(first.energy, Slabs)
    assert first.energy.slabs[1].rate == D("5.95")  # a bare TOML number read as an exact decimal
    assert (first.minimum_charge, first.levies[0].base) == (D(100), LevyBase.CHARGES)
    assert isinstance(second.energy, Bands)
    assert (second.effective_from, second.fixed_basis) == (date(2016, 4, 1), FixedBasis.KW)
    assert second.subsidies[0].rate_per_unit == D("1.20")


def test_each_version_round_trips_through_its_stored_form():
    for version in parse_tariff_toml(GOOD).versions:
        assert Tariff.from_dict(version.to_dict()) == version


def test_overlapping_slabs_are_refused_at_the_slab():
    text = GOOD.replace("{ from = 201, to = 400", "{ from = 150, to = 400")
    error = refusal(text)
    assert error.details["problem"] == "slabs_overlap"
    assert error.details["line"] == str(line_with(text, "from = 150"))
    assert error.message.startswith(f"test.toml, line {line_with(text, 'from = 150')} ")
    assert "should start at 201" in error.message


def test_a_gap_between_slabs_is_refused_at_the_slab():
    text = GOOD.replace("{ from = 401, rate = 7.30 }", "{ from = 500, rate = 7.30 }")
    error = refusal(text)
    assert error.details["problem"] == "slabs_gap"
    assert error.details["line"] == str(line_with(text, "from = 500"))
    assert "401–499 without a rate" in error.message


def test_a_first_slab_not_starting_at_zero_is_a_gap():
    text = GOOD.replace("{ from = 0, to = 200", "{ from = 1, to = 200")
    error = refusal(text)
    assert (error.details["problem"], error.details["line"]) == ("slabs_gap", str(line_with(text, "from = 1,")))


def test_a_bounded_last_slab_is_a_gap():
    text = GOOD.replace("{ from = 401, rate = 7.30 }", "{ from = 401, to = 800, rate = 7.30 }")
    error = refusal(text)
    assert (error.details["problem"], error.details["line"]) == ("slabs_gap", str(line_with(text, "to = 800")))


def test_overlapping_bands_are_refused_at_the_band():
    text = GOOD.replace("{ from = 101, rate = 5.00 }", "{ from = 90, rate = 5.00 }")
    error = refusal(text)
    assert (error.details["problem"], error.details["line"]) == ("slabs_overlap", str(line_with(text, "from = 90")))


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("rate = 5.95", "rate = -5.95", "versions[0].energy.slabs[1].rate"),
        ("percent = 5", "percent = -5", "versions[0].levies[0].percent"),
        ('{ "*" = 20 }', '{ "*" = -20 }', "versions[1].fixed_by_unit_type[*]"),
        ('rate_per_unit = "1.20"', 'rate_per_unit = "-1.20"', "versions[1].subsidies[0].rate_per_unit"),
    ],
)
def test_negative_rates_are_refused_at_their_line(old, new, key):
    text = GOOD.replace(old, new)
    error = refusal(text)
    assert error.details["problem"] == "negative_rate"
    assert error.details["key"] == key
    assert error.details["line"] == str(line_with(text, new))


def test_an_unknown_levy_base_is_refused_at_its_line():
    text = GOOD.replace('base = "charges"', 'base = "energy_charges"')
    error = refusal(text)
    assert error.details["problem"] == "unknown_levy_base"
    assert error.details["line"] == str(line_with(text, "energy_charges"))
    assert "known: charges, energy, fixed, subtotal, units" in error.message


def test_versions_out_of_date_order_are_refused_at_the_later_date():
    text = GOOD.replace("effective_from = 2016-04-01", "effective_from = 2015-04-01")
    error = refusal(text)
    assert error.details["problem"] == "version_order"
    assert error.details["line"] == str(line_with(text, "effective_from = 2015-04-01", occurrence=2))


def test_an_unknown_key_is_refused_at_its_line():
    text = GOOD.replace("minimum_charge = 100", "minimum_charges = 100")
    error = refusal(text)
    assert error.details["line"] == str(line_with(text, "minimum_charges"))
    assert "unknown ['minimum_charges']" in error.message


def test_a_missing_key_is_refused_at_its_table():
    text = GOOD.replace('fixed_by_unit_type = { "*" = 20 }\n', "")
    error = refusal(text)
    assert "missing ['fixed_by_unit_type']" in error.message
    assert error.details["line"] == str(line_with(text, "[[versions]]", occurrence=2))


def test_a_setting_repeated_in_a_version_is_refused():
    text = GOOD.replace("minimum_charge = 100", 'day_count = "calendar_month"')
    error = refusal(text)
    assert "set once, at the top" in error.message
    assert error.details["line"] == str(line_with(text, 'day_count = "calendar_month"'))


def test_a_bad_setting_is_refused_at_the_top_of_the_file():
    text = GOOD.replace('day_count = "first_and_last"', 'day_count = "banking_days"')
    error = refusal(text)
    assert error.details["line"] == str(line_with(text, "banking_days"))


def test_toml_syntax_errors_carry_tomllib_line():
    text = GOOD.replace("percent = 5", "percent = = 5")
    error = refusal(text)
    assert (error.details["problem"], error.details["line"]) == ("syntax", str(line_with(text, "= = 5")))


def test_unknown_file_format_is_refused():
    error = refusal(GOOD.replace("format = 1", "format = 2"))
    assert error.details["line"] == "1"


def test_a_date_with_a_time_is_refused():
    error = refusal(GOOD.replace("effective_from = 2015-04-01", "effective_from = 2015-04-01T10:00:00"))
    assert "without a time" in error.message


def test_flat_rate_file():
    text = GOOD.replace(
        'kind = "slabs"\nslabs = [\n    { from = 0, to = 200, rate = 4.00 },\n'
        "    { from = 201, to = 400, rate = 5.95 },\n    { from = 401, rate = 7.30 },\n]",
        "kind = 'flat'\nrate_per_unit = 12",
    )
    assert parse_tariff_toml(text).versions[0].energy == FlatRate(D(12))


# The locator on its own: paths to lines.

LOCATOR_TEXT = """\
# a comment with [brackets] and = signs
top = "a # not a comment [ ]"
[table]
"quoted.key" = 1
dotted.inner = 2
inline = { a = 1, b = [1, 2] }
list = [
  { x = 1 },   # first
  { x = 2,
    y = 3 },
]
[[rows]]
v = 1
[rows.sub]
w = '''
multi [ line { string
'''
z = 9
[[rows]]
v = 2
"""


@pytest.mark.parametrize(
    ("field", "line"),
    [
        ("top", 2),
        ("table", 3),
        ("table.quoted.key", None),  # a quoted key with a dot is one key, not a path
        ("table.dotted.inner", 5),
        ("table.inline.b[1]", 6),
        ("table.list[0].x", 8),
        ("table.list[1]", 9),
        ("table.list[1].y", 10),
        ("rows[0].v", 13),
        ("rows[0].sub.w", 15),
        ("rows[0].sub.z", 18),
        ("rows[1].v", 20),
        ("rows[1].missing", 19),  # falls back to the table it is missing from
    ],
)
def test_line_of_finds_keys_elements_and_tables(field, line):
    if line is None:
        assert line_of(LOCATOR_TEXT, ("table", "quoted.key")) == 4
    else:
        assert line_of(LOCATOR_TEXT, parse_field(field)) == line


def test_parse_field_reads_indexes_and_bracketed_keys():
    assert parse_field("versions[0].energy.slabs[1].from") == ("versions", 0, "energy", "slabs", 1, "from")
    assert parse_field("fixed_by_unit_type[2BHK]") == ("fixed_by_unit_type", "2BHK")
