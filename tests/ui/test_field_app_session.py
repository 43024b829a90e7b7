"""The field engineer's app, headless: the real ``field_main(service)`` against the real server in-process.

The phone's ``FieldService`` reaches the server through a ``TestClient``; its background thread is never started:
the tests run ``service.sync_once()`` themselves and wait (bounded) for the app's 1 s refresh to show the result.
GPS fixes, permission denial and picked photos are scripted answers to the app's service calls.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mobile_app.field_app import field_main
from mobile_app.field_service import FieldService
from tests.support.cupboard_photos import cupboard_jpeg
from tests.support.flet_driver import GPS_ERRORS, FletDriver, picked_file_result, position_result, run_app
from tests.ui.ui_fixtures import FLAT, Server, go_to_tab, meter_photo, select_option, sign_in, value_of, wait_value

TIMEOUT = 20.0  # a whole scenario; each single wait stays bounded by the driver's 5 s


def run(service: FieldService, scenario: Any) -> None:
    run_app(field_main(service), scenario, timeout=TIMEOUT)


@dataclass(frozen=True)
class Meter:
    """An assigned meter as the phone pulled it, with the optional parts the tests rely on checked."""

    meter_id: int
    meter_number: str
    unit_code: str
    previous: int
    lat: float
    lon: float


def the_meter(service: FieldService, unit_code: str = FLAT) -> Meter:
    [meter] = [m for m in service.meters() if m.unit_code == unit_code]
    assert meter.previous is not None
    assert meter.lat is not None
    assert meter.lon is not None
    return Meter(meter.meter_id, meter.meter_number, unit_code, int(meter.previous.value), meter.lat, meter.lon)


async def search(driver: FletDriver, text: str) -> None:
    """Type into the route's search and wait for the debounced redraw (its summary changes, or the pause ends)."""
    await driver.type_text("search", text)
    await driver.wait_for(lambda: driver.find("search").page and _search_settled(driver), message="search ran")


def _search_settled(driver: FletDriver) -> bool:
    view = driver.find("search").parent
    while view is not None and not hasattr(view, "_pending_search"):
        view = view.parent
    return view is not None and view._pending_search is None


async def open_meter(driver: FletDriver, meter: Meter) -> None:
    await search(driver, meter.unit_code)
    await driver.click(f"meter-{meter.meter_id}")
    await driver.wait_for(lambda: _has(driver, "read_meter"), message="meter detail")
    await driver.click("read_meter")
    await driver.wait_for_text(f"{meter.unit_code} · {meter.meter_number}")
    assert _has(driver, "value")


def on_route(driver: FletDriver) -> bool:
    """The route screen is the one showing (it stays in the page, hidden, behind other screens)."""
    return any(getattr(c, "key", None) == "route_summary" for c in driver.walk())


def _has(driver: FletDriver, key: str) -> bool:
    try:
        driver.find(key)
    except LookupError:
        return False
    return True


async def locate_at(driver: FletDriver, lat: float, lon: float, accuracy: float = 4.0) -> None:
    driver.answer("get_current_position", result=position_result(lat, lon, accuracy), once=True)
    await driver.click("locate")


async def attach_photo(driver: FletDriver, data: bytes, name: str = "meter.jpg") -> None:
    driver.answer("pick_files", result=picked_file_result(name, data), once=True)
    await driver.click("pick_photo")
    await driver.wait_for(lambda: "ready" in (value_of(driver, "photo_status") or ""), message="photo ready")


async def capture(driver: FletDriver, meter: Meter, value: int) -> None:
    """Open the meter, read ``value`` at its location with a photo, save; back on the route."""
    await open_meter(driver, meter)
    await driver.type_text("value", str(value))
    await locate_at(driver, meter.lat, meter.lon)
    await attach_photo(driver, meter_photo())
    await driver.click("save")
    await driver.wait_for_text("Saved on this phone")
    assert on_route(driver)


# --- sign-in ---------------------------------------------------------------------------------------------------------


def test_sign_in_refuses_empty_fields_and_a_wrong_password(service: FieldService) -> None:
    async def scenario(driver: FletDriver) -> None:
        assert "Field engineers sign in once; the app then works offline." in driver.texts()
        assert driver.find("nav").visible is False
        await driver.click("sign_in")
        assert driver.find("sign_in_error").value == "Enter your username and password"
        await sign_in(driver, "engineer1", "not-the-password")
        await driver.wait_for_text("Wrong username or password")
        assert driver.find("sign_in_error").value == "Wrong username or password"
        assert driver.find("sign_in").disabled is False  # can try again
        assert service.profile() is None
        assert driver.crashes() == []

    run(service, scenario)


def test_a_supervisor_is_sent_to_the_browser_console(service: FieldService) -> None:
    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "supervisor")
        await driver.wait_for_text("supervisors and admins use the browser console")
        assert driver.find("sign_in_error").value == (
            "This app is for field engineers; supervisors and admins use the browser console."
        )
        assert service.profile() is None
        assert service.tokens.get() is None  # refused tokens are not kept on the phone
        assert driver.find("username").visible  # still on the sign-in screen
        assert driver.crashes() == []

    run(service, scenario)


def test_engineer_signs_in_then_the_route_lists_and_searches_17_meters(service: FieldService) -> None:
    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "engineer1")
        await driver.wait_for_text("No meters yet: sync when online to fetch your route.")
        assert driver.find("route_summary").value == "0 of 0 meters read this period"
        assert driver.find("nav").visible is True
        assert service.profile() is not None
        assert service.sync_once().pulled == 17
        done = service.route().progress.read  # the server's period reads: the demo read some meters this month
        await wait_value(driver, "route_summary", f"{done} of 17 meters read this period")
        b17 = the_meter(service)
        assert driver.find(f"meter-{b17.meter_id}").title.value == f"{FLAT} · meter {b17.meter_number}"
        await search(driver, "b17")  # any case
        tiles = [c for c in driver.walk() if str(getattr(c, "key", "") or "").startswith("meter-")]
        assert [t.key for t in tiles] == [f"meter-{b17.meter_id}"]
        assert driver.find("route_summary").value == f"{done} of 17 meters read this period"  # the whole route's
        await search(driver, "VILLA")
        assert len([c for c in driver.walk() if str(getattr(c, "key", "") or "").startswith("meter-")]) == 4
        await search(driver, "nothing-like-this")
        assert driver.find("no_meters").value == "No meters match."
        assert driver.crashes() == []

    run(service, scenario)


# --- capture ---------------------------------------------------------------------------------------------------------


def test_capture_shows_the_previous_reading_and_validates_the_value(engineer_service: FieldService) -> None:
    meter = the_meter(engineer_service)

    async def scenario(driver: FletDriver) -> None:
        await open_meter(driver, meter)
        assert driver.find("previous").value.startswith(f"Previous reading {meter.previous} on ")
        assert driver.find("value").helper == "6 dials"
        assert driver.find("nav").visible is False
        await driver.type_text("value", "1234567")
        error = driver.find("value").error
        assert "7 digits" in error
        assert "6 dials" in error
        await driver.type_text("value", "12a")
        assert "not a meter reading" in driver.find("value").error
        await driver.type_text("value", "")
        assert driver.find("value").error is None  # an empty field is not shouted at while typing
        await driver.type_text("value", str(meter.previous + 77))
        assert driver.find("value").error is None
        assert driver.find("below_previous").visible is False
        await driver.click("save")
        assert driver.find("capture_error").value == "Add a photo of the meter"
        assert engineer_service.readings() == []
        await driver.click("cancel")
        await driver.wait_for_text("of 17 meters read this period")
        assert driver.crashes() == []

    run(engineer_service, scenario)


def test_gps_fix_near_far_and_permission_denied(engineer_service: FieldService) -> None:
    meter = the_meter(engineer_service)

    async def scenario(driver: FletDriver) -> None:
        await open_meter(driver, meter)
        assert driver.find("gps").value == "No GPS fix yet"
        await locate_at(driver, meter.lat + 0.00005, meter.lon, accuracy=4.0)  # ~6 m north
        assert driver.find("gps").value == f"{meter.lat + 0.00005:.5f}, {meter.lon:.5f} (±4 m, 6 m from the meter)"
        assert driver.find("gps_warning").value == ""
        call = driver.calls[-1]
        assert (call.control_type, call.name) == ("Geolocator", "get_current_position")

        await locate_at(driver, meter.lat + 0.01, meter.lon, accuracy=4.0)  # 0.01° north: 1112 m on the sphere
        assert "1112 m from the meter" in driver.find("gps").value
        assert driver.find("gps_warning").value == "You are 1112 m from this meter's registered location"

        await locate_at(driver, meter.lat, meter.lon, accuracy=80.0)
        assert driver.find("gps_warning").value == "GPS accuracy is poor (±80 m)"

        driver.fail("get_current_position", GPS_ERRORS["permission_denied"], once=True)
        await driver.click("locate")
        assert driver.find("gps").value == "No GPS fix"
        warning = driver.find("gps_warning").value
        assert "permission denied" in warning.lower()
        assert warning == "Location permission denied: allow location to record where the meter was read"
        assert driver.crashes() == []

    run(engineer_service, scenario)


def test_photo_then_save_returns_to_the_route_with_the_reading_and_its_outbox_row(
    engineer_service: FieldService,
) -> None:
    meter = the_meter(engineer_service)
    photo = meter_photo()
    done = engineer_service.route().progress.read  # the server's period reads of other meters

    async def scenario(driver: FletDriver) -> None:
        await open_meter(driver, meter)
        assert driver.find("photo_status").value == "No photo yet"
        assert driver.find("photo").visible is False
        await driver.type_text("value", str(meter.previous + 77))
        await locate_at(driver, meter.lat, meter.lon)
        await attach_photo(driver, photo, name="b17.jpg")
        status = driver.find("photo_status").value
        assert status.startswith("Photo b17.jpg ready (")
        assert driver.find("photo").visible is True
        pick = driver.calls[-1]
        assert (pick.control_type, pick.name, pick.args["with_data"]) == ("FilePicker", "pick_files", True)
        await driver.type_text("note", "  gate code 1234 ")
        await driver.click("save")
        await driver.wait_for_text("Saved on this phone; it will sync when online")
        assert driver.find("route_summary").value == f"{done + 1} of 17 meters read this period"
        assert driver.find("nav").visible is True
        assert driver.crashes() == []

    run(engineer_service, scenario)
    [record] = engineer_service.readings()
    saved = record.reading
    assert (saved.meter_id, saved.read_type.value, saved.value) == (
        meter.meter_id,
        "actual",
        str(meter.previous + 77),
    )
    assert saved.note == "gate code 1234"
    assert (saved.gps_lat, saved.gps_lon, saved.gps_accuracy_m) == (meter.lat, meter.lon, 4.0)
    assert saved.photo_sha256 is not None
    assert record.photo_path is not None
    assert Path(record.photo_path).name == f"{saved.photo_sha256}.jpg"
    assert record.state.value == "saved"
    assert record.in_outbox
    assert record.photo_pending
    assert saved.captured_at == engineer_service.clock()


def test_below_previous_asks_replaced_or_typo_and_typo_asks_to_correct(engineer_service: FieldService) -> None:
    # A few units below the previous reading on six dials is no rollover (docs/domain.md "Expected window"): the
    # question offers "replaced meter" and "typo" only (the rollover flow: tests/ui/test_field_screens.py).
    meter = the_meter(engineer_service)
    previous = meter.previous

    async def scenario(driver: FletDriver) -> None:
        await open_meter(driver, meter)
        await attach_photo(driver, meter_photo())
        await driver.type_text("value", str(previous - 5))
        assert driver.find("below_previous").visible is True
        assert "Below the previous reading: replaced meter, or typo?" in driver.texts()
        assert driver.find("below_rollover").visible is False
        await driver.click("save")  # unanswered: not saved
        assert driver.find("capture_error").value == "Below the previous reading: replaced meter, or typo?"
        await driver.click("below_typo")
        assert driver.find("capture_error").value == "Correct the value, then save"
        assert driver.find("below_previous").visible is False
        await driver.click("save")  # still the typo: not saved
        assert driver.find("capture_error").value == "Correct the value, then save"
        assert engineer_service.readings() == []

        await driver.type_text("value", str(previous - 4))  # a new value asks again
        assert driver.find("below_previous").visible is True
        await driver.type_text("value", str(previous + 4))  # corrected
        assert driver.find("below_previous").visible is False
        await driver.click("save")
        await driver.wait_for_text("Saved on this phone")
        assert driver.crashes() == []

    run(engineer_service, scenario)
    [record] = engineer_service.readings()
    assert record.reading.value == str(previous + 4)


def test_a_locked_meter_is_skipped_without_value_or_photo(engineer_service: FieldService) -> None:
    meter = the_meter(engineer_service, "VILLA-A2")

    async def scenario(driver: FletDriver) -> None:
        await open_meter(driver, meter)
        await driver.type_text("value", "123")
        await select_option(driver, "skip_reason", "locked")
        await driver.click("save")
        assert driver.find("capture_error").value == (
            "A skipped meter has no value: clear the value or the skip reason"
        )
        await driver.type_text("value", "")
        await driver.click("save")
        await driver.wait_for_text("Saved on this phone")
        assert driver.crashes() == []

    run(engineer_service, scenario)
    [record] = engineer_service.readings()
    saved = record.reading
    assert (saved.meter_id, saved.read_type.value, saved.skip_reason) == (meter.meter_id, "skip", "locked")
    assert saved.value is None
    assert saved.photo_sha256 is None
    assert record.photo_path is None
    assert record.in_outbox
    assert not record.photo_pending


def test_a_failed_locate_does_not_keep_the_earlier_fix(engineer_service: FieldService) -> None:
    meter = the_meter(engineer_service)

    async def scenario(driver: FletDriver) -> None:
        await open_meter(driver, meter)
        await driver.type_text("value", str(meter.previous + 1))
        await attach_photo(driver, meter_photo())
        await locate_at(driver, meter.lat + 0.01, meter.lon)
        driver.fail("get_current_position", GPS_ERRORS["permission_denied"], once=True)
        await driver.click("locate")
        assert driver.find("gps").value == "No GPS fix"
        await driver.click("save")
        await driver.wait_for_text("Saved on this phone")

    run(engineer_service, scenario)
    [record] = engineer_service.readings()
    assert record.reading.gps_lat is None  # what the screen said when it was saved


# --- sync screen -----------------------------------------------------------------------------------------------------


def test_sync_screen_saved_then_photo_pending_uploaded_and_approved(
    engineer_service: FieldService, server: Server
) -> None:
    meter = the_meter(engineer_service)
    done = engineer_service.route().progress.read  # the server's period reads of other meters

    async def scenario(driver: FletDriver) -> None:
        await capture(driver, meter, meter.previous + 77)
        [record] = engineer_service.readings()
        state = f"state-{record.reading.uuid}"
        await go_to_tab(driver, 1)
        assert driver.find(state).value == "saved"
        assert driver.find("sync_status").value.startswith("1 to upload · 1 photo pending · last sync ")
        assert any(t.startswith(f"{meter.unit_code} · {meter.previous + 77} · ") for t in driver.texts())

        # The photo's storage is away during the pass: the reading goes up, its photo waits.
        assert record.photo_path is not None
        photo_path = Path(record.photo_path)
        parked = photo_path.with_suffix(".away")
        shutil.move(photo_path, parked)
        report = engineer_service.sync_once()
        assert (report.stored, report.photos, report.error) == (1, 0, None)
        await wait_value(driver, state, "photo pending")
        await driver.wait_for_text("0 to upload · 1 photo pending · last sync ")

        shutil.move(parked, photo_path)
        assert engineer_service.sync_once().photos == 1
        await wait_value(driver, state, "uploaded")
        assert driver.find("sync_status").value.startswith("0 to upload · 0 photos pending · last sync ")
        assert server.review_item(record.reading.uuid)["status"] == "submitted"

        server.decide(record.reading.uuid, "approve")
        assert engineer_service.sync_once().decisions == 1
        await wait_value(driver, state, "approved")
        assert f"record_again-{record.reading.uuid}" not in [str(c.key) for c in driver.controls()]
        await go_to_tab(driver, 0)
        assert driver.find("route_summary").value == f"{done + 1} of 17 meters read this period"
        assert driver.crashes() == []

    run(engineer_service, scenario)
    [record] = engineer_service.readings()
    assert (record.review_status, record.in_outbox, record.photo_pending) == ("approved", False, False)


def test_a_rejected_reading_shows_the_reason_and_record_again_opens_a_re_read(
    engineer_service: FieldService, server: Server
) -> None:
    meter = the_meter(engineer_service)
    reason = "Photo shows B18, not B17"

    async def scenario(driver: FletDriver) -> None:
        await capture(driver, meter, meter.previous + 77)
        [first] = engineer_service.readings()
        assert engineer_service.sync_once().error is None
        server.decide(first.reading.uuid, "reject", reason)
        assert engineer_service.sync_once().decisions == 1

        await go_to_tab(driver, 1)
        assert driver.find(f"state-{first.reading.uuid}").value == "rejected"
        assert reason in driver.texts()
        await driver.click(f"record_again-{first.reading.uuid}")
        await driver.wait_for_text(f"Supervisor's reason: {reason}")  # the task's banner, at the top
        assert "The new reading replaces the earlier one." in driver.texts()
        assert f"{FLAT} · {meter.meter_number}" in driver.texts()
        assert driver.find("nav").visible is False

        await driver.type_text("value", str(meter.previous + 78))
        await locate_at(driver, meter.lat, meter.lon)
        # A new photo: the same picture again would be flagged as reused (docs/field-app.md "Photo checks").
        await attach_photo(driver, cupboard_jpeg("04600", seed=1))
        await driver.click("save")
        await driver.wait_for_text("Saved on this phone")
        assert driver.crashes() == []

    run(engineer_service, scenario)
    again, first = engineer_service.readings()  # newest first
    assert first.review_status == "rejected"
    assert first.review_reason == reason
    assert again.reading.replaces == first.reading.uuid
    assert again.reading.value == str(meter.previous + 78)
    assert again.in_outbox


# --- camera ----------------------------------------------------------------------------------------------------------

BACK_CAMERA = {"name": "back", "lens_direction": "back", "sensor_orientation": 90, "lens_type": "unknown"}


def test_camera_photo_is_compressed_and_attached(engineer_service: FieldService) -> None:
    meter = the_meter(engineer_service)

    async def scenario(driver: FletDriver) -> None:
        driver.answer("get_available_cameras", result=[BACK_CAMERA])
        driver.answer("initialize", result=None)
        driver.answer("take_picture", result=meter_photo(1600, 1200))
        await open_meter(driver, meter)
        await driver.click("camera_photo")
        await driver.wait_for(lambda: not driver.find("shutter").disabled, message="camera ready")
        [initialize] = [call for call in driver.calls if call.name == "initialize"]
        assert initialize.args["enable_audio"] is False
        await driver.click("shutter")
        await driver.wait_for(lambda: "ready" in (value_of(driver, "photo_status") or ""), message="photo ready")
        assert driver.crashes() == []

    run(engineer_service, scenario)
    photos = list(engineer_service.photo_dir.glob("*.jpg"))
    assert len(photos) == 1
    from PIL import Image

    with Image.open(photos[0]) as image:
        assert max(image.size) <= 1600


def test_no_camera_says_so_and_offers_the_picker(engineer_service: FieldService) -> None:
    meter = the_meter(engineer_service)

    async def scenario(driver: FletDriver) -> None:
        driver.answer("get_available_cameras", result=[])
        await open_meter(driver, meter)
        await driver.click("camera_photo")
        await driver.wait_for(
            lambda: "Camera unavailable" in (value_of(driver, "camera_status") or ""), message="camera status"
        )
        assert "use Add photo instead" in value_of(driver, "camera_status")
        assert driver.find("shutter").disabled
        await driver.click("camera_close")
        assert driver.crashes() == []

    run(engineer_service, scenario)
    assert list(engineer_service.photo_dir.glob("*.jpg")) == []
