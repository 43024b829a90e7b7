"""What a resident may see: their own unit's account, bills and payments, never another unit's.

Every query here is scoped by the resident's ``unit_id``; a bill of another unit, or a draft, is answered exactly as
a bill that does not exist (404), so a resident learns nothing by trying ids. The figures come from their one home:
balances and statuses from ``billing.ledger``, the consumption from ``billing.documents.unit_usage`` (a bill's
``history``), a bill's PDF from ``billing.documents.bill_pdf``.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from shared_billing.api_models import ResidentAccount
from sync_server.billing.ledger import OPEN_STATUSES, balance, bill_status
from sync_server.models import Bill, BillStatus, Block, Payment, Role, Unit, User
from sync_server.problems import Problem

__all__ = ["account", "issued_bills", "own_bill", "own_unit", "payments"]


def own_unit(session: Session, user: User) -> Unit:
    """The resident's unit; 404 ``resident.no_unit`` for a resident account not linked to one."""
    unit = session.get(Unit, user.unit_id) if user.role == Role.RESIDENT and user.unit_id is not None else None
    if unit is None:
        raise Problem("resident.no_unit")
    return unit


def issued_bills(unit_id: int) -> SelectOfScalar[Bill]:
    """The unit's issued bills, newest first (a draft may still change: residents never see one)."""
    return (
        select(Bill)
        .where(Bill.unit_id == unit_id, Bill.status != BillStatus.DRAFT)
        .order_by(col(Bill.period).desc(), col(Bill.id).desc())
    )


def own_bill(session: Session, unit_id: int, bill_id: int) -> Bill:
    """One issued bill of the unit; another unit's bill or a draft is ``bill.not_found``, as a missing one."""
    bill = session.get(Bill, bill_id)
    if bill is None or bill.unit_id != unit_id or bill.status == BillStatus.DRAFT:
        raise Problem("bill.not_found", f"No bill {bill_id}")
    return bill


def payments(unit_id: int) -> SelectOfScalar[Payment]:
    """The payments booked to the unit, newest first."""
    return (
        select(Payment).where(Payment.unit_id == unit_id).order_by(col(Payment.paid_on).desc(), col(Payment.id).desc())
    )


def account(session: Session, unit: Unit, today: date) -> ResidentAccount:
    """The unit's balance (the ledger's), and whether an issued bill is past due with money still owed (the
    ledger's status rule, judged on the society's ``today``)."""
    assert unit.id is not None
    block = session.get(Block, unit.block_id)
    open_bills = session.exec(
        select(Bill).where(Bill.unit_id == unit.id, col(Bill.status).in_(OPEN_STATUSES)).order_by(col(Bill.due_on))
    ).all()
    overdue = [bill for bill in open_bills if bill_status(session, bill, today) == BillStatus.OVERDUE]
    return ResidentAccount(
        unit_id=unit.id,
        unit_code=unit.code,
        block_code=block.code if block is not None else "",
        consumer_name=unit.consumer_name,
        balance=balance(session, unit.id),
        overdue=bool(overdue),
        overdue_since=min((bill.due_on for bill in overdue if bill.due_on is not None), default=None),
    )
