"""The admin's reports in a headless console session (issue 13): every report drawn as a chart from its endpoint's
figures, each switchable to a table that shows the same figures, a block narrowing them, a month it cannot read
refused on the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import flet_charts as fch
import httpx

from mobile_app.console.app import console_main
from tests.support.flet_driver import FletDriver, run_app
from tests.ui.ui_fixtures import FLAT, Server, meter_photo, select_option, sign_in, wait_key

TIMEOUT = 60.0
REPORTS = ("consumption", "blocks", "seasonal", "collection", "ageing", "engineers")


def run(server: Server, scenario: Any) -> None:
    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT)


def _api(server: Server, name: str, **params: Any) -> Any:
    answer = server.http.get(f"/api/reports/{name}", params=params, headers=server.headers("admin"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _table(driver: FletDriver, name: str) -> list[list[str]]:
    table = driver.find(f"report_{name}_table")
    return [[str(cell.content.value) for cell in row.cells] for row in table.rows]


def _rods(driver: FletDriver, key: str) -> list[list[float]]:
    chart = driver.find(key)
    assert isinstance(chart, fch.BarChart)
    return [[rod.to_y for rod in group.rods] for group in chart.groups]


def test_admin_sees_the_month_in_charts_and_tables(server: Server) -> None:
    pushed = server.push_reading(FLAT, photo=meter_photo())
    server.decide(pushed["uuid"], "approve")
    consumption = _api(server, "consumption")
    blocks = _api(server, "blocks")

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "admin")
        await wait_key(driver, "section-reports")
        await driver.click("section-reports")
        for name in REPORTS:
            await wait_key(driver, f"report_{name}_chart")
        assert [str(c.key) for c in driver.walk() if str(c.key).endswith("_error")] == []

        # The consumption chart's bars are the endpoint's monthly totals; its table the same figures per block.
        assert [group[0] for group in _rods(driver, "report_consumption_chart")] == [
            float(Decimal(total)) for total in consumption["totals"]
        ]
        await driver.click("report_consumption_toggle")
        rows = {row[0]: row for row in _table(driver, "consumption")}
        block_b = next(row for row in consumption["rows"] if row["label"] == "B")
        assert Decimal(rows["B"][12].replace(",", "")) == Decimal(block_b["values"][-1]) > 0
        assert rows["All"][-1] == f"{sum(Decimal(v) for v in consumption['totals']):,}"

        # Blocks compared: a pair of bars per block (this month, the month before), per unit.
        per_unit = [
            [float(Decimal(row["average"] or 0)), float(Decimal(row["previous_average"] or 0))]
            for row in blocks["rows"]
        ]
        assert _rods(driver, "report_blocks_chart") == per_unit
        await driver.click("report_blocks_toggle")
        assert [row[0] for row in _table(driver, "blocks")] == [row["block_code"] for row in blocks["rows"]]
        await driver.click("report_blocks_toggle")
        await wait_key(driver, "report_blocks_chart")

        # One block: the consumption rows become its units.
        block_id = next(row["block_id"] for row in blocks["rows"] if row["block_code"] == "B")
        await select_option(driver, "reports_block", str(block_id))
        await driver.click("reports_show")
        units = _api(server, "consumption", block_id=block_id)

        def unit_rows() -> list[str]:
            try:
                return [row[0] for row in _table(driver, "consumption")]
            except LookupError:
                return []

        await driver.wait_for(lambda: FLAT in unit_rows(), message="block B's units in the table")
        assert unit_rows() == [row["label"] for row in units["rows"]] + ["All"]

        await driver.type_text("reports_period", "Nov 2025")
        await driver.click("reports_show")
        assert driver.find("reports_period").error == "Write the month as YYYY-MM, or leave it empty"
        assert driver.crashes() == []

    run(server, scenario)
