"""The phone's real sync client (mobile_app.sync) against the real server app, in-process, on both databases.

Walks the contract end to end: first pull, offline capture, push, re-push (all duplicates, no new rows), a
conflicting re-push, photo upload, incremental pull (only changes; an unassigned meter disappears), the
supervisor's approval in the next pull, and the demo walk-through's bill of ₹3,711.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from mobile_app.store import get_meters, get_pull_cursor, list_readings, open_store, record_reading
from mobile_app.sync import MemoryTokenStore, SyncApi, SyncEngine
from shared_billing.protocol import PushRequest, ReadingV1, ReadType
from sync_server.clock import FixedClock
from sync_server.demo import DEMO_PASSWORD
from sync_server.models import Photo, Reading
from tests.sync_server.factories import auth, jpeg_bytes, sha256


def _server_rows(client: TestClient) -> tuple[int, int]:
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        readings = session.exec(select(func.count()).select_from(Reading).where(Reading.source == "field")).one()
        photos = session.exec(select(func.count()).select_from(Photo)).one()
    return readings, photos


def _capture(meter_id: int, value: str, at: datetime, photo: Path | None) -> ReadingV1:
    return ReadingV1(
        uuid=uuid.uuid4(),
        meter_id=meter_id,
        read_type=ReadType.ACTUAL,
        value=value,
        captured_at=at,
        gps_lat=30.9014,
        gps_lon=75.85734,
        gps_accuracy_m=7.0,
        photo_sha256=sha256(photo.read_bytes()) if photo else None,
    )


def test_sync_client_against_server(client: TestClient, clock: FixedClock, tmp_path: Path) -> None:
    store = open_store(path=tmp_path / "phone.db")
    api = SyncApi(http=client, tokens=MemoryTokenStore())
    api.login(username="engineer1", password=DEMO_PASSWORD, device_id="phone-1")
    engine = SyncEngine(store=store, api=api, device_id="phone-1", clock=clock)

    first = engine.run_once()
    assert first.error is None
    meters = {m.unit_code: m for m in get_meters(store=store)}
    assert len(meters) == first.pulled == 17
    flat, other = meters["5BHK-B17-FF"], meters["2BHK-B1-GF"]
    assert flat.previous is not None
    assert other.previous is not None

    # Captured offline: saved with its outbox row, photo file on the phone.
    photo = tmp_path / "b17.jpg"
    photo.write_bytes(jpeg_bytes())
    at = clock() - timedelta(minutes=3)
    walk = _capture(flat.meter_id, str(int(flat.previous.value) + 77), at, photo)
    second = _capture(other.meter_id, str(int(other.previous.value) + 40), at, None)
    record_reading(store=store, reading=walk, photo_path=photo)
    record_reading(store=store, reading=second)

    pushed = engine.run_once()
    assert (pushed.error, pushed.stored, pushed.photos) == (None, 2, 1)
    assert _server_rows(client) == (2, 1)
    states = {str(r.reading.uuid): r for r in list_readings(store=store)}
    assert {r.state.value for r in states.values()} == {"uploaded"}
    assert states[str(walk.uuid)].photo_pending is False
    assert not any(r.in_outbox for r in states.values())

    # The same batch again (a lost response): all duplicates, nothing new on the server.
    again = api.push(PushRequest(device_id="phone-1", sent_at=clock(), readings=[walk, second]))
    assert [r.outcome.value for r in again.results] == ["duplicate", "duplicate"]
    assert _server_rows(client) == (2, 1)
    assert api.upload_photo(sha256=walk.photo_sha256 or "", data=photo.read_bytes(), content_type="image/jpeg") is False
    assert _server_rows(client) == (2, 1)

    # Same id, different payload: a conflict, and the server's copy is untouched.
    tampered = walk.model_copy(update={"value": str(int(flat.previous.value) + 78)})
    [conflict] = api.push(PushRequest(device_id="phone-1", sent_at=clock(), readings=[tampered])).results
    assert conflict.outcome.value == "conflict"
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        row = session.exec(select(Reading).where(col(Reading.uuid) == walk.uuid)).one()
    assert row.value_text == walk.value

    # Incremental pull: nothing changed, nothing comes.
    cursor = get_pull_cursor(store=store)
    quiet = api.pull(cursor=cursor)
    assert (quiet.full, quiet.meters, quiet.removed_meter_ids, quiet.decisions) == (False, [], [], [])

    # The admin takes a meter off the route; the supervisor approves the walk-through reading.
    admin, supervisor = auth(client, "admin"), auth(client, "supervisor")
    villa = meters["VILLA-A4"].meter_id
    assert client.delete(f"/api/meters/{villa}/assignment", headers=admin).status_code == 204
    assert client.post(f"/api/review/readings/{walk.uuid}/approve", headers=supervisor).status_code == 200

    changed = engine.run_once()
    assert (changed.error, changed.removed, changed.decisions) == (None, 1, 1)
    assert villa not in {m.meter_id for m in get_meters(store=store)}
    assert len(get_meters(store=store)) == 16
    approved = {str(r.reading.uuid): r for r in list_readings(store=store)}[str(walk.uuid)]
    assert approved.review_status == "approved"
    # The approved value is now the flat's previous reading on the phone too (convergence).
    refreshed = {m.unit_code: m for m in get_meters(store=store)}["5BHK-B17-FF"]
    assert refreshed.previous is not None
    assert refreshed.previous.value == walk.value

    bill = client.post("/api/bills", json={"reading_uuid": str(walk.uuid)}, headers=admin)
    assert bill.status_code == 201, bill.text
    assert Decimal(bill.json()["payable"]) == Decimal("3711")
    assert Decimal(bill.json()["total"]) == Decimal("3710.56")
