"""One bad reading never sinks its batch: the phone's real sync engine and raw pushes against the real server app.

In-process (Starlette's TestClient is the phone's ``httpx.Client``), on SQLite and PostgreSQL. The server judges
each reading on its own (``reading.invalid`` for one outside protocol v1's bounds, ``reading.not_assigned`` for
another engineer's meter), so the good readings beside a bad one are stored in the same push, and the phone keeps
the bad one, out of its outbox, with the server's reason.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from mobile_app.reading_states import reading_reason
from mobile_app.store import LocalState, get_meters, list_readings, open_store, pending_outbox, record_reading
from mobile_app.sync import MemoryTokenStore, SyncApi, SyncEngine
from shared_billing.protocol import ReadingV1, ReadType
from sync_server.clock import FixedClock
from sync_server.demo import DEMO_PASSWORD
from sync_server.models import Reading
from tests.sync_server.factories import auth


def _stored_uuids(client: TestClient) -> set[str]:
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        return {str(u) for u in session.exec(select(col(Reading.uuid)).where(Reading.source == "field")).all()}


def _other_engineers_meter(client: TestClient) -> int:
    route = client.get("/api/sync/pull", headers=auth(client, "engineer2")).json()
    meter_id: int = route["meters"][0]["meter_id"]
    return meter_id


def test_phone_batch_with_readings_the_server_rejects_still_stores_the_others(
    client: TestClient, clock: FixedClock, tmp_path: Path
) -> None:
    store = open_store(path=tmp_path / "phone.db")
    api = SyncApi(http=client, tokens=MemoryTokenStore())
    api.login(username="engineer1", password=DEMO_PASSWORD, device_id="phone-1")
    engine = SyncEngine(store=store, api=api, device_id="phone-1", clock=clock)
    assert engine.run_once().error is None
    meters = [m for m in get_meters(store=store) if m.previous is not None][:3]
    at = clock() - timedelta(minutes=5)

    def skip(meter_id: int) -> ReadingV1:
        return ReadingV1(
            uuid=uuid.uuid4(), meter_id=meter_id, read_type=ReadType.SKIP, skip_reason="locked", captured_at=at
        )

    good = [skip(m.meter_id) for m in meters]
    # Saved by an older app before the protocol bounded positions (no validation, exactly as it sits on a phone).
    out_of_bounds = skip(meters[0].meter_id).model_copy(update={"gps_lat": 95.0, "gps_lon": 75.8})
    not_mine = skip(_other_engineers_meter(client))
    batch = [good[0], out_of_bounds, good[1], not_mine, good[2]]
    for reading in batch:
        record_reading(store=store, reading=reading)

    report = engine.run_once()

    assert (report.error, report.stored, report.rejected, report.server_failed) == (None, 3, 2, 0)
    assert _stored_uuids(client) == {str(r.uuid) for r in good}
    records = {str(r.reading.uuid): r for r in list_readings(store=store)}
    assert {records[str(r.uuid)].state for r in good} == {LocalState.UPLOADED}
    refused = records[str(out_of_bounds.uuid)]
    assert (refused.state, refused.server_code) == (LocalState.REJECTED, "reading.invalid")
    assert "gps_lat" in (reading_reason(refused) or "")
    not_assigned = records[str(not_mine.uuid)]
    assert (not_assigned.state, not_assigned.server_code) == (LocalState.REJECTED, "reading.not_assigned")
    assert pending_outbox(store=store, limit=10, now=clock() + timedelta(days=365)) == []


def test_a_nan_gps_reading_in_a_raw_push_is_rejected_alone(client: TestClient, clock: FixedClock) -> None:
    """Another client (or an old phone) writing the non-JSON token NaN: the item is refused, never a 500."""
    engineer = auth(client, "engineer1")
    meter_ids = [m["meter_id"] for m in client.get("/api/sync/pull", headers=engineer).json()["meters"][:3]]
    uuids = [str(uuid.uuid4()) for _ in meter_ids]
    at = (clock() - timedelta(minutes=5)).isoformat()
    items = [
        {"uuid": u, "meter_id": m, "read_type": "skip", "skip_reason": "dog", "captured_at": at, "gps_lat": 30.9}
        for u, m in zip(uuids, meter_ids, strict=True)
    ]
    readings = [json.dumps(item) for item in items]
    readings[1] = readings[1].replace('"gps_lat": 30.9', '"gps_lat": NaN')
    assert "NaN" in readings[1]
    envelope = json.dumps({"protocol": 1, "device_id": "raw", "sent_at": at, "readings": []})
    body = envelope.replace('"readings": []', f'"readings": [{", ".join(readings)}]')

    response = client.post("/api/sync/push", content=body, headers={**engineer, "Content-Type": "application/json"})

    assert response.status_code == 200, response.text
    outcomes = {r["uuid"]: (r["outcome"], r.get("code")) for r in response.json()["results"]}
    assert outcomes[uuids[1]] == ("rejected", "reading.invalid")
    assert outcomes[uuids[0]][0] == outcomes[uuids[2]][0] == "stored"
    assert _stored_uuids(client) == {uuids[0], uuids[2]}
