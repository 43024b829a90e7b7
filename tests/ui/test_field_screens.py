"""The field app's issue-12 screens, headless: route (order, filters, search, tiles), meter detail, capture (window,
triage, replacement, estimate), the re-read loop, the status strip, sign-out and the kept route view.

The real ``field_main(service)`` against the real server in-process (tests/ui/conftest.py); the clock is pinned.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import flet as ft
import httpx
import pytest

from mobile_app import i18n
from mobile_app.capture import BelowPreviousAnswer
from mobile_app.field_app import LANGUAGE_KEY
from mobile_app.field_service import FieldService
from mobile_app.route_model import MeterProgress, RouteFilter
from mobile_app.store import apply_pull, get_pull_cursor, get_state, set_state
from mobile_app.ui.route import PAGE_SIZE, RouteView
from shared_billing.charge_estimate import ChargeEstimate
from shared_billing.plausibility import ExpectedWindow
from shared_billing.protocol import PreviousReading, PullResponse, ReadingV3, ReadType, UsageWindow
from tests.support.cupboard_photos import cupboard_jpeg
from tests.support.flet_driver import FletDriver
from tests.ui.test_field_app_session import (
    Meter,
    attach_photo,
    capture,
    locate_at,
    on_route,
    open_meter,
    run,
    search,
    the_meter,
)
from tests.ui.ui_fixtures import FLAT, Server, go_to_tab, meter_photo, sign_in, value_of, wait_value


def tile_keys(driver: FletDriver) -> list[str]:
    return [str(c.key) for c in driver.walk() if re.fullmatch(r"meter-\d+", str(getattr(c, "key", "") or ""))]


def route_view(driver: FletDriver) -> RouteView:
    node: Any = driver.find("route_summary")
    while not isinstance(node, RouteView):
        node = node.parent
    return node


def natural(text: str) -> tuple[Any, ...]:
    return tuple(int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text))


def window_around(meter: Meter) -> ExpectedWindow:
    return ExpectedWindow(
        low=Decimal(meter.previous + 50),
        high=Decimal(meter.previous + 150),
        expected=Decimal(meter.previous + 100),
        days=Decimal(30),
        daily_use=Decimal("3.3"),
    )


# --- route -----------------------------------------------------------------------------------------------------------


def test_the_route_lists_17_meters_in_walk_order_with_filters(engineer_service: FieldService) -> None:
    rows = engineer_service.route().rows
    meters = [row.meter for row in rows]
    assert len(meters) == 17
    if all(m.walk_order is None for m in meters):  # no admin order: natural order (B2 before B17)
        names = [m.unit_code or m.meter_number for m in meters]
        assert [natural(n) for n in names] == sorted(natural(n) for n in names)
    b17 = the_meter(engineer_service)
    # The demo's engineers already read some meters this month: the server's period reads count as read.
    done = [row.meter.meter_id for row in rows if row.progress is MeterProgress.DONE]
    assert b17.meter_id not in done

    async def scenario(driver: FletDriver) -> None:
        assert tile_keys(driver) == [f"meter-{m.meter_id}" for m in meters]
        assert driver.find("route_summary").value == f"{len(done)} of 17 meters read this period"
        assert driver.find("route_rereads").visible is False
        assert value_of(driver, f"tile_value-{b17.meter_id}") == f"To read · previous {b17.previous}"
        await capture(driver, b17, b17.previous + 77)
        assert driver.find("route_summary").value == f"{len(done) + 1} of 17 meters read this period"
        assert value_of(driver, f"tile_value-{b17.meter_id}") == f"Read {b17.previous + 77}"
        assert value_of(driver, f"tile_state-{b17.meter_id}") == "saved"  # the word, with its icon
        assert driver.find("search").value == FLAT  # the route came back as it was left
        await search(driver, "")

        await driver.click("filter-done")
        assert tile_keys(driver) == [f"meter-{m.meter_id}" for m in meters if m.meter_id in {*done, b17.meter_id}]
        assert driver.find("filter-done").selected is True
        assert driver.find("filter-all").selected is False
        await driver.click("filter-to_read")
        assert len(tile_keys(driver)) == 16 - len(done)
        assert f"meter-{b17.meter_id}" not in tile_keys(driver)
        await driver.click("filter-reread")
        assert tile_keys(driver) == []
        assert driver.find("no_meters").value == "No meters match."
        await driver.click("filter-all")
        assert len(tile_keys(driver)) == 17
        assert driver.crashes() == []

    run(engineer_service, scenario)


def test_search_runs_once_after_a_pause_in_typing(engineer_service: FieldService) -> None:
    async def scenario(driver: FletDriver) -> None:
        view = route_view(driver)
        before = view.redraws
        for text in ("V", "Vi", "Vil", "Vill", "VILLA"):  # quicker than the pause: each key cancels the last
            await driver.type_text("search", text)
        assert view.redraws == before  # nothing yet
        assert len(tile_keys(driver)) == 17
        await driver.wait_for(lambda: view.redraws > before, message="the search ran")
        await driver.settle()
        assert view.redraws == before + 1
        assert len(tile_keys(driver)) == 4
        await search(driver, "")  # cleared: the whole route again
        assert len(tile_keys(driver)) == 17
        assert driver.crashes() == []

    run(engineer_service, scenario)


def test_returning_from_capture_keeps_the_route_view_and_an_idle_refresh_sends_nothing(
    engineer_service: FieldService,
) -> None:
    meter = the_meter(engineer_service)

    async def scenario(driver: FletDriver) -> None:
        first = route_view(driver)
        await open_meter(driver, meter)
        await driver.click("cancel")
        await driver.wait_for(lambda: on_route(driver), message="back on the route")
        assert route_view(driver) is first  # re-shown, not rebuilt
        redraws = first.redraws
        patches = len(driver.patches())
        await asyncio.sleep(2.3)  # two ticks of the app's 1 s refresh with nothing changed
        assert len(driver.patches()) == patches
        assert first.redraws == redraws
        assert driver.crashes() == []

    run(engineer_service, scenario)


# --- meter detail ------------------------------------------------------------------------------------------------


def test_meter_detail_without_history_says_there_is_no_expected_range(engineer_service: FieldService) -> None:
    meter = the_meter(engineer_service)
    # The meter as a server knowing no approved read of it pulls it: no history, no usage.
    [cached] = [m for m in engineer_service.meters() if m.meter_id == meter.meter_id]
    bare = cached.model_copy(update={"history": [], "usage": None})
    cursor = get_pull_cursor(store=engineer_service.store)
    delta = PullResponse(cursor=cursor, full=False, meters=[bare], removed_meter_ids=[], decisions=[])
    apply_pull(store=engineer_service.store, pull=delta)
    engineer_service._meters_changed()  # as a sync pass that pulled meters does
    engineer_service._changed()
    assert engineer_service.window(bare) is None

    async def scenario(driver: FletDriver) -> None:
        await search(driver, meter.unit_code)
        await driver.click(f"meter-{meter.meter_id}")
        await driver.wait_for_text("No history yet: no expected range")
        assert driver.find("history_none").value == "No approved reads yet."
        assert driver.find("read_meter").height >= 48
        await driver.click("read_meter")
        await driver.wait_for(lambda: value_of(driver, "window") is not None, message="capture")
        assert driver.find("window").value == "No history yet: no expected range"
        assert driver.crashes() == []

    run(engineer_service, scenario)


def test_meter_detail_with_history_shows_the_last_six_reads_daily_use_and_the_window(
    engineer_service: FieldService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mobile_app.route_model import RouteRow
    from mobile_app.ui.meter_detail import MeterDetailView

    row = engineer_service.route_row(the_meter(engineer_service).meter_id)
    assert row is not None
    now = engineer_service.clock()
    history = [
        PreviousReading(value=str(32176 - 100 * months), captured_at=now - timedelta(days=30 * (months + 1)))
        for months in range(7)
    ]
    usage = UsageWindow(
        since_value="32176",
        since=history[0].captured_at,
        daily_use="3.3333",
        low_per_day="1.5",
        high_per_day="6",
        reads=6,
    )
    meter = row.meter.model_copy(update={"history": history, "usage": usage, "multiplier": "2"})
    window = ExpectedWindow(Decimal(32221), Decimal(32356), Decimal(32276), Decimal(30), Decimal("3.3333"))
    monkeypatch.setattr(engineer_service, "window", lambda m, at=None: window)
    view = MeterDetailView(
        engineer_service, RouteRow(**{**row.__dict__, "meter": meter}), read=lambda r: None, back=lambda: None
    )
    texts = {str(c.key): c.value for c in _texts(view)}
    assert texts["detail_window"] == "Expected today: 32221 to 32356"
    assert texts["detail_daily_use"] == "Average daily use: 6.7 units"  # × the multiplier 2
    assert [k for k in texts if k.startswith("history-")] == [f"history-{i}" for i in range(6)]  # six, not seven
    assert texts["history-0"].endswith(": 32176")


def _texts(control: ft.Control) -> list[ft.Text]:
    found: list[ft.Text] = []

    def visit(node: Any) -> None:
        if isinstance(node, ft.Text) and node.key is not None:
            found.append(node)
        for name in ("content", "controls"):
            child = getattr(node, name, None)
            for item in child if isinstance(child, list) else [child]:
                if isinstance(item, ft.Control):
                    visit(item)

    visit(control)
    return found


# --- capture -----------------------------------------------------------------------------------------------------


def test_capture_shows_consumption_live_and_save_stays_outside_the_scrolling_form(
    engineer_service: FieldService,
) -> None:
    meter = the_meter(engineer_service)

    async def scenario(driver: FletDriver) -> None:
        await open_meter(driver, meter)
        await driver.type_text("value", str(meter.previous + 77))
        assert driver.find("consumption").value == "Consumption: 77 units"
        await driver.type_text("value", "12a")
        assert driver.find("consumption").value == ""
        assert driver.find("value").error_max_lines >= 2  # the long error wraps, never cut to one line
        await driver.type_text("value", str(meter.previous - 5))
        assert driver.find("below_previous").visible is True
        await driver.click("below_replaced")
        assert driver.find("replacement_form").visible is True
        # Save is in the bar under the form: no scrolling ancestor, whatever the form grew by.
        node: Any = driver.find("save")
        assert node.height >= 48
        while node is not None:
            assert getattr(node, "scroll", None) is None, node
            node = node.parent
        assert driver.crashes() == []

    run(engineer_service, scenario)


def test_outside_the_window_the_value_is_typed_twice_and_saved_as_verified(
    engineer_service: FieldService, monkeypatch: pytest.MonkeyPatch
) -> None:
    meter = the_meter(engineer_service)
    window = window_around(meter)
    monkeypatch.setattr(engineer_service, "window", lambda m, at=None: window)
    value = meter.previous + 955  # far above the window's high

    async def scenario(driver: FletDriver) -> None:
        await open_meter(driver, meter)
        assert driver.find("window").value == f"Expected today: {window.low} to {window.high}"
        await driver.type_text("value", str(meter.previous + 100))
        assert driver.find("confirm_value").visible is False
        await driver.type_text("value", str(value))
        assert driver.find("confirm_value").visible is True
        assert "a photo is required" in driver.find("outside_window").value
        await locate_at(driver, meter.lat, meter.lon)
        await driver.click("save")
        assert driver.find("capture_error").value == "Add a photo of the meter"  # the photo is mandatory
        await attach_photo(driver, meter_photo())
        await driver.click("save")
        assert driver.find("capture_error").value == (
            f"Outside the expected range ({window.low} to {window.high}): type the value again to confirm it"
        )
        await driver.type_text("confirm_value", str(value + 1))
        assert driver.find("confirm_value").error == "Not the same value"
        await driver.click("save")
        assert "The two values differ" in driver.find("capture_error").value
        await driver.type_text("confirm_value", str(value))
        assert driver.find("confirm_value").error is None
        await driver.click("save")
        await driver.wait_for_text("Saved on this phone")
        assert driver.crashes() == []

    run(engineer_service, scenario)
    [record] = engineer_service.readings()
    assert record.reading.read_type is ReadType.VERIFIED
    assert record.reading.value == str(value)
    assert record.reading.note == f"Confirmed outside the expected range ({window.low} to {window.high})"


def test_triage_offers_rollover_only_when_plausible(engineer_service: FieldService) -> None:
    b17 = the_meter(engineer_service)
    stored = engineer_service.meter(b17.meter_id)
    assert stored is not None

    def with_previous(value: str) -> Any:
        previous = PreviousReading(value=value, captured_at=engineer_service.clock() - timedelta(days=30))
        return stored.model_copy(update={"previous": previous, "dials": 6, "decimals": 0, "usage": None})

    async def scenario(driver: FletDriver) -> None:
        app_capture = _capture_for(driver)
        # 43727 → 120 on six dials: ~956,000 units in a month is no rollover.
        app_capture(with_previous("43727"))
        await driver.settle()
        await driver.type_text("value", "120")
        assert driver.find("below_rollover").visible is False
        assert driver.find("below_replaced").visible is True
        assert driver.find("below_typo").visible is True
        assert "Below the previous reading: replaced meter, or typo?" in driver.texts()
        # 999950 → 30: eighty units past the top is.
        app_capture(with_previous("999950"))
        await driver.settle()
        await driver.type_text("value", "30")
        assert driver.find("below_rollover").visible is True
        await driver.click("below_rollover")
        assert driver.find("capture_error").value == "Noted: rollover. Save when ready."
        await attach_photo(driver, meter_photo())
        await driver.click("save")
        await driver.wait_for_text("Saved on this phone")
        assert driver.crashes() == []

    run(engineer_service, scenario)
    [record] = engineer_service.readings()
    assert (record.reading.read_type, record.reading.value, record.reading.note) == (
        ReadType.VERIFIED,
        "30",
        "Meter rolled over",
    )


def _capture_for(driver: FletDriver) -> Any:
    """The running app's ``show_capture`` (the route view's ``open_meter`` is bound to the app)."""
    view = route_view(driver)
    app = view.open_meter.__self__  # type: ignore[attr-defined]
    return app.show_capture


def test_a_replaced_meter_is_saved_with_the_protocol_2_replacement(engineer_service: FieldService) -> None:
    meter = the_meter(engineer_service)

    async def scenario(driver: FletDriver) -> None:
        await open_meter(driver, meter)
        await driver.type_text("value", "120")  # the NEW meter's register now
        await driver.click(f"below_{BelowPreviousAnswer.REPLACED.value}")
        await attach_photo(driver, meter_photo())
        await driver.click("save")
        assert "Fill in the replacement" in driver.find("capture_error").value
        assert engineer_service.readings() == []
        await driver.type_text("old_final", str(meter.previous + 40))
        await driver.type_text("new_meter_number", "NEW-40099")
        await driver.type_text("new_initial", "100")
        await driver.click("save")
        await driver.wait_for_text("Saved on this phone")
        assert driver.crashes() == []

    run(engineer_service, scenario)
    [record] = engineer_service.readings()
    reading = record.reading
    assert isinstance(reading, ReadingV3)
    assert reading.replacement is not None
    assert (
        reading.replacement.old_final_value,
        reading.replacement.new_meter_number,
        reading.replacement.new_initial_value,
    ) == (str(meter.previous + 40), "NEW-40099", "100")
    assert reading.value == "120"
    assert reading.meter_id == meter.meter_id  # pushed against the old meter, the one on the route


def test_the_estimate_card_is_labelled_and_warns_when_a_slab_is_crossed(
    engineer_service: FieldService, monkeypatch: pytest.MonkeyPatch
) -> None:
    meter = the_meter(engineer_service)
    asked: list[Decimal] = []

    def estimate(m: Any, value: Decimal) -> ChargeEstimate:
        asked.append(value)
        units = value - meter.previous
        return ChargeEstimate(
            units=units,
            energy=units * 7,
            fixed=Decimal(150),
            total=units * 7 + 150,
            usual_total=Decimal(900),
            crosses_slab=units > 300,
            far_above_usual=units > 300,
        )

    monkeypatch.setattr(engineer_service, "estimate", estimate)

    async def scenario(driver: FletDriver) -> None:
        await open_meter(driver, meter)
        assert driver.find("estimate").visible is False
        await driver.type_text("value", str(meter.previous + 77))
        assert driver.find("estimate").visible is True
        assert driver.find("estimate_label").value == "Estimate: this unit's energy and fixed charge only"
        assert driver.find("estimate_amount").value == "77 units: energy ₹539.00, fixed ₹150.00, about ₹689.00"
        assert driver.find("estimate_warning").visible is False
        await driver.type_text("value", str(meter.previous + 400))
        warning = driver.find("estimate_warning")
        assert warning.visible is True
        assert "dearer slab" in warning.value
        assert "Far above the usual bill of about ₹900.00" in warning.value
        assert asked == [Decimal(meter.previous + 77), Decimal(meter.previous + 400)]
        assert driver.crashes() == []

    run(engineer_service, scenario)


# --- the re-read loop ----------------------------------------------------------------------------------------------


def test_a_rejected_reading_becomes_a_task_on_the_route_and_the_new_read_replaces_it(
    engineer_service: FieldService, server: Server
) -> None:
    meter = the_meter(engineer_service)
    reason = "Photo is blurred: read again"
    done = engineer_service.route().progress.read  # the server's period reads of other meters

    async def scenario(driver: FletDriver) -> None:
        await capture(driver, meter, meter.previous + 77)
        [first] = engineer_service.readings()
        assert engineer_service.sync_once().error is None
        server.decide(first.reading.uuid, "reject", reason)
        assert engineer_service.sync_once().decisions == 1
        await wait_value(driver, "route_summary", f"{done} of 17 meters read this period")  # rejected is not done
        assert driver.find("route_rereads").value == "1 re-read to do"
        badge = driver.find(f"tile_reread-{meter.meter_id}")
        assert reason in badge.content.value
        await driver.click("filter-reread")
        assert tile_keys(driver) == [f"meter-{meter.meter_id}"]

        await driver.click(f"meter-{meter.meter_id}")
        await driver.wait_for_text(f"Supervisor's reason: {reason}")
        await driver.click("read_meter")
        await driver.wait_for(lambda: value_of(driver, "capture_reread_reason") is not None, message="capture")
        assert driver.find("capture_reread_reason").value == f"Supervisor's reason: {reason}"
        await driver.type_text("value", str(meter.previous + 78))
        await locate_at(driver, meter.lat, meter.lon)
        # A new photo: the same picture again would be flagged as reused (docs/field-app.md "Photo checks").
        await attach_photo(driver, cupboard_jpeg("04600", seed=1))
        await driver.click("save")
        await driver.wait_for_text("Saved on this phone")
        # The task leaves the route once the replacing read is uploaded (at the latest).
        assert engineer_service.sync_once().error is None
        await wait_value(driver, "route_summary", f"{done + 1} of 17 meters read this period")
        assert driver.find("route_rereads").visible is False
        assert tile_keys(driver) == []  # still on the Re-read filter: the task is gone

        await go_to_tab(driver, 1)
        assert f"record_again-{first.reading.uuid}" not in [str(c.key) for c in driver.controls()]
        assert driver.crashes() == []

    run(engineer_service, scenario)
    again, first = engineer_service.readings()
    assert again.reading.replaces == first.reading.uuid
    row = engineer_service.route_row(meter.meter_id)
    assert row is not None
    assert row.progress is MeterProgress.DONE
    assert row.reread is None
    assert engineer_service.route(RouteFilter.REREAD).rows == []


# --- trust -------------------------------------------------------------------------------------------------------


def _unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def test_the_status_strip_says_offline_in_plain_words_then_online(engineer_service: FieldService) -> None:
    online_http = engineer_service.api._http
    offline_http = httpx.Client(transport=httpx.MockTransport(_unreachable), base_url="http://phone.test")

    async def scenario(driver: FletDriver) -> None:
        await driver.wait_for(lambda: "Online" in (value_of(driver, "status_line") or ""), message="online")
        engineer_service.api._http = offline_http
        assert engineer_service.sync_once().error is not None
        await driver.wait_for(lambda: "Offline" in (value_of(driver, "status_line") or ""), message="offline")
        line = value_of(driver, "status_line")
        assert "0 readings to upload" in line
        problem = value_of(driver, "status_problem")
        assert problem
        assert "Errno" not in problem
        assert "ConnectError" not in problem
        await go_to_tab(driver, 1)
        assert "Offline" in value_of(driver, "status_line")
        assert all("Errno" not in text and "Error" not in text for text in driver.texts())
        engineer_service.api._http = online_http
        assert engineer_service.sync_once().error is None
        await driver.wait_for(lambda: "Online" in (value_of(driver, "status_line") or ""), message="online again")
        assert driver.crashes() == []

    try:
        run(engineer_service, scenario)
    finally:
        engineer_service.api._http = online_http
        offline_http.close()


def test_an_ended_session_keeps_the_route_and_saving_and_offers_sign_in(engineer_service: FieldService) -> None:
    meter = the_meter(engineer_service)
    tokens = engineer_service.tokens.get()
    assert tokens is not None
    engineer_service.api.end_session(tokens)  # the server no longer accepts this phone's session

    async def scenario(driver: FletDriver) -> None:
        assert driver.find("sign_in_again").visible is False
        assert engineer_service.sync_once().needs_sign_in
        await driver.wait_for(lambda: driver.find("sign_in_again").visible, message="sign in offered")
        await driver.wait_for(
            lambda: value_of(driver, "status_problem") == "sign in again to upload", message="the problem in words"
        )
        await capture(driver, meter, meter.previous + 77)  # the route and saving go on
        assert value_of(driver, f"tile_state-{meter.meter_id}") == "saved"
        [waiting] = engineer_service.readings()

        await driver.click("sign_in_again")
        await driver.click("back_to_route")  # not now: still signed in on the phone
        assert driver.find("route_summary") is not None
        await driver.click("sign_in_again")
        await sign_in(driver, "engineer1")
        await driver.wait_for(lambda: value_of(driver, "route_summary") is not None, message="back on the route")
        assert driver.find("sign_in_again").visible is False
        assert engineer_service.sync_once(ignore_retry_times=True).error is None
        [uploaded] = engineer_service.readings()
        assert uploaded.reading.uuid == waiting.reading.uuid
        assert not uploaded.in_outbox
        assert driver.crashes() == []

    run(engineer_service, scenario)


def test_signing_out_with_readings_waiting_asks_first_and_keeps_them(engineer_service: FieldService) -> None:
    meter = the_meter(engineer_service)

    async def scenario(driver: FletDriver) -> None:
        await capture(driver, meter, meter.previous + 77)
        await driver.click("sign_out")
        warning = driver.find("sign_out_warning").value
        assert warning == (
            "1 reading has not uploaded yet. It stays on this phone, nothing is deleted, and it uploads when"
            " engineer1 signs in again."
        )
        await driver.click("cancel_sign_out")
        assert engineer_service.profile() is not None
        assert on_route(driver)
        await driver.click("sign_out")
        await driver.click("confirm_sign_out")
        await driver.wait_for(lambda: value_of(driver, "username") is not None, message="sign-in screen")
        assert engineer_service.profile() is None
        [record] = engineer_service.readings()
        assert record.in_outbox  # kept, to upload at the next sign-in
        await sign_in(driver, "engineer1")
        await driver.wait_for(lambda: on_route(driver), message="route")
        assert driver.crashes() == []

    run(engineer_service, scenario)
    assert engineer_service.sync_once().error is None
    [record] = engineer_service.readings()
    assert not record.in_outbox


def test_signing_out_with_nothing_waiting_needs_no_confirmation(engineer_service: FieldService) -> None:
    async def scenario(driver: FletDriver) -> None:
        await driver.click("sign_out")
        await driver.wait_for(lambda: value_of(driver, "username") is not None, message="sign-in screen")
        assert driver.crashes() == []

    run(engineer_service, scenario)
    assert engineer_service.profile() is None


# --- a long route ------------------------------------------------------------------------------------------------


def test_a_long_route_draws_a_page_at_a_time_more_on_scroll_or_show_more(
    engineer_service: FieldService, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = engineer_service.route()
    rows = [
        replace(row, meter=row.meter.model_copy(update={"meter_id": 1000 + i, "meter_number": f"L{i}"}))
        for i, row in enumerate(base.rows * 4)  # 68 meters: two pages and a bit
    ]
    snapshot = replace(base, rows=rows, progress=replace(base.progress, total=len(rows)))
    monkeypatch.setattr(engineer_service, "route", lambda route_filter=RouteFilter.ALL, search=None: snapshot)

    async def scenario(driver: FletDriver) -> None:
        assert len(tile_keys(driver)) == PAGE_SIZE
        assert driver.find("show_more").content == f"Show more ({len(rows) - PAGE_SIZE} left)"
        await driver.click("show_more")
        assert len(tile_keys(driver)) == 2 * PAGE_SIZE
        view = route_view(driver)
        scroll = {"event_type": "end", "pixels": 9000.0, "min_scroll_extent": 0.0, "max_scroll_extent": 9100.0}
        await driver.dispatch(view.list, "scroll", scroll | {"viewport_dimension": 700.0})
        assert len(tile_keys(driver)) == len(rows)
        assert "show_more" not in [str(c.key) for c in driver.walk()]
        assert driver.crashes() == []

    run(engineer_service, scenario)


# --- language ----------------------------------------------------------------------------------------------------


def test_the_engineer_switches_language_and_the_phone_keeps_it(service: FieldService) -> None:
    async def scenario(driver: FletDriver) -> None:
        assert driver.find("language-en").disabled is True
        await driver.click("language-hi")
        assert driver.find("username").label == "यूज़रनेम"
        assert driver.find("language-hi").disabled is True
        await sign_in(driver, "engineer1")
        await driver.wait_for(lambda: on_route(driver), message="route")
        await go_to_tab(driver, 1)
        assert driver.find("sync_now").content == "अभी सिंक करें"
        await driver.click("language-pa")
        assert driver.find("nav").destinations[0].label == "ਰੂਟ"
        await driver.click("language-en")
        assert driver.find("sync_now").content == "Sync now"
        assert driver.crashes() == []

    try:
        run(service, scenario)
    finally:
        i18n.set_default_language("en")
    assert get_state(store=service.store, key=LANGUAGE_KEY) == "en"


def test_the_app_opens_in_the_phones_language(engineer_service: FieldService) -> None:
    set_state(store=engineer_service.store, key=LANGUAGE_KEY, value="pa")

    async def scenario(driver: FletDriver) -> None:
        assert driver.find("nav").destinations[0].label == "ਰੂਟ"
        assert driver.crashes() == []

    try:
        run(engineer_service, scenario)
    finally:
        i18n.set_default_language("en")
