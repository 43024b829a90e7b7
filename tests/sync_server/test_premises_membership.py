"""Shared-meter membership by date over the API (sync_server/premises.py), on SQLite and PostgreSQL.

The demo's MOTOR-B is shared by 4BHK-B5-FF, 4BHK-B6-FF, 2BHK-B18-FF and 5BHK-B17-FF since January last year; the
pinned clock is 20 November 2025."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from sync_server.billing.compute import price_reading
from sync_server.demo import MOTOR_LABEL
from sync_server.models import AuditEvent, Meter, Reading, ReadingSource, ReadingStatus, ReadType, Unit
from tests.sync_server.factories import auth, jpeg_bytes, meters_by_unit, push, reading, sha256

MOTOR = "40019999"


def _motor_id(client: TestClient, admin: dict[str, str]) -> int:
    page = client.get("/api/meters", params={"q": MOTOR}, headers=admin).json()
    return int(page["items"][0]["id"])


def _members(client: TestClient, admin: dict[str, str], meter_id: int) -> dict[str, dict[str, Any]]:
    page = client.get(f"/api/meters/{meter_id}/members", headers=admin).json()
    return {m["unit_code"]: m for m in page["items"]}


def _unit_id(client: TestClient, admin: dict[str, str], code: str) -> int:
    page = client.get("/api/units", params={"q": code}, headers=admin).json()
    return int(next(u["id"] for u in page["items"] if u["code"] == code))


def _code(response: Any) -> tuple[int, str]:
    return response.status_code, response.json().get("code", "")


def test_members_are_listed_with_their_dates(client: TestClient) -> None:
    admin = auth(client, "admin")
    members = _members(client, admin, _motor_id(client, admin))
    assert set(members) == {"4BHK-B5-FF", "4BHK-B6-FF", "2BHK-B18-FF", "5BHK-B17-FF"}
    assert {m["valid_to"] for m in members.values()} == {None}
    supervisor = auth(client, "supervisor")
    assert client.get(f"/api/meters/{_motor_id(client, admin)}/members", headers=supervisor).json()["total"] == 4


def test_overlapping_membership_is_refused(client: TestClient) -> None:
    admin = auth(client, "admin")
    motor = _motor_id(client, admin)
    unit_id = _unit_id(client, admin, "4BHK-B5-FF")
    again = client.post(
        f"/api/meters/{motor}/members", json={"unit_id": unit_id, "valid_from": "2026-03-01"}, headers=admin
    )
    assert _code(again) == (409, "membership.overlaps")
    assert again.json()["details"]["valid_to"] == "now"
    # Once the running membership ends, the unit may join again from that day on, not before.
    member = _members(client, admin, motor)["4BHK-B5-FF"]
    ended = client.post(
        f"/api/meters/{motor}/members/{member['id']}/end",
        json={"valid_to": "2026-02-01", "reason": "moved to the new pump"},
        headers=admin,
    )
    assert (ended.status_code, ended.json()["valid_to"]) == (200, "2026-02-01")
    early = {"unit_id": unit_id, "valid_from": "2026-01-15"}
    assert _code(client.post(f"/api/meters/{motor}/members", json=early, headers=admin)) == (409, "membership.overlaps")
    later = client.post(
        f"/api/meters/{motor}/members", json={"unit_id": unit_id, "valid_from": "2026-02-01"}, headers=admin
    )
    assert later.status_code == 201, later.text
    assert len(client.get(f"/api/meters/{motor}/members", params={"q": "b5-ff"}, headers=admin).json()["items"]) == 2


def test_membership_bad_requests(client: TestClient) -> None:
    admin = auth(client, "admin")
    motor = _motor_id(client, admin)
    unit_meter = meters_by_unit(client, auth(client, "engineer1"))["4BHK-B5-GF"]["meter_id"]
    joining = {"unit_id": _unit_id(client, admin, "4BHK-B5-GF"), "valid_from": "2026-01-01"}
    assert _code(client.post(f"/api/meters/{unit_meter}/members", json=joining, headers=admin)) == (
        409,
        "meter.not_shared",
    )
    unknown_unit = {"unit_id": 999999, "valid_from": "2026-01-01"}
    assert _code(client.post(f"/api/meters/{motor}/members", json=unknown_unit, headers=admin)) == (
        422,
        "request.unknown_reference",
    )
    assert _code(client.post("/api/meters/999999/members", json=joining, headers=admin)) == (
        404,
        "reading.unknown_meter",
    )
    member = _members(client, admin, motor)["4BHK-B6-FF"]
    end = f"/api/meters/{motor}/members/{member['id']}/end"
    before_start = {"valid_to": member["valid_from"], "reason": "typo"}
    assert _code(client.post(end, json=before_start, headers=admin)) == (422, "membership.invalid_dates")
    no_reason = client.post(end, json={"valid_to": "2026-01-01"}, headers=admin)
    assert no_reason.status_code == 422
    assert client.post(end, json={"valid_to": "2026-01-01", "reason": "left"}, headers=admin).status_code == 200
    again = client.post(end, json={"valid_to": "2026-02-01", "reason": "left"}, headers=admin)
    assert _code(again) == (409, "membership.ended")
    elsewhere = f"/api/meters/{unit_meter}/members/{member['id']}/end"
    assert _code(client.post(elsewhere, json={"valid_to": "2026-01-01", "reason": "x"}, headers=admin)) == (
        404,
        "membership.not_found",
    )


def _bill_b17_november(client: TestClient) -> tuple[dict[str, Any], str]:
    engineer = auth(client, "engineer1")
    meter = meters_by_unit(client, engineer)["5BHK-B17-FF"]
    photo = jpeg_bytes()
    item = reading(meter, value=str(int(meter["previous"]["value"]) + 77), photo_sha256=sha256(photo))
    [result] = push(client, engineer, [item])
    assert result["outcome"] == "stored"
    headers = engineer | {"Content-Type": "image/jpeg"}
    assert client.put(f"/api/photos/{sha256(photo)}", content=photo, headers=headers).status_code == 201
    supervisor = auth(client, "supervisor")
    assert client.post(f"/api/review/readings/{item['uuid']}/approve", headers=supervisor).status_code == 200
    bill = client.post("/api/bills", json={"reading_uuid": item["uuid"]}, headers=auth(client, "admin"))
    assert bill.status_code == 201, bill.text
    body: dict[str, Any] = bill.json()
    return body, item["uuid"]


def _share(lines: list[Any]) -> Decimal:
    [share] = [line for line in lines if MOTOR_LABEL in line.description]
    quantity: Decimal = share.quantity
    return quantity


def _december_reading(session: Session, meter_id: int, value: Decimal) -> Reading:
    at = datetime(2025, 12, 20, 5, 0, tzinfo=UTC)
    row = Reading(
        uuid=uuid.uuid4(),
        meter_id=meter_id,
        read_type=ReadType.ACTUAL,
        value_text=str(value),
        value=value,
        captured_at=at,
        received_at=at,
        period="2025-12",
        photo_required=False,
        source=ReadingSource.SEED,
        status=ReadingStatus.APPROVED,
        decided_at=at,
    )
    session.add(row)
    return row


def _latest(session: Session, meter_id: int) -> Decimal:
    value = session.exec(
        select(col(Reading.value))
        .where(Reading.meter_id == meter_id, Reading.status == ReadingStatus.APPROVED)
        .order_by(col(Reading.captured_at).desc())
    ).first()
    assert value is not None
    return value


def test_a_membership_change_leaves_billed_shares_and_changes_the_next_month(client: TestClient) -> None:
    admin = auth(client, "admin")
    november_bill, november_uuid = _bill_b17_november(client)
    [share_line] = [line for line in november_bill["lines"] if MOTOR_LABEL in line["description"]]
    # 210 motor units split by use among the four members: 77 of 408 to 5BHK-B17-FF.
    assert Decimal(share_line["quantity"]) == Decimal("39.63")

    motor = _motor_id(client, admin)
    b18 = _members(client, admin, motor)["2BHK-B18-FF"]
    end = f"/api/meters/{motor}/members/{b18['id']}/end"
    # November is billed for a member: a date inside it, or before it, would re-divide a billed share.
    for day in ("2025-11-15", "2025-10-01"):
        refused = client.post(end, json={"valid_to": day, "reason": "pump rewired"}, headers=admin)
        assert _code(refused) == (409, "membership.billed")
        assert refused.json()["details"]["period"] == "2025-11"
    joining = {"unit_id": _unit_id(client, admin, "4BHK-B5-GF"), "valid_from": "2025-11-01"}
    assert _code(client.post(f"/api/meters/{motor}/members", json=joining, headers=admin)) == (409, "membership.billed")

    ended = client.post(end, json={"valid_to": "2025-12-01", "reason": "pump rewired"}, headers=admin)
    assert ended.status_code == 200, ended.text

    engine = client.app.state.context.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "membership.ended")).one()
        assert (audit.reason, audit.detail) == ("pump rewired", {"valid_to": {"old": None, "new": "2025-12-01"}})
        # November priced again: the membership covered all of November, so the billed share.
        november = session.exec(select(Reading).where(Reading.uuid == uuid.UUID(november_uuid))).one()
        assert _share(price_reading(session, november).result.lines) == Decimal("39.63")
        stored = client.get("/api/bills", headers=admin).json()["items"]
        [kept] = [b for b in stored if b["id"] == november_bill["id"]]
        assert kept["lines"] == november_bill["lines"]

        # December: the motor's 204 units are split among the three members left (2BHK-B18-FF reads nothing).
        meters = {
            unit.code: meter
            for meter, unit in session.exec(select(Meter, Unit).join(Unit, col(Unit.id) == col(Meter.unit_id))).all()
        }
        motor_meter = session.get(Meter, motor)
        assert motor_meter is not None
        uses = {"4BHK-B5-FF": 100, "4BHK-B6-FF": 100, "5BHK-B17-FF": 50}
        rows = {
            code: _december_reading(session, meters[code].id or 0, _latest(session, meters[code].id or 0) + use)
            for code, use in uses.items()
        }
        _december_reading(session, motor, _latest(session, motor) + 204)
        session.commit()
        december = price_reading(session, rows["5BHK-B17-FF"])
        assert _share(december.result.lines) == Decimal("40.80")  # 204 × 50 / 250


def test_a_member_leaving_inside_a_month_shares_it_for_its_days(client: TestClient) -> None:
    admin = auth(client, "admin")
    motor = _motor_id(client, admin)
    b18 = _members(client, admin, motor)["2BHK-B18-FF"]
    # A member until 15 December (valid_to is exclusive): 15 of December's 31 days.
    ended = client.post(
        f"/api/meters/{motor}/members/{b18['id']}/end",
        json={"valid_to": "2025-12-16", "reason": "moved out"},
        headers=admin,
    )
    assert ended.status_code == 200, ended.text

    engine = client.app.state.context.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        meters = {
            unit.code: meter
            for meter, unit in session.exec(select(Meter, Unit).join(Unit, col(Unit.id) == col(Meter.unit_id))).all()
        }
        uses = {"4BHK-B5-FF": 100, "4BHK-B6-FF": 100, "5BHK-B17-FF": 50, "2BHK-B18-FF": 62}
        rows = {
            code: _december_reading(session, meters[code].id or 0, _latest(session, meters[code].id or 0) + use)
            for code, use in uses.items()
        }
        _december_reading(session, motor, _latest(session, motor) + 204)
        session.commit()
        b17 = price_reading(session, rows["5BHK-B17-FF"])
        b18_bill = price_reading(session, rows["2BHK-B18-FF"])

    counted = Decimal(62) * 15 / 31  # 30.00: B18's units for its days of membership
    group = 100 + 100 + 50 + counted
    cent = Decimal("0.01")
    assert _share(b17.result.lines) == (204 * 50 / group).quantize(cent, ROUND_HALF_UP)
    assert _share(b18_bill.result.lines) == (204 * counted / group).quantize(cent, ROUND_HALF_UP)
