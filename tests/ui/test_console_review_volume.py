"""The review queue at volume in a headless console session (issue 13): the true total and pages, a filter by
engineer, decisions in place with the keyboard, a photo full-size, and bulk approval of the clean ones after a
confirmation, with the counts on screen and in the database agreeing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import func
from sqlmodel import Session, col, select

from mobile_app.console.app import console_main
from mobile_app.console.review import PAGE_SIZE
from shared_billing.protocol import OcrVerdict
from sync_server.models import PhotoOcr, Reading, ReadingStatus, ReadType, User
from sync_server.periods import period_of
from tests.support.flet_driver import FletDriver, run_app
from tests.sync_server.factories import NOW
from tests.sync_server.review_seed import submit_readings
from tests.ui.ui_fixtures import FLAT, Server, meter_photo, select_option, sign_in, value_of, wait_key, wait_value

TIMEOUT = 60.0
SEEDED = 45


def run(server: Server, scenario: Any) -> None:
    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT)


def _seed(server: Server) -> None:
    context = server.app.state.context
    submit_readings(
        context.engine, SEEDED, start=0, now=server.clock(), period=period_of(server.clock(), context.settings.tz)
    )


def _count(server: Server, *where: Any) -> int:
    with Session(server.app.state.context.engine) as session:
        return int(session.exec(select(func.count()).select_from(Reading).where(*where)).one())


def _cards(driver: FletDriver) -> list[str]:
    """UUIDs of the undecided cards on screen, top to bottom."""
    keys = [str(control.key) for control in driver.walk() if control.key is not None]
    return [key.removeprefix("review-") for key in keys if key.startswith("review-")]


async def _press(driver: FletDriver, key: str) -> None:
    await driver.dispatch(
        driver.page, "keyboard_event", {"key": key, "shift": False, "ctrl": False, "alt": False, "meta": False}
    )


def test_a_supervisor_pages_filters_decides_by_keyboard_zooms_and_bulk_approves(server: Server) -> None:
    _seed(server)
    photographed = server.push_reading(FLAT, above_previous=77, photo=meter_photo())
    waiting = SEEDED + 1
    with Session(server.app.state.context.engine) as session:
        engineer = session.exec(select(User).where(User.username == "engineer1")).one()
    by_engineer = _count(server, col(Reading.engineer_id) == engineer.id, Reading.status == ReadingStatus.SUBMITTED)

    seen: dict[str, int] = {}

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "supervisor")
        await wait_value(driver, "review_summary", f"{waiting} readings waiting")
        assert value_of(driver, "review_range") == f"1–{PAGE_SIZE} of {waiting}"
        assert len(_cards(driver)) == PAGE_SIZE

        # The next page starts where this one ended; back again.
        await driver.click("review_next")
        await wait_value(driver, "review_range", f"{PAGE_SIZE + 1}–{2 * PAGE_SIZE} of {waiting}")
        await driver.click("review_prev")
        await wait_value(driver, "review_range", f"1–{PAGE_SIZE} of {waiting}")

        # One engineer's readings: the dropdown says how many, the list shows only theirs.
        await select_option(driver, "review_engineer", str(engineer.id))
        await wait_value(driver, "review_summary", f"{by_engineer} readings waiting")
        assert f"{engineer.full_name} ({by_engineer})" in [
            option.text for option in driver.find("review_engineer").options
        ]
        assert {value_of(driver, f"engineer-{uuid}") for uuid in _cards(driver)} == {f"Engineer: {engineer.full_name}"}

        # The photographed reading full-size: the newest, so first in that order; its card, then Z.
        await select_option(driver, "review_sort", "newest")
        await wait_key(driver, f"review-{photographed['uuid']}")
        assert _cards(driver)[0] == photographed["uuid"]
        await driver.click(f"review-{photographed['uuid']}")
        await _press(driver, "Z")
        zoom = await wait_key(driver, "photo_zoom")
        assert driver.find("zoom_image").src == meter_photo()
        await driver.click("zoom_in")
        await driver.click("zoom_close")
        assert zoom.open is False

        # Three approvals by keyboard from the top: A approves the framed card, which shrinks to one line.
        await select_option(driver, "review_engineer", "all")
        await select_option(driver, "review_sort", "oldest")
        await driver.wait_for(
            lambda: _cards(driver)[0] != photographed["uuid"] and not driver.find("review_loading").visible,
            message="the oldest first again",
        )
        await wait_value(driver, "review_summary", f"{waiting} readings waiting")
        approvable = [uuid for uuid in _cards(driver) if not driver.find(f"approve-{uuid}").disabled]
        first_three = approvable[:3]
        await _press(driver, "J")
        await _press(driver, "K")  # back to the first card
        for uuid in first_three:  # a card whose photo has not arrived cannot be approved: not among them
            await driver.click(f"review-{uuid}")
            await _press(driver, "A")
            await wait_key(driver, f"decided-{uuid}")
        await wait_value(driver, "review_summary", f"{waiting - 3} readings waiting")

        # The clean ones, all pages, after a confirmation that names the count.
        clean_before = int(str(driver.find("review_bulk").content).split()[1])
        seen["clean"] = clean_before
        await driver.click("review_bulk")
        await wait_key(driver, "bulk_confirm")
        await driver.click("bulk_approve")
        await driver.wait_for_text(f"Approved {clean_before} readings")
        await wait_value(driver, "review_summary", f"{waiting - 3 - clean_before} readings waiting")
        assert driver.find("review_bulk").disabled is True
        assert driver.crashes() == []

    approved_before = _count(server, Reading.status == ReadingStatus.APPROVED)
    run(server, scenario)
    assert seen["clean"] > 0
    assert _count(server, Reading.status == ReadingStatus.SUBMITTED) == waiting - 3 - seen["clean"]
    assert _count(server, Reading.status == ReadingStatus.APPROVED) == approved_before + 3 + seen["clean"]


def test_a_supervisor_narrows_the_queue_by_read_type_and_by_how_long_readings_wait(server: Server) -> None:
    _seed(server)
    with Session(server.app.state.context.engine) as session:
        readings = session.exec(select(Reading).order_by(col(Reading.id))).all()
        waiting = [r for r in readings if r.status is ReadingStatus.SUBMITTED]
        for reading in waiting[:5]:  # arrived ten days ago
            reading.received_at = server.clock() - timedelta(days=10)
            session.add(reading)
        for reading in waiting[3:6]:  # re-keyed after a warning (two of them old as well)
            reading.read_type = ReadType.VERIFIED
            session.add(reading)
        verified = sorted(str(r.uuid) for r in waiting[3:6])
        session.commit()

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "supervisor")
        await wait_value(driver, "review_summary", f"{SEEDED} readings waiting")
        await select_option(driver, "review_age", "7")
        await wait_value(driver, "review_summary", "5 readings waiting")
        assert len(_cards(driver)) == 5
        await select_option(driver, "review_read_type", "verified")
        await wait_value(driver, "review_summary", "2 readings waiting")
        await select_option(driver, "review_age", "all")
        await wait_value(driver, "review_summary", "3 readings waiting")
        assert sorted(_cards(driver)) == verified
        assert driver.crashes() == []

    run(server, scenario)


def test_a_supervisor_sees_what_the_server_read_off_the_photo_and_narrows_to_mismatches(server: Server) -> None:
    _seed(server)
    photographed = UUID(server.push_reading(FLAT, above_previous=77, photo=meter_photo())["uuid"])
    with Session(server.app.state.context.engine) as session:
        reading = session.exec(select(Reading).where(col(Reading.uuid) == photographed)).one()
        assert reading.photo_sha256 is not None
        session.add(PhotoOcr(sha256=reading.photo_sha256, value="000123", confidence=Decimal("0.93"), read_at=NOW))
        reading.ocr_verdict = OcrVerdict.MISMATCH  # what the photo-ocr job decides (tests/sync_server/test_photo_ocr)
        session.add(reading)
        session.commit()

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "supervisor")
        await wait_value(driver, "review_summary", f"{SEEDED + 1} readings waiting")
        await select_option(driver, "review_ocr", "mismatch")
        await wait_value(driver, "review_summary", "1 reading waiting")
        assert _cards(driver) == [str(photographed)]
        assert value_of(driver, f"ocr-{photographed}") == "The photo shows 000123 (93 % sure), not the typed value"
        assert driver.crashes() == []

    run(server, scenario)
