"""An account's ledger (charges positive, payments and credits negative): balances, payments, bill statuses.

Arrears are the ledger balance, never a field copied between bills (docs/domain.md). A payment larger than what is
owed leaves a negative balance: a credit the next bill uses up, never lost.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Integer
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from shared_billing.late_payment import LatePaymentPolicy, late_payment_surcharge
from sync_server.billing.payment_plans import keeps_current
from sync_server.config import Settings
from sync_server.models import (
    AuditEvent,
    Bill,
    BillNote,
    BillStatus,
    LedgerEntry,
    LedgerEntryKind,
    NoteKind,
    Payment,
    PaymentMode,
    Unit,
    User,
)
from sync_server.notifications.enqueue import enqueue_payment
from sync_server.problems import Problem
from sync_server.sql import one_of

__all__ = ["add_note", "balance", "balances", "bill_status", "outstanding", "record_payment", "refresh_statuses"]

OPEN_STATUSES = (BillStatus.ISSUED, BillStatus.PARTLY_PAID, BillStatus.OVERDUE)
_NOTE_ENTRY = {NoteKind.CREDIT: LedgerEntryKind.CREDIT_NOTE, NoteKind.DEBIT: LedgerEntryKind.DEBIT_NOTE}


def balance(session: Session, unit_id: int) -> Decimal:
    return balances(session, [unit_id])[unit_id]


def balances(session: Session, unit_ids: Collection[int]) -> dict[int, Decimal]:
    """Every listed account's balance, in one statement (a bill run's arrears); 0.00 for an empty ledger."""
    # Summed in Python: on SQLite the exact decimals are stored as text, and SQL's SUM would go through floats.
    found = dict.fromkeys(unit_ids, Decimal("0.00"))
    rows = session.execute(
        sa_select(col(LedgerEntry.unit_id), col(LedgerEntry.amount)).where(
            one_of(session, LedgerEntry.unit_id, found, Integer)
        )
    )
    for unit_id, amount in rows:
        found[unit_id] += amount
    return found


def _paid_towards(session: Session, bill: Bill) -> Decimal:
    return sum(session.exec(select(col(Payment.amount)).where(Payment.bill_id == bill.id)).all(), Decimal("0.00"))


def bill_status(session: Session, bill: Bill, today: date) -> BillStatus:
    """Paid when the account owes nothing; otherwise overdue past the due date (unless a payment plan on track
    covers it), partly paid, or issued."""
    if bill.status == BillStatus.DRAFT:
        return BillStatus.DRAFT
    if balance(session, bill.unit_id) <= 0:
        return BillStatus.PAID
    if bill.due_on is not None and today > bill.due_on and not keeps_current(session, bill, today):
        return BillStatus.OVERDUE
    return BillStatus.PARTLY_PAID if _paid_towards(session, bill) > 0 else BillStatus.ISSUED


def _set_status(session: Session, bill: Bill, status: BillStatus, *, actor: User | None, now: datetime) -> bool:
    if bill.status == status:
        return False
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id if actor else None,
            action="bill.status",
            entity="bill",
            entity_id=bill.bill_number or str(bill.id),
            detail={"from": bill.status, "to": status.value},
        )
    )
    bill.status = status
    session.add(bill)
    return True


def refresh_statuses(
    session: Session, *, today: date, now: datetime, actor: User | None = None, unit_id: int | None = None
) -> int:
    """Recompute the status of every open bill (of one account: ``unit_id``); returns how many changed."""
    changed = 0
    query = select(Bill).where(col(Bill.status).in_(OPEN_STATUSES))
    if unit_id is not None:
        query = query.where(Bill.unit_id == unit_id)
    for bill in session.exec(query).all():
        changed += _set_status(session, bill, bill_status(session, bill, today), actor=actor, now=now)
    return changed


def record_payment(
    session: Session,
    *,
    unit_id: int,
    amount: Decimal,
    paid_on: date,
    mode: PaymentMode,
    reference: str | None,
    bill_id: int | None,
    actor: User,
    now: datetime,
    settings: Settings,
) -> Payment:
    """Book a payment against the account (and a bill, when named), and enqueue the consumer's "payment received"
    message in the same transaction; the caller commits.

    ``settings`` are the server's, required: the late fee's rate (``late_fee_annual_percent``), so that no caller
    can silently bill the surcharge at another rate, and the channels a message goes through.
    """
    if amount <= 0:
        raise Problem("payment.invalid_amount", "A payment is a positive amount")
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise Problem("request.not_found", f"No unit {unit_id}")
    bill = session.get(Bill, bill_id) if bill_id is not None else _latest_open_bill(session, unit_id)
    if bill is not None and (bill.unit_id != unit_id or bill.status == BillStatus.DRAFT):
        raise Problem("payment.wrong_bill", "The bill is not an issued bill of this unit")
    owed_before = balance(session, unit_id)
    payment = Payment(
        unit_id=unit_id,
        bill_id=bill.id if bill else None,
        amount=amount,
        paid_on=paid_on,
        mode=mode,
        reference=reference,
        recorded_at=now,
        recorded_by_id=actor.id or 0,
    )
    session.add(payment)
    session.flush()
    session.add(
        LedgerEntry(
            unit_id=unit_id,
            kind=LedgerEntryKind.PAYMENT,
            amount=-amount,
            booked_on=paid_on,
            bill_id=payment.bill_id,
            payment_id=payment.id,
            description=f"Payment ({mode}{', ' + reference if reference else ''})",
            created_at=now,
        )
    )
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            action="payment.recorded",
            entity="payment",
            entity_id=str(payment.id),
            detail={"unit": unit.code, "amount": str(amount), "mode": mode, "bill_id": payment.bill_id},
        )
    )
    session.flush()
    enqueue_payment(session, payment, settings=settings, now=now)
    if bill is not None:
        _charge_late_fee(session, bill, payment, owed_before, settings.late_fee_annual_percent, now)
        _set_status(session, bill, bill_status(session, bill, paid_on), actor=actor, now=now)
    return payment


def _charge_late_fee(
    session: Session, bill: Bill, payment: Payment, owed_before: Decimal, annual_percent: Decimal, now: datetime
) -> None:
    """Paid after the due date: a surcharge on the part of the bill's own charges this payment settles late
    (principal only, never on arrears or earlier surcharges — docs/domain.md "Late payment surcharge")."""
    if bill.due_on is None or payment.paid_on <= bill.due_on:
        return
    principal = min(payment.amount, bill.charges, max(owed_before, Decimal(0)))
    surcharge = late_payment_surcharge(
        principal,
        due_on=bill.due_on,
        paid_on=payment.paid_on,
        policy=LatePaymentPolicy(annual_percent=annual_percent),
    )
    if surcharge.amount <= 0:
        return
    session.add(
        LedgerEntry(
            unit_id=bill.unit_id,
            kind=LedgerEntryKind.LATE_FEE,
            amount=surcharge.amount,
            booked_on=payment.paid_on,
            bill_id=bill.id,
            payment_id=payment.id,
            description=surcharge.explanation[:200],
            created_at=now,
        )
    )


def _latest_open_bill(session: Session, unit_id: int) -> Bill | None:
    return session.exec(
        select(Bill)
        .where(Bill.unit_id == unit_id, col(Bill.status).in_(OPEN_STATUSES))
        .order_by(col(Bill.period).desc())
    ).first()


def add_note(
    session: Session,
    *,
    bill: Bill,
    kind: NoteKind,
    amount: Decimal,
    reason: str,
    actor: User,
    now: datetime,
    today: date,
) -> BillNote:
    """A credit or debit note against an issued bill; the bill itself never changes. Caller commits."""
    if bill.status == BillStatus.DRAFT:
        raise Problem("bill.not_issued", "A draft is corrected by running it again, not by a note")
    signed = -amount if kind == NoteKind.CREDIT else amount
    note = BillNote(
        bill_id=bill.id or 0, kind=kind, amount=signed, reason=reason, created_at=now, created_by_id=actor.id or 0
    )
    session.add(note)
    session.flush()
    session.add(
        LedgerEntry(
            unit_id=bill.unit_id,
            kind=_NOTE_ENTRY[kind],
            amount=signed,
            booked_on=today,
            bill_id=bill.id,
            description=f"{kind.title()} note on {bill.bill_number}: {reason}"[:200],
            created_at=now,
        )
    )
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            action=f"bill.{kind}_note",
            entity="bill",
            entity_id=bill.bill_number or str(bill.id),
            reason=reason,
            detail={"amount": str(signed)},
        )
    )
    session.flush()
    _set_status(session, bill, bill_status(session, bill, today), actor=actor, now=now)
    return note


def outstanding(session: Session, bill: Bill) -> Decimal:
    """What is still owed on the bill's account (never below zero)."""
    return max(balance(session, bill.unit_id), Decimal(0))
