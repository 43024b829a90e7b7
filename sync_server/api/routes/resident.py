"""A resident's own account (``/api/me/...``): their unit, its issued bills and their PDFs, payments, balance and
consumption. Residents only; each route is scoped to the caller's unit (``sync_server.resident``), and an id of
another unit's bill is 404, never 403, so ids say nothing about other units."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlmodel import Session, col, select

from shared_billing.api_models import (
    BillMonthUnits,
    BillOut,
    DownloadLink,
    Page,
    ResidentAccount,
    ResidentConsumption,
    ResidentPayment,
)
from shared_billing.api_types import Id
from sync_server.api.paging import PageQuery, paginate
from sync_server.api.routes.bills import _bill_out
from sync_server.billing.documents import bill_pdf, unit_usage
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.models import Bill, Payment, Role, Unit
from sync_server.periods import period_of
from sync_server.resident import account, issued_bills, own_bill, own_unit, payments

router = APIRouter(prefix="/me", tags=["resident"])


def _unit(session: SessionDep, user: CurrentUser) -> Unit:
    return own_unit(session, user)


ResidentUnit = Annotated[Unit, Depends(_unit)]
MonthsParam = Annotated[int, Query(ge=1, le=36, description="How many months, ending with the society's current one")]
_PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}, "description": "The bill's PDF"}}


def _unit_id(unit: Unit) -> int:
    assert unit.id is not None
    return unit.id


@router.get("/account", **access(Role.RESIDENT, errors=(404,)))
def my_account(unit: ResidentUnit, session: SessionDep, context: ContextDep, now: NowDep) -> ResidentAccount:
    """The resident's unit, its balance (positive: owed; negative: credit) and whether a bill is overdue."""
    return account(session, unit, now.astimezone(context.settings.tz).date())


@router.get("/bills", **access(Role.RESIDENT, errors=(404,)))
def my_bills(unit: ResidentUnit, session: SessionDep, page: PageQuery) -> Page[BillOut]:
    """The unit's issued bills, newest first (never a draft); ``q`` searches the bill number and the month."""
    query = issued_bills(_unit_id(unit))
    rows, total = paginate(session, query, page, search=[col(Bill.bill_number), col(Bill.period)])
    return Page[BillOut](
        items=[_bill_out(session, bill) for bill in rows], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/bills/{bill_id}", **access(Role.RESIDENT, errors=(404,)))
def my_bill(bill_id: Id, unit: ResidentUnit, session: SessionDep) -> BillOut:
    """One of the unit's issued bills with its six months' ``history``; 404 for any other bill."""
    return _bill_out(session, own_bill(session, _unit_id(unit), bill_id), with_history=True)


@router.get("/bills/{bill_id}/pdf", **access(Role.RESIDENT, errors=(404,), responses=_PDF), response_class=Response)
def my_bill_pdf(bill_id: Id, unit: ResidentUnit, session: SessionDep, context: ContextDep) -> Response:
    """The bill's PDF, as the office prints it; 404 for any bill but the unit's own issued ones."""
    bill = own_bill(session, _unit_id(unit), bill_id)
    data = bill_pdf(session, bill, context.settings, context.assets_dir)
    name = f"{(bill.bill_number or str(bill.id)).replace('/', '-')}.pdf"
    return Response(data, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})


@router.post("/bills/{bill_id}/pdf-link", **access(Role.RESIDENT, errors=(404,)))
def my_bill_pdf_link(
    bill_id: Id, unit: ResidentUnit, session: SessionDep, context: ContextDep, now: NowDep
) -> DownloadLink:
    """A link (valid 10 minutes) to the bill's PDF, for the browser to open without the bearer header."""
    bill = own_bill(session, _unit_id(unit), bill_id)
    return DownloadLink(url=f"/api/downloads/{context.tokens.download_token(f'bill:{bill.id}', now)}")


@router.get("/payments", **access(Role.RESIDENT, errors=(404,)))
def my_payments(unit: ResidentUnit, session: SessionDep, page: PageQuery) -> Page[ResidentPayment]:
    """The payments booked to the unit, newest first; ``q`` searches the reference."""
    rows, total = paginate(session, payments(_unit_id(unit)), page, search=[col(Payment.reference)])
    numbers = _bill_numbers(session, {p.bill_id for p in rows if p.bill_id is not None})
    items = [
        ResidentPayment(
            id=p.id or 0,
            bill_id=p.bill_id,
            bill_number=numbers.get(p.bill_id) if p.bill_id is not None else None,
            amount=p.amount,
            paid_on=p.paid_on,
            mode=p.mode,
            reference=p.reference,
        )
        for p in rows
    ]
    return Page[ResidentPayment](items=items, total=total, limit=page.limit, offset=page.offset)


def _bill_numbers(session: Session, bill_ids: set[int]) -> dict[int, str | None]:
    if not bill_ids:
        return {}
    rows = session.exec(select(Bill.id, Bill.bill_number).where(col(Bill.id).in_(bill_ids))).all()
    return {bill_id: number for bill_id, number in rows if bill_id is not None}


@router.get("/consumption", **access(Role.RESIDENT, errors=(404,)))
def my_consumption(
    unit: ResidentUnit, session: SessionDep, context: ContextDep, now: NowDep, months: MonthsParam = 12
) -> ResidentConsumption:
    """The units on the unit's issued bills, month by month up to the society's current month, oldest first."""
    history = unit_usage(session, _unit_id(unit), period_of(now, context.settings.tz), months)
    return ResidentConsumption(months=[BillMonthUnits(period=m.period, units=m.units) for m in history])
