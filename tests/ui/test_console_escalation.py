"""Escalation in a headless console session (issue 16): the admin reads the steps the migration seeds, has a set
refused by the server (a milder step after a severer one: the message shown, what was typed kept), saves another
(one step switched off), and reads the log filtered by outcome; the accountant reads the log without the steps.

The log's rows are written here for two bills of a real bill run; the server's own firing of the steps is
tests/sync_server/test_escalations.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlmodel import Session

from mobile_app.console.app import console_main
from shared_billing.protocol import EscalationKind, EscalationOutcome
from sync_server.models import Escalation
from tests.support.flet_driver import FletDriver, run_app
from tests.ui.ui_fixtures import Server, select_option, sign_in, value_of, wait_key

TIMEOUT = 60.0


def run(server: Server, scenario: Any) -> None:
    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT)


def _log_two_steps(server: Server) -> list[dict[str, Any]]:
    """Two issued bills' steps in the log: the first bill's reminder sent (one message), the second's passed over."""
    server.walkthrough_approved()
    first, second = server.issued_block_b()[:2]
    at = server.clock() + timedelta(days=20)
    with Session(server.app.state.context.engine) as session:
        for bill, outcome, messages in ((first, EscalationOutcome.FIRED, 1), (second, EscalationOutcome.SKIPPED, 0)):
            session.add(
                Escalation(
                    bill_id=bill["id"],
                    unit_id=bill["unit_id"],
                    kind=EscalationKind.REMINDER,
                    days_after=7,
                    outcome=outcome,
                    at=at,
                    messages=messages,
                )
            )
        session.commit()
    return [first, second]


def _logged(driver: FletDriver) -> list[str]:
    keys = [str(c.key) for c in driver.walk() if str(c.key).startswith("escalation-")]
    return [str(value_of(driver, key)) for key in keys]


def test_the_admin_sets_the_steps_and_reads_the_log(server: Server) -> None:
    first, second = _log_two_steps(server)

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "admin")
        await wait_key(driver, "section-escalation")
        await driver.click("section-escalation")
        await driver.wait_for(lambda: value_of(driver, "step-days-notice") == "21", message="the seeded steps")
        assert [value_of(driver, f"step-days-{kind}") for kind in EscalationKind] == ["7", "21", "45"]
        assert all(value_of(driver, f"step-active-{kind}") is True for kind in EscalationKind)

        # The notice after the disconnection notice: refused in the server's words, the form as typed.
        await driver.type_text("step-days-notice", "60")
        await driver.click("steps_save")
        await driver.wait_for(lambda: bool(value_of(driver, "steps_notice")), message="the refusal")
        assert value_of(driver, "steps_notice") == (
            "Severity rises with the days: the notice on day 60 comes after the disconnection notice on day 45"
        )
        assert value_of(driver, "step-days-notice") == "60"

        # The reminder off, the notice on day 30: saved.
        await driver.type_text("step-days-notice", "30")
        await driver.check("step-active-reminder", False)
        await driver.click("steps_save")
        await driver.wait_for(lambda: value_of(driver, "steps_notice") == "3 steps saved", message="the steps saved")
        assert value_of(driver, "step-active-reminder") is False

        # The log, newest first; filtered to the steps passed over.
        await driver.wait_for(lambda: len(_logged(driver)) == 2, message="the log")
        rows = _logged(driver)
        assert all("Reminder · day 7" in row for row in rows), rows
        assert any(first["unit_code"] in row and "Sent · 1 message" in row for row in rows), rows
        assert any(second["unit_code"] in row and "Passed over · 0 messages" in row for row in rows), rows
        await select_option(driver, "escalations_outcome", "skipped")
        await driver.wait_for(lambda: len(_logged(driver)) == 1, message="the steps passed over")
        assert second["unit_code"] in _logged(driver)[0]
        assert driver.crashes() == []

    run(server, scenario)
    steps = server.http.get("/api/escalation-steps", headers=server.headers("admin")).json()
    assert steps == [
        {"kind": "reminder", "days_after": 7, "active": False},
        {"kind": "notice", "days_after": 30, "active": True},
        {"kind": "disconnection_notice", "days_after": 45, "active": True},
    ]


def test_the_accountant_reads_the_log_but_not_the_steps(server: Server) -> None:
    _log_two_steps(server)

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "accountant")
        await wait_key(driver, "section-escalation")
        await driver.click("section-escalation")
        await driver.wait_for(lambda: len(_logged(driver)) == 2, message="the log")
        assert not any(str(c.key).startswith("step-") for c in driver.walk())
        assert driver.crashes() == []

    run(server, scenario)
