"""One rule for "the previous approved reading" (sync_server/readings_query.py) and one consumption for review
and billing (shared_billing.consumption.meter_consumption)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sync_server.models import Meter, Reading, ReadingSource, ReadingStatus, ReadType
from sync_server.readings_query import last_approved, last_approved_batch
from tests.support.statements import statements
from tests.sync_server.factories import NOW, auth, jpeg_bytes, meters_by_unit, push, reading, sha256


def _engine(client: TestClient) -> Engine:
    engine: Engine = client.app.state.context.engine  # type: ignore[attr-defined]
    return engine


def _approved(meter_id: int, value: str, at: datetime, status: ReadingStatus = ReadingStatus.APPROVED) -> Reading:
    return Reading(
        uuid=uuid.uuid4(),
        meter_id=meter_id,
        read_type=ReadType.ACTUAL if value else ReadType.SKIP,
        value_text=value or None,
        value=Decimal(value) if value else None,
        captured_at=at,
        received_at=at,
        period=at.strftime("%Y-%m"),
        source=ReadingSource.IMPORT,
        status=status,
    )


def test_the_previous_reading_is_the_newest_approved_with_a_value_before_t_ties_by_server_sequence(
    client: TestClient,
) -> None:
    engine = _engine(client)
    t0 = NOW - timedelta(days=400)  # before every demo reading
    with Session(engine) as session:
        meters = [m.id for m in session.exec(select(Meter).order_by(col(Meter.id)).limit(2)).all()]
        first, second = meters[0], meters[1]
        assert first is not None
        assert second is not None
        rows = [
            _approved(first, "100", t0 - timedelta(days=60)),
            _approved(first, "150", t0 - timedelta(days=30)),  # same instant as the next: the later id wins
            _approved(first, "151", t0 - timedelta(days=30)),
            _approved(first, "", t0 - timedelta(days=20)),  # an approved skip is never a previous reading
            _approved(first, "900", t0 - timedelta(days=10), status=ReadingStatus.SUBMITTED),
            _approved(second, "7", t0 - timedelta(days=45)),
        ]
        session.add_all(rows)
        session.commit()

        keys = [
            (first, t0),
            (first, t0 - timedelta(days=30)),  # strictly before T: the two at T do not count
            (first, t0 - timedelta(days=90)),  # nothing before
            (second, t0),
        ]
        with statements(engine) as seen:
            batch = last_approved_batch(session, keys)
        assert len(seen) == 1  # every key in one statement
        assert {key: found.value_text for key, found in batch.items()} == {
            (first, t0): "151",
            (first, t0 - timedelta(days=30)): "100",
            (second, t0): "7",
        }
        for meter_id, before in keys:  # the one-meter form agrees with the batch form
            single = last_approved(session, meter_id, before=before)
            assert (single.id if single else None) == (
                batch[(meter_id, before)].id if (meter_id, before) in batch else None
            )


def _rollover_reading(client: TestClient) -> tuple[dict[str, str], dict[str, Any]]:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["4BHK-B5-GF"]
    with Session(_engine(client)) as session:
        last = session.exec(select(Reading).where(Reading.meter_id == meter["meter_id"])).one()
        last.value, last.value_text = Decimal("999950"), "999950"  # six dials, nearly full
        session.add(last)
        session.commit()
    photo = jpeg_bytes()
    item = reading(meter, value="120", photo_sha256=sha256(photo))
    [result] = push(client, headers, [item])
    assert result["outcome"] == "stored"
    client.put(f"/api/photos/{sha256(photo)}", content=photo, headers=headers | {"Content-Type": "image/jpeg"})
    return headers, item


def test_a_rollover_shows_the_same_consumption_in_review_as_on_the_bill(client: TestClient) -> None:
    _, item = _rollover_reading(client)
    supervisor = auth(client, "supervisor")
    shown = client.get(f"/api/review/readings/{item['uuid']}", headers=supervisor).json()
    assert shown["previous_value"] == "999950"
    assert "below_previous" in shown["flags"]  # still a person's call: rollover, replaced meter or typo
    assert client.post(f"/api/review/readings/{item['uuid']}/approve", headers=supervisor).is_success
    bill = client.post("/api/bills", json={"reading_uuid": item["uuid"]}, headers=auth(client, "admin")).json()
    energy = next(line for line in bill["lines"] if line["code"] == "energy")
    assert Decimal(shown["consumption"]) == Decimal(energy["quantity"]) == Decimal("170")


def test_a_drop_billing_refuses_shows_no_consumption_in_review(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["5BHK-B17-FF"]
    item = reading(meter, value=str(int(meter["previous"]["value"]) - 40))
    push(client, headers, [item])
    shown = client.get(f"/api/review/readings/{item['uuid']}", headers=auth(client, "supervisor")).json()
    assert shown["consumption"] is None  # not −40 units: billing would refuse this as reading.below_previous
    assert "below_previous" in shown["flags"]


def test_a_push_compares_a_reading_with_the_approved_reading_captured_before_it(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["5BHK-B17-FF"]
    previous = Decimal(meter["previous"]["value"])
    captured = datetime.fromisoformat(meter["previous"]["captured_at"])
    with Session(_engine(client)) as session:  # a later approved reading, captured after the one pushed below
        session.add(_approved(meter["meter_id"], str(previous + 500), captured + timedelta(days=2)))
        session.commit()
    late = reading(meter, value=str(previous + 10), captured_at=(captured + timedelta(days=1)).isoformat())
    [result] = push(client, headers, [late])
    assert result["outcome"] == "stored"
    assert "below_previous" not in result["flags"]  # 10 above the reading before it, though below the newest
    shown = client.get(f"/api/review/readings/{late['uuid']}", headers=auth(client, "supervisor")).json()
    assert shown["previous_value"] == meter["previous"]["value"]
    assert shown["consumption"] == "10"
