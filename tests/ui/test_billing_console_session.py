"""The billing sections of the console, headless: an admin's bill run and issue; an accountant's bulk marking."""

from __future__ import annotations

from typing import Any

import httpx

from mobile_app.console.app import console_main
from tests.support.flet_driver import FletDriver, run_app
from tests.sync_server.factories import finished_run
from tests.ui.ui_fixtures import FLAT, Server, meter_photo, sign_in, value_of, wait_key

TIMEOUT = 30.0


def run(server: Server, scenario: Any) -> None:
    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT)


def _walkthrough_approved(server: Server) -> None:
    reading = server.push_reading(FLAT, above_previous=77, photo=meter_photo())
    server.decide(reading["uuid"], "approve")


def _issued(server: Server) -> list[dict[str, Any]]:
    admin = server.headers("admin")
    block = next(b["id"] for b in server.http.get("/api/blocks", headers=admin).json()["items"] if b["code"] == "B")
    period = server.clock().strftime("%Y-%m")
    started = server.http.post("/api/billing/runs", json={"block_id": block, "period": period}, headers=admin)
    run = finished_run(server.http, admin, started.json()["id"])
    bills: list[dict[str, Any]] = server.http.post(f"/api/billing/runs/{run['id']}/issue", headers=admin).json()
    return bills


def test_admin_runs_billing_sees_progress_and_issues(server: Server) -> None:
    _walkthrough_approved(server)

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "admin")
        await wait_key(driver, "run_billing")
        await driver.wait_for(lambda: value_of(driver, "run_block") is not None, message="the first block chosen")
        await driver.click("run_billing")
        await driver.wait_for(lambda: "done" in (value_of(driver, "run_status") or ""), message="run done")
        assert value_of(driver, "run_status").startswith("12 of 12 units · 4 draft bills · 8 skipped")
        assert driver.find("run_progress").value == 1
        await driver.click("issue_run")
        await driver.wait_for(lambda: value_of(driver, "run_status") == "Issued 4 bills", message="issued")
        assert driver.crashes() == []

    run(server, scenario)
    bills = server.bills()
    assert sorted(b["status"] for b in bills) == ["issued"] * 4
    assert sorted(int(b["bill_number"].rsplit("/", 1)[1]) for b in bills) == [1, 2, 3, 4]


def test_accountant_marks_selected_bills_paid(server: Server) -> None:
    _walkthrough_approved(server)
    bills = _issued(server)
    chosen = sorted(b["id"] for b in bills)[:2]

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "accountant")
        for bill_id in chosen:
            box = await wait_key(driver, f"select-{bill_id}")
            driver.session.apply_patch(box._i, {"value": True})
            await driver.dispatch(box, "change", "true")
        await driver.click("mark_paid")
        await driver.wait_for(lambda: value_of(driver, f"status-{chosen[0]}") == "paid", message="marked paid")
        assert value_of(driver, f"status-{chosen[1]}") == "paid"
        others = [b["id"] for b in bills if b["id"] not in chosen]
        assert {value_of(driver, f"status-{bill_id}") for bill_id in others} == {"issued"}
        assert driver.crashes() == []

    run(server, scenario)
    statuses = {b["id"]: b["status"] for b in server.bills()}
    assert [statuses[bill_id] for bill_id in chosen] == ["paid", "paid"]
