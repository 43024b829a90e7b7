"""The admin's schedules, headless against the real server in-process: each job's next run in the society's time,
a day out of range refused beside its field, a new day and time saved, the backup switched off, "Run now" and its
result coloured by status. What the screen did is checked through the API."""

from __future__ import annotations

from typing import Any

import flet as ft
import httpx

from mobile_app.console.app import console_main
from sync_server.clock import system_clock
from sync_server.context import AppContext
from sync_server.housekeeping import run_scheduled
from sync_server.scheduling.store import ensure_default_jobs
from tests.support.flet_driver import FletDriver, run_app
from tests.ui.ui_fixtures import Server, sign_in, value_of, wait_key

TIMEOUT = 60.0
MONTHLY = "monthly-bill-runs"
BACKUP = "daily-backup"


def _jobs(server: Server) -> dict[str, dict[str, Any]]:
    answer = server.http.get("/api/schedules", headers=server.headers("admin"))
    assert answer.status_code == 200, answer.text
    return {job["name"]: job for job in answer.json()}


def test_admin_sees_and_edits_the_schedules(server: Server) -> None:
    context: AppContext = server.app.state.context
    # The in-process app is not started (no lifespan): put in the jobs a server start would.
    ensure_default_jobs(context.engine, context.settings, clock=context.clock, wall=system_clock)

    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "admin")
        await wait_key(driver, "section-schedules")
        await driver.click("section-schedules")
        await wait_key(driver, f"schedule-{MONTHLY}")
        # 20 November 2026 in India: the next run is 1 December, 00:30 there (19:00 UTC the day before).
        assert value_of(driver, f"schedule-next-{MONTHLY}") == "Next run 01 Dec 2026, 00:30"
        assert value_of(driver, f"schedule-cadence-{MONTHLY}") == "Day 1 of every month at 00:30"
        assert value_of(driver, f"schedule-last-{MONTHLY}") == "Not run yet"
        assert value_of(driver, "schedule-cadence-overdue-refresh") == "Every 60 minutes"

        await driver.type_text(f"schedule-day-{MONTHLY}", "31")
        await driver.click(f"schedule-{MONTHLY}_save")
        await driver.wait_for(lambda: driver.find(f"schedule-day-{MONTHLY}").error, message="the day's error")
        assert _jobs(server)[MONTHLY]["day_of_month"] == 1

        await driver.type_text(f"schedule-day-{MONTHLY}", "5")
        await driver.type_text(f"schedule-time-{MONTHLY}", "06:00")
        await driver.click(f"schedule-{MONTHLY}_save")
        await driver.wait_for(
            lambda: value_of(driver, f"schedule-next-{MONTHLY}") == "Next run 05 Dec 2026, 06:00",
            message="the new next run",
        )

        switch = driver.find(f"schedule-enabled-{BACKUP}")
        driver.session.apply_patch(switch._i, {"value": False})
        await driver.dispatch(switch, "change", False)
        await driver.wait_for(lambda: value_of(driver, f"schedule-next-{BACKUP}") == "Switched off", message="off")
        assert driver.find(f"schedule-run-{BACKUP}").disabled is True

        await driver.click(f"schedule-run-{MONTHLY}")
        await driver.wait_for_text("Runs at the server's next check")
        assert run_scheduled(context) == [MONTHLY]  # the server's next check
        await driver.click("schedules_refresh")
        await driver.wait_for(
            lambda: str(value_of(driver, f"schedule-last-{MONTHLY}")).startswith("Last run 20 Nov 2026, 10:00: ok"),
            message="the last run shown",
        )
        assert driver.find(f"schedule-last-{MONTHLY}").color == ft.Colors.GREEN_800
        assert driver.crashes() == []

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT)
    jobs = _jobs(server)
    assert (jobs[MONTHLY]["day_of_month"], jobs[MONTHLY]["at_time"]) == (5, "06:00")
    assert jobs[MONTHLY]["last_status"] == "ok"
    assert jobs[MONTHLY]["last_result"].startswith("2026-10 — B: ")  # run on 20 November: October's readings
    assert jobs[BACKUP]["enabled"] is False
