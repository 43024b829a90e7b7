"""The resident portal in Chromium (docs/residents.md): block B billed and issued over the API, a payment, and two
earlier months' bills of the walk-through flat; the admin gives its resident an account; the resident signs in with
the temporary password, chooses their own, and sees their balance, the 12-month chart, their bill with its PDF and
their payment — and no other unit's bill, no navigation to anything else.

With ``FIELDMETER_E2E_DOCS=1`` the settled portal is copied to docs/resident-portal.png.
"""

from __future__ import annotations

import io
import os
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import sync_playwright
from pypdf import PdfReader
from sqlmodel import Session, select

from mobile_app.console.app import console_main
from sync_server.db import create_db_engine
from sync_server.models import Bill, BillStatus, Unit, User
from sync_server.periods import previous_period
from tests.e2e.test_billing_console import _read_and_approve_b17, api_login
from tests.e2e.test_offline_reading_to_bill import FIELDMETER, _eventually, _type, _visible
from tests.support.browser import (
    ServerProcess,
    enable_flutter_semantics,
    first_page,
    free_port,
    launch_browser,
    wait_http_ok,
    wait_settled_screenshot,
)
from tests.support.flet_driver import FletDriver, run_app
from tests.ui.ui_fixtures import Server, select_option, sign_in, value_of, wait_key

ROOT = Path(__file__).resolve().parents[2]
FLAT = "5BHK-B17-FF"
TEMPORARY = "temporary-pass-5"
OWN_PASSWORD = "my-own-password-5"


def _bill_block_b(base: str) -> list[dict[str, Any]]:
    """The flat's reading approved, block B run for this month and issued (as the admin would in the console)."""
    _read_and_approve_b17(base)
    admin = api_login(base, "admin")
    block = next(b["id"] for b in httpx.get(f"{base}/blocks", headers=admin).json()["items"] if b["code"] == "B")
    period = httpx.get(f"{base}/clock", headers=admin).json()["period"]
    run = httpx.post(f"{base}/billing/runs", json={"block_id": block, "period": period}, headers=admin).json()
    _eventually(
        lambda: httpx.get(f"{base}/billing/runs/{run['id']}", headers=admin).json()["status"] == "done", 60, "the run"
    )
    issued: list[dict[str, Any]] = httpx.post(f"{base}/billing/runs/{run['id']}/issue", headers=admin).json()
    return issued


def _earlier_bills(database: Path, period: str) -> None:
    """Two paid bills of the flat in the months before (the demo starts with none), so the chart has history; as
    if settled before the ledger began, they leave the balance alone."""
    engine = create_db_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            flat = session.exec(select(Unit).where(Unit.code == FLAT)).one()
            this_month = session.exec(select(Bill).where(Bill.unit_id == flat.id)).one()
            admin = session.exec(select(User).where(User.username == "admin")).one()
            earlier = previous_period(period)
            months = ((previous_period(earlier), "96", "2480.00"), (earlier, "131", "2795.00"))
            for number, (month, units, payable) in enumerate(months, start=1):
                moment = datetime.fromisoformat(f"{month}-28T06:00:00+00:00").astimezone(UTC)
                line = {"code": "energy", "description": "Energy", "quantity": units, "rate": "0", "amount": payable}
                session.add(
                    Bill(
                        bill_number=f"OLD/{number}",
                        status=BillStatus.PAID,
                        issued_at=moment,
                        due_on=moment.date() + timedelta(days=15),
                        unit_id=flat.id or 0,
                        period=month,
                        tariff_id=this_month.tariff_id,
                        lines=[line],
                        trace=[],
                        charges=Decimal(payable),
                        total=Decimal(payable),
                        round_off=Decimal("0.00"),
                        payable=Decimal(payable),
                        created_at=moment,
                        created_by_id=admin.id or 0,
                    )
                )
            session.commit()
    finally:
        engine.dispose()


@pytest.mark.browser
@pytest.mark.slow
def test_a_resident_sees_their_own_unit_in_the_portal(tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    base = f"{url}api"
    data = tmp_path / "server"
    command = [FIELDMETER, "serve", "--demo", "--port", str(port), "--data-dir", str(data)]
    # PYTHONPATH: the server runs this checkout's code, whichever checkout the tests run from.
    env = {"DATABASE_URL": "", "PYTHONPATH": str(ROOT)}
    with ServerProcess(command, log_path=tmp_path / "server.log", env=env, name="server") as server:
        wait_http_ok(f"{base}/health", timeout=60, process=server)
        bills = {bill["unit_code"]: bill for bill in _bill_block_b(base)}
        own = bills[FLAT]
        others = [bill for code, bill in bills.items() if code != FLAT]
        assert others, "another unit of block B is billed too"
        _earlier_bills(data / "fieldmeter.db", own["period"])
        payment = {"unit_id": own["unit_id"], "bill_id": own["id"], "amount": "1500.00", "mode": "upi"}
        paid_on = httpx.get(f"{base}/clock", headers=api_login(base, "accountant")).json()["today"]
        paid = httpx.post(
            f"{base}/payments", json=payment | {"paid_on": paid_on}, headers=api_login(base, "accountant")
        )
        assert paid.status_code == 201, paid.text
        body = {"username": "asha", "full_name": "Asha Rani", "role": "resident", "password": TEMPORARY}
        created = httpx.post(f"{base}/users", json=body | {"unit_id": own["unit_id"]}, headers=api_login(base, "admin"))
        assert created.status_code == 201, created.text

        with sync_playwright() as playwright:
            browser = launch_browser(playwright, tmp_path)
            try:
                page = first_page(browser)
                page.goto(url)
                enable_flutter_semantics(page)
                _type(page, "Username", "asha")
                _type(page, "Password", TEMPORARY)
                page.get_by_role("button", name="Sign in").click()
                _eventually(lambda: _visible(page, "Choose your password"), 30, "the password to choose")
                _type(page, "New password", OWN_PASSWORD)
                _type(page, "Type it again", OWN_PASSWORD)
                page.get_by_role("button", name="Set my password").click()

                _eventually(lambda: _visible(page, f"My account · {FLAT}"), 30, "the resident's portal")
                _eventually(lambda: _visible(page, own["bill_number"]), 30, "the resident's bill")
                _eventually(lambda: _visible(page, "₹1,500.00"), 30, "the resident's payment")
                balance = Decimal(own["payable"]) - Decimal("1500.00")
                assert _visible(page, "You owe ₹")
                assert _visible(page, f"{balance:,.2f}")
                assert _visible(page, "Units billed, last 12 months")
                assert not _visible(page, "Unknown control")  # the chart drew (flet-charts in the browser)
                for other in others:  # nothing of any other unit
                    assert not _visible(page, other["bill_number"])
                # Nothing else to go to: no admin sections, only the language buttons and sign-out.
                for section in ("Bill run", "Readings", "People", "Reports"):
                    assert page.get_by_role("button", name=section).count() == 0
                page.set_viewport_size({"width": 1280, "height": 1000})  # the payments too
                page.mouse.click(5, 5)  # no focused field: a blinking caret never settles
                wait_settled_screenshot(page, shots / "resident-portal.png")

                with browser.expect_page() as opened:
                    page.get_by_role("button", name="PDF").first.click()
                pdf = browser.request.get(opened.value.url)
                assert pdf.ok
                text = PdfReader(io.BytesIO(pdf.body())).pages[0].extract_text()
                assert own["bill_number"] in text
                assert FLAT in text
            finally:
                browser.close()
    if os.environ.get("FIELDMETER_E2E_DOCS") == "1":
        shutil.copyfile(shots / "resident-portal.png", ROOT / "docs" / "resident-portal.png")
    print(f"\nscreenshots: {shots}")


def test_the_admin_gives_a_resident_access_in_people_and_they_choose_a_password(server: Server) -> None:
    """Headless (the real console against the real server in-process): a unit code that names no unit is said beside
    its field and nothing is created; the right one makes the resident's account, whose first sign-in asks for their
    own password and then opens the portal of their unit."""

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "admin")
        await wait_key(driver, "section-people")
        await driver.click("section-people")
        await wait_key(driver, "users_range")
        await select_option(driver, "user_role", "resident")
        await driver.type_text("user_username", "asha")
        await driver.type_text("user_full_name", "Asha Rani")
        await driver.type_text("user_password", TEMPORARY)
        await driver.type_text("user_unit", "NO-SUCH-UNIT")
        await driver.click("user_save")
        await driver.wait_for(lambda: driver.find("user_unit").error == "No unit has this code", message="refused")
        await driver.type_text("user_unit", FLAT)
        await driver.click("user_save")
        await driver.wait_for_text(f"asha · Asha Rani · resident · {FLAT} · active")
        await driver.click("sign_out")
        await driver.wait_for(lambda: value_of(driver, "username") == "", message="the sign-in form again")

        await sign_in(driver, "asha", TEMPORARY)
        await wait_key(driver, "set_password")
        await driver.type_text("new_password", OWN_PASSWORD)
        await driver.type_text("new_password_again", "something-else-5")
        await driver.click("set_password")
        await driver.wait_for_text("The two passwords differ")
        await driver.type_text("new_password_again", OWN_PASSWORD)
        await driver.click("set_password")
        await driver.wait_for_text(f"My account · {FLAT}")
        await driver.wait_for_text("No bills yet")
        assert "Nothing owed" in driver.texts()
        assert not any(str(c.key or "").startswith("section-") for c in driver.walk())  # nothing else to open
        assert driver.crashes() == []

    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=60.0)
    users = server.http.get("/api/users", params={"q": "asha"}, headers=server.headers("admin")).json()["items"]
    assert [(u["role"], u["unit_code"], u["password_change_required"]) for u in users] == [("resident", FLAT, False)]
