"""The console's shared pieces, headless: the paged, searchable list, the form that shows the server's error beside
its field, and numbers in Indian grouping."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import flet as ft
import pytest

from mobile_app.api.errors import ApiError, TransportError
from mobile_app.console.forms import Form, field_errors
from mobile_app.console.paged_list import PagedList, range_text
from mobile_app.ui.common import indian_number, rupees
from shared_billing.api_models import BlockOut, Page
from tests.support.flet_driver import FletDriver, run_app
from tests.ui.ui_fixtures import value_of

BLOCKS = [BlockOut(id=i, code=f"B{i:04d}", name=f"Block {i}") for i in range(1, 1235)]


def test_indian_grouping_for_counts_and_rupees() -> None:
    assert indian_number(1234567) == "12,34,567"
    assert indian_number(1234) == "1,234"
    assert indian_number("98765.250") == "98,765.250"  # the places given are kept
    assert indian_number(Decimal("-123456.5")) == "-1,23,456.5"
    assert indian_number(0) == "0"
    assert rupees(Decimal("1234567.5")) == "₹12,34,567.50"


def test_range_text() -> None:
    assert range_text(20, 20, 1234) == "21–40 of 1,234"
    assert range_text(0, 5, 5) == "1–5 of 5"
    assert range_text(0, 0, 0) == "Nothing found"
    assert range_text(1200000, 20, 1234567) == "12,00,001–12,00,020 of 12,34,567"


def test_field_errors_place_each_message_beside_its_field() -> None:
    names = {"number", "dials"}
    invalid = ApiError(
        422,
        "request.invalid",
        "body.dials: too big",
        {
            "errors": [
                {"loc": ["body", "dials"], "msg": "Input should be less than or equal to 9"},
                {"loc": ["body", "lat"], "msg": "Input should be a valid number"},
            ]
        },
    )
    assert field_errors(invalid, names) == (
        {"dials": "Input should be less than or equal to 9"},
        "lat: Input should be a valid number",
    )
    taken = ApiError(409, "meter.number_taken", "Meter number 4001 is taken", {"number": "4001"})
    assert field_errors(taken, names) == ({"number": "Meter number 4001 is taken"}, "")
    named = ApiError(409, "x.y", "Pick another", {"field": "dials"})
    assert field_errors(named, names) == ({"dials": "Pick another"}, "")
    general = TransportError("The server did not answer")
    assert field_errors(general, names) == ({}, "The server did not answer")


def test_paged_list_pages_and_searches_one_page_at_a_time() -> None:
    asked: list[tuple[str | None, int, int]] = []

    async def fetch(q: str | None, limit: int, offset: int) -> Page[Any]:
        asked.append((q, limit, offset))
        found = [b for b in BLOCKS if q is None or q.lower() in b.name.lower()]
        return Page[BlockOut](items=found[offset : offset + limit], total=len(found), limit=limit, offset=offset)

    def row(block: BlockOut) -> ft.Control:
        return ft.Text(f"{block.code} · {block.name}", key=f"row-{block.id}")

    async def main(page: ft.Page) -> None:
        listing = PagedList("blocks", fetch, row)
        page.add(listing)
        await listing.load()

    async def scenario(driver: FletDriver) -> None:
        await driver.wait_for(lambda: value_of(driver, "blocks_range") == "1–20 of 1,234", message="first page")
        assert driver.find("blocks_prev").disabled is True
        await driver.click("blocks_next")
        await driver.wait_for(lambda: value_of(driver, "blocks_range") == "21–40 of 1,234", message="second page")
        assert value_of(driver, "row-21") == "B0021 · Block 21"
        with pytest.raises(LookupError):
            driver.find("row-1")
        await driver.type_text("blocks_search", "block 123")
        await driver.submit("blocks_search")
        # Block 123 and Block 1230…1234.
        await driver.wait_for(lambda: value_of(driver, "blocks_range") == "1–6 of 6", message="search results")
        assert driver.find("blocks_next").disabled is True
        await driver.type_text("blocks_search", "nowhere")
        await driver.click("blocks_go")
        await driver.wait_for_text("Nothing matches “nowhere”")
        assert value_of(driver, "blocks_range") == "Nothing found"
        assert driver.crashes() == []

    run_app(main, scenario)
    assert asked == [(None, 20, 0), (None, 20, 20), ("block 123", 20, 0), ("nowhere", 20, 0)]


def test_a_slow_older_page_never_overwrites_a_newer_one() -> None:
    """The first page is slow to come (a loaded server); a search typed meanwhile answers first and stays."""
    first_asked = asyncio.Event()
    let_first_answer = asyncio.Event()

    async def fetch(q: str | None, limit: int, offset: int) -> Page[Any]:
        if q is None:
            first_asked.set()
            await let_first_answer.wait()
        found = [b for b in BLOCKS if q is None or q.lower() in b.name.lower()]
        return Page[BlockOut](items=found[offset : offset + limit], total=len(found), limit=limit, offset=offset)

    def row(block: BlockOut) -> ft.Control:
        return ft.Text(f"{block.code} · {block.name}", key=f"row-{block.id}")

    async def main(page: ft.Page) -> None:
        listing = PagedList("blocks", fetch, row)
        page.add(listing)
        page.run_task(listing.load)

    async def scenario(driver: FletDriver) -> None:
        await driver.wait_for(first_asked.is_set, message="the first page asked for")
        await driver.type_text("blocks_search", "block 123")
        await driver.submit("blocks_search")
        await driver.wait_for(lambda: value_of(driver, "blocks_range") == "1–6 of 6", message="search results")
        let_first_answer.set()
        await asyncio.sleep(0.2)  # the older answer arrives now, and must draw nothing
        assert value_of(driver, "blocks_range") == "1–6 of 6"
        assert value_of(driver, "row-123") == "B0123 · Block 123"
        with pytest.raises(LookupError):
            driver.find("row-1")
        assert driver.crashes() == []

    run_app(main, scenario)


def test_form_shows_the_error_beside_the_field_and_keeps_what_was_typed() -> None:
    sent: list[str | None] = []
    outcome: list[Any] = []

    async def main(page: ft.Page) -> None:
        form = Form("meter", {"number": ft.TextField(label="Number", key="number"), "dials": ft.Dropdown(key="dials")})

        async def send() -> str:
            sent.append(form.text("number"))
            assert form.save_button.disabled is True  # nobody can press Save twice
            if form.text("number") == "4001":
                raise ApiError(409, "meter.number_taken", "Meter number 4001 is taken", {"number": "4001"})
            if form.text("number") == "down":
                raise TransportError("The server did not answer")
            return "saved"

        async def save(_event: ft.Event[Any]) -> None:
            outcome.append(await form.submit(send))

        form.on_save(save)
        page.add(form)

    async def scenario(driver: FletDriver) -> None:
        await driver.type_text("number", " 4001 ")
        await driver.click("meter_save")
        await driver.wait_for(lambda: driver.find("number").error, message="the error beside the number")
        assert driver.find("number").error == "Meter number 4001 is taken"
        assert driver.find("number").value == " 4001 "  # what was typed stays
        assert driver.find("meter_error").visible is False
        assert driver.find("meter_save").disabled is False
        await driver.type_text("number", "down")
        await driver.click("meter_save")
        await driver.wait_for_text("The server did not answer")
        assert driver.find("number").error is None
        await driver.type_text("number", "4002")
        await driver.click("meter_save")
        await driver.wait_for(lambda: len(outcome) == 3, message="the third save")
        assert driver.find("meter_error").visible is False
        assert driver.crashes() == []

    run_app(main, scenario)
    assert sent == ["4001", "down", "4002"]
    assert outcome == [None, None, "saved"]
