"""Reports behind the console's charts (issue 13): consumption per block and unit over months, blocks compared, the
seasonal pattern, billed against collected, overdue ageing, engineers' quality — figures worked out by hand from
the readings, bills and payments each test writes, on both databases."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from shared_billing.plausibility import expected_window, usage_from_history
from sync_server.clock import FixedClock
from sync_server.demo import THIS_MONTH_USE, WALKTHROUGH_UNIT
from sync_server.models import (
    Block,
    LedgerEntry,
    Meter,
    Reading,
    ReadingSource,
    ReadingStatus,
    ReadType,
    SkipReason,
    Unit,
    User,
)
from sync_server.periods import period_of
from tests.sync_server.factories import auth
from tests.sync_server.test_bill_runs import PERIOD, _issued_block_b

TZ = ZoneInfo("Asia/Kolkata")
TRACKED = "2BHK-B1-GF"  # block B: given an approved history from July (the demo reads it once, in October)
OTHER_BLOCK = "2BHK-C1-GF"  # block C: one approved read before the demo's, in September


def _engine(client: TestClient) -> Any:
    app: FastAPI = client.app  # type: ignore[assignment]
    return app.state.context.engine


def _meter(session: Session, unit_code: str) -> Meter:
    return session.exec(
        select(Meter).join(Unit, col(Unit.id) == col(Meter.unit_id)).where(Unit.code == unit_code)
    ).one()


def _reading(meter: Meter, value: Decimal | None, at: datetime, **fields: Any) -> Reading:
    fields = {"status": ReadingStatus.APPROVED, "source": ReadingSource.SEED, "engineer_id": None, **fields}
    return Reading(
        uuid=uuid.uuid4(),
        meter_id=meter.id or 0,
        read_type=fields.pop("read_type", ReadType.ACTUAL),
        value_text=None if value is None else f"{value}",
        value=value,
        captured_at=at,
        received_at=at,
        period=period_of(at, TZ),
        photo_required=False,
        **fields,
    )


def _october(session: Session, meter: Meter) -> Reading:
    """The demo's approved October read of the meter."""
    return session.exec(
        select(Reading).where(Reading.meter_id == meter.id, Reading.period == "2025-10", Reading.status == "approved")
    ).one()


def _history(client: TestClient) -> Decimal:
    """Approved reads before the demo's October read (value V): TRACKED at V−330 (Jul), V−250 (Aug), V−100 (Sep),
    so Aug 80, Sep 150, Oct 100; OTHER_BLOCK at V−90 (Sep): Oct 90. And an implausible drop on TRACKED's history
    a year earlier (2024-07 V−300, 2024-08 V−5000: no rollover on six dials), which counts for nothing. Returns
    TRACKED's V."""
    with Session(_engine(client)) as session:
        tracked, other = _meter(session, TRACKED), _meter(session, OTHER_BLOCK)
        top = _october(session, tracked).value
        other_top = _october(session, other).value
        assert top is not None
        assert other_top is not None
        at = datetime(2025, 7, 25, 11, 0, tzinfo=TZ)
        session.add_all(
            [
                _reading(tracked, top - 330, at),
                _reading(tracked, top - 250, at + timedelta(days=31)),
                _reading(tracked, top - 100, at + timedelta(days=62)),
                _reading(other, other_top - 90, at + timedelta(days=62)),
                _reading(tracked, top - 300, datetime(2024, 7, 20, 11, 0, tzinfo=TZ)),
                _reading(tracked, top - 5000, datetime(2024, 8, 20, 11, 0, tzinfo=TZ)),
            ]
        )
        session.commit()
        return top


def _block_b_november() -> Decimal:
    """Block B's November units in the demo: the seeded flats' (the motor is shared: not a unit's use)."""
    return Decimal(sum(units for code, units in THIS_MONTH_USE.items() if code.startswith(("2BHK-B", "4BHK-B"))))


def _get(client: TestClient, path: str, user: str = "admin", **params: Any) -> Any:
    answer = client.get(f"/api/reports/{path}", params=params, headers=auth(client, user))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _decimals(values: list[str]) -> list[Decimal]:
    return [Decimal(value) for value in values]


def test_consumption_per_block_and_per_unit_over_twelve_months(client: TestClient) -> None:
    _history(client)
    report = _get(client, "consumption", until=PERIOD, months=12)
    assert report["months"] == [f"2024-{m:02d}" for m in (12,)] + [f"2025-{m:02d}" for m in range(1, 12)]
    rows = {row["label"]: _decimals(row["values"]) for row in report["rows"]}
    assert set(rows) == {"B", "C", "S", "V"}
    column = {period: index for index, period in enumerate(report["months"])}
    expected_b = [Decimal(0)] * 12
    expected_b[column["2025-08"]], expected_b[column["2025-09"]], expected_b[column["2025-10"]] = (
        Decimal(80), Decimal(150), Decimal(100),
    )  # fmt: skip
    expected_b[column["2025-11"]] = _block_b_november()
    assert rows["B"] == expected_b
    assert rows["C"][column["2025-10"]] == 90
    assert sum(rows["C"]) == 90
    assert rows["S"] == rows["V"] == [0] * 12
    assert _decimals(report["totals"]) == [b + c for b, c in zip(rows["B"], rows["C"], strict=True)]

    with Session(_engine(client)) as session:
        block_b = session.exec(select(Block.id).where(Block.code == "B")).one()
    units = _get(client, "consumption", until="2025-10", months=3, block_id=block_b)
    assert units["months"] == ["2025-08", "2025-09", "2025-10"]
    per_unit = {row["label"]: _decimals(row["values"]) for row in units["rows"]}
    assert per_unit[TRACKED] == [80, 150, 100]
    assert sum(sum(values) for code, values in per_unit.items() if code != TRACKED) == 0
    assert "MOTOR-B" not in per_unit


def test_the_year_before_shows_only_what_the_meter_can_explain(client: TestClient) -> None:
    _history(client)
    report = _get(client, "consumption", until="2024-12", months=6)
    rows = {row["label"]: _decimals(row["values"]) for row in report["rows"]}
    assert rows["B"] == [0] * 6  # 2024-08's drop of 4,700 is no rollover on six dials: no measure of use


def test_blocks_compared_per_unit_against_the_month_before(client: TestClient) -> None:
    _history(client)
    rows = {row["block_code"]: row for row in _get(client, "blocks", period=PERIOD)["rows"]}
    flats = [units for code, units in THIS_MONTH_USE.items() if code.startswith(("2BHK-B", "4BHK-B"))]
    block_b = rows["B"]
    assert block_b["metered_units"] == len(flats)
    assert Decimal(block_b["units"]) == sum(flats)
    assert Decimal(block_b["average"]) == (Decimal(sum(flats)) / len(flats)).quantize(Decimal("0.1"))
    assert Decimal(block_b["previous_average"]) == 100  # October: TRACKED alone
    change = (Decimal(block_b["average"]) - 100) * 100 / 100
    assert Decimal(block_b["change_percent"]) == change.quantize(Decimal("0.1"))
    assert rows["C"]["metered_units"] == 0
    assert rows["C"]["average"] is None
    assert Decimal(rows["C"]["previous_average"]) == 90
    assert rows["C"]["change_percent"] is None


def test_seasonal_pattern_averages_each_calendar_month_over_the_record(client: TestClient) -> None:
    _history(client)
    months = {m["month"]: m for m in _get(client, "seasonal", until=PERIOD)["months"]}
    assert list(months) == list(range(1, 13))
    assert (Decimal(months[8]["average"]), months[8]["unit_months"], months[8]["years"]) == (Decimal(80), 1, 1)
    assert (Decimal(months[10]["average"]), months[10]["unit_months"]) == (Decimal(95), 2)  # (100 + 90) / 2
    flats = [units for code, units in THIS_MONTH_USE.items() if code.startswith(("2BHK-B", "4BHK-B"))]
    assert months[11]["unit_months"] == len(flats)
    assert months[1]["average"] is None
    assert months[1]["unit_months"] == 0


@pytest.mark.parametrize(
    ("utc", "month"), [("2025-11-30T18:20:00+00:00", "2025-11"), ("2025-11-30T18:40:00+00:00", "2025-12")]
)
def test_reports_default_to_the_societys_current_month(
    client: TestClient, clock: FixedClock, utc: str, month: str
) -> None:
    """Either side of midnight on 30 November in Kolkata (18:30 UTC): the default month is the society's."""
    clock.now = datetime.fromisoformat(utc)
    headers = auth(client, "admin")
    assert client.get("/api/reports/consumption", headers=headers).json()["months"][-1] == month
    assert client.get("/api/reports/blocks", headers=headers).json()["period"] == month
    assert client.get("/api/reports/engineers", headers=headers).json()["period"] == month
    assert client.get("/api/reports/collection", headers=headers).json()["months"][-1]["period"] == month


def _balances(client: TestClient) -> dict[int, Decimal]:
    with Session(_engine(client)) as session:
        balances: dict[int, Decimal] = {}
        for unit_id, amount in session.exec(select(col(LedgerEntry.unit_id), col(LedgerEntry.amount))).all():
            balances[unit_id] = balances.get(unit_id, Decimal(0)) + amount
        return balances


def test_billed_against_collected_and_overdue_ageing(client: TestClient) -> None:
    bills = _issued_block_b(client)
    walk = next(bill for bill in bills if bill["unit_code"] == WALKTHROUGH_UNIT)
    accountant = auth(client, "accountant")
    for body in (
        {
            "unit_id": walk["unit_id"],
            "bill_id": walk["id"],
            "amount": "1000.00",
            "paid_on": "2025-11-20",
            "mode": "upi",
        },
        {"unit_id": walk["unit_id"], "amount": "250.50", "paid_on": "2025-10-31", "mode": "cash"},
    ):
        assert client.post("/api/payments", json=body, headers=accountant).status_code == 201

    report = _get(client, "collection", user="accountant", until=PERIOD, months=2)
    october, november = report["months"]
    assert (october["period"], Decimal(october["billed"]), Decimal(october["collected"])) == (
        "2025-10",
        Decimal(0),
        Decimal("250.50"),
    )
    billed = sum((Decimal(bill["charges"]) for bill in bills), Decimal(0))
    assert (november["period"], Decimal(november["billed"]), Decimal(november["collected"])) == (
        PERIOD,
        billed,
        Decimal(1000),
    )
    assert Decimal(november["collected_percent"]) == (Decimal(100000) / billed).quantize(Decimal("0.1"))
    assert october["collected_percent"] is None
    assert (Decimal(report["billed"]), Decimal(report["collected"])) == (billed, Decimal("1250.50"))

    owing = {unit: amount for unit, amount in _balances(client).items() if amount > 0}
    due_on = date.fromisoformat(walk["due_on"])
    for days_late, bucket in ((0, "not_due"), (10, "1-30"), (45, "31-60"), (75, "61-90"), (120, "over_90")):
        ageing = _get(client, "ageing", user="accountant", on=(due_on + timedelta(days=days_late)).isoformat())
        amounts = {row["bucket"]: Decimal(row["amount"]) for row in ageing["rows"]}
        assert list(amounts) == ["not_due", "1-30", "31-60", "61-90", "over_90"]
        assert Decimal(ageing["total"]) == sum(owing.values()) == amounts[bucket], (days_late, ageing)
        assert ageing["accounts"] == len(owing)
        assert {row["bucket"]: row["accounts"] for row in ageing["rows"]}[bucket] == len(owing)


def test_defaulters_are_the_accounts_past_due_longest_overdue_first(client: TestClient) -> None:
    bills = _issued_block_b(client)
    walk = next(bill for bill in bills if bill["unit_code"] == WALKTHROUGH_UNIT)
    accountant = auth(client, "accountant")
    part = {"unit_id": walk["unit_id"], "bill_id": walk["id"], "amount": "100.00", "paid_on": "2025-11-20"}
    assert client.post("/api/payments", json=part | {"mode": "upi"}, headers=accountant).status_code == 201
    owing = {unit: amount for unit, amount in _balances(client).items() if amount > 0}
    due_on = date.fromisoformat(walk["due_on"])

    # On the due day nobody is a defaulter, whatever they owe.
    on_time = _get(client, "defaulters", user="accountant", on=due_on.isoformat())
    assert (on_time["rows"], Decimal(on_time["overdue"])) == ([], Decimal(0))

    late = _get(client, "defaulters", user="accountant", on=(due_on + timedelta(days=45)).isoformat())
    assert {row["unit_id"]: Decimal(row["overdue"]) for row in late["rows"]} == owing
    assert {row["oldest"] for row in late["rows"]} == {"31-60"}
    assert all(row["owed"] == {"31-60": row["overdue"]} for row in late["rows"])
    assert [Decimal(row["overdue"]) for row in late["rows"]] == sorted(owing.values(), reverse=True)
    assert Decimal(late["overdue"]) == sum(owing.values())
    walk_row = next(row for row in late["rows"] if row["unit_id"] == walk["unit_id"])
    assert (walk_row["unit_code"], walk_row["block_code"]) == (WALKTHROUGH_UNIT, "B")
    assert Decimal(walk_row["overdue"]) == Decimal(walk["payable"]) - Decimal(100)

    # A block's own list; the supervisor does not see money.
    with Session(_engine(client)) as session:
        blocks = {block.code: block.id for block in session.exec(select(Block)).all()}
    day = (due_on + timedelta(days=45)).isoformat()
    block_b = _get(client, "defaulters", user="admin", on=day, block_id=blocks["B"])
    assert block_b["rows"] == [row for row in late["rows"] if row["block_code"] == "B"] != []
    for code in blocks.keys() - {"B"}:
        other = _get(client, "defaulters", user="admin", on=day, block_id=blocks[code])
        assert all(row["block_code"] == code for row in other["rows"])
    assert client.get("/api/reports/defaulters", headers=auth(client, "supervisor")).status_code == 403


def test_engineers_quality_figures(client: TestClient) -> None:
    """engineer2's November in block C: five readings three minutes apart, then a two-hour break and one more;
    one skip, one read equal to the previous, one rejected, one exactly at the expected value, one far off."""
    top = _history(client)
    assert top
    start = datetime(2025, 11, 18, 10, 0, tzinfo=TZ)
    with Session(_engine(client)) as session:
        engineer = session.exec(select(User).where(User.username == "engineer2")).one()
        meters = [_meter(session, code) for code in ("2BHK-C1-GF", "2BHK-C1-FF", "2BHK-C1-SF", "2BHK-C2-GF")]
        tracked = meters[0]
        history = session.exec(
            select(col(Reading.captured_at), col(Reading.value)).where(
                Reading.meter_id == tracked.id, Reading.status == "approved"
            )
        ).all()
        usage = usage_from_history(
            [(at, value) for at, value in history if value is not None], register=tracked.register()
        )
        assert usage is not None
        expected = expected_window(usage, start, register=tracked.register()).expected
        field = {"engineer_id": engineer.id, "source": ReadingSource.FIELD, "status": ReadingStatus.SUBMITTED}
        same = _october(session, meters[1]).value
        far = _october(session, meters[2]).value
        assert same is not None
        assert far is not None
        session.add_all(
            [
                _reading(tracked, expected, start, **field),  # at the expected value
                _reading(meters[1], same, start + timedelta(minutes=3), **field),  # zero: the previous read again
                _reading(
                    meters[2], far + 5000, start + timedelta(minutes=6), **{**field, "status": ReadingStatus.REJECTED}
                ),
                _reading(
                    meters[3],
                    None,
                    start + timedelta(minutes=9),
                    read_type=ReadType.SKIP,
                    skip_reason=SkipReason.LOCKED,
                    **field,
                ),
                _reading(
                    meters[3],
                    None,
                    start + timedelta(hours=2),
                    read_type=ReadType.SKIP,
                    skip_reason=SkipReason.LOCKED,
                    **{**field, "status": ReadingStatus.REREAD},
                ),
                _reading(tracked, expected + 40, start + timedelta(hours=2, minutes=4), **field),  # far from it
            ]
        )
        session.commit()
    rows = {row["name"]: row for row in _get(client, "engineers", user="supervisor", period=PERIOD)["rows"]}
    row = rows["Engineer2"]
    assert (row["readings"], row["skipped"], row["zero"], row["rejected"]) == (6, 2, 1, 2)
    assert (Decimal(row["skip_percent"]), Decimal(row["zero_percent"]), Decimal(row["rejected_percent"])) == (
        Decimal("33.3"), Decimal("25.0"), Decimal("33.3"),
    )  # fmt: skip
    # Judged: reads whose meter had history enough for a window (TRACKED twice; the others have one read each).
    assert (row["judged"], row["at_expected"], Decimal(row["at_expected_percent"])) == (2, 1, Decimal("50.0"))
    assert Decimal(row["minutes_per_meter"]) == 3  # gaps 3, 3, 3 and 4 minutes; the two-hour break left out


def test_report_parameters_are_checked(client: TestClient) -> None:
    headers = auth(client, "admin")
    assert client.get("/api/reports/consumption", params={"block_id": 99999}, headers=headers).status_code == 404
    assert client.get("/api/reports/consumption", params={"months": 0}, headers=headers).status_code == 422
    assert client.get("/api/reports/blocks", params={"period": "2025-13"}, headers=headers).status_code == 422
    assert client.get("/api/reports/collection", headers=auth(client, "supervisor")).status_code == 403
    assert client.get("/api/reports/engineers", headers=auth(client, "accountant")).status_code == 403
    assert client.get("/api/reports/seasonal", headers=auth(client, "engineer1")).status_code == 403
