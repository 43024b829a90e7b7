"""A month's issued bills and payments as Tally vouchers (``sync_server.exports.tally``)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from sync_server.exports.tables import month_payments
from sync_server.exports.tally import ReceiptVoucher, SalesVoucher
from sync_server.models import Bill, BillStatus, PaymentMode, Unit

__all__ = ["month_vouchers"]


def month_vouchers(
    session: Session, *, period: str, block_id: int | None, tz: ZoneInfo
) -> tuple[list[SalesVoucher], list[ReceiptVoucher]]:
    """A Sales voucher per bill of the period that was issued (drafts are not sales), dated the day it was issued
    and worth its charges for the period; a Receipt voucher per payment made in the period's month."""
    bills = (
        select(Bill, Unit.code)
        .join(Unit, col(Unit.id) == col(Bill.unit_id))
        .where(col(Bill.period) == period, col(Bill.status) != BillStatus.DRAFT, col(Bill.bill_number).is_not(None))
        .order_by(col(Bill.bill_number))
    )
    if block_id is not None:
        bills = bills.where(col(Unit.block_id) == block_id)
    sales = [
        SalesVoucher(
            number=bill.bill_number or "",
            day=(bill.issued_at or bill.created_at).astimezone(tz).date(),
            party=unit,
            amount=bill.charges,
            narration=f"Electricity bill {bill.bill_number} for {bill.period}",
        )
        for bill, unit in session.exec(bills).all()
    ]
    receipts = [
        ReceiptVoucher(
            number=f"RCPT-{payment.id}",
            day=payment.paid_on,
            party=unit,
            amount=payment.amount,
            cash=payment.mode == PaymentMode.CASH,
            narration=f"{payment.mode.upper()} payment"
            + (f" {payment.reference}" if payment.reference else "")
            + (f" against bill {number}" if number else ""),
        )
        for payment, _block, unit, number in session.execute(month_payments(period, block_id)).all()
    ]
    return sales, receipts
