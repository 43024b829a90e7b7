"""Issuing bills: numbered, dated, charged to the ledger, and from then on immutable."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlmodel import Session

from shared_billing.bill_lines import ledger_charge
from sync_server.billing.compute import apply_result, next_bill_number, price_reading, unit_meter
from sync_server.billing.estimates import price_estimate
from sync_server.billing.ledger import balance
from sync_server.config import Settings
from sync_server.models import (
    AuditEvent,
    Bill,
    BillStatus,
    LedgerEntry,
    LedgerEntryKind,
    Reading,
    Unit,
    User,
)
from sync_server.problems import Problem
from sync_server.sql import table_of

__all__ = ["claim_draft", "issue_bill"]


def claim_draft(session: Session, bill_id: int) -> bool:
    """Compare-and-set draft → issued; True for the one transaction that made the change.

    The ``WHERE status = 'draft'`` is re-checked by the database after waiting for a concurrent issuer: on
    PostgreSQL the row lock holds the second ``UPDATE`` until the first transaction ends, then it matches no
    row; on SQLite the write lock serializes the two and the second finds the row issued. So a bill is charged
    and numbered exactly once however many requests issue it at the same time.
    """
    bills = table_of(Bill)
    claimed = session.execute(
        update(bills).where(bills.c.id == bill_id, bills.c.status == BillStatus.DRAFT).values(status=BillStatus.ISSUED)
    )
    return cast(CursorResult[Any], claimed).rowcount == 1


def issue_bill(session: Session, bill: Bill, *, actor: User, now: datetime, settings: Settings) -> Bill:
    """Price the draft again with the account's balance as arrears, number it, and charge it; caller commits.

    ``bill.already_issued`` (409) when the bill is issued already, also when a concurrent transaction issued it
    first (``claim_draft``); nothing is then numbered or charged.
    """
    assert bill.id is not None
    if bill.status != BillStatus.DRAFT or not claim_draft(session, bill.id):
        raise Problem("bill.already_issued", f"Bill {bill.bill_number or bill.id} is issued and cannot change")
    arrears = balance(session, bill.unit_id)
    if bill.reading_id is None:  # billed on an estimate: the same units, now with the account's arrears
        unit = session.get(Unit, bill.unit_id)
        assert unit is not None
        meter = unit_meter(session, bill.unit_id)
        assert meter is not None
        how = tuple(bill.trace[:1])  # the draft's "average of the last months" explanation
        priced = price_estimate(
            session, unit, meter, bill.period, arrears=arrears, units=bill.estimated_units, notes=how
        )
    else:
        reading = session.get(Reading, bill.reading_id)
        assert reading is not None
        priced = price_reading(session, reading, arrears=arrears)
    apply_result(bill, priced)
    issued_on = now.astimezone(settings.tz).date()
    bill.bill_number = next_bill_number(session, bill.period)
    bill.status = BillStatus.ISSUED
    bill.issued_at = now
    bill.due_on = issued_on + timedelta(days=settings.bill_due_days)
    # The ledger is charged what this bill adds (payable − arrears); the payable also shows the arrears already on it.
    bill.charges = ledger_charge(priced.result.lines)
    session.add(bill)
    session.add(
        LedgerEntry(
            unit_id=bill.unit_id,
            kind=LedgerEntryKind.CHARGE,
            amount=bill.charges,
            booked_on=issued_on,
            bill_id=bill.id,
            description=f"Bill {bill.bill_number} for {bill.period}",
            created_at=now,
        )
    )
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            action="bill.issued",
            entity="bill",
            entity_id=bill.bill_number,
            detail={
                "unit_id": bill.unit_id,
                "period": bill.period,
                "payable": str(bill.payable),
                "arrears": str(arrears),
            },
        )
    )
    return bill
