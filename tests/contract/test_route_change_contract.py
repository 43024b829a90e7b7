"""A route changes while a reading waits on the phone: the phone's field service, store and sync client against the
real server app, in-process, on both databases.

The engineer saves a reading offline; before it syncs, the admin moves the meter to another engineer. The reading
was captured while the meter was on this engineer's route, so the push stores it (docs/domain.md "Routes"); the pull
then takes the meter off the phone, and the reading stays on it, shown as uploaded.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from mobile_app.capture import CaptureDraft, Fix
from mobile_app.field_service import FieldService
from mobile_app.store import LocalState
from shared_billing.protocol import MeterAssignment, ReadingV3
from sync_server.clock import FixedClock
from sync_server.demo import DEMO_PASSWORD
from tests.sync_server.factories import auth, jpeg_bytes


def _move_to_engineer2(client: TestClient, meter_id: int) -> None:
    admin = auth(client, "admin")
    users = {u["username"]: u["id"] for u in client.get("/api/users", headers=admin).json()["items"]}
    move = {
        "from_engineer_id": users["engineer1"],
        "to_engineer_id": users["engineer2"],
        "meter_ids": [meter_id],
        "reason": "Block B split between two engineers",
    }
    assert client.post("/api/routes/move", json=move, headers=admin).status_code == 200


def _save_reading(service: FieldService, meter: MeterAssignment) -> ReadingV3:
    """A plausible reading of ``meter`` at the meter, with a photo, saved on the phone (nothing sent)."""
    assert meter.previous is not None
    photo_sha256, photo_path = service.attach_photo(jpeg_bytes())
    draft = CaptureDraft(
        meter=meter,
        value_text=str(int(meter.previous.value) + 50),
        fix=Fix(lat=meter.lat or 30.9, lon=meter.lon or 75.85, accuracy_m=6.0),
        photo_sha256=photo_sha256,
        photo_path=photo_path,
    )
    return service.save(draft)


def test_a_reading_saved_before_its_meter_moved_is_stored_and_kept(
    client: TestClient, clock: FixedClock, tmp_path: Path
) -> None:
    service = FieldService(data_dir=tmp_path / "phone", server_url="", http=client, clock=clock)
    service.sign_in("engineer1", DEMO_PASSWORD)
    assert service.sync_once().error is None
    meter = {m.unit_code: m for m in service.meters()}["5BHK-B17-FF"]
    assert meter.previous is not None
    saved = _save_reading(service, meter)  # offline: nothing is sent yet

    clock.advance(timedelta(hours=2))
    _move_to_engineer2(client, meter.meter_id)

    report = service.sync_once()

    assert (report.error, report.stored, report.rejected, report.removed) == (None, 1, 0, 1)
    assert meter.meter_id not in {m.meter_id for m in service.meters()}
    [record] = [r for r in service.readings() if r.reading.uuid == saved.uuid]
    assert record.state is LocalState.UPLOADED
    supervisor = auth(client, "supervisor")
    queued = client.get(f"/api/review/readings/{saved.uuid}", headers=supervisor)
    assert queued.status_code == 200
    assert queued.json()["meter_id"] == meter.meter_id


def test_a_reading_captured_after_the_move_is_refused_and_kept(
    client: TestClient, clock: FixedClock, tmp_path: Path
) -> None:
    service = FieldService(data_dir=tmp_path / "phone", server_url="", http=client, clock=clock)
    service.sign_in("engineer1", DEMO_PASSWORD)
    assert service.sync_once().error is None
    meter = {m.unit_code: m for m in service.meters()}["5BHK-B17-FF"]
    assert meter.previous is not None
    _move_to_engineer2(client, meter.meter_id)
    clock.advance(timedelta(hours=1))
    saved = _save_reading(service, meter)  # the phone had not pulled the move yet

    report = service.sync_once()

    assert (report.error, report.stored, report.rejected) == (None, 0, 1)
    [record] = [r for r in service.readings() if r.reading.uuid == saved.uuid]
    assert (record.state, record.server_code) == (LocalState.REJECTED, "reading.not_assigned")
