from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from sync_server.models import AuditEvent, Reading, ReadingFlagRecord
from tests.sync_server.factories import NOW, auth, meters_by_unit, push, reading


def _count_readings(client: TestClient) -> int:
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        return session.exec(select(func.count()).select_from(Reading)).one()


def test_push_stores_a_valid_reading(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["2BHK-B1-GF"]
    item = reading(meter)
    [result] = push(client, headers, [item])
    assert result["outcome"] == "stored"
    assert result["status"] == "submitted"
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        row = session.exec(select(Reading).where(col(Reading.uuid) == uuid.UUID(item["uuid"]))).one()
        assert row.value_text == item["value"]
        assert row.period == "2025-11"
        assert row.received_at == NOW


def test_push_resend_is_noop(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["2BHK-B1-GF"]
    items = [reading(meter), reading(meter, value=str(int(meter["previous"]["value"]) + 60))]
    assert [r["outcome"] for r in push(client, headers, items)] == ["stored", "stored"]
    before = _count_readings(client)
    assert [r["outcome"] for r in push(client, headers, items)] == ["duplicate", "duplicate"]
    assert _count_readings(client) == before


def test_push_same_uuid_different_payload_is_conflict_and_original_unchanged(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["2BHK-B1-GF"]
    original = reading(meter)
    push(client, headers, [original])
    altered = {**original, "value": str(int(original["value"]) + 1)}
    [result] = push(client, headers, [altered])
    assert result["outcome"] == "conflict"
    assert result["code"] == "reading.conflict"
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        row = session.exec(select(Reading).where(col(Reading.uuid) == uuid.UUID(original["uuid"]))).one()
        assert row.value_text == original["value"]
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "reading.conflict")).all()
        assert [a.entity_id for a in audit] == [original["uuid"]]


def test_push_rejects_bad_items_and_stores_the_rest(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meters = meters_by_unit(client, headers)
    meter = meters["2BHK-B1-GF"]
    engineer2_meter_id = meters_by_unit(client, auth(client, "engineer2"))["2BHK-C1-GF"]["meter_id"]
    cases = {
        "reading.invalid_value": reading(meter, value="12a4"),
        "reading.negative_value": reading(meter, value="-5"),
        "reading.too_many_digits": reading(meter, value="1234567"),
        "reading.too_many_decimals": reading(meter, value="123.5"),
        "reading.unknown_meter": reading(meter, meter_id=999_999),
        "reading.not_assigned": reading(meter, meter_id=engineer2_meter_id),
        "reading.skip_reason_required": reading(meter, read_type="skip", value=None),
        "reading.value_required": reading(meter, value=None),
    }
    good = reading(meter)
    results = push(client, headers, [*cases.values(), good])
    for (code, item), result in zip(cases.items(), results, strict=False):
        assert result["uuid"] == item["uuid"]
        assert (result["outcome"], result["code"]) == ("rejected", code), result
        assert result["message"]
    assert results[-1]["outcome"] == "stored"
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        stored = session.exec(select(Reading.uuid).where(Reading.source == "field")).all()
    assert [str(u) for u in stored] == [good["uuid"]]


def test_push_skip_with_reason_is_stored_without_photo(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["VILLA-A1"]
    [result] = push(client, headers, [reading(meter, read_type="skip", skip_reason="locked", value=None)])
    assert result["outcome"] == "stored"
    assert "photo_pending" not in result["flags"]


def test_push_flags_below_previous_but_keeps_it(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["2BHK-B2-GF"]
    [result] = push(client, headers, [reading(meter, value=str(int(meter["previous"]["value"]) - 3))])
    assert result["outcome"] == "stored"
    assert "below_previous" in result["flags"]


def test_push_flags_gps_and_clock(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["2BHK-B2-FF"]
    far = reading(meter, gps_lat=meter["lat"] + 0.01, gps_accuracy_m=10.0)  # about 1.1 km away
    vague = reading(meter, gps_accuracy_m=120.0)
    no_fix = reading(meter, gps_lat=None, gps_lon=None, gps_accuracy_m=None)
    results = push(client, headers, [far, vague, no_fix], sent_at=NOW + timedelta(days=1))
    assert "gps_far" in results[0]["flags"]
    assert "gps_inaccurate" in results[1]["flags"]
    assert "gps_missing" in results[2]["flags"]
    assert all("clock_drift" in r["flags"] for r in results)
    assert all("second_read_in_period" in r["flags"] for r in results[1:])
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        codes = session.exec(select(ReadingFlagRecord.code)).all()
    assert codes.count("clock_drift") == 3


def test_push_malformed_json_is_422_with_message(client: TestClient) -> None:
    headers = auth(client, "engineer1") | {"Content-Type": "application/json"}
    response = client.post("/api/sync/push", content=b'{"device_id": "x", "readings": [', headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "request.invalid"
    assert response.json()["message"]


def test_push_wrong_type_in_an_item_rejects_that_item_and_stores_nothing_for_it(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["2BHK-B1-GF"]
    before = _count_readings(client)
    [result] = push(client, headers, [reading(meter, value=12345)])
    assert (result["outcome"], result["code"]) == ("rejected", "reading.invalid")
    assert "value" in result["message"]
    assert _count_readings(client) == before


def test_push_naive_timestamp_is_422(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["2BHK-B1-GF"]
    response = client.post(
        "/api/sync/push",
        json={"device_id": "d", "sent_at": "2025-11-20T10:00:00", "readings": [reading(meter)]},
        headers=headers,
    )
    assert response.status_code == 422


def test_push_over_batch_limit_is_422(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["2BHK-B1-GF"]
    response = client.post(
        "/api/sync/push",
        json={"device_id": "d", "sent_at": NOW.isoformat(), "readings": [reading(meter) for _ in range(501)]},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "request.invalid"


def test_push_replaces_unknown_reading_is_rejected(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["2BHK-B1-GF"]
    [result] = push(client, headers, [reading(meter, replaces=str(uuid.uuid4()))])
    assert result["code"] == "reading.unknown_replaces"


def test_push_correction_naming_replaces_is_not_a_second_read(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["2BHK-B1-GF"]
    first = reading(meter)
    push(client, headers, [first])
    [result] = push(client, headers, [reading(meter, replaces=first["uuid"])])
    assert result["outcome"] == "stored"
    assert "second_read_in_period" not in result["flags"]
