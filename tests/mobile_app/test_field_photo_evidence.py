"""Before leaving the meter, through the phone's FieldService against the real server (in-process, SQLite): the
photo's checks (blurred, reused against the engineer's recent photos) and the label scanned, carried by the saved
reading as ``evidence`` (protocol 3) and accepted by the server; a reading with nothing to say stays protocol 1."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from mobile_app.capture import PHOTO_BLURRED, PHOTO_REUSED, CaptureDraft, CaptureError, CaptureProblem, Fix
from mobile_app.field_service import CheckedAttachment, FieldService
from mobile_app.label_check import check_label, label_message
from mobile_app.label_scan import LabelVerdict
from mobile_app.photo_checks import REUSE_MAX_DISTANCE
from mobile_app.store import recent_photo_hashes
from shared_billing.protocol import MeterAssignment, PhotoCheckVerdict
from tests.mobile_app.test_mobile_field_service import (  # noqa: F401 (server: a fixture)
    Server,
    jpeg,
    server,
    signed_in_phone,
    walkthrough_meter,
)
from tests.support.cupboard_photos import cupboard_jpeg, label_jpeg


@pytest.fixture
def phone(tmp_path: Path, server: Server) -> FieldService:  # noqa: F811
    return signed_in_phone(tmp_path / "phone", server)


def _meters(service: FieldService, count: int) -> list[MeterAssignment]:
    meters = [m for m in service.meters() if m.previous is not None and m.lat is not None and m.unit_code]
    assert len(meters) >= count
    return meters[:count]


def _draft(meter: MeterAssignment, photo: CheckedAttachment, **extra: object) -> CaptureDraft:
    assert meter.previous is not None
    assert meter.lat is not None
    assert meter.lon is not None
    return CaptureDraft(
        meter=meter,
        value_text=str(Decimal(meter.previous.value) + 40),
        fix=Fix(meter.lat, meter.lon, 5.0),
        photo_sha256=photo.sha256,
        photo_path=photo.path,
        photo_checks=photo.checks,
        **extra,  # type: ignore[arg-type]
    )


def test_a_sharp_new_photo_carries_its_verdict_without_a_warning(phone: FieldService) -> None:
    meter = walkthrough_meter(phone)
    photo = phone.attach_checked_photo(cupboard_jpeg("04521", seed=1))
    assert (photo.checks.blurred, photo.checks.reused, photo.checks.closest_distance) == (False, False, None)

    saved = phone.save(_draft(meter, photo))

    assert saved.evidence is not None
    assert saved.evidence.photo_checks == PhotoCheckVerdict(
        blur_score=photo.checks.blur_score, blurred=False, reuse_distance=None, reused=False
    )
    assert (saved.evidence.label, saved.evidence.room_session) == (None, None)
    assert recent_photo_hashes(store=phone.store) == [photo.checks.dhash.hex]
    report = phone.sync_once()
    assert (report.error, report.stored, report.photos) == (None, 1, 1)


def test_a_blurred_photo_is_kept_only_with_a_reason_and_the_reason_goes_to_the_server(
    phone: FieldService,
    server: Server,  # noqa: F811
) -> None:
    meter = walkthrough_meter(phone)
    photo = phone.attach_checked_photo(cupboard_jpeg("04521", seed=2, blur_px=6))
    assert photo.checks.blurred
    draft = _draft(meter, photo)

    with pytest.raises(CaptureError) as warned:
        phone.save(draft)
    assert warned.value.problem is CaptureProblem.PHOTO_CHECK_REASON
    assert warned.value.message == PHOTO_BLURRED
    assert phone.readings() == []  # nothing saved until the engineer retakes or says why

    draft.photo_override = "  Meter glass fogged, cannot wipe it  "
    saved = phone.save(draft)

    assert saved.evidence is not None
    checks = saved.evidence.photo_checks
    assert checks is not None
    assert (checks.blurred, checks.override_reason) == (True, "Meter glass fogged, cannot wipe it")
    assert checks.blur_score == photo.checks.blur_score
    report = phone.sync_once()
    assert (report.error, report.stored, report.rejected) == (None, 1, 0)
    [stored] = server.readings(saved)
    assert stored.evidence is not None
    assert stored.evidence["photo_checks"]["override_reason"] == "Meter glass fogged, cannot wipe it"


def test_a_retaken_sharp_photo_drops_the_reason_typed_for_the_blurred_one(phone: FieldService) -> None:
    meter = walkthrough_meter(phone)
    draft = _draft(meter, phone.attach_checked_photo(cupboard_jpeg("04521", seed=3, blur_px=6)))
    draft.photo_override = "dark cupboard"
    sharp = phone.attach_checked_photo(cupboard_jpeg("04521", seed=3))
    draft.photo_sha256, draft.photo_path, draft.photo_checks = sharp.sha256, sharp.path, sharp.checks

    saved = phone.save(draft)

    assert saved.evidence is not None
    assert saved.evidence.photo_checks is not None
    assert (saved.evidence.photo_checks.blurred, saved.evidence.photo_checks.override_reason) == (False, None)


def test_a_photo_already_used_on_the_route_is_flagged_as_reused(phone: FieldService) -> None:
    first, second, third = _meters(phone, 3)
    original = cupboard_jpeg("04521", seed=4)
    phone.save(_draft(first, phone.attach_checked_photo(original)))

    # The same picture for another meter, even re-sent at another size: flagged, with how close it is.
    again = phone.attach_checked_photo(jpeg_resized(original, 0.5))
    assert again.checks.reused
    assert again.checks.closest_distance is not None
    assert again.checks.closest_distance <= REUSE_MAX_DISTANCE
    with pytest.raises(CaptureError) as warned:
        phone.save(_draft(second, again))
    assert warned.value.message == PHOTO_REUSED
    saved = phone.save(_draft(second, again, photo_override="Twin meters, same board"))
    assert saved.evidence is not None
    assert saved.evidence.photo_checks is not None
    assert saved.evidence.photo_checks.reused
    assert saved.evidence.photo_checks.reuse_distance == again.checks.closest_distance

    # Another meter's own photo is not.
    own = phone.attach_checked_photo(cupboard_jpeg("07730", seed=5))
    assert not own.checks.reused
    assert own.checks.closest_distance is not None
    assert own.checks.closest_distance > REUSE_MAX_DISTANCE
    phone.save(_draft(third, own))
    assert len(recent_photo_hashes(store=phone.store)) == 3
    report = phone.sync_once()
    assert (report.error, report.stored) == (None, 3)


def jpeg_resized(data: bytes, factor: float) -> bytes:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        smaller = image.resize((int(image.width * factor), int(image.height * factor)))
    out = io.BytesIO()
    smaller.save(out, "JPEG", quality=70)
    return out.getvalue()


def test_the_label_scanned_confirms_the_meter_or_names_another_and_goes_with_the_reading(
    phone: FieldService,
    server: Server,  # noqa: F811
) -> None:
    meter, other = _meters(phone, 2)
    scanned = phone.read_label(label_jpeg(f"SN:{meter.meter_number}"))
    check = check_label(scanned, meter, phone.meters())
    assert (check.verdict, check.scanned) == (LabelVerdict.CONFIRMED, f"SN:{meter.meter_number}")
    assert label_message(check, meter) == f"Label confirms meter {meter.meter_number}"

    wrong = check_label(phone.read_label(label_jpeg(other.meter_number)), meter, phone.meters())
    assert (wrong.verdict, wrong.other) == (LabelVerdict.OTHER_METER, other)
    assert label_message(wrong, meter) == (
        f"The label says {other.meter_number}: that is meter {other.meter_number} ({other.unit_code}) on your"
        " route, not this one"
    )
    unknown = check_label("SN:99999999", meter, phone.meters())
    assert (unknown.verdict, unknown.other) == (LabelVerdict.OTHER_METER, None)
    assert label_message(unknown, meter) == f"The label says SN:99999999, not meter {meter.meter_number}"
    nothing = check_label(phone.read_label(cupboard_jpeg("04521", seed=6)), meter, phone.meters())
    assert (nothing.verdict, label_message(nothing, meter)) == (LabelVerdict.NO_LABEL, "No label found")

    saved = phone.save(_draft(meter, phone.attach_checked_photo(cupboard_jpeg("04521", seed=7)), label=check.scanned))

    assert saved.evidence is not None
    assert saved.evidence.label == f"SN:{meter.meter_number}"
    assert phone.sync_once().stored == 1
    [stored] = server.readings(saved)
    assert stored.evidence is not None
    assert stored.evidence["label"] == f"SN:{meter.meter_number}"


def test_a_label_on_the_meter_photo_itself_is_read_too(phone: FieldService) -> None:
    meter = walkthrough_meter(phone)
    photo = phone.attach_checked_photo(cupboard_jpeg("04521", seed=0, label=meter.meter_number))
    assert phone.read_label(photo.path.read_bytes()) == meter.meter_number


def test_a_reading_without_checks_label_or_room_stays_a_protocol_1_payload(phone: FieldService) -> None:
    meter = walkthrough_meter(phone)
    sha256, path = phone.attach_photo(jpeg())
    assert meter.previous is not None
    draft = CaptureDraft(meter=meter, value_text=str(Decimal(meter.previous.value) + 5), photo_sha256=sha256,
                         photo_path=path)  # fmt: skip

    saved = phone.save(draft)

    assert saved.evidence is None
    [record] = phone.readings()
    assert "evidence" not in json.loads(record.reading.model_dump_json())
    assert recent_photo_hashes(store=phone.store) == []  # a photo never checked has no hash to compare
