"""Estimated bills in a run for a unit nobody could read, and the true-up when the actual reading arrives."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from fastapi import FastAPI
from sqlmodel import Session, col, select

from sync_server.billing.runs import execute_run, issue_run, start_run
from sync_server.clock import FixedClock
from sync_server.models import Bill, Block, Meter, Reading, ReadingStatus, Unit, User

FLAT = "4BHK-B5-GF"  # ₹12/unit + ₹1890 fixed, not on the motor


def _add_read(session: Session, meter: Meter, value: Decimal, at: datetime, period: str) -> None:
    session.add(
        Reading(
            uuid=uuid.uuid4(),
            meter_id=meter.id or 0,
            read_type="actual",
            value_text=str(value),
            value=value,
            captured_at=at,
            received_at=at,
            period=period,
            photo_required=False,
            source="seed",
            status=ReadingStatus.APPROVED,
            decided_at=at,
        )
    )


def _run_and_issue(session: Session, app: FastAPI, clock: FixedClock, period: str) -> list[Bill]:
    context = app.state.context
    admin = session.exec(select(User).where(User.username == "admin")).one()
    block = session.exec(select(Block).where(Block.code == "B")).one()
    run = start_run(session, block_id=block.id or 0, period=period, actor=admin, now=clock())
    done = execute_run(context.engine, run.id or 0, clock=clock)
    assert done.status == "done", done.error
    bills = issue_run(session, run.id or 0, actor=admin, now=clock(), settings=context.settings)
    session.commit()
    return bills


def test_unread_unit_is_estimated_then_trued_up(demo_app: FastAPI, clock: FixedClock) -> None:
    engine = demo_app.state.context.engine
    with Session(engine, expire_on_commit=False) as session:
        meter = session.exec(
            select(Meter).join(Unit, col(Unit.id) == col(Meter.unit_id)).where(Unit.code == FLAT)
        ).one()
        october = session.exec(select(Reading).where(Reading.meter_id == meter.id)).one()  # the demo's last month
        assert october.period == "2025-10"
        assert october.value is not None
        base = october.captured_at
        # Three earlier actual months: 100, 120 and 140 units up to October's read.
        for months_back, used_since in ((3, 360), (2, 260), (1, 140)):
            at = base - timedelta(days=30 * months_back)
            _add_read(session, meter, october.value - used_since, at, at.strftime("%Y-%m"))
        session.commit()

        november = _run_and_issue(session, demo_app, clock, "2025-11")
        [estimated] = [b for b in november if b.unit_id == meter.unit_id]
        assert estimated.reading_id is None
        assert estimated.estimated_units == Decimal("120")  # (100 + 120 + 140) / 3
        assert estimated.payable == Decimal("3330")  # 120 × ₹12 + ₹1890
        assert any("120" in line and "average" in line.lower() for line in estimated.trace)

        # December: the meter is read at last, 260 units after October's read, spanning both months.
        clock.advance(timedelta(days=30))
        _add_read(session, meter, october.value + 260, clock() - timedelta(hours=1), "2025-12")
        session.commit()
        december = _run_and_issue(session, demo_app, clock, "2025-12")
        [actual] = [b for b in december if b.unit_id == meter.unit_id]
        assert actual.reading_id is not None
        energy = next(line for line in actual.lines if line["code"] == "energy")
        true_up = next(line for line in actual.lines if line["code"] == "adjustment")
        december_units = Decimal(energy["quantity"])
        november_units = 260 - december_units  # the actual 260, spread over November and December by days
        # November re-rated on its share of the actual, less what its estimate charged, to the paisa.
        assert Decimal(true_up["amount"]) == ((november_units - 120) * 12).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert "True-up" in true_up["description"]


def test_units_with_no_history_are_skipped_not_guessed(demo_app: FastAPI, clock: FixedClock) -> None:
    engine = demo_app.state.context.engine
    with Session(engine, expire_on_commit=False) as session:
        admin = session.exec(select(User).where(User.username == "admin")).one()
        block = session.exec(select(Block).where(Block.code == "B")).one()
        run = start_run(session, block_id=block.id or 0, period="2025-11", actor=admin, now=clock())
        done = execute_run(engine, run.id or 0, clock=clock)
    skipped = {s["unit"]: s for s in done.skipped}
    assert skipped["2BHK-B1-GF"]["estimate"] == "consumption.no_history"
    assert skipped["4BHK-B5-FF"]["code"] == "bill.shared_meter_incomplete"
