"""Protocol 3 end to end: a reading the phone saved with evidence (its photo checks overridden with a reason, the
meter's label as scanned, a meter-room session) goes through the phone's store, outbox and real sync engine to the
real server app, in-process, on both databases, and reaches the supervisor's review item as it was saved.

The batch is pushed as protocol 3 because one of its readings has evidence (``protocol_for``); a reading without
any in the same batch keeps the hash protocol 1 gives it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from mobile_app.capture import CaptureDraft, Fix
from mobile_app.field_service import FieldService
from mobile_app.store import LocalState
from shared_billing.checks import ReadingFlag
from shared_billing.protocol import MeterAssignment, ReadingV1, payload_sha256
from sync_server.clock import FixedClock
from sync_server.demo import DEMO_PASSWORD
from sync_server.models import Reading
from tests.sync_server.factories import auth, jpeg_bytes

ROOM = UUID("0b6c2d4e-8f10-4a2b-9c3d-5e6f7a8b9c0d")


def _server_row(client: TestClient, reading: ReadingV1) -> Reading | None:
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        return session.exec(select(Reading).where(col(Reading.uuid) == reading.uuid)).first()


def test_the_phone_pushes_a_reading_with_evidence_in_protocol_3_and_the_review_shows_it(
    client: TestClient, clock: FixedClock, tmp_path: Path
) -> None:
    service = FieldService(data_dir=tmp_path / "phone", server_url="", http=client, clock=clock)
    service.sign_in("engineer1", DEMO_PASSWORD)
    assert service.sync_once().error is None
    meters = {meter.unit_code: meter for meter in service.meters()}
    meter, plain_meter = meters["2BHK-B1-GF"], meters["2BHK-B1-FF"]
    assert meter.previous is not None
    assert plain_meter.previous is not None
    # A flat picture: the phone's blur check warns, and the engineer keeps it with a reason.
    attached = service.attach_checked_photo(jpeg_bytes())
    assert attached.checks.blurred
    assert not attached.checks.reused
    # A meter room's fix: a kilometre off. The label, not the fix, shows the engineer was at the meter.
    room_fix = Fix(lat=(meter.lat or 30.9) + 0.01, lon=meter.lon or 75.85, accuracy_m=8.0)

    def draft(of: MeterAssignment, above: int, **evidence: Any) -> CaptureDraft:
        assert of.previous is not None
        value = str(int(of.previous.value) + above)
        return CaptureDraft(
            meter=of, value_text=value, fix=room_fix, photo_sha256=attached.sha256, photo_path=attached.path, **evidence
        )

    saved = service.save(
        draft(
            meter,
            40,
            photo_checks=attached.checks,
            photo_override="Glass misted",
            label=f"SN:{meter.meter_number}",
            room_session=ROOM,
        )
    )
    assert saved.evidence is not None
    assert saved.evidence.photo_checks is not None
    assert saved.evidence.photo_checks.override_reason == "Glass misted"
    plain = service.save(draft(plain_meter, 45))
    assert plain.evidence is None

    report = service.sync_once()

    assert (report.error, report.stored, report.rejected) == (None, 2, 0)
    row = _server_row(client, saved)
    assert row is not None
    assert row.payload_sha256 == payload_sha256(saved)
    assert row.room_session == ROOM
    plain_row = _server_row(client, plain)
    assert plain_row is not None
    assert plain_row.payload_sha256 == payload_sha256(ReadingV1.model_validate(plain.model_dump()))
    assert plain_row.evidence is None
    assert {record.reading.uuid: record.state for record in service.readings()}[saved.uuid] is LocalState.UPLOADED

    item = client.get(f"/api/review/readings/{saved.uuid}", headers=auth(client, "supervisor"))
    assert item.status_code == 200, item.text
    review = item.json()
    assert review["evidence"] == {
        "photo_checks": saved.evidence.photo_checks.model_dump(mode="json"),
        "label": f"SN:{meter.meter_number}",
        "label_verdict": "confirmed",
        "room_session": str(ROOM),
    }
    assert review["presence_by_label"] is True
    # The far fix raised no GPS flag; the overridden blur warning is the supervisor's to see.
    assert review["flags"] == [ReadingFlag.PHOTO_BLURRED]
    assert review["clean"] is False
    plain_review = client.get(f"/api/review/readings/{plain.uuid}", headers=auth(client, "supervisor")).json()
    assert ReadingFlag.GPS_FAR in plain_review["flags"]
    assert plain_review["evidence"] is None
