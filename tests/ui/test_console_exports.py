"""Exports from the console (issue 13): the accountant picks a file and gets it through a short-lived signed link
the browser opens, for the whole society or the block on screen."""

from __future__ import annotations

from typing import Any

import httpx

from mobile_app.console.app import console_main
from tests.support.flet_driver import FletDriver, run_app
from tests.ui.ui_fixtures import Server, select_option, sign_in, wait_key

TIMEOUT = 60.0


def run(server: Server, scenario: Any) -> None:
    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT)


def test_the_accountant_downloads_the_months_exports_through_signed_links(server: Server) -> None:
    opened: list[str] = []

    async def scenario(driver: FletDriver) -> None:
        driver.answer("launch_url", None)
        await sign_in(driver, "accountant")
        await wait_key(driver, "export_download")
        await driver.wait_for(lambda: driver.find("bills_period").value, message="the society's month")
        period = driver.find("bills_period").value
        await select_option(driver, "export_file", "tally.xml")
        await driver.click("export_download")
        opened.append((await driver.wait_for_call("launch_url")).args["url"])

        # The block on screen only: the file's name says which.
        driver.session.apply_patch(driver.find("export_all")._i, {"value": False})
        await select_option(driver, "export_file", "payments.csv")
        await driver.click("export_download")
        opened.append((await driver.wait_for_call("launch_url", index=1)).args["url"])
        opened.append(f"{period}:{driver.find('bills_block').value}")
        assert driver.crashes() == []

    run(server, scenario)
    tally_url, payments_url, chosen = opened
    period, block_id = chosen.split(":")
    tally = server.http.get(tally_url)  # no bearer header: the link is the authorization
    assert tally.status_code == 200, tally.text
    assert "<TALLYREQUEST>Import Data</TALLYREQUEST>" in tally.text
    assert tally.headers["content-disposition"] == f'attachment; filename="tally-{period}.xml"'
    payments = server.http.get(payments_url)
    assert payments.status_code == 200, payments.text
    assert payments.headers["content-disposition"].endswith(f'-block{block_id}.csv"')
