"""Estimated bills in a run for a unit nobody could read, and the true-up when the actual reading arrives."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from sync_server.billing.runs import execute_run, issue_run, start_run
from sync_server.clock import FixedClock
from sync_server.models import Bill, Block, Meter, Reading, ReadingSource, ReadingStatus, ReadType, Unit, User
from tests.sync_server.factories import auth

FLAT = "4BHK-B5-GF"  # ₹12/unit + ₹1890 fixed, not on the motor


def _add_read(session: Session, meter: Meter, value: Decimal, at: datetime, period: str) -> None:
    session.add(
        Reading(
            uuid=uuid.uuid4(),
            meter_id=meter.id or 0,
            read_type=ReadType.ACTUAL,
            value_text=str(value),
            value=value,
            captured_at=at,
            received_at=at,
            period=period,
            photo_required=False,
            source=ReadingSource.SEED,
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


def _flat_with_history(session: Session) -> tuple[Meter, Reading]:
    """FLAT's meter with three actual months (100, 120, 140 units) up to the demo's October read."""
    meter = session.exec(select(Meter).join(Unit, col(Unit.id) == col(Meter.unit_id)).where(Unit.code == FLAT)).one()
    october = session.exec(select(Reading).where(Reading.meter_id == meter.id)).one()
    assert october.value is not None
    for months_back, used_since in ((3, 360), (2, 260), (1, 140)):
        at = october.captured_at - timedelta(days=30 * months_back)
        _add_read(session, meter, october.value - used_since, at, at.strftime("%Y-%m"))
    session.commit()
    return meter, october


def _run_only(session: Session, app: FastAPI, clock: FixedClock, period: str) -> dict[str, dict[str, str]]:
    """Run the block for the period without issuing; the skipped units and why."""
    admin = session.exec(select(User).where(User.username == "admin")).one()
    block = session.exec(select(Block).where(Block.code == "B")).one()
    run = start_run(session, block_id=block.id or 0, period=period, actor=admin, now=clock())
    done = execute_run(app.state.context.engine, run.id or 0, clock=clock)
    assert done.status == "done", done.error
    return {skip["unit"]: skip for skip in done.skipped}


def _units_billed(bill: Bill) -> Decimal:
    energy = next(line for line in bill.lines if line["code"] == "energy")
    return Decimal(energy["quantity"])


def _trued_up_units(bill: Bill) -> Decimal:
    """Units the true-up line adds back at ₹12/unit (FLAT's flat rate)."""
    line = next((line for line in bill.lines if line["code"] == "adjustment"), None)
    return Decimal(0) if line is None else Decimal(line["amount"]) / 12


def test_a_reading_awaiting_review_is_not_estimated(demo_app: FastAPI, clock: FixedClock) -> None:
    with Session(demo_app.state.context.engine, expire_on_commit=False) as session:
        meter, october = _flat_with_history(session)
        assert october.value is not None
        _add_read(session, meter, october.value + 150, clock() - timedelta(hours=2), "2025-11")
        waiting = session.exec(select(Reading).where(Reading.meter_id == meter.id, Reading.period == "2025-11")).one()
        waiting.status = ReadingStatus.SUBMITTED
        session.commit()
        skipped = _run_only(session, demo_app, clock, "2025-11")
        assert skipped[FLAT]["code"] == "bill.reading_awaiting_review"
        assert session.exec(select(Bill).where(Bill.unit_id == meter.unit_id)).first() is None

        # Approved later, the next run bills it on the actual reading.
        waiting.status = ReadingStatus.APPROVED
        session.add(waiting)
        session.commit()
        [bill] = [b for b in _run_and_issue(session, demo_app, clock, "2025-11") if b.unit_id == meter.unit_id]
        assert (bill.reading_id, bill.estimated_units, _units_billed(bill)) == (waiting.id, None, Decimal(150))


def test_an_estimate_is_trued_up_when_its_month_is_read_late(demo_app: FastAPI, clock: FixedClock) -> None:
    with Session(demo_app.state.context.engine, expire_on_commit=False) as session:
        meter, october = _flat_with_history(session)
        assert october.value is not None
        [november] = [b for b in _run_and_issue(session, demo_app, clock, "2025-11") if b.unit_id == meter.unit_id]
        assert november.estimated_units == Decimal(120)
        # November's actual read (190 units) is approved after November was billed on the estimate.
        _add_read(session, meter, october.value + 190, clock() - timedelta(hours=1), "2025-11")
        clock.advance(timedelta(days=30))
        _add_read(session, meter, october.value + 340, clock() - timedelta(hours=1), "2025-12")
        session.commit()
        [december] = [b for b in _run_and_issue(session, demo_app, clock, "2025-12") if b.unit_id == meter.unit_id]
        # Nothing lost: the estimate plus its true-up plus December's units are the 340 units actually used,
        # and November is re-rated on its own late reading: 190 − 120 = 70 units more, December keeps 150.
        assert december.reading_id is not None
        assert Decimal(120) + _trued_up_units(december) + _units_billed(december) == Decimal(340)
        assert (_trued_up_units(december), _units_billed(december)) == (Decimal(70), Decimal(150))
        # Quantities print as the meter shows units, not at the columns' 4 (or products' 8) places.
        assert not [step for step in [*november.trace, *december.trace] if re.search(r"\.\d*0000 units", step)]
        with TestClient(demo_app) as http:
            shown = http.get(f"/api/bills/{november.id}", headers=auth(http, "admin")).json()
        assert shown["estimated_units"] == "120"


def test_the_estimate_cap_counts_estimated_bills_not_readings(demo_app: FastAPI, clock: FixedClock) -> None:
    with Session(demo_app.state.context.engine, expire_on_commit=False) as session:
        meter, october = _flat_with_history(session)
        assert october.value is not None
        used = Decimal(0)
        for period, actual in (("2025-11", 130), ("2025-12", 110)):
            [bill] = [b for b in _run_and_issue(session, demo_app, clock, period) if b.unit_id == meter.unit_id]
            assert bill.estimated_units is not None  # estimated, then its actual read is approved late
            used += actual
            _add_read(session, meter, october.value + used, clock() - timedelta(hours=1), period)
            session.commit()
            clock.advance(timedelta(days=31))
        skipped = _run_only(session, demo_app, clock, "2026-01")
        assert skipped[FLAT]["estimate"] == "consumption.estimate_limit"  # a third estimate in a row: read it

        # The January read trues both estimates up: every unit since October billed once.
        used += 125
        _add_read(session, meter, october.value + used, clock() - timedelta(hours=1), "2026-01")
        session.commit()
        [january] = [b for b in _run_and_issue(session, demo_app, clock, "2026-01") if b.unit_id == meter.unit_id]
        estimates = session.exec(
            select(Bill).where(Bill.unit_id == meter.unit_id, col(Bill.estimated_units).is_not(None))
        ).all()
        billed = sum((b.estimated_units or Decimal(0) for b in estimates), Decimal(0))
        assert billed + _trued_up_units(january) + _units_billed(january) == used
        assert _units_billed(january) == Decimal(125)  # November and December re-rated on their late reads
        assert _trued_up_units(january) == Decimal(130 + 110) - billed
