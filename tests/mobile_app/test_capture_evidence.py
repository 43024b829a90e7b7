"""``capture.build_reading``'s evidence (protocol 3): what the draft says about the photo's checks, the label and the
room, within the protocol's bounds; nothing to say, no evidence (the payload of protocols 1 and 2)."""

from __future__ import annotations

import uuid

import pytest

from mobile_app.capture import (
    LABEL_MAX_CHARS,
    OVERRIDE_MAX_CHARS,
    PHOTO_BLURRED,
    PHOTO_REUSED,
    CaptureDraft,
    CaptureError,
    CaptureProblem,
    build_reading,
    photo_warnings,
)
from mobile_app.photo_checks import DHash, PhotoChecks
from shared_billing.protocol import ReadingV1, SkipReason
from tests.mobile_app.phone_factories import T0, make_meter

SHARP = PhotoChecks(blur_score=512, blurred=False, dhash=DHash(7), closest_distance=30, reused=False)
BOTH = PhotoChecks(blur_score=40, blurred=True, dhash=DHash(7), closest_distance=2, reused=True)


def _draft(**extra: object) -> CaptureDraft:
    return CaptureDraft(meter=make_meter(), value_text="1250.0", photo_sha256="a" * 64, **extra)  # type: ignore[arg-type]


def test_nothing_to_say_is_no_evidence_and_the_same_bytes_as_protocol_1() -> None:
    reading = build_reading(_draft(), captured_at=T0, new_id=uuid.UUID(int=1))
    assert reading.evidence is None
    legacy = ReadingV1(**{key: value for key, value in dict(reading).items() if key in ReadingV1.model_fields})
    assert reading.model_dump_json() == legacy.model_dump_json()


def test_both_warnings_are_said_and_need_one_reason() -> None:
    assert photo_warnings(BOTH) == [PHOTO_BLURRED, PHOTO_REUSED]
    assert photo_warnings(SHARP) == []
    with pytest.raises(CaptureError) as error:
        build_reading(_draft(photo_checks=BOTH, photo_override="   "), captured_at=T0)
    assert error.value.problem is CaptureProblem.PHOTO_CHECK_REASON
    assert error.value.message == f"{PHOTO_BLURRED} {PHOTO_REUSED}"


def test_the_reason_and_the_label_are_kept_within_the_protocol_s_bounds() -> None:
    reading = build_reading(
        _draft(photo_checks=BOTH, photo_override="fogged\x00 " + "x" * 300, label=" SN:4001\x002102 " + "y" * 300),
        captured_at=T0,
    )
    assert reading.evidence is not None
    verdict = reading.evidence.photo_checks
    assert verdict is not None
    assert verdict.override_reason is not None
    assert verdict.override_reason.startswith("fogged x")
    assert len(verdict.override_reason) == OVERRIDE_MAX_CHARS
    assert (verdict.blurred, verdict.reused, verdict.reuse_distance, verdict.blur_score) == (True, True, 2, 40)
    assert reading.evidence.label is not None
    assert reading.evidence.label.startswith("SN:40012102 ")
    assert len(reading.evidence.label) == LABEL_MAX_CHARS


def test_a_skip_carries_no_photo_verdict_but_keeps_the_label_and_the_room() -> None:
    room = uuid.uuid4()
    draft = CaptureDraft(meter=make_meter(), photo_checks=BOTH, label="SN:1", room_session=room)
    draft.skip_reason = SkipReason.LOCKED
    reading = build_reading(draft, captured_at=T0)
    assert reading.evidence is not None
    assert (reading.evidence.photo_checks, reading.evidence.label, reading.evidence.room_session) == (
        None,
        "SN:1",
        room,
    )
