"""The pull carries what the phone needs offline (issue 12): each meter's last approved reads, its usage window,
its unit's tariff, type and load, this period's reading with its review; the society's zone and the tariffs. A
push flags a value outside the window; a rejection or re-read carries a due date; the meter comes again in the
next delta pull after a push or a decision. A full pull costs the same statements for 10 meters as for 200."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from shared_billing.consumption import MeterRegister
from shared_billing.plausibility import expected_window, usage_from_history, usage_from_wire, usage_to_wire
from shared_billing.protocol import MeterKind, ReadType, Role, UsageWindow
from shared_billing.tariffs import Tariff
from sync_server.db import create_db_engine
from sync_server.directory import start_assignment
from sync_server.models import Block, Meter, Reading, ReadingFlag, ReadingFlagRecord, ReadingSource, ReadingStatus, User
from sync_server.periods import period_of
from sync_server.pull import pull_for
from sync_server.review import due_date
from tests.support.statements import statements
from tests.sync_server.factories import NOW, auth, meters_by_unit, push, reading

TZ = ZoneInfo("Asia/Kolkata")


def _engine(client: TestClient) -> Engine:
    engine: Engine = client.app.state.context.engine  # type: ignore[attr-defined]
    return engine


def _pull(client: TestClient, headers: dict[str, str], cursor: int = 0) -> dict[str, Any]:
    response = client.get(f"/api/sync/pull?cursor={cursor}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_full_pull_carries_history_usage_tariff_and_the_period_read(client: TestClient) -> None:
    pulled = _pull(client, auth(client, "engineer1"))
    assert pulled["zone"] == "Asia/Kolkata"
    meters = {meter["unit_code"]: meter for meter in pulled["meters"]}
    used = meters["4BHK-B5-FF"]  # the demo seeds last month's read and one this month (110 units later)
    with Session(_engine(client)) as session:
        rows = session.exec(
            select(Reading).where(Reading.meter_id == used["meter_id"]).order_by(col(Reading.captured_at).desc())
        ).all()
    assert [read["value"] for read in used["history"]] == [row.value_text for row in rows]  # newest first
    assert used["history"][0] == used["previous"]  # the same rule: the newest of the history is the previous
    register = MeterRegister(dials=used["dials"], decimals=used["decimals"])
    usage = usage_from_history(
        [(row.captured_at, row.value) for row in rows if row.value is not None], register=register
    )
    assert usage is not None
    assert used["usage"] == usage_to_wire(usage).model_dump(mode="json")
    period_read = used["period_read"]
    assert (period_read["reading_uuid"], period_read["status"]) == (str(rows[0].uuid), "approved")
    assert period_read["value"] == rows[0].value_text
    assert used["unit_type"] == "4BHK"
    tariffs = {t["code"]: t for t in pulled["tariffs"]}
    assert used["tariff_code"] in tariffs
    assert set(tariffs) == {m["tariff_code"] for m in pulled["meters"] if m["tariff_code"]}
    for code, tariff in tariffs.items():  # the phone's estimate loads them as billing does
        assert Tariff.from_dict(tariff["config"]).code == code

    single = meters["5BHK-B17-FF"]  # one approved read: no usage, no judgement
    assert len(single["history"]) == 1
    assert single["usage"] is None
    assert single["period_read"] is None  # read last month only
    motor = next(m for m in pulled["meters"] if m["kind"] == MeterKind.SHARED.value)
    assert (motor["tariff_code"], motor["unit_type"]) == (None, None)


def test_history_is_the_last_six_approved_reads_with_a_value(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["5BHK-B17-FF"]
    base = Decimal(meter["previous"]["value"])
    first = datetime.fromisoformat(meter["previous"]["captured_at"])
    with Session(_engine(client)) as session:
        for months in range(1, 9):  # eight older reads, a rejected one and an approved skip
            at = first - timedelta(days=30 * months)
            session.add(_stored(meter["meter_id"], str(base - 100 * months), at, ReadingStatus.APPROVED))
        session.add(_stored(meter["meter_id"], str(base + 5), first - timedelta(days=3), ReadingStatus.REJECTED))
        session.add(_stored(meter["meter_id"], "", first - timedelta(days=2), ReadingStatus.APPROVED))
        session.commit()
    history = meters_by_unit(client, headers)["5BHK-B17-FF"]["history"]
    assert [read["value"] for read in history] == [str(base - 100 * months) for months in range(6)]


def _stored(
    meter_id: int, value: str, at: datetime, status: ReadingStatus, source: ReadingSource = ReadingSource.IMPORT
) -> Reading:
    return Reading(
        uuid=uuid.uuid4(),
        meter_id=meter_id,
        read_type=ReadType.ACTUAL if value else ReadType.SKIP,
        value_text=value or None,
        value=Decimal(value) if value else None,
        captured_at=at,
        received_at=at,
        period=period_of(at, TZ),
        source=source,
        status=status,
    )


def _window_high(meter: dict[str, Any], at: datetime) -> Decimal:
    register = MeterRegister(dials=meter["dials"], decimals=meter["decimals"])
    return expected_window(usage_from_wire(_usage(meter)), at, register=register).high


def _usage(meter: dict[str, Any]) -> UsageWindow:
    return UsageWindow.model_validate(meter["usage"])


def test_a_push_flags_a_value_outside_the_window_and_the_next_delta_brings_it(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    first = _pull(client, headers)
    meters = {meter["unit_code"]: meter for meter in first["meters"]}
    used, plain = meters["4BHK-B5-FF"], meters["5BHK-B17-FF"]
    at = NOW - timedelta(minutes=5)
    high = _window_high(used, at)
    inside = reading(used, value=str(int(high)), captured_at=at.isoformat())
    outside = reading(used, value="999999", captured_at=at.isoformat(), read_type="verified")
    no_history = reading(plain, value="999999", captured_at=at.isoformat())
    results = push(client, headers, [inside, outside, no_history])
    assert [r["outcome"] for r in results] == ["stored"] * 3
    assert "outside_window" not in results[0]["flags"]  # the window's top is a plausible value itself
    assert "outside_window" in results[1]["flags"]
    assert "outside_window" not in results[2]["flags"]  # no history, no window, no judgement
    shown = client.get(f"/api/review/readings/{outside['uuid']}", headers=auth(client, "supervisor")).json()
    assert "outside_window" in shown["flags"]

    delta = _pull(client, headers, first["cursor"])
    changed = {meter["unit_code"]: meter for meter in delta["meters"]}
    assert set(changed) == {"4BHK-B5-FF", "5BHK-B17-FF"}
    period_read = changed["4BHK-B5-FF"]["period_read"]
    assert period_read["reading_uuid"] == outside["uuid"]  # the newest of the period (same instant: later id)
    assert (period_read["status"], period_read["read_type"]) == ("submitted", "verified")
    assert "outside_window" in period_read["flags"]
    assert _pull(client, headers, delta["cursor"])["meters"] == []


def test_a_rejection_is_due_on_a_day_and_reaches_the_phone(client: TestClient) -> None:
    headers, supervisor = auth(client, "engineer1"), auth(client, "supervisor")
    first = _pull(client, headers)
    meter = next(m for m in first["meters"] if m["unit_code"] == "5BHK-B17-FF")
    items = [reading(meter), reading(meter, captured_at=(NOW - timedelta(minutes=4)).isoformat())]
    push(client, headers, items)
    after_push = _pull(client, headers, first["cursor"])["cursor"]
    today = NOW.astimezone(TZ).date()  # 20 November 2025 in Ludhiana

    sent_back = client.post(
        f"/api/review/readings/{items[0]['uuid']}/reread", json={"reason": "Blurred"}, headers=supervisor
    )
    assert sent_back.status_code == 200, sent_back.text
    assert sent_back.json()["due_on"] == (today + timedelta(days=3)).isoformat()  # the default: 3 days
    chosen = (today + timedelta(days=1)).isoformat()
    body = {"reason": "Wrong meter", "due_on": chosen}
    rejected = client.post(f"/api/review/readings/{items[1]['uuid']}/reject", json=body, headers=supervisor)
    assert rejected.json()["due_on"] == chosen

    delta = _pull(client, headers, after_push)
    decisions = {d["reading_uuid"]: d for d in delta["decisions"]}
    assert decisions[items[0]["uuid"]]["due_on"] == (today + timedelta(days=3)).isoformat()
    assert decisions[items[1]["uuid"]]["due_on"] == chosen
    [changed] = delta["meters"]
    period_read = changed["period_read"]
    assert (period_read["reading_uuid"], period_read["status"]) == (items[1]["uuid"], "rejected")
    assert (period_read["reason"], period_read["due_on"]) == ("Wrong meter", chosen)


def test_a_due_date_before_today_is_refused(client: TestClient) -> None:
    headers, supervisor = auth(client, "engineer1"), auth(client, "supervisor")
    meter = meters_by_unit(client, headers)["5BHK-B17-FF"]
    item = reading(meter)
    push(client, headers, [item])
    yesterday = (NOW.astimezone(TZ).date() - timedelta(days=1)).isoformat()
    for action in ("reject", "reread"):
        answer = client.post(
            f"/api/review/readings/{item['uuid']}/{action}",
            json={"reason": "x", "due_on": yesterday},
            headers=supervisor,
        )
        assert (answer.status_code, answer.json()["code"]) == (422, "review.due_in_past")
        assert yesterday in answer.json()["message"]
    garbled = client.post(
        f"/api/review/readings/{item['uuid']}/reject", json={"reason": "x", "due_on": "soon"}, headers=supervisor
    )
    assert garbled.status_code == 422
    still = client.get(f"/api/review/readings/{item['uuid']}", headers=supervisor).json()
    assert (still["status"], still["due_on"]) == ("submitted", None)


# --- Statements: a full pull costs the same for 10 meters as for 200 ---


def _route(session: Session, name: str, meters: int) -> User:
    """An engineer with ``meters`` meters, each with three approved reads and one this period, some flagged."""
    engineer = User(username=name, full_name=name, role=Role.ENGINEER, password_hash="x", created_at=NOW)
    block = session.exec(select(Block)).first()
    assert block is not None
    session.add(engineer)
    session.flush()
    for index in range(meters):
        meter = Meter(
            number=f"{name}-{index}", block_id=block.id or 0, kind=MeterKind.SHARED, label=f"{name} {index}", dials=6
        )
        session.add(meter)
        session.flush()
        assert meter.id is not None
        start_assignment(session, meter_id=meter.id, engineer_id=engineer.id or 0, walk_order=index + 1, now=NOW)
        for months in (3, 2, 1):
            session.add(
                _stored(meter.id, str(1000 - 100 * months), NOW - timedelta(days=30 * months), ReadingStatus.APPROVED)
            )
        current = _stored(meter.id, "1050", NOW - timedelta(hours=1), ReadingStatus.SUBMITTED, ReadingSource.FIELD)
        session.add(current)
        session.flush()
        if index % 2:
            session.add(ReadingFlagRecord(reading_uuid=current.uuid, code=ReadingFlag.GPS_FAR))
    session.commit()
    return engineer


def test_a_full_pull_costs_the_same_statements_for_10_and_200_meters(client: TestClient) -> None:
    # An engine of its own: the app's background jobs use the app's engine at any moment.
    engine = create_db_engine(client.app.state.context.settings.database_url)  # type: ignore[attr-defined]
    try:
        counts = {}
        with Session(engine) as session:
            for meters in (10, 200):
                engineer = _route(session, f"route{meters}", meters)
                with statements(engine) as seen:
                    pulled = pull_for(session, engineer, 0, NOW, tz=TZ)
                counts[meters] = len(seen)
                assert len(pulled.meters) == meters
                assert all(m.usage is not None and len(m.history) == 3 for m in pulled.meters)
                assert all(m.period_read is not None and m.period_read.value == "1050" for m in pulled.meters)
                assert sum(bool(m.period_read and m.period_read.flags) for m in pulled.meters) == meters // 2
        assert counts[10] == counts[200], counts
    finally:
        engine.dispose()


def test_the_period_is_the_societys_month(client: TestClient) -> None:
    """A reading at 00:30 on 1 December in Ludhiana is December's there (30 November in UTC)."""
    engine = create_db_engine(client.app.state.context.settings.database_url)  # type: ignore[attr-defined]
    try:
        with Session(engine) as session:
            engineer = _route(session, "month", 1)
            meter = session.exec(select(Meter).where(Meter.number == "month-0")).one()
            assert meter.id is not None
            first_of_december = datetime(2025, 12, 1, 0, 30, tzinfo=TZ)
            session.add(_stored(meter.id, "1060", first_of_december, ReadingStatus.SUBMITTED, ReadingSource.FIELD))
            session.commit()
            december = pull_for(session, engineer, 0, first_of_december + timedelta(hours=1), tz=TZ)
            assert december.meters[0].period_read is not None
            assert december.meters[0].period_read.value == "1060"
            in_utc = pull_for(session, engineer, 0, first_of_december + timedelta(hours=1), tz=ZoneInfo("UTC"))
            assert in_utc.meters[0].period_read is not None
            # In UTC it is still 30 November: the 1060 read is not this period's there, the 1050 one is.
            assert in_utc.meters[0].period_read.value == "1050"
    finally:
        engine.dispose()


def test_due_date_default_is_the_societys_day() -> None:
    late_evening_utc = datetime(2025, 11, 20, 20, 0, tzinfo=ZoneInfo("UTC"))  # 21 November 01:30 in Ludhiana
    assert due_date(None, now=late_evening_utc, tz=TZ, default_days=3) == date(2025, 11, 24)
    assert due_date(date(2025, 11, 21), now=late_evening_utc, tz=TZ, default_days=3) == date(2025, 11, 21)
