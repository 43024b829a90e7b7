"""The browser console, headless: the real ``console_main(http_factory)`` against the real server in-process.

The console's async client reaches the server through ``httpx.ASGITransport`` on the driver's own event loop (the
server's sync routes run in its thread pool). Readings under review are pushed through the sync API first, as a
phone would; decisions and bills are checked through the API afterwards.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import flet as ft
import httpx
from sqlmodel import Session, select

from mobile_app.console.app import console_main
from sync_server.models import RefreshToken, User
from tests.support.flet_driver import FletDriver, run_app
from tests.ui.ui_fixtures import FLAT, Server, meter_photo, sign_in, value_of, wait_key

TIMEOUT = 20.0


def run(server: Server, scenario: Any) -> None:
    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT)


def cards(driver: FletDriver) -> set[str]:
    """UUIDs of the review cards on screen."""
    keys = (str(c.key) for c in driver.walk() if c.key is not None)
    return {key.removeprefix("review-") for key in keys if key.startswith("review-")}


def test_wrong_password_and_an_engineer_in_the_console(server: Server) -> None:
    async def scenario(driver: FletDriver) -> None:
        assert "Supervisors review readings; admins bill them." in driver.texts()
        await sign_in(driver, "supervisor", "wrong")
        await driver.wait_for_text("Wrong username or password")
        await sign_in(driver, "engineer1")
        text = await driver.wait_for_text("Field engineers use the Fieldmeter app")
        assert text == "Field engineers use the Fieldmeter app on their phone."
        assert driver.find("wrong_role").value == text
        assert "Fieldmeter · engineer1 (engineer)" in driver.texts()
        await driver.click("sign_out")
        await driver.wait_for(lambda: value_of(driver, "username") == "", message="the sign-in form again")
        assert driver.crashes() == []

    run(server, scenario)
    # Signing out ended the console's session on the server as well: no refresh token of it is left alive.
    with Session(server.app.state.context.engine) as session:
        engineer = session.exec(select(User).where(User.username == "engineer1")).one()
        tokens = session.exec(select(RefreshToken).where(RefreshToken.user_id == engineer.id)).all()
    assert tokens
    assert all(token.revoked_at is not None for token in tokens)


def test_supervisor_sees_the_queue_with_flags_and_photo_then_rejects_and_approves(server: Server) -> None:
    photo = meter_photo()
    b17 = server.push_reading(FLAT, above_previous=77, photo=photo)
    other = server.push_reading("4BHK-B5-GF", above_previous=50, photo=meter_photo(shade=120))
    waiting = server.push_reading("VILLA-A1", above_previous=20, photo=meter_photo(shade=40), upload_photo=False)
    reason = "Photo shows the neighbour's meter"

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "supervisor")
        await driver.wait_for(lambda: len(cards(driver)) == 3, message="three review cards")
        assert cards(driver) == {b17["uuid"], other["uuid"], waiting["uuid"]}
        assert driver.find("review_summary").value == "3 readings waiting"
        assert "Fieldmeter · supervisor (supervisor)" in driver.texts()
        b17_uuid = b17["uuid"]
        previous = int(b17["value"]) - 77
        assert driver.find(f"facts-{b17_uuid}").value == (  # Indian grouping: 32,253 (and 1,23,456)
            f"Reading {int(b17['value']):,} · previous {previous:,} · consumption 77 units"
        )
        assert f"{FLAT} · meter 40012170 · block B" in driver.texts()
        assert "No GPS fix with this reading" in driver.texts()
        chips = [label.value for chip in driver.find_all(ft.Chip) if isinstance(label := chip.label, ft.Text)]
        assert "no GPS fix" in chips  # the gps_missing flag, in words
        assert "photo pending" in chips  # VILLA-A1's photo never arrived
        assert driver.find(f"photo-{b17_uuid}").src == photo  # the stored bytes, unchanged
        assert "Photo pending" in driver.texts()
        assert driver.find(f"approve-{waiting['uuid']}").disabled is True

        # Reject without a reason: refused on the screen, nothing sent.
        await driver.click(f"reject-{other['uuid']}")
        assert driver.find(f"reason-{other['uuid']}").error == "Say why: the engineer sees this"
        assert server.review_item(other["uuid"])["status"] == "submitted"

        await driver.type_text(f"reason-{other['uuid']}", reason)
        await driver.click(f"reject-{other['uuid']}")
        await driver.wait_for(lambda: cards(driver) == {b17_uuid, waiting["uuid"]}, message="the rejected card gone")
        assert driver.find("review_summary").value == "2 readings waiting"
        assert "Rejected" in driver.texts()  # the snack bar

        await driver.click(f"approve-{b17_uuid}")
        await driver.wait_for(lambda: cards(driver) == {waiting["uuid"]}, message="the approved card gone")
        assert driver.find("review_summary").value == "1 reading waiting"
        assert "Approved" in driver.texts()
        assert driver.crashes() == []

    run(server, scenario)
    rejected = server.review_item(other["uuid"])
    assert (rejected["status"], rejected["decision_reason"]) == ("rejected", reason)
    assert server.review_item(b17["uuid"])["status"] == "approved"
    assert server.review_item(waiting["uuid"])["status"] == "submitted"


def test_a_real_click_on_approve_reaches_the_server(server: Server) -> None:
    b17 = server.push_reading(FLAT, photo=meter_photo())

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "supervisor")
        await wait_key(driver, f"approve-{b17['uuid']}")
        await driver.click(f"approve-{b17['uuid']}")
        await driver.wait_for_text("Nothing waiting for review", timeout=2.0)

    run(server, scenario)
    assert server.review_item(b17["uuid"])["status"] == "approved"


def test_admin_bills_the_approved_walkthrough_flat_for_3711(server: Server) -> None:
    b17 = server.push_reading(FLAT, above_previous=77, photo=meter_photo())
    server.decide(b17["uuid"], "approve")
    uuid = b17["uuid"]

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "admin")
        await wait_key(driver, "section-readings")
        await driver.click("section-readings")
        row = await wait_key(driver, f"approved-{uuid}")
        assert driver.find("no_bills").value == "No bills yet"
        assert row.controls[0].value.startswith(f"{FLAT} · ")
        assert row.controls[0].value.endswith(f" · {b17['value']} (77 units)")
        button = driver.find(f"bill-{uuid}")
        assert button.content == f"Bill {FLAT}"
        assert any(t.startswith("40012170 · 5BHK-B17-FF · 6 dials") for t in driver.texts())

        await driver.click(f"bill-{uuid}")
        payable = await driver.wait_for_text("Payable ")
        assert payable == "Payable ₹3,711.00"
        assert "billed" in [str(c.value) for c in driver.find(f"approved-{uuid}").controls if hasattr(c, "value")]
        assert any(t.startswith("Bill ") and "3,711.00" in t for t in driver.texts())  # the snack bar
        assert driver.crashes() == []

    run(server, scenario)
    [bill] = server.bills()
    assert (bill["reading_uuid"], bill["unit_code"]) == (uuid, FLAT)
    assert Decimal(bill["payable"]) == Decimal("3711")
