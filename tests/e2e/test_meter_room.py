"""End to end in Chromium: a meter room of five meters (issue 15), read in one go and asserted on the server.

The demo server and the field app run as processes, their clock pinned (FIELDMETER_NOW); the browser reports one
position. The engineer opens "Meter room" on the route, takes the room's location once, keeps the first five meters
of block B still to read (walk order), and reads each in turn: the value, a photo of its own (no reuse warning), for
the first one its label scanned ("Label confirms meter …"), then "Save & next". Back on the route, the phone uploads
by itself; the server holds five readings with the room's fix and one ``room_session``, and the label.

Screenshots go to a temporary folder; with FIELDMETER_E2E_DOCS=1 the room's screens are written into docs/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.e2e.test_field_route_day import (
    PASSWORD,
    PHONE,
    PINNED,
    WAIT,
    Office,
    SocietyClock,
    _field_app,
    _inside,
    _server,
)
from tests.e2e.test_offline_reading_to_bill import _eventually, _type, _visible
from tests.support.browser import (
    ServerProcess,
    enable_flutter_semantics,
    failure_screenshots,
    first_page,
    free_port,
    launch_browser,
    wait_settled_screenshot,
)
from tests.support.cupboard_photos import cupboard_jpeg, label_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOM = {"latitude": 30.90102, "longitude": 75.85731, "accuracy": 6}  # block B's meter room
ROOT = Path(__file__).resolve().parents[2]
DOCS_SHOTS = {"room-pick.png": "meter-room.png", "room-step.png": "meter-room-step.png"}


def _choose(phone: Page, button: str, path: Path) -> None:
    with phone.expect_file_chooser() as chooser:
        phone.get_by_role("button", name=button).click()
    chooser.value.set_files(str(path))


def test_a_meter_room_of_five_meters_is_read_in_one_go(tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    clock = SocietyClock(PINNED)
    server_port, app_port = free_port(), free_port()
    office = Office(f"http://127.0.0.1:{server_port}")
    apps: list[ServerProcess] = []

    with sync_playwright() as playwright, _server(server_port, tmp_path / "server", tmp_path / "server.log", clock):
        browser = launch_browser(playwright, tmp_path, geolocation=ROOM, viewport=PHONE)
        try:
            pulled = office.pull()
            # Block B's meters still to read this period, in walk order (the pull's order); the room takes five.
            meters = list({m.meter_id: m for m in pulled.values()}.values())
            block = sorted((m for m in meters if m.block_code == "B"), key=lambda m: m.walk_order or 0)
            waiting = [m for m in block if m.period_read is None]
            room, left_out = waiting[:5], waiting[5:]
            assert len(room) == 5, [m.unit_code for m in waiting]

            apps.append(_field_app(server_port, app_port, tmp_path / "phone", tmp_path / "app.log", clock))
            phone = first_page(browser)
            phone.goto(f"http://127.0.0.1:{app_port}/")
            enable_flutter_semantics(phone)
            _type(phone, "Username", "engineer1")
            _type(phone, "Password", PASSWORD)
            phone.get_by_role("button", name="Sign in").click()
            _eventually(lambda: _visible(phone, "of 17 meters read this period"), WAIT, "the route")

            # The room: one fix, then the meters picked (every meter still to read is ticked at first).
            phone.get_by_role("button", name="Meter room").click()
            _eventually(lambda: _visible(phone, "Get the room's location"), WAIT, "the meter-room screen")
            phone.get_by_role("button", name="Get the room's location").click()
            _eventually(lambda: _visible(phone, "30.90102, 75.85731"), WAIT, "the room's fix")
            _eventually(lambda: _visible(phone, f"Start: {len(waiting)} meters"), WAIT, "the meters to read ticked")
            for meter in left_out:
                phone.get_by_role("checkbox", name=f"{meter.unit_code} · meter {meter.meter_number}").click()
            _eventually(lambda: _visible(phone, "Start: 5 meters"), WAIT, "five meters picked")
            phone.mouse.click(5, 5)
            wait_settled_screenshot(phone, shots / "room-pick.png")
            phone.get_by_role("button", name="Start: 5 meters").click()

            for position, meter in enumerate(room, start=1):
                _wait_text(phone, f"Meter room · {position} of 5")
                assert _visible(phone, f"{meter.unit_code} · {meter.meter_number}")
                assert _visible(phone, "The room's location: 30.90102, 75.85731")
                _type(phone, "Reading", str(_inside(meter, clock) if meter.usage else _previous(meter) + 40 + position))
                photo = tmp_path / f"{meter.unit_code}.jpg"
                photo.write_bytes(cupboard_jpeg(f"0{4500 + position}", seed=100 + position))
                _choose(phone, "Add photo", photo)
                _eventually(lambda: _visible(phone, "ready"), WAIT, "the compressed photo")
                if position == 1:
                    label = tmp_path / "label.jpg"
                    label.write_bytes(label_jpeg(f"SN:{meter.meter_number}"))
                    _choose(phone, "Scan label", label)
                    _wait_text(phone, f"Label confirms meter {meter.meter_number}")
                    phone.mouse.click(5, 5)
                    phone.mouse.move(200, 500)
                    phone.mouse.wheel(0, 330)  # the photo and the label's verdict in view
                    wait_settled_screenshot(phone, shots / "room-step.png")
                assert not _visible(phone, "looks blurred")
                assert not _visible(phone, "already taken on this route")
                phone.get_by_role("button", name="Save & next").click()

            _eventually(lambda: _visible(phone, "Meter room: 5 read, 0 skipped, 0 left to read"), WAIT, "the end")
            _eventually(lambda: _visible(phone, "read this period"), WAIT, "back on the route")
            phone.get_by_role("tab", name="Sync").click()
            _eventually(
                lambda: _visible(phone, "0 to upload") and _visible(phone, "0 photos pending"), 90, "the upload"
            )

            # The server's side: five readings, one fix and one room between them, the first with its label.
            review = office.review()
            items = [review[meter.unit_code or ""] for meter in room]
            sessions = {item["evidence"]["room_session"] for item in items}
            assert len(sessions) == 1, items
            assert None not in sessions
            for item in items:
                assert (item["gps_lat"], item["gps_lon"]) == (ROOM["latitude"], ROOM["longitude"]), item
                checks = item["evidence"]["photo_checks"]
                assert (checks["blurred"], checks["reused"], checks["override_reason"]) == (False, False, None)
            assert items[0]["evidence"]["label"] == f"SN:{room[0].meter_number}"
            assert all(meter.unit_code not in review for meter in left_out)
        except BaseException:
            failure_screenshots(browser.pages, shots)
            raise
        finally:
            browser.close()
            for app in apps:
                app.stop()
            office.close()

    if os.environ.get("FIELDMETER_E2E_DOCS") == "1":
        for shot, name in DOCS_SHOTS.items():
            shutil.copyfile(shots / shot, ROOT / "docs" / name)
    print(f"\nscreenshots: {shots}")


def _wait_text(phone: Page, text: str) -> None:
    _eventually(lambda: _visible(phone, text), WAIT, repr(text))


def _previous(meter: object) -> int:
    previous = getattr(meter, "previous", None)
    assert previous is not None
    return int(previous.value)
