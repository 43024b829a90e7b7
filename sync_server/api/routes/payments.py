from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, StringConstraints
from sqlmodel import col, select

from sync_server.billing.ledger import balance, record_payment
from sync_server.deps import CurrentUser, NowDep, SessionDep, access
from sync_server.models import LedgerEntry, Role, Unit
from sync_server.problems import Problem

router = APIRouter(tags=["payments"])


class PaymentIn(BaseModel):
    unit_id: int
    bill_id: int | None = None
    amount: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
    paid_on: date
    mode: Literal["cash", "upi", "cheque", "bank"]
    reference: Annotated[str, StringConstraints(max_length=64)] | None = None


class PaymentOut(BaseModel):
    id: int
    unit_id: int
    bill_id: int | None
    amount: Decimal
    paid_on: date
    mode: str
    balance: Decimal  # the account's balance after the payment; negative is a credit


class LedgerLine(BaseModel):
    kind: str
    amount: Decimal
    booked_on: date
    description: str
    bill_id: int | None
    created_at: datetime


class Ledger(BaseModel):
    unit_id: int
    unit_code: str
    balance: Decimal
    entries: list[LedgerLine]


@router.post("/payments", status_code=201, **access(Role.ACCOUNTANT, Role.ADMIN))
def create_payment(body: PaymentIn, session: SessionDep, user: CurrentUser, now: NowDep) -> PaymentOut:
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


@router.get("/accounts/{unit_id}/ledger", **access(Role.ACCOUNTANT, Role.ADMIN))
def ledger(unit_id: int, session: SessionDep) -> Ledger:
    """An account's ledger, oldest first, and its balance (positive: owed; negative: credit)."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise Problem(404, "request.not_found", f"No unit {unit_id}")
    entries = session.exec(
        select(LedgerEntry).where(LedgerEntry.unit_id == unit_id).order_by(col(LedgerEntry.id))
    ).all()
    return Ledger(
        unit_id=unit_id,
        unit_code=unit.code,
        balance=balance(session, unit_id),
        entries=[LedgerLine.model_validate(entry, from_attributes=True) for entry in entries],
    )
