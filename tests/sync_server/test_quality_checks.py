"""Quality checks (issue 13): a random share of the period's approved reads is asked to be read again; the pull marks
those meters as checks; a pushed read of one is linked to its check by engineer, meter and period (no protocol
change), compared with the approved read and flagged when it differs; a check read is never reviewed, never the
period's read and never billed."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from sync_server.clock import FixedClock
from sync_server.models import Assignment, Bill, Meter, MeterKind, Reading, ReadingSource, ReadingStatus, ReadType
from sync_server.periods import period_of
from tests.sync_server.factories import NOW, auth, meters_by_unit, push, reading
from tests.sync_server.test_bill_runs import PERIOD, _block_b, _run

CHECK_PATH = "/api/review/quality-checks"


def _engine(client: TestClient) -> Any:
    app: FastAPI = client.app  # type: ignore[assignment]
    return app.state.context.engine


def _approve_the_month(client: TestClient, now: datetime = NOW) -> dict[int, Reading]:
    """An approved field read of every unit meter, two hours before ``now``, 40 above the meter's last approved
    read, by the meter's engineer (as if pushed and approved)."""
    tz = client.app.state.context.settings.tz  # type: ignore[attr-defined]
    at = now - timedelta(hours=2)
    made: dict[int, Reading] = {}
    with Session(_engine(client)) as session:
        for meter, engineer_id in session.exec(
            select(Meter, Assignment.engineer_id).join(Assignment, col(Assignment.meter_id) == col(Meter.id))
        ).all():
            if meter.kind is not MeterKind.UNIT:
                continue
            last = session.exec(
                select(col(Reading.value))
                .where(Reading.meter_id == meter.id, Reading.status == ReadingStatus.APPROVED)
                .order_by(col(Reading.captured_at).desc())
            ).first()
            assert last is not None
            value = (last + 40).quantize(Decimal(1))  # the demo's meters show whole units
            row = Reading(
                uuid=uuid.uuid4(),
                meter_id=meter.id or 0,
                engineer_id=engineer_id,
                read_type=ReadType.ACTUAL,
                value_text=f"{value:f}",
                value=value,
                captured_at=at,
                received_at=at,
                period=period_of(at, tz),
                photo_required=False,
                source=ReadingSource.FIELD,
                status=ReadingStatus.APPROVED,
            )
            session.add(row)
            made[meter.id or 0] = row
        session.commit()
        for row in made.values():
            session.refresh(row)
    return made


def _ask(client: TestClient, share: str, who: str = "supervisor") -> Any:
    answer = client.post(CHECK_PATH, json={"period": PERIOD, "share_percent": share}, headers=auth(client, who))
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_random_share_of_approved_reads_is_asked_of_the_meters_engineers(client: TestClient) -> None:
    approved = _approve_the_month(client)
    first = _ask(client, "10")
    assert first["eligible"] == len(approved)
    assert len(first["requested"]) == -(-len(approved) // 10)  # 10 % rounded up
    with Session(_engine(client)) as session:
        engineers = dict(session.exec(select(Assignment.meter_id, Assignment.engineer_id)).all())
    for check in first["requested"]:
        assert check["status"] == "open"
        assert check["engineer_id"] == engineers[check["meter_id"]]
        assert check["approved_value"] == approved[check["meter_id"]].value_text
        assert check["check_value"] is None
    assert len({check["meter_id"] for check in first["requested"]}) == len(first["requested"])

    # A meter is checked once a period: a second request draws from the others.
    second = _ask(client, "100")
    assert second["eligible"] == len(approved) - len(first["requested"])
    assert {c["meter_id"] for c in second["requested"]}.isdisjoint({c["meter_id"] for c in first["requested"]})
    listed = client.get(CHECK_PATH, params={"period": PERIOD}, headers=auth(client, "admin")).json()
    assert len(listed) == len(approved)
    assert _ask(client, "2")["requested"] == []  # nothing left to check

    assert (
        client.post(
            CHECK_PATH, json={"period": PERIOD, "share_percent": "0"}, headers=auth(client, "supervisor")
        ).status_code
        == 422
    )
    assert client.post(CHECK_PATH, json={"period": PERIOD}, headers=auth(client, "engineer1")).status_code == 403


def test_the_check_read_is_compared_never_reviewed_never_billed(client: TestClient, clock: FixedClock) -> None:
    approved = _approve_the_month(client)
    _ask(client, "100")
    engineer = auth(client, "engineer1")
    pulled = meters_by_unit(client, engineer)
    checked = {unit: meter for unit, meter in pulled.items() if meter["check"] is not None}
    # Every meter of the route with an approved field read this period was picked at 100 % (not the motor's).
    assert set(checked) == {unit for unit, meter in pulled.items() if meter["kind"] == "unit"}
    assert all(meter["check"]["requested_at"] is not None for meter in checked.values())

    clock.advance(timedelta(hours=1))
    engineer = auth(client, "engineer1")  # signed in again: an hour outlives an access token
    at = (NOW + timedelta(minutes=30)).isoformat()
    agree_unit, differ_unit, jump_unit = "2BHK-B1-GF", "2BHK-B1-FF", "2BHK-B1-SF"
    agree, differ, jump = checked[agree_unit], checked[differ_unit], checked[jump_unit]
    jump_value = approved[jump["meter_id"]].value_text
    assert jump_value is not None
    agree_value = approved[agree["meter_id"]].value_text
    differ_value = approved[differ["meter_id"]].value_text
    assert agree_value is not None
    assert differ_value is not None
    reads = [
        reading(agree, value=agree_value, captured_at=at),  # the meter barely moved in half an hour
        reading(differ, value=str(int(differ_value) - 10), captured_at=at),  # below the approved read
        # 30 units in half an hour: far outside the window the meter's month of use gives from the approved read.
        reading(jump, value=str(int(jump_value) + 30), captured_at=at),
    ]
    waiting_before = client.get("/api/review/readings", headers=auth(client, "supervisor")).json()["total"]
    results = push(client, engineer, reads, sent_at=NOW + timedelta(hours=1))
    assert [result["outcome"] for result in results] == ["stored"] * 3, results

    listed = {
        c["meter_id"]: c
        for c in client.get(CHECK_PATH, params={"period": PERIOD}, headers=auth(client, "supervisor")).json()
    }
    assert (listed[agree["meter_id"]]["status"], Decimal(listed[agree["meter_id"]]["difference"])) == (
        "agrees",
        Decimal(0),
    )
    assert (listed[differ["meter_id"]]["status"], Decimal(listed[differ["meter_id"]]["difference"])) == (
        "differs",
        Decimal(-10),
    )
    assert (listed[jump["meter_id"]]["status"], Decimal(listed[jump["meter_id"]]["difference"])) == (
        "differs",
        Decimal(30),
    )
    assert listed[differ["meter_id"]]["check_value"] == reads[1]["value"]
    ordered = client.get(CHECK_PATH, params={"period": PERIOD}, headers=auth(client, "supervisor")).json()
    assert ordered[0]["status"] == "differs"  # the ones to look at come first

    # Never in the review queue, never decided.
    supervisor = auth(client, "supervisor")
    assert client.get("/api/review/readings", headers=supervisor).json()["total"] == waiting_before
    refused = client.post(f"/api/review/readings/{reads[1]['uuid']}/approve", headers=supervisor)
    assert (refused.status_code, refused.json()["code"]) == (409, "review.is_check")

    # The pull: the approved read still stands for the period; the answered checks are no longer asked.
    again = meters_by_unit(client, engineer)
    for unit in (agree_unit, differ_unit, jump_unit):
        assert again[unit]["check"] is None
        assert again[unit]["period_read"]["reading_uuid"] == str(approved[again[unit]["meter_id"]].uuid)
    assert sum(meter["check"] is not None for meter in again.values()) == len(checked) - 3

    # Billing: the block's run bills the approved reads; the check reads wait for no one and bill nothing.
    admin = auth(client, "admin")
    run = _run(client, admin, _block_b(client, admin))
    assert run["status"] == "done"
    with Session(_engine(client)) as session:
        billed = set(session.exec(select(Bill.reading_id).where(Bill.period == PERIOD)).all())
        check_ids = set(session.exec(select(Reading.id).where(Reading.source == ReadingSource.CHECK)).all())
    assert len(check_ids) == 3
    assert billed.isdisjoint(check_ids)
    assert {approved[agree["meter_id"]].id, approved[differ["meter_id"]].id} <= billed
