"""A bill run prices a batch of units from facts fetched once and issues in bulk: the same bills as one by one.

The reference is the per-unit path on the same database: the run with every unit priced ``alone`` (each unit's
reading, base and tariff looked up by ``price_reading``, the path of ``POST /api/bills``), and ``issue_bill`` bill
by bill in a transaction that is rolled back. On SQLite and PostgreSQL (the ``demo_app`` fixture).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, delete, insert, update
from sqlmodel import Session, col, select

from sync_server.audit import chain_key, seal_pending, verify_chain
from sync_server.billing import runs
from sync_server.billing.compute import (
    BilledRow,
    BlockFacts,
    MeterDials,
    UnitTerms,
    approved_in_period,
    block_facts,
    last_actual_bill,
    later_bill,
    open_estimates,
    previous_approved,
)
from sync_server.billing.issue import issue_bill, run_drafts
from sync_server.config import Settings
from sync_server.models import (
    AuditEvent,
    Bill,
    BillRun,
    BillStatus,
    Block,
    LedgerEntry,
    LedgerEntryKind,
    Meter,
    Reading,
    ReadingSource,
    ReadingStatus,
    ReadType,
    RunStatus,
    Unit,
    User,
)
from sync_server.sql import table_of
from tests.sync_server.factories import NOW

PERIOD = NOW.strftime("%Y-%m")
BATCH = 4  # units per batch in these tests: every block spans several batches
_DRAFT_COLUMNS = ("reading_id", "estimated_units", "tariff_id", "lines", "trace", "total", "round_off", "payable")
_ISSUED_COLUMNS = (*_DRAFT_COLUMNS, "status", "bill_number", "issued_at", "due_on", "charges")


@pytest.fixture
def engine(demo_app: FastAPI) -> Engine:
    engine: Engine = demo_app.state.context.engine
    return engine


@pytest.fixture
def admin(engine: Engine) -> User:
    with Session(engine, expire_on_commit=False) as session:
        return session.exec(select(User).where(User.username == "admin")).one()


def _blocks(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return [b for b in session.exec(select(Block.id).order_by(col(Block.code))) if b is not None]


def _seed_month(engine: Engine, admin: User) -> None:
    """This month read on every unit meter with none: mostly a plain rise (some alike), some drops (refused and
    flagged), some waiting for review, some not read (estimated or refused); opening balances and credits as
    arrears."""
    at = NOW - timedelta(hours=1)
    readings: list[dict[str, Any]] = []
    balances: list[dict[str, Any]] = []
    tenths: list[int] = []  # meters showing a decimal: their units print as 53.0, not 53, however equal
    with Session(engine) as session:
        for block_id in _blocks(engine):
            for index, (unit, meter) in enumerate(runs._units_of_block(session, block_id, PERIOD)):
                assert unit.id is not None
                assert meter.id is not None
                if index % 2:
                    tenths.append(meter.id)
                if index % 3:
                    owed = Decimal("-150.00") if index % 3 == 2 else Decimal("412.37") + index
                    balances.append(_opening(unit.id, owed))
                previous = previous_approved(session, meter.id, PERIOD)
                if index % 11 == 7 or previous is None or previous.value is None:
                    continue  # not read this month
                if approved_in_period(session, meter.id, PERIOD) is not None:
                    continue  # the demo read it already
                # A few consumptions repeat: units on the same terms share a priced bill (``BlockFacts.priced``).
                value = previous.value - 5 if index % 11 == 3 else previous.value + 40 + 13 * (index % 5)
                status = ReadingStatus.SUBMITTED if index % 11 == 5 else ReadingStatus.APPROVED
                readings.append(_reading(meter.id, value, status, admin, at))
    with engine.begin() as connection:
        connection.execute(insert(table_of(Reading)), readings)
        connection.execute(insert(table_of(LedgerEntry)), balances)
        connection.execute(update(table_of(Meter)).where(table_of(Meter).c.id.in_(tenths)).values(decimals=1))


def _reading(meter_id: int, value: Decimal, status: ReadingStatus, admin: User, at: Any) -> dict[str, Any]:
    return {
        "uuid": uuid.uuid4(),
        "meter_id": meter_id,
        "engineer_id": admin.id,
        "read_type": ReadType.ACTUAL,
        "value_text": str(int(value)),
        "value": Decimal(int(value)),
        "captured_at": at,
        "received_at": at,
        "period": PERIOD,
        "photo_required": False,
        "source": ReadingSource.SEED,
        "status": status,
        "decided_by_id": admin.id if status == ReadingStatus.APPROVED else None,
        "decided_at": at if status == ReadingStatus.APPROVED else None,
    }


def _opening(unit_id: int, amount: Decimal) -> dict[str, Any]:
    return {
        "unit_id": unit_id,
        "kind": LedgerEntryKind.OPENING,
        "amount": amount,
        "booked_on": (NOW - timedelta(days=40)).date(),
        "bill_id": None,
        "payment_id": None,
        "description": "Opening balance",
        "created_at": NOW - timedelta(days=40),
    }


def _run(engine: Engine, admin: User, block_id: int) -> BillRun:
    with Session(engine, expire_on_commit=False) as session:
        run = runs.start_run(session, block_id=block_id, period=PERIOD, actor=admin, now=NOW)
    assert run.id is not None
    done = runs.execute_run(engine, run.id, clock=lambda: NOW)
    assert done.status == RunStatus.DONE, done.error
    return done


def _all_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-unit path: every unit priced by ``price_reading``, one look-up after another."""
    facts_of = block_facts

    def alone(session: Session, units: Sequence[tuple[UnitTerms, MeterDials]], period: str) -> BlockFacts:
        every = frozenset(unit.id for unit, _ in units if unit.id is not None)
        return dataclasses.replace(facts_of(session, units, period), alone=every)

    monkeypatch.setattr(runs, "block_facts", alone)


def _bills(engine: Engine, run_id: int, columns: Sequence[str]) -> dict[str, dict[str, Any]]:
    with Session(engine) as session:
        rows = session.exec(
            select(Bill, Unit.code).join(Unit, col(Unit.id) == col(Bill.unit_id)).where(Bill.run_id == run_id)
        ).all()
        return {code: {name: getattr(bill, name) for name in columns} for bill, code in rows}


def _outcome(run: BillRun) -> tuple[int, list[dict[str, Any]]]:
    return run.created, sorted(run.skipped, key=lambda skip: str(skip["unit"]))


def _per_unit_then_batched(engine: Engine, admin: User, block_id: int, monkeypatch: pytest.MonkeyPatch) -> BillRun:
    """Draft the block one unit at a time, keep what it made, take the drafts away again, then run it batched:
    the two must agree bill by bill and skip by skip."""
    with monkeypatch.context() as patch:
        _all_alone(patch)
        reference = _run(engine, admin, block_id)
    assert reference.id is not None
    expected = _bills(engine, reference.id, _DRAFT_COLUMNS)
    with engine.begin() as connection:
        connection.execute(delete(table_of(Bill)).where(table_of(Bill).c.run_id == reference.id))
    monkeypatch.setattr(runs, "PROGRESS_EVERY", BATCH)
    batched = _run(engine, admin, block_id)
    assert batched.id is not None
    assert _bills(engine, batched.id, _DRAFT_COLUMNS) == expected
    assert _outcome(batched) == _outcome(reference)
    assert batched.processed == batched.total_units
    return batched


def _issue_one_by_one(engine: Engine, admin: User, run_id: int, settings: Settings) -> dict[str, dict[str, Any]]:
    """``issue_bill`` for each draft in unit order, read back, then rolled back: what issuing alone makes."""
    with Session(engine) as session:
        for draft in run_drafts(session, run_id):
            bill = session.get(Bill, draft.id)
            assert bill is not None
            issue_bill(session, bill, actor=admin, now=NOW, settings=settings)
        session.flush()
        made = _issued_facts(session, run_id)
        session.rollback()
    return made


def _issued_facts(session: Session, run_id: int) -> dict[str, dict[str, Any]]:
    """Each issued bill's columns, its ledger charge and its event's arrears, by unit code."""
    found: dict[str, dict[str, Any]] = {}
    rows = session.exec(
        select(Bill, Unit.code).join(Unit, col(Unit.id) == col(Bill.unit_id)).where(Bill.run_id == run_id)
    ).all()
    for bill, code in rows:
        charge = session.exec(select(LedgerEntry).where(LedgerEntry.bill_id == bill.id)).one()
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "bill.issued", AuditEvent.entity_id == bill.bill_number)
        ).one()
        found[code] = {
            **{name: getattr(bill, name) for name in _ISSUED_COLUMNS},
            "charge": (charge.kind, charge.amount, charge.booked_on, charge.description),
            "event": (event.actor_id, event.entity, event.detail),
        }
    return found


def test_a_batched_run_drafts_and_issues_the_bills_of_the_per_unit_path(
    engine: Engine, admin: User, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed_month(engine, admin)
    drafted = 0
    for block_id in _blocks(engine):
        run = _per_unit_then_batched(engine, admin, block_id, monkeypatch)
        assert run.id is not None
        drafted += run.created
        expected = _issue_one_by_one(engine, admin, run.id, settings)
        with Session(engine) as session:
            issued = runs.issue_run(session, run.id, actor=admin, now=NOW, settings=settings)
            session.commit()
            assert len(issued) == run.created
            assert _issued_facts(session, run.id) == expected
    assert drafted > 20  # the comparison covered plenty of bills, not a block of refusals
    # Every kind of outcome was compared: arrears and credits carried, refusals, awaiting review.
    with Session(engine) as session:
        arrears = {Decimal(e.detail["arrears"]) for e in session.exec(select(AuditEvent)) if "arrears" in e.detail}
        assert {Decimal(0), Decimal(1)} <= {a.compare(Decimal(0)) for a in arrears}
        assert Decimal(-1) in {a.compare(Decimal(0)) for a in arrears}
        skips = {s["code"] for r in session.exec(select(BillRun)) for s in r.skipped}
        assert {"reading.below_previous", "bill.reading_awaiting_review"} <= skips


def test_bulk_issue_numbers_consecutively_once_and_the_audit_chain_verifies(
    engine: Engine, admin: User, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed_month(engine, admin)
    monkeypatch.setattr(runs, "PROGRESS_EVERY", BATCH)
    numbers: list[str] = []
    for block_id in _blocks(engine):
        run = _run(engine, admin, block_id)
        assert run.id is not None
        with Session(engine) as session:
            issued = [b.bill_number for b in runs.issue_run(session, run.id, actor=admin, now=NOW, settings=settings)]
            session.commit()
        with Session(engine) as session:
            again = runs.issue_run(session, run.id, actor=admin, now=NOW, settings=settings)  # a retry: nothing new
            assert [b.bill_number for b in again] == issued
            session.commit()
        numbers += [number or "" for number in issued]
    assert len(numbers) > 20
    # One financial year: FM/2526/000001, 000002, ... with no gap and no number twice, in issuing order.
    assert [int(n.rsplit("/", 1)[1]) for n in numbers] == list(range(1, len(numbers) + 1))
    with Session(engine) as session:
        charged = session.exec(select(LedgerEntry.bill_id).where(LedgerEntry.kind == LedgerEntryKind.CHARGE)).all()
        events = session.exec(select(AuditEvent.entity_id).where(AuditEvent.action == "bill.issued")).all()
    assert len(charged) == len(set(charged)) == len(numbers)
    assert sorted(events) == sorted(numbers)
    key = chain_key("a test key, not the server's")
    assert seal_pending(engine, key) > len(numbers)
    report = verify_chain(engine, key)
    assert report.intact, report.message
    assert report.unsealed == 0


def _past_bill(unit_id: int, period: str, admin: User, tariff_id: int, reading_id: int | None) -> dict[str, Any]:
    """A draft for ``period``: on a reading (actual) or on an estimate (``reading_id`` None)."""
    money = Decimal("100.00")
    return {
        "status": BillStatus.DRAFT,
        "unit_id": unit_id,
        "period": period,
        "reading_id": reading_id,
        "estimated_units": None if reading_id is not None else Decimal(50),
        "tariff_id": tariff_id,
        "lines": [],
        "trace": [],
        "total": money,
        "round_off": Decimal("0.00"),
        "payable": money,
        "created_at": NOW,
        "created_by_id": admin.id,
    }


def test_a_batch_reads_the_bills_pricing_needs_and_not_the_settled_past(engine: Engine, admin: User) -> None:
    # Two units' years before the demo: one read in 2019-01 and 2019-03 with estimates between and after; one only
    # ever estimated. Billing 2019-06, a batch must agree with the one-unit look-ups and skip what is settled.
    history = {
        0: [("2019-01", True), ("2019-02", False), ("2019-03", True), ("2019-04", False), ("2019-05", False)],
        1: [("2019-02", False), ("2019-04", False), ("2019-07", False)],
    }
    with Session(engine) as session:
        pairs = runs._units_of_block(session, _blocks(engine)[0], "2019-06")[:2]
        tariff_id = pairs[0][0].tariff_id
    assert tariff_id is not None
    bills: list[dict[str, Any]] = []
    with engine.begin() as connection:
        for index, (unit, meter) in enumerate(pairs):
            for period, actual in history[index]:
                reading_id = None
                if actual:
                    row = {**_reading(meter.id, Decimal(100), ReadingStatus.APPROVED, admin, NOW), "period": period}
                    added = insert(table_of(Reading)).values(row).returning(table_of(Reading).c.id)
                    reading_id = connection.execute(added).scalar_one()
                bills.append(_past_bill(unit.id, period, admin, tariff_id, reading_id))
        connection.execute(insert(table_of(Bill)), bills)
    with Session(engine) as session:
        facts = block_facts(session, pairs, "2019-06")
        for unit, _meter in pairs:
            read = [row.period for row in facts.bills[unit.id]]
            last = last_actual_bill(session, unit.id, "2019-06")
            expected = [last.period] if last is not None else []
            expected += [bill.period for bill in open_estimates(session, unit.id, "2019-06")]
            expected += list(session.exec(select(Bill.period).where(Bill.unit_id == unit.id, Bill.period >= "2019-06")))
            assert read == sorted(expected)
            assert unit.id in facts.alone  # both have estimates to true up: priced one by one
            later = later_bill(session, unit.id, "2019-06")
            assert facts.later(unit.id) == (None if later is None else _billed_row(later))
    assert [row.period for row in facts.bills[pairs[0][0].id]][:3] == ["2019-03", "2019-04", "2019-05"]
    assert [row.period for row in facts.bills[pairs[1][0].id]][:3] == ["2019-02", "2019-04", "2019-07"]


def _billed_row(bill: Bill) -> BilledRow:
    assert bill.id is not None
    return BilledRow(
        bill.id, bill.unit_id, bill.period, bill.reading_id, bill.estimated_units is not None, bill.status, bill.run_id
    )
