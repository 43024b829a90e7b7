"""The review card in words for issue 12: a value outside the meter's usual range is said so, and a re-read is
sent back with the day it is due (typed on the card; a garbled date is refused on the screen, nothing sent); a
reported meter replacement rejected on the card becomes a re-read task due on the day typed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import flet as ft
import httpx
import pytest

from mobile_app.console.app import console_main
from mobile_app.console.review import parse_due
from tests.support.flet_driver import FletDriver, run_app
from tests.sync_server.factories import meters_by_unit
from tests.ui.ui_fixtures import Server, meter_photo, sign_in, wait_key

TIMEOUT = 20.0


def run(server: Server, scenario: Any) -> None:
    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT)


def test_an_outside_window_read_is_said_in_words_and_sent_back_due_on_a_chosen_day(server: Server) -> None:
    # 4BHK-B5-FF has two approved reads in the demo, so a usage window; 400,000 units on is far outside it.
    wild = server.push_reading("4BHK-B5-FF", above_previous=400_000, photo=meter_photo())
    uuid = wild["uuid"]
    due = (server.clock().date() + timedelta(days=5)).isoformat()

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "supervisor")
        await wait_key(driver, f"reread-{uuid}")
        chips = [label.value for chip in driver.find_all(ft.Chip) if isinstance(label := chip.label, ft.Text)]
        assert "outside the meter's usual range (re-keyed, photo)" in chips

        await driver.type_text(f"reason-{uuid}", "Read it again in daylight")
        await driver.type_text(f"due-{uuid}", "next week")
        await driver.click(f"reread-{uuid}")
        assert driver.find(f"due-{uuid}").error == "Write the date as YYYY-MM-DD, or leave it empty"
        assert server.review_item(uuid)["status"] == "submitted"

        await driver.type_text(f"due-{uuid}", due)
        await driver.click(f"reread-{uuid}")
        await driver.wait_for_text("Sent back", timeout=5.0)
        assert driver.crashes() == []

    run(server, scenario)
    item = server.review_item(uuid)
    assert (item["status"], item["due_on"]) == ("reread", due)
    assert "outside_window" in item["flags"]


def test_a_rejected_replacement_is_due_on_the_day_typed_on_the_card(server: Server) -> None:
    engineer = server.headers("engineer1")
    stop = meters_by_unit(server.http, engineer)["2BHK-B1-FF"]
    pushed = server.push_replacement(stop, "N-0009")
    uuid = pushed["uuid"]
    due = (server.clock().date() + timedelta(days=2)).isoformat()

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "supervisor")
        await wait_key(driver, f"reject-replacement-{uuid}")
        await driver.type_text(f"reason-{uuid}", "The photo shows the old meter")
        await driver.type_text(f"due-{uuid}", "soon")
        await driver.click(f"reject-replacement-{uuid}")
        assert driver.find(f"due-{uuid}").error == "Write the date as YYYY-MM-DD, or leave it empty"
        assert server.review_item(uuid)["status"] == "submitted"
        await driver.type_text(f"due-{uuid}", due)
        await driver.click(f"reject-replacement-{uuid}")
        await driver.wait_for_text("Replacement rejected", timeout=5.0)
        assert driver.crashes() == []

    run(server, scenario)
    item = server.review_item(uuid)
    assert (item["status"], item["due_on"], item["replacement"]["state"]) == ("rejected", due, "rejected")


@pytest.mark.parametrize("garbled", ["25/11/2025", "tomorrow", "2025-13-01"])
def test_parse_due_refuses_anything_but_an_iso_day(garbled: str) -> None:
    with pytest.raises(ValueError, match=r"format|month|Invalid"):
        parse_due(garbled)


def test_parse_due_takes_an_iso_day_or_nothing() -> None:
    assert parse_due("  ") is None
    assert parse_due(" 2025-11-25 ") == date(2025, 11, 25)
