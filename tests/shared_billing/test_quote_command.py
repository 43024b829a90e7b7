"""``fieldmeter quote``: a bill from a tariff file, as JSON, for checking a tariff by hand."""

import json
from pathlib import Path

from typer.testing import CliRunner

from sync_server.cli import app

ROOT = Path(__file__).resolve().parents[2]
TPDDL = str(ROOT / "assets" / "tariffs" / "tpddl-domestic-2015.toml")
BLESSINGS = str(ROOT / "assets" / "tariffs" / "blessings.toml")


def quote(*args):
    return CliRunner().invoke(app, ["quote", *args])


def test_quote_tpddl_example_prints_lines_and_total_as_json():
    result = quote("--tariff", TPDDL, "--period", "2015-06-17", "2015-07-17", "--reads", "1000", "1350")
    assert result.exit_code == 0, result.output
    bill = json.loads(result.stdout)
    assert (bill["tariff"], bill["units"]) == ("TPDDL-DOM-2KW", "350")
    amounts = {(line["code"], line["quantity"]): line["amount"] for line in bill["lines"]}
    assert amounts == {
        ("energy", "203"): "812.00",
        ("energy", "147"): "874.65",
        ("fixed", "1.0151"): "40.60",
        ("round_off", "1"): "-0.25",
    }
    assert (bill["total"], bill["payable"]) == ("1727.25", "1727.00")
    assert any("14/30 + 17/31 = 1.015053… → 1.0151" in step for step in bill["trace"])


def test_quote_with_units_shared_meter_and_unit_type_reproduces_the_blessings_bill():
    result = quote(
        "--tariff", BLESSINGS, "--period", "2025-11-01", "2025-11-30", "--units", "77",
        "--unit-type", "5BHK", "--shared-meter", "MOTOR-B", "210", "408",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    bill = json.loads(result.stdout)
    assert [line["amount"] for line in bill["lines"]] == ["924.00", "475.56", "2311.00", "0.44"]
    assert bill["payable"] == "3711.00"


def test_quote_bills_a_plausible_rollover_and_a_replacement():
    rollover = quote("--tariff", TPDDL, "--period", "2015-06-17", "2015-07-17", "--reads", "99950", "00120")
    assert json.loads(rollover.stdout)["units"] == "170"
    replaced = quote(
        "--tariff", TPDDL, "--period", "2015-06-17", "2015-07-17", "--reads", "4500", "4620", "--new-meter", "0", "75"
    )
    assert json.loads(replaced.stdout)["units"] == "195"


def test_quote_refuses_a_drop_with_the_code_and_exit_1():
    result = quote("--tariff", TPDDL, "--period", "2015-06-17", "2015-07-17", "--reads", "4620", "4500")
    assert result.exit_code == 1
    problem = json.loads(result.stderr)
    assert (problem["code"], problem["details"]["flag"]) == ("reading.below_previous", "below_previous")


def test_quote_refuses_a_bad_tariff_file_with_its_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(Path(TPDDL).read_text().replace("{ from = 201,", "{ from = 150,"))
    result = quote("--tariff", str(bad), "--period", "2015-06-17", "2015-07-17", "--units", "10")
    assert result.exit_code == 1
    problem = json.loads(result.stderr)
    assert problem["code"] == "tariff.file_invalid"
    assert problem["details"]["line"] == str(
        next(number for number, line in enumerate(bad.read_text().splitlines(), 1) if "from = 150" in line)
    )


def test_quote_needs_reads_or_units():
    result = quote("--tariff", TPDDL, "--period", "2015-06-17", "2015-07-17")
    assert result.exit_code == 2
    assert "either --reads" in result.output
