from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter
from sqlmodel import Session, col, select

from shared_billing.api_models import BulkPaid, BulkResult, Ledger, LedgerLine, NoteIn, NoteOut, PaymentIn, PaymentOut
from shared_billing.api_types import Id
from sync_server.billing.ledger import add_note, balance, outstanding, record_payment
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.models import Bill, BillStatus, LedgerEntry, Role, Unit
from sync_server.problems import Problem

router = APIRouter(tags=["payments"])


@router.post("/payments", status_code=201, **access(Role.ACCOUNTANT, Role.ADMIN, errors=(404, 409)))
def create_payment(
    body: PaymentIn, context: ContextDep, session: SessionDep, user: CurrentUser, now: NowDep
) -> PaymentOut:
    """Record a payment (date and mode); more than is owed stays on the account as a credit."""
    payment = record_payment(
        session,
        unit_id=body.unit_id,
        amount=body.amount,
        paid_on=body.paid_on,
        mode=body.mode,
        reference=body.reference,
        bill_id=body.bill_id,
        actor=user,
        now=now,
        settings=context.settings,
    )
    session.commit()
    assert payment.id is not None
    return PaymentOut(
        id=payment.id,
        unit_id=payment.unit_id,
        bill_id=payment.bill_id,
        amount=payment.amount,
        paid_on=payment.paid_on,
        mode=payment.mode,
        balance=balance(session, payment.unit_id),
    )


def _bill(session: Session, bill_id: int) -> Bill:
    bill = session.get(Bill, bill_id)
    if bill is None:
        raise Problem("bill.not_found", f"No bill {bill_id}")
    return bill


@router.post("/bills/{bill_id}/notes", status_code=201, **access(Role.ADMIN, errors=(404, 409)))
def create_note(
    bill_id: Id, body: NoteIn, context: ContextDep, session: SessionDep, user: CurrentUser, now: NowDep
) -> NoteOut:
    """Correct an issued bill with a credit or debit note (the bill itself stays as issued)."""
    bill = _bill(session, bill_id)
    note = add_note(
        session,
        bill=bill,
        kind=body.kind,
        amount=body.amount,
        reason=body.reason,
        actor=user,
        now=now,
        today=now.astimezone(context.settings.tz).date(),
    )
    session.commit()
    assert note.id is not None
    return NoteOut(
        id=note.id,
        bill_id=bill_id,
        kind=note.kind,
        amount=note.amount,
        reason=note.reason,
        balance=balance(session, bill.unit_id),
    )


@router.post("/bills/mark-paid", **access(Role.ACCOUNTANT, Role.ADMIN))
def mark_paid(body: BulkPaid, context: ContextDep, session: SessionDep, user: CurrentUser, now: NowDep) -> BulkResult:
    """Mark many bills paid at once: each records a payment of what its account still owes."""
    result = BulkResult(paid=[], skipped=[])
    for bill_id in body.bill_ids:
        bill = session.get(Bill, bill_id)
        owed = outstanding(session, bill) if bill is not None else Decimal(0)
        if bill is None or bill.status == BillStatus.DRAFT or owed <= 0:
            reason = (
                "bill.not_found"
                if bill is None
                else "bill.not_issued"
                if bill.status == BillStatus.DRAFT
                else "bill.nothing_owed"
            )
            result.skipped.append({"bill_id": bill_id, "code": reason})
            continue
        record_payment(
            session,
            unit_id=bill.unit_id,
            amount=owed,
            paid_on=body.paid_on,
            mode=body.mode,
            reference=body.reference,
            bill_id=bill.id,
            actor=user,
            now=now,
            settings=context.settings,
        )
        result.paid.append(bill_id)
    session.commit()
    return result


@router.get("/accounts/{unit_id}/ledger", **access(Role.ACCOUNTANT, Role.ADMIN, errors=(404,)))
def ledger(unit_id: Id, session: SessionDep) -> Ledger:
    """An account's ledger, oldest first, and its balance (positive: owed; negative: credit)."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise Problem("request.not_found", f"No unit {unit_id}")
    entries = session.exec(
        select(LedgerEntry).where(LedgerEntry.unit_id == unit_id).order_by(col(LedgerEntry.id))
    ).all()
    return Ledger(
        unit_id=unit_id,
        unit_code=unit.code,
        balance=balance(session, unit_id),
        entries=[LedgerLine.model_validate(entry, from_attributes=True) for entry in entries],
    )
