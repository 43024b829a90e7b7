"""``fieldmeter quote`` refuses a levy or subsidy percent above its whole base (800 % is a typo for 8 %).

The percent bound itself lives in ``shared_billing.levies`` (``MAX_PERCENT``); these tests check that the command
reports it cleanly: a refusal naming the percent, with its line, and no traceback.
"""

from pathlib import Path

from typer.testing import CliRunner, Result

from sync_server.cli import app

TPDDL = Path(__file__).resolve().parents[2] / "assets" / "tariffs" / "tpddl-domestic-2015.toml"

LEVY = """
[[versions.levies]]
code = "duty"
name = "Electricity duty"
order = 1
base = "charges"
percent = 800
"""

SUBSIDY = """
[[versions.subsidies]]
code = "relief"
name = "Government relief"
base = "charges"
percent = 200
"""


def quote_with(tmp_path: Path, table: str) -> Result:
    path = tmp_path / "percent.toml"
    path.write_text(TPDDL.read_text(encoding="utf-8") + table, encoding="utf-8")
    return CliRunner().invoke(
        app, ["quote", "--tariff", str(path), "--period", "2015-06-17", "2015-07-17", "--units", "350"]
    )


def assert_refused_naming_percent(result: Result) -> None:
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert "percent" in result.output


def test_a_levy_of_800_percent_is_refused(tmp_path):
    assert_refused_naming_percent(quote_with(tmp_path, LEVY))


def test_a_subsidy_of_200_percent_is_refused(tmp_path):
    assert_refused_naming_percent(quote_with(tmp_path, SUBSIDY))
