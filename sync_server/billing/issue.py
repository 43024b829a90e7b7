"""Issuing bills: numbered, dated, charged to the ledger, and from then on immutable.

One bill (``issue_bill``) or a run's batch (``issue_drafts``) go through the same steps: price the draft again
with the account's balance as arrears, number it, charge the ledger, record the event. A batch takes its
balances in one statement, its numbers in one counter update, and writes its bills, charges and events as
three bulk statements.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, Integer, bindparam, insert, update
from sqlmodel import Session, select

from shared_billing.bill_lines import ledger_charge
from sync_server.billing.compute import (
    BlockFacts,
    PricedReading,
    apply_result,
    next_bill_number,
    next_bill_numbers,
    price_known,
    price_reading,
    unit_meter,
)
from sync_server.billing.estimates import price_estimate
from sync_server.billing.ledger import balance, balances
from sync_server.config import Settings
from sync_server.models import (
    AuditEvent,
    Bill,
    BillStatus,
    LedgerEntry,
    LedgerEntryKind,
    Meter,
    Reading,
    Unit,
    User,
)
from sync_server.problems import Problem
from sync_server.sql import one_of, table_of

__all__ = ["claim_draft", "claim_drafts", "issue_bill", "issue_drafts"]

# A reading bill's price from its reading and arrears: ``price_reading``, or from a batch's facts.
Pricer = Callable[[Reading, Decimal], PricedReading]


def claim_draft(session: Session, bill_id: int) -> bool:
    """Compare-and-set draft → issued; True for the one transaction that made the change.

    The ``WHERE status = 'draft'`` is re-checked by the database after waiting for a concurrent issuer: on
    PostgreSQL the row lock holds the second ``UPDATE`` until the first transaction ends, then it matches no
    row; on SQLite the write lock serializes the two and the second finds the row issued. So a bill is charged
    and numbered exactly once however many requests issue it at the same time.
    """
    return bool(claim_drafts(session, [bill_id]))


def claim_drafts(session: Session, bill_ids: Sequence[int]) -> set[int]:
    """``claim_draft`` for many bills in one statement: the ids this transaction moved from draft to issued
    (the same re-check after a concurrent issuer's row locks, bill by bill)."""
    if not bill_ids:
        return set()
    bills = table_of(Bill)
    claimed = session.execute(
        update(bills)
        .where(one_of(session, bills.c.id, bill_ids, Integer), bills.c.status == BillStatus.DRAFT)
        .values(status=BillStatus.ISSUED)
        .returning(bills.c.id)
    )
    return set(cast(CursorResult[Any], claimed).scalars())


def issue_bill(session: Session, bill: Bill, *, actor: User, now: datetime, settings: Settings) -> Bill:
    """Price the draft again with the account's balance as arrears, number it, and charge it; caller commits.

    ``bill.already_issued`` (409) when the bill is issued already, also when a concurrent transaction issued it
    first (``claim_draft``); nothing is then numbered or charged.
    """
    assert bill.id is not None
    if bill.status != BillStatus.DRAFT or not claim_draft(session, bill.id):
        raise Problem("bill.already_issued", f"Bill {bill.bill_number or bill.id} is issued and cannot change")
    arrears = balance(session, bill.unit_id)
    reading = session.get(Reading, bill.reading_id) if bill.reading_id is not None else None
    priced = _price_again(
        session, bill, reading, arrears, lambda read, owed: price_reading(session, read, arrears=owed)
    )
    charge, event = _issue(bill, priced, next_bill_number(session, bill.period), arrears, actor, now, settings)
    session.add(bill)
    session.add(LedgerEntry(**charge))
    session.add(AuditEvent(**event))
    return bill


def issue_drafts(
    session: Session,
    bills: Sequence[Bill],
    facts: BlockFacts,
    units: dict[int, tuple[Unit, Meter]],
    *,
    actor: User,
    now: datetime,
    settings: Settings,
) -> None:
    """Issue claimed drafts of one period (``claim_drafts``), numbered in the order given; caller commits.
    The objects are detached from the session: read the issued bills again.

    ``facts`` and ``units`` (unit id → unit and its meter in service) are the block's, so most bills are priced
    with no statement; a bill whose unit is ``facts.alone`` or whose reading is not its unit's meter's is
    priced by ``price_reading`` alone.
    """
    if not bills:
        return
    for bill in bills:  # written below as rows: the session must not flush the objects a second time
        session.expunge(bill)
    arrears = balances(session, {bill.unit_id for bill in bills})
    readings = _readings(session, [bill.reading_id for bill in bills if bill.reading_id is not None])

    def pricer(bill: Bill) -> Pricer:
        unit, meter = units.get(bill.unit_id, (None, None))
        if unit is None or meter is None or bill.unit_id in facts.alone:
            return _by_reading(session)
        return lambda reading, owed: (
            price_known(session, facts, unit, meter, reading, arrears=owed)
            if reading.meter_id == meter.id
            else _by_reading(session)(reading, owed)
        )

    priced = [
        _price_again(session, bill, readings.get(bill.reading_id or 0), arrears[bill.unit_id], pricer(bill))
        for bill in bills
    ]
    numbers = next_bill_numbers(session, bills[0].period, len(bills))
    written = [
        _issue(bill, price, number, arrears[bill.unit_id], actor, now, settings)
        for bill, price, number in zip(bills, priced, numbers, strict=True)
    ]
    _write_bills(session, bills)
    session.execute(insert(table_of(LedgerEntry)), [charge for charge, _ in written])
    session.execute(insert(table_of(AuditEvent)), [event for _, event in written])


def _by_reading(session: Session) -> Pricer:
    return lambda reading, owed: price_reading(session, reading, arrears=owed)


def _readings(session: Session, reading_ids: list[int]) -> dict[int, Reading]:
    query = select(Reading).where(one_of(session, Reading.id, reading_ids, Integer))
    return {reading.id: reading for reading in session.exec(query) if reading.id is not None}


def _price_again(
    session: Session, bill: Bill, reading: Reading | None, arrears: Decimal, pricer: Pricer
) -> PricedReading:
    """The draft priced again as it is issued: the same units, now with the account's arrears."""
    if bill.reading_id is None:  # billed on an estimate
        unit = session.get(Unit, bill.unit_id)
        assert unit is not None
        meter = unit_meter(session, bill.unit_id)
        assert meter is not None
        how = tuple(bill.trace[:1])  # the draft's "average of the last months" explanation
        return price_estimate(session, unit, meter, bill.period, arrears=arrears, units=bill.estimated_units, notes=how)
    assert reading is not None
    return pricer(reading, arrears)


def _issue(
    bill: Bill,
    priced: PricedReading,
    number: str,
    arrears: Decimal,
    actor: User,
    now: datetime,
    settings: Settings,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set the issued fields on the bill; its ledger charge and audit event, as rows."""
    apply_result(bill, priced)
    issued_on = now.astimezone(settings.tz).date()
    bill.bill_number = number
    bill.status = BillStatus.ISSUED
    bill.issued_at = now
    bill.due_on = issued_on + timedelta(days=settings.bill_due_days)
    # The ledger is charged what this bill adds (payable − arrears); the payable also shows the arrears already on it.
    bill.charges = ledger_charge(priced.result.lines)
    charge = {
        "unit_id": bill.unit_id,
        "kind": LedgerEntryKind.CHARGE,
        "amount": bill.charges,
        "booked_on": issued_on,
        "bill_id": bill.id,
        "payment_id": None,
        "description": f"Bill {bill.bill_number} for {bill.period}",
        "created_at": now,
    }
    event = {
        "at": now,
        "actor_id": actor.id,
        "action": "bill.issued",
        "entity": "bill",
        "entity_id": bill.bill_number,
        "reason": None,
        "detail": {
            "unit_id": bill.unit_id,
            "period": bill.period,
            "payable": str(bill.payable),
            "arrears": str(arrears),
        },
    }
    return charge, event


# What issuing changes on a bill, written for a batch as one executemany UPDATE by id.
_ISSUED_COLUMNS = (
    "status",
    "bill_number",
    "issued_at",
    "due_on",
    "charges",
    "tariff_id",
    "lines",
    "trace",
    "total",
    "round_off",
    "payable",
)


def _write_bills(session: Session, bills: Sequence[Bill]) -> None:
    table = table_of(Bill)
    rows = [{"bill_id": bill.id, **{name: getattr(bill, name) for name in _ISSUED_COLUMNS}} for bill in bills]
    session.execute(
        update(table)
        .where(table.c.id == bindparam("bill_id"))
        .values({name: bindparam(name) for name in _ISSUED_COLUMNS}),
        rows,
    )
