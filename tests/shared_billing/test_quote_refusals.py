"""``fieldmeter quote`` refuses bad input clearly: exit 2 naming the option (or the file) for usage, option and
unreadable-file errors, exit 1 with the JSON problem for a tariff file or a bill the engine refuses, and never a
traceback (docs/tariff-format.md, "Bounds" and "Checking a tariff by hand")."""

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from sync_server.cli import app

ROOT = Path(__file__).resolve().parents[2]
TPDDL = ROOT / "assets" / "tariffs" / "tpddl-domestic-2015.toml"
PERIOD = ("--period", "2015-06-17", "2015-07-17")
USAGE, REFUSED = 2, 1


def quote(*args: str) -> Result:
    return CliRunner().invoke(app, ["quote", *args])


def said(result: Result) -> str:
    """Everything printed, with the error panel's frame removed and its wrapped lines joined."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())


def refused(result: Result, exit_code: int, *fragments: str) -> str:
    """Assert a clean refusal: the exit code, each fragment said, no traceback and no stray exception."""
    text = said(result)
    assert result.exit_code == exit_code, text
    # CliRunner keeps an uncaught exception here instead of printing its traceback: a refusal is a SystemExit.
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in text
    return text


def problem(result: Result) -> dict[str, object]:
    document: dict[str, object] = json.loads(result.stderr)
    return document


def tariff_with(tmp_path: Path, old: str, new: str, name: str = "t.toml") -> tuple[str, int]:
    """The TPDDL tariff with ``old`` replaced (written under ``tmp_path``) and the line of the change."""
    text = TPDDL.read_text(encoding="utf-8")
    assert old in text
    changed = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(changed, encoding="utf-8")
    line = next(number for number, written in enumerate(changed.splitlines(), 1) if new in written)
    return str(path), line


# The tariff file.


def test_a_tariff_file_that_is_not_utf8_is_refused_with_its_line_and_byte_exit_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short file name, so the message is not folded inside a word
    Path("latin1.toml").write_bytes('format = 1\ncode = "DÉLHI"\n'.encode("latin-1"))
    result = quote("--tariff", "latin1.toml", *PERIOD, "--units", "10")
    refused(result, USAGE, "--tariff", "latin1.toml, line 2 (byte 20): not UTF-8 text (byte 0xc9)")


def test_a_tariff_file_with_a_utf8_byte_order_mark_is_read(tmp_path):
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + TPDDL.read_bytes())
    plain = quote("--tariff", str(TPDDL), *PERIOD, "--reads", "1000", "1350")
    marked = quote("--tariff", str(bom), *PERIOD, "--reads", "1000", "1350")
    assert marked.exit_code == 0, marked.output
    assert json.loads(marked.stdout)["lines"] == json.loads(plain.stdout)["lines"]


def test_a_missing_tariff_file_is_a_usage_error(tmp_path):
    result = quote("--tariff", str(tmp_path / "nowhere.toml"), *PERIOD, "--units", "10")
    refused(result, USAGE, "--tariff", "cannot read")


@pytest.mark.parametrize(
    ("old", "new", "problem_kind", "fragment"),
    [
        ("rate = 4.00 }", "rate = 1e30 }", "out_of_range", "at most 1,000,000,000"),
        ('{ "*" = 40 }', '{ "*" = 1e30 }', "out_of_range", "at most 1,000,000,000"),
        ("{ from = 201,", "{ from = 1e30,", "out_of_range", "at most 1,000,000,000,000"),
        ("rate = 4.00 }", "rate = nan }", "not_finite", "finite"),
        ("rate = 4.00 }", "rate = inf }", "not_finite", "finite"),
        ("rate = 4.00 }", 'rate = "Infinity" }', "not_finite", "finite"),
        ("rate = 4.00 }", "rate = -4.00 }", "negative_rate", "negative"),
    ],
)
def test_a_tariff_figure_out_of_bounds_is_refused_at_its_line_exit_1(tmp_path, old, new, problem_kind, fragment):
    path, line = tariff_with(tmp_path, old, new)
    result = quote("--tariff", path, *PERIOD, "--units", "10")
    refused(result, REFUSED, f"line {line}", fragment)
    details = problem(result)["details"]
    assert isinstance(details, dict)
    assert (details["line"], details["problem"]) == (str(line), problem_kind)
    assert problem(result)["code"] == "tariff.file_invalid"


def test_a_file_that_is_not_toml_is_refused_at_its_line_exit_1(tmp_path):
    path, line = tariff_with(tmp_path, "limit_places = 0", "limit_places = = 0")
    result = quote("--tariff", path, *PERIOD, "--units", "10")
    refused(result, REFUSED, f"line {line}", "not valid TOML")


# The options.


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (("--units", "1e30"), "--units: must be at most 1,000,000,000,000"),
        (("--units", "NaN"), "--units: must be a finite number, not NaN"),
        (("--units", "Infinity"), "--units: must be a finite number, not Infinity"),
        (("--units", "-5"), "--units: must not be negative"),
        (("--units", "ten"), "--units: not a decimal number: 'ten'"),
        (("--units", "10", "--arrears", "1e30"), "--arrears: must be at most 1,000,000,000"),
        (("--units", "10", "--arrears", "-1e30"), "--arrears: must be at most 1,000,000,000"),
        (("--units", "10", "--arrears", "NaN"), "--arrears: must be a finite number"),
        (("--units", "10", "--multiplier", "0"), "--multiplier: must be a positive number, not 0"),
        (("--units", "10", "--multiplier", "-1"), "--multiplier: must be a positive number, not -1"),
        (("--units", "10", "--multiplier", "NaN"), "--multiplier: must be a finite number"),
        (("--units", "10", "--multiplier", "1e30"), "--multiplier: must be at most 1,000,000,000"),
        (("--units", "10", "--multiplier", "abc"), "--multiplier: not a decimal number: 'abc'"),
        (("--units", "10", "--load-kw", "-5"), "--load-kw: must be a positive number, not -5"),
        (("--units", "10", "--load-kw", "0"), "--load-kw: must be a positive number, not 0"),
        (("--units", "10", "--load-kw", "Infinity"), "--load-kw: must be a finite number"),
        (("--reads", "1000", "1350", "--dials", "0"), "--dials"),
        (("--reads", "1000", "1350", "--dials", "13"), "--dials"),
        (("--reads", "1000", "1350", "--dials", "four"), "--dials"),
        (("--reads", "1e3", "1350"), "--reads: Value '1e3' is not a meter reading"),
        (("--reads", "NaN", "1350"), "--reads: Value 'NaN' is not a meter reading"),
        (("--reads", "-1000", "1350"), "--reads: Value -1000 is negative"),
        (("--reads", "99950", "00120", "--dials", "4"), "--reads: Value 99950 has 5 digits; meter has 4 dials"),
        (("--reads", "0000000000001", "0000000000002"), "--reads: a register has at most 12 dials, not 13"),
        (("--reads", "1000", "1350", "--new-meter", "0", "x"), "--new-meter: Value 'x' is not a meter reading"),
        (("--reads", "1", "2", "--new-meter", "0", "0000000000009"), "--new-meter: a register has at most 12 dials"),
        (("--units", "10", "--shared-meter", "M", "210", "NaN"), "--shared-meter: GROUP_UNITS must be a finite"),
        (
            ("--reads", "0", "999999999999", "--multiplier", "1000"),
            "--multiplier: the units (reads × multiplier) must be at most 1,000,000,000,000",
        ),
        (
            ("--units", "10", "--shared-meter", "M", "1e30", "400"),
            "--shared-meter: UNITS must be at most 1,000,000,000,000 ",
        ),
        (("--units", "10", "--shared-meter", "M", "210", "5"), "--shared-meter: GROUP_UNITS 5 must include"),
        (("--units", "10", "--period", "2015-06-17", "17-07-2015"), "--period: dates are YYYY-MM-DD"),
    ],
)
def test_a_bad_option_is_refused_naming_it_exit_2(options, fragment):
    text = refused(quote("--tariff", str(TPDDL), *PERIOD, *options), USAGE)
    # click writes "Invalid value for '--dials'" or "Invalid value for --units": the option, then the reason.
    option, _, reason = fragment.partition(": ")
    assert re.search(rf"Invalid value for '?{re.escape(option)}'?", text), text
    assert reason in text
    assert "decimal.ConversionSyntax" not in text


# The dials come from the typed digits.


def test_typed_leading_zeros_count_as_dials():
    # 09950 → 00120 is a 5-dial register: 9950 is not near its top (90000), so this is a drop, not a rollover
    # (inferring 4 dials from the value 9950 billed it as a 170-unit rollover).
    result = quote("--tariff", str(TPDDL), *PERIOD, "--reads", "09950", "00120")
    refused(result, REFUSED, "90000 or more")
    assert problem(result)["code"] == "reading.below_previous"


def test_dials_option_wins_over_the_typed_digits():
    result = quote("--tariff", str(TPDDL), *PERIOD, "--reads", "09950", "00120", "--dials", "4")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["units"] == "170"


def test_a_five_dial_rollover_is_170_units():
    result = quote("--tariff", str(TPDDL), *PERIOD, "--reads", "99950", "00120")
    assert result.exit_code == 0, result.output
    bill = json.loads(result.stdout)
    assert bill["units"] == "170"
    assert any("5 dials" in step for step in bill["consumption"])


def test_bounds_are_inclusive():
    result = quote(
        "--tariff", str(TPDDL), *PERIOD, "--units", "1000000000000", "--arrears", "-1000000000", "--load-kw", "1e9"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["units"] == "1000000000000"
