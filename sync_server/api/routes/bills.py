from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter
from sqlmodel import Session, col, select

from shared_billing.api_models import BillLineOut, BillMonthUnits, BillOut, BillRequest, Page, ReviewItem
from shared_billing.api_types import Id, Period
from shared_billing.readings import format_quantity
from sync_server.api.paging import PageQuery, paginate
from sync_server.api.routes.review import review_item
from sync_server.billing import bill_for_reading
from sync_server.billing.documents import usage_history
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.models import Bill, BillStatus, Reading, ReadingStatus, Role, Unit
from sync_server.problems import Problem

router = APIRouter(tags=["billing"])


def _bill_out(session: Session, bill: Bill, *, with_history: bool = False) -> BillOut:
    unit = session.get(Unit, bill.unit_id)
    reading = session.get(Reading, bill.reading_id) if bill.reading_id is not None else None
    assert unit is not None
    assert bill.id is not None
    return BillOut(
        id=bill.id,
        bill_number=bill.bill_number,
        status=bill.status,
        unit_id=bill.unit_id,
        unit_code=unit.code,
        block_id=unit.block_id,
        period=bill.period,
        issued_at=bill.issued_at,
        due_on=bill.due_on,
        charges=bill.charges,
        reading_uuid=reading.uuid if reading is not None else None,
        # Without the column's trailing zeros (120, not 120.0000), like the lines' quantities.
        estimated_units=None if bill.estimated_units is None else Decimal(format_quantity(bill.estimated_units)),
        lines=[BillLineOut.model_validate(line) for line in bill.lines],
        trace=bill.trace,
        total=bill.total,
        round_off=bill.round_off,
        payable=bill.payable,
        created_at=bill.created_at,
        history=[BillMonthUnits(period=m.period, units=m.units) for m in usage_history(session, bill)]
        if with_history
        else None,
    )


@router.get("/readings", **access(Role.ADMIN))
def list_approved_readings(session: SessionDep, status: ReadingStatus = ReadingStatus.APPROVED) -> list[ReviewItem]:
    """Readings by status (approved by default), newest first, for billing."""
    readings = session.exec(
        select(Reading).where(Reading.status == status).order_by(col(Reading.id).desc()).limit(500)
    ).all()
    return [review_item(session, reading) for reading in readings]


@router.post("/bills", status_code=201, **access(Role.ADMIN, errors=(404, 409)))
def create_bill(body: BillRequest, context: ContextDep, session: SessionDep, user: CurrentUser, now: NowDep) -> BillOut:
    """Bill and issue the unit of an approved reading for that reading's period (once per unit and period)."""
    bill = bill_for_reading(session, reading_uuid=body.reading_uuid, actor=user, now=now, settings=context.settings)
    return _bill_out(session, bill)


@router.get("/bills", **access(Role.ADMIN, Role.ACCOUNTANT))
def list_bills(
    session: SessionDep,
    page: PageQuery,
    period: Period | None = None,
    block_id: Id | None = None,
    status: BillStatus | None = None,
) -> Page[BillOut]:
    """Bills, newest first, filtered by period (YYYY-MM), block and status; ``q`` searches the unit code, the bill
    number and the consumer's name (personal data, but bills are for admins and accountants only)."""
    query = select(Bill).join(Unit, col(Unit.id) == col(Bill.unit_id)).order_by(col(Bill.id).desc())
    if period is not None:
        query = query.where(Bill.period == period)
    if block_id is not None:
        query = query.where(Unit.block_id == block_id)
    if status is not None:
        query = query.where(Bill.status == status)
    search = [col(Unit.code), col(Bill.bill_number), col(Unit.consumer_name)]
    rows, total = paginate(session, query, page, search=search)
    return Page[BillOut](
        items=[_bill_out(session, bill) for bill in rows], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/bills/{bill_id}", **access(Role.ADMIN, Role.ACCOUNTANT, errors=(404,)))
def get_bill(bill_id: Id, session: SessionDep) -> BillOut:
    """One bill with its lines, calculation trace and the units of its unit's bills over six months (``history``,
    as on the printed bill)."""
    bill = session.get(Bill, bill_id)
    if bill is None:
        raise Problem("bill.not_found", f"No bill {bill_id}")
    return _bill_out(session, bill, with_history=True)
