"""The demo walk-through over the API: read, photo, approve, decision in the next pull, bill ₹3,711."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from tests.sync_server.factories import auth, jpeg_bytes, meters_by_unit, push, reading, sha256


def _read_b17_ff(client: TestClient, extra_units: int = 77) -> tuple[dict[str, str], str]:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["5BHK-B17-FF"]
    photo = jpeg_bytes()
    item = reading(meter, value=str(int(meter["previous"]["value"]) + extra_units), photo_sha256=sha256(photo))
    [result] = push(client, headers, [item])
    assert result["outcome"] == "stored"
    upload = client.put(f"/api/photos/{sha256(photo)}", content=photo, headers=headers | {"Content-Type": "image/jpeg"})
    assert upload.status_code == 201
    return headers, item["uuid"]


def test_walkthrough_bill_is_3711(client: TestClient) -> None:
    _, reading_uuid = _read_b17_ff(client)
    supervisor = auth(client, "supervisor")
    queue = client.get("/api/review/readings", headers=supervisor).json()["items"]
    [item] = [q for q in queue if q["uuid"] == reading_uuid]
    assert item["consumption"] == "77"
    assert client.post(f"/api/review/readings/{reading_uuid}/approve", headers=supervisor).status_code == 200

    admin = auth(client, "admin")
    response = client.post("/api/bills", json={"reading_uuid": reading_uuid}, headers=admin)
    assert response.status_code == 201, response.text
    bill = response.json()
    assert bill["unit_code"] == "5BHK-B17-FF"
    assert Decimal(bill["total"]) == Decimal("3710.56")
    assert Decimal(bill["payable"]) == Decimal("3711")
    assert Decimal(bill["round_off"]) == Decimal("0.44")
    share = [line for line in bill["lines"] if "MOTOR-B" in line["description"]]
    assert share
    assert Decimal(share[0]["quantity"]) == Decimal("39.63")
    assert bill["trace"]

    again = client.post("/api/bills", json={"reading_uuid": reading_uuid}, headers=admin)
    assert (again.status_code, again.json()["code"]) == (409, "bill.already_billed")
    assert len(client.get("/api/bills", headers=admin).json()["items"]) == 1


def test_bill_refused_for_unapproved_reading(client: TestClient) -> None:
    _, reading_uuid = _read_b17_ff(client)
    response = client.post("/api/bills", json={"reading_uuid": reading_uuid}, headers=auth(client, "admin"))
    assert (response.status_code, response.json()["code"]) == (409, "bill.reading_not_approved")


def test_bill_waits_for_every_motor_member(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["4BHK-B5-GF"]  # not on the motor: billable on its own
    photo = jpeg_bytes()
    item = reading(meter, photo_sha256=sha256(photo))
    push(client, headers, [item])
    client.put(f"/api/photos/{sha256(photo)}", content=photo, headers=headers | {"Content-Type": "image/jpeg"})
    supervisor = auth(client, "supervisor")
    client.post(f"/api/review/readings/{item['uuid']}/approve", headers=supervisor)
    admin = auth(client, "admin")
    bill = client.post("/api/bills", json={"reading_uuid": item["uuid"]}, headers=admin)
    assert bill.status_code == 201
    # 50 units × ₹12 + ₹1890 for a 4BHK with no motor.
    assert Decimal(bill.json()["payable"]) == Decimal("2490")


def test_decision_appears_in_next_pull(client: TestClient) -> None:
    headers, reading_uuid = _read_b17_ff(client)
    cursor = client.get("/api/sync/pull", headers=headers).json()["cursor"]
    supervisor = auth(client, "supervisor")
    client.post(f"/api/review/readings/{reading_uuid}/reject", json={"reason": "Photo shows B18"}, headers=supervisor)
    pulled = client.get(f"/api/sync/pull?cursor={cursor}", headers=headers).json()
    assert pulled["full"] is False
    assert [(d["reading_uuid"], d["status"], d["reason"]) for d in pulled["decisions"]] == [
        (reading_uuid, "rejected", "Photo shows B18")
    ]
    again = client.get(f"/api/sync/pull?cursor={pulled['cursor']}", headers=headers).json()
    assert again["decisions"] == []
    assert again["meters"] == []


def test_decided_reading_cannot_be_decided_again(client: TestClient) -> None:
    _, reading_uuid = _read_b17_ff(client)
    supervisor = auth(client, "supervisor")
    assert client.post(f"/api/review/readings/{reading_uuid}/approve", headers=supervisor).status_code == 200
    again = client.post(f"/api/review/readings/{reading_uuid}/reject", json={"reason": "x"}, headers=supervisor)
    assert (again.status_code, again.json()["code"]) == (409, "review.already_decided")


def test_reject_needs_a_reason(client: TestClient) -> None:
    _, reading_uuid = _read_b17_ff(client)
    response = client.post(
        f"/api/review/readings/{reading_uuid}/reject",
        json={"reason": "  "},
        headers=auth(client, "supervisor"),
    )
    assert response.status_code == 422


def test_plausible_rollover_is_billed_as_such(client: TestClient) -> None:
    from sqlmodel import Session, select

    from sync_server.models import Reading

    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["4BHK-B5-GF"]
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        last = session.exec(select(Reading).where(Reading.meter_id == meter["meter_id"])).one()
        last.value, last.value_text = Decimal("999950"), "999950"  # six dials, nearly full
        session.add(last)
        session.commit()
    photo = jpeg_bytes()
    item = reading(meter, value="120", photo_sha256=sha256(photo))
    [result] = push(client, headers, [item])
    assert "below_previous" in result["flags"]  # the phone asked "rollover, replaced meter, or typo?"
    client.put(f"/api/photos/{sha256(photo)}", content=photo, headers=headers | {"Content-Type": "image/jpeg"})
    assert client.post(f"/api/review/readings/{item['uuid']}/approve", headers=auth(client, "supervisor")).is_success
    bill = client.post("/api/bills", json={"reading_uuid": item["uuid"]}, headers=auth(client, "admin")).json()
    energy = next(line for line in bill["lines"] if line["code"] == "energy")
    assert Decimal(energy["quantity"]) == Decimal("170")  # 999,950 → 000,120 over a 6-dial register
    assert any("rolled over" in line for line in bill["trace"])


def test_the_dials_come_from_the_meter_master_not_the_figures(client: TestClient) -> None:
    from sqlmodel import Session, select

    from sync_server.models import Reading

    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["4BHK-B5-GF"]
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        last = session.exec(select(Reading).where(Reading.meter_id == meter["meter_id"])).one()
        # 99,950 → 120 would be a rollover on five dials; this meter has six, so it is a drop for a person to decide
        last.value, last.value_text = Decimal("99950"), "099950"
        session.add(last)
        session.commit()
    photo = jpeg_bytes()
    item = reading(meter, value="120", photo_sha256=sha256(photo))
    push(client, headers, [item])
    client.put(f"/api/photos/{sha256(photo)}", content=photo, headers=headers | {"Content-Type": "image/jpeg"})
    assert client.post(f"/api/review/readings/{item['uuid']}/approve", headers=auth(client, "supervisor")).is_success
    refused = client.post("/api/bills", json={"reading_uuid": item["uuid"]}, headers=auth(client, "admin"))
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "reading.below_previous"
    assert "(900000 or more)" in refused.json()["message"]  # six dials' range
