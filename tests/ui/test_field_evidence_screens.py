"""The capture screen's warnings before leaving the meter, headless (the real field app, the server in-process): a
blurred photo asks for a retake or a reason, a reused one says so, the label scanned confirms the meter or offers
to switch to the one it names; what was decided goes with the saved reading as its evidence."""

from __future__ import annotations

from mobile_app.field_service import FieldService
from tests.support.cupboard_photos import cupboard_jpeg, label_jpeg
from tests.support.flet_driver import FletDriver, picked_file_result
from tests.ui.test_field_app_session import attach_photo, locate_at, on_route, open_meter, run, the_meter
from tests.ui.ui_fixtures import value_of


async def scan(driver: FletDriver, data: bytes) -> None:
    driver.answer("pick_files", result=picked_file_result("label.jpg", data), once=True)
    await driver.click("scan_label")
    await driver.wait_for(
        lambda: (value_of(driver, "label_status") or "") not in ("", "Reading the label…"), message="label read"
    )


def test_a_blurred_photo_is_kept_with_a_reason_and_the_label_confirms_the_meter(
    engineer_service: FieldService,
) -> None:
    meter = the_meter(engineer_service)

    async def scenario(driver: FletDriver) -> None:
        await open_meter(driver, meter)
        await driver.type_text("value", str(meter.previous + 77))
        await locate_at(driver, meter.lat, meter.lon)
        assert driver.find("photo_override").visible is False
        await attach_photo(driver, cupboard_jpeg("04521", seed=21, blur_px=6))
        assert driver.find("photo_warning").value == "Photo looks blurred — retake, or keep it with a reason"
        assert driver.find("photo_override").visible is True
        await driver.click("save")
        assert driver.find("capture_error").value == "Photo looks blurred — retake, or keep it with a reason"
        assert engineer_service.readings() == []

        await scan(driver, label_jpeg(meter.meter_number))
        assert driver.find("label_status").value == f"Label confirms meter {meter.meter_number}"
        assert driver.find("switch_meter").visible is False
        await driver.type_text("photo_override", "Fogged glass")
        await driver.click("save")
        await driver.wait_for_text("Saved on this phone")
        assert on_route(driver)
        assert driver.crashes() == []

    run(engineer_service, scenario)
    [record] = engineer_service.readings()
    evidence = record.reading.evidence
    assert evidence is not None
    assert evidence.label == meter.meter_number
    assert evidence.photo_checks is not None
    assert (evidence.photo_checks.blurred, evidence.photo_checks.override_reason) == (True, "Fogged glass")


def test_a_reused_photo_is_named_and_a_label_of_another_meter_switches_to_it(engineer_service: FieldService) -> None:
    first, other = the_meter(engineer_service), the_meter(engineer_service, "VILLA-A1")
    photo = cupboard_jpeg("04521", seed=22)

    async def scenario(driver: FletDriver) -> None:
        await open_meter(driver, first)
        await driver.type_text("value", str(first.previous + 77))
        await attach_photo(driver, photo)
        assert driver.find("photo_warning").value == ""
        await driver.click("save")
        await driver.wait_for_text("Saved on this phone")

        await open_meter(driver, first)  # the wrong screen: the label names the villa
        await driver.type_text("value", str(other.previous + 12))
        await attach_photo(driver, photo)
        assert driver.find("photo_warning").value == "This photo looks like one already taken on this route"
        await scan(driver, label_jpeg(other.meter_number))
        assert driver.find("label_status").value.startswith(f"The label says {other.meter_number}: that is meter")
        await driver.click("switch_meter")
        await driver.wait_for_text(f"{other.unit_code} · {other.meter_number}")
        assert driver.find("value").value == str(other.previous + 12)  # what was done is kept
        assert driver.find("label_status").value == f"Label confirms meter {other.meter_number}"
        assert driver.find("photo_override").visible is True
        await driver.type_text("photo_override", "Retaken later, same board")
        await driver.click("save")
        await driver.wait_for_text("Saved on this phone")
        assert driver.crashes() == []

    run(engineer_service, scenario)
    second, _first = engineer_service.readings()
    assert second.reading.meter_id == other.meter_id
    assert second.reading.evidence is not None
    assert second.reading.evidence.label == other.meter_number
    assert second.reading.evidence.photo_checks is not None
    assert second.reading.evidence.photo_checks.reused
