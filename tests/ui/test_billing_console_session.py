"""The billing sections of the console, headless: an admin's bill run and issue; an accountant's bulk marking."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from mobile_app.console.app import console_main
from sync_server.scheduling.jobs import monthly_bill_runs
from tests.support.flet_driver import FletDriver, run_app
from tests.ui.ui_fixtures import Server, sign_in, value_of, wait_key

TIMEOUT = 30.0
INDIA = ZoneInfo("Asia/Kolkata")


def run(server: Server, scenario: Any) -> None:
    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT)


def test_admin_runs_billing_sees_progress_and_issues(server: Server) -> None:
    server.walkthrough_approved()

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
    server.walkthrough_approved()
    bills = server.issued_block_b()
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


def test_admin_finds_the_scheduled_runs_and_issues_one_from_its_row(server: Server) -> None:
    """On the 1st the schedule drafted last month's runs: the console's month is the new one, which has none, so
    the screen lists the latest runs; the admin issues block B's drafts from its row."""
    server.walkthrough_approved()
    read_on = server.clock().astimezone(INDIA)
    period = read_on.strftime("%Y-%m")
    # The 1st of the next month, 00:30 in India: when the schedule drafts this month's runs (docs/operations.md).
    first = datetime(read_on.year + read_on.month // 12, read_on.month % 12 + 1, 1, 0, 30, tzinfo=INDIA)
    next_period = first.strftime("%Y-%m")
    server.clock.now = first.astimezone(UTC)
    assert monthly_bill_runs(server.app.state.context, server.clock()).status == "ok"
    runs = server.http.get("/api/billing/runs", params={"period": period}, headers=server.headers("admin")).json()
    ids = {run["block_code"]: run["id"] for run in runs["items"]}
    block_b, block_c = ids["B"], ids["C"]

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "admin")
        await wait_key(driver, f"run-{block_b}")
        assert value_of(driver, "runs_heading") == f"No runs of {next_period} yet · latest runs"
        assert value_of(driver, f"run-block-{block_b}") == f"B · {period}"
        assert value_of(driver, f"run-state-{block_b}") == "done"
        assert value_of(driver, f"run-counts-{block_b}") == "12 of 12 units · 4 drafted · 8 skipped"
        # In the society's time: the 1st, 00:30 in India.
        assert value_of(driver, f"run-by-{block_b}").startswith("Started by the schedule, ")
        assert "00:30" in value_of(driver, f"run-by-{block_b}")
        assert driver.find(f"run-issue-{block_b}").visible
        assert not driver.find(f"run-issue-{block_c}").visible  # nothing drafted: nothing to issue

        await driver.type_text("run_period", period)
        await driver.click("runs_refresh")
        await driver.wait_for(lambda: value_of(driver, "runs_heading") == f"Runs of {period}", message="the month")

        await driver.click(f"run-issue-{block_b}")
        await driver.wait_for(lambda: value_of(driver, "run_status") == "Issued 4 bills", message="issued")
        await driver.wait_for(lambda: not driver.find(f"run-issue-{block_b}").visible, message="no drafts left")
        assert driver.crashes() == []

    run(server, scenario)
    bills = server.bills()
    assert sorted(b["status"] for b in bills) == ["issued"] * 4
    assert sorted(int(b["bill_number"].rsplit("/", 1)[1]) for b in bills) == [1, 2, 3, 4]
