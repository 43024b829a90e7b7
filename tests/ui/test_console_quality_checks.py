"""Quality checks in the supervisor's console (issue 13): ask for check reads of a share of the month's approved
reads, then see each check, a differing check read first and in red."""

from __future__ import annotations

from typing import Any

import flet as ft
import httpx

from mobile_app.console.app import console_main
from tests.support.flet_driver import FletDriver, run_app
from tests.sync_server.test_quality_checks import _approve_the_month
from tests.ui.ui_fixtures import FLAT, Server, sign_in, value_of, wait_key, wait_value

TIMEOUT = 60.0


def run(server: Server, scenario: Any) -> None:
    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT)


def _lines(driver: FletDriver) -> list[Any]:
    return [c for c in driver.walk() if str(c.key).startswith("check-")]


def test_a_supervisor_asks_for_check_reads_and_sees_the_one_that_differs(server: Server) -> None:
    approved = _approve_the_month(server.http, server.clock())

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "supervisor")
        await wait_key(driver, "checks_toggle")
        await driver.click("checks_toggle")
        await wait_key(driver, "checks_none")

        await driver.type_text("checks_share", "lots")
        await driver.click("checks_ask")
        assert driver.find("checks_share").error == "A share between 0 and 100 per cent"
        await driver.type_text("checks_share", "100")
        await driver.click("checks_ask")
        count = len(approved)
        await wait_value(driver, "checks_summary", f"{count} checks this month, 0 differing")
        assert len(_lines(driver)) == count
        assert all("waiting for the check read" in str(line.value) for line in _lines(driver))

        # engineer1 reads the walk-through flat 77 above its approved read minutes later: too much to be right.
        server.push_reading(FLAT, above_previous=77)
        await driver.click("checks_toggle")
        await driver.click("checks_toggle")
        await wait_value(driver, "checks_summary", f"{count} checks this month, 1 differing")
        first = _lines(driver)[0]
        assert FLAT in str(first.value)
        assert "(+77)" in str(first.value)
        assert str(first.value).endswith("differs")
        assert first.color == ft.Colors.RED_700
        assert value_of(driver, "review_summary") == "Nothing waiting for review"  # the check read is not reviewed
        assert driver.crashes() == []

    run(server, scenario)
