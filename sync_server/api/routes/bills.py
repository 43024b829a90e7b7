from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import Session, col, select

from sync_server.api.routes.review import ReviewItem, review_item
from sync_server.billing import bill_for_reading
from sync_server.deps import CurrentUser, NowDep, SessionDep, access
from sync_server.models import Bill, Reading, ReadingStatus, Role, Unit
from sync_server.problems import Problem

router = APIRouter(tags=["billing"])


class BillRequest(BaseModel):
    reading_uuid: UUID


class BillLineOut(BaseModel):
    code: str
    description: str
    quantity: Decimal
    rate: Decimal | None
    amount: Decimal


class BillOut(BaseModel):
    id: int
    bill_number: str
    unit_code: str
    period: str
    reading_uuid: UUID
    lines: list[BillLineOut]
    trace: list[str]
    total: Decimal
    round_off: Decimal
    payable: Decimal
    created_at: datetime


def _bill_out(session: Session, bill: Bill) -> BillOut:
    unit = session.get(Unit, bill.unit_id)
    reading = session.get(Reading, bill.reading_id)
    assert unit is not None
    assert reading is not None
    assert bill.id is not None
    return BillOut(
        id=bill.id,
        bill_number=bill.bill_number,
        unit_code=unit.code,
        period=bill.period,
        reading_uuid=reading.uuid,
        lines=[BillLineOut.model_validate(line) for line in bill.lines],
        trace=bill.trace,
        total=bill.total,
        round_off=bill.round_off,
        payable=bill.payable,
        created_at=bill.created_at,
    )


@router.get("/readings", **access(Role.ADMIN))
def list_approved_readings(session: SessionDep, status: ReadingStatus = ReadingStatus.APPROVED) -> list[ReviewItem]:
    """Readings by status (approved by default), newest first, for billing."""
    readings = session.exec(
        select(Reading).where(Reading.status == status).order_by(col(Reading.id).desc()).limit(500)
    ).all()
    return [review_item(session, reading) for reading in readings]


@router.post("/bills", status_code=201, **access(Role.ADMIN))
def create_bill(body: BillRequest, session: SessionDep, user: CurrentUser, now: NowDep) -> BillOut:
    """Bill the unit of an approved reading for that reading's period (once per unit and period)."""
    bill = bill_for_reading(session, reading_uuid=body.reading_uuid, actor=user, now=now)
    return _bill_out(session, bill)


@router.get("/bills", **access(Role.ADMIN))
def list_bills(session: SessionDep, period: str | None = None) -> list[BillOut]:
    """Bills, newest first, optionally for one period (YYYY-MM)."""
    query = select(Bill).order_by(col(Bill.id).desc())
    if period is not None:
        query = query.where(Bill.period == period)
    return [_bill_out(session, bill) for bill in session.exec(query.limit(500)).all()]


@router.get("/bills/{bill_id}", **access(Role.ADMIN))
def get_bill(bill_id: int, session: SessionDep) -> BillOut:
    """One bill with its lines and calculation trace."""
    bill = session.get(Bill, bill_id)
    if bill is None:
        raise Problem(404, "request.not_found", f"No bill {bill_id}")
    return _bill_out(session, bill)
