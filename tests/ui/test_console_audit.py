"""The audit log viewer in a headless console session (issue 13): the chain's verdict, events filtered by object,
actor and day, and a day it cannot read refused on the field."""

from __future__ import annotations

from typing import Any

import httpx
from sqlmodel import Session, select

from mobile_app.console.app import console_main
from sync_server.models import User
from tests.support.flet_driver import FletDriver, run_app
from tests.ui.ui_fixtures import FLAT, Server, meter_photo, sign_in, value_of, wait_key

TIMEOUT = 60.0


def run(server: Server, scenario: Any) -> None:
    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT)


def _events(driver: FletDriver) -> list[str]:
    return [
        str(control.value)
        for control in driver.walk()
        if control.key is not None and str(control.key).startswith("audit-") and hasattr(control, "value")
    ]


def test_admin_reads_the_audit_log_by_object_actor_and_day(server: Server) -> None:
    pushed = server.push_reading(FLAT, photo=meter_photo())
    server.decide(pushed["uuid"], "approve")
    today = server.clock().astimezone(server.app.state.context.settings.tz).date()
    with Session(server.app.state.context.engine) as session:
        supervisor = session.exec(select(User).where(User.username == "supervisor")).one()

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "admin")
        await wait_key(driver, "section-audit")
        await driver.click("section-audit")
        await driver.wait_for(lambda: "intact" in str(value_of(driver, "audit_chain")), message="the chain's verdict")
        assert str(value_of(driver, "audit_chain")).startswith("Audit log intact:")
        await driver.wait_for(lambda: _events(driver), message="the newest events")

        await driver.type_text("audit_entity", "reading")
        driver.session.apply_patch(driver.find("audit_actor")._i, {"value": str(supervisor.id)})
        await driver.type_text("audit_since", today.isoformat())
        await driver.click("audit_show")

        def only_the_supervisors_readings() -> bool:
            lines = _events(driver)
            return bool(lines) and all(" · supervisor · " in line and " · reading " in line for line in lines)

        await driver.wait_for(only_the_supervisors_readings, message="the supervisor's decisions on readings")
        lines = _events(driver)
        assert value_of(driver, "audit_range") == f"1–{len(lines)} of {len(lines)}"
        assert any(pushed["uuid"] in line for line in lines)

        await driver.type_text("audit_until", "yesterday")
        await driver.click("audit_show")
        assert driver.find("audit_until").error == "Write the date as YYYY-MM-DD, or leave it empty"
        await driver.type_text("audit_until", today.replace(year=today.year - 1).isoformat())
        await driver.click("audit_show")
        await driver.wait_for(lambda: not _events(driver), message="nothing before the events")
        assert driver.crashes() == []

    run(server, scenario)
