"""Issued bills as the printable invoice data the PDF template takes (sync_server.invoices)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, or_, select

from shared_billing.bill_lines import BillLine, LineCode, ledger_charge
from shared_billing.readings import format_quantity
from sync_server.billing.compute import bill_lines, consumption_base, previous_approved, unit_meter
from sync_server.billing.replacement import replacement_measured_by
from sync_server.config import Settings
from sync_server.invoices import InvoiceData, InvoiceLine, render_block, render_invoice
from sync_server.invoices.data import HISTORY_MONTHS, UsageMonth
from sync_server.invoices.formatting import local_day
from sync_server.models import Bill, BillStatus, Meter, MeterReplacement, Reading, Unit
from sync_server.periods import periods_ending
from sync_server.problems import Problem

__all__ = ["bill_pdf", "billed_units", "block_pdf", "invoice_for", "unit_usage", "usage_history"]


def _period_days(period: str) -> tuple[date, date]:
    first = date.fromisoformat(period + "-01")
    next_first = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, next_first - timedelta(days=1)


def billed_units(lines: Iterable[BillLine]) -> Decimal:
    """The unit's own units on a bill: every energy line's (a slab tariff prints one line per slab), not the
    shared-meter share. What the invoice prints as units consumed and what its usage chart draws."""
    units = sum((line.quantity for line in lines if line.code == LineCode.ENERGY), Decimal(0))
    return Decimal(format_quantity(units))  # 77, not 77.0000: the stored lines' figure as people write it


def usage_history(session: Session, bill: Bill, months: int = HISTORY_MONTHS) -> list[UsageMonth]:
    """The units billed to the bill's unit in its month and the ``months - 1`` before, oldest first; ``None`` for
    a month without a bill. Earlier months count issued bills only (a draft may still change), the bill itself
    whatever its state. The invoice and ``GET /api/bills/{id}`` both draw from here."""
    return unit_usage(session, bill.unit_id, bill.period, months, including=bill.id)


def unit_usage(
    session: Session, unit_id: int, until: str, months: int, *, including: int | None = None
) -> list[UsageMonth]:
    """The units on the unit's issued bills for ``until`` and the ``months - 1`` before, oldest first (``None``: no
    issued bill that month); the bill ``including`` names counts whatever its state. One query: a bill's history
    and a resident's consumption chart (``GET /api/me/consumption``) are the same figures."""
    periods = periods_ending(until, months)
    shown = (
        Bill.status != BillStatus.DRAFT
        if including is None
        else or_(Bill.status != BillStatus.DRAFT, Bill.id == including)
    )
    rows = session.exec(select(Bill).where(Bill.unit_id == unit_id, col(Bill.period).in_(periods), shown)).all()
    billed = {row.period: billed_units(bill_lines(row)) for row in rows}
    return [UsageMonth(period, billed.get(period)) for period in periods]


def _read_on(reading: Reading | None, tz: ZoneInfo) -> date | None:
    return local_day(reading.captured_at, tz) if reading is not None else None


def _measured_meter(session: Session, reading: Reading, replaced: MeterReplacement | None) -> Meter:
    meter = session.get(Meter, reading.meter_id if replaced is None else replaced.old_meter_id)
    assert meter is not None
    return meter


def invoice_for(session: Session, bill: Bill, settings: Settings) -> InvoiceData:
    if bill.status == BillStatus.DRAFT or bill.bill_number is None or bill.issued_at is None:
        raise Problem("bill.not_issued", "Drafts have no invoice yet: issue the bill first")
    unit = session.get(Unit, bill.unit_id)
    assert unit is not None
    meter = unit_meter(session, bill.unit_id)
    assert meter is not None
    assert meter.id is not None
    reading = session.get(Reading, bill.reading_id) if bill.reading_id is not None else None
    replaced = replacement_measured_by(session, reading) if reading is not None else None
    # The reading the bill measured from (the last actual bill's, compute.consumption_base), not merely the
    # latest approved one: a reading approved after its month was estimated is not where this bill started.
    # Its meter is the one compute.price_reading measured: the reading's, or across a replacement the old one.
    previous = (
        consumption_base(session, _measured_meter(session, reading, replaced), unit.id or 0, bill.period)[0]
        if reading is not None
        else previous_approved(session, meter.id, bill.period)
    )
    previous_value = previous.value if previous is not None and previous.value is not None else Decimal(0)
    # An estimated bill shows where the register would be: the last actual read plus the estimate.
    current_value = (
        reading.value
        if reading is not None and reading.value is not None
        else (previous_value + (bill.estimated_units or Decimal(0)))
    )
    lines = bill_lines(bill)
    # The printed lines are this bill's own; the round-off and the arrears have rows of their own.
    printed = [line for line in lines if line.code not in (LineCode.ARREARS, LineCode.ROUND_OFF)]
    arrears = sum((line.amount for line in lines if line.code == LineCode.ARREARS), Decimal("0.00"))
    period_from, period_to = _period_days(bill.period)
    tz = settings.tz
    return InvoiceData(
        society_name=settings.society_name,
        society_address=settings.society_address,
        upi_vpa=settings.society_upi_vpa,
        payee_name=settings.society_name,
        bill_number=bill.bill_number,
        bill_date=local_day(bill.issued_at, tz),
        due_date=bill.due_on or local_day(bill.issued_at, tz),
        period_from=period_from,
        period_to=period_to,
        unit_code=unit.code,
        consumer_name=unit.consumer_name or unit.code,
        meter_number=meter.number,
        previous_reading=previous_value,
        current_reading=current_value,
        units=billed_units(printed),
        lines=[InvoiceLine(line.description, line.quantity, line.rate, line.amount) for line in printed],
        total=sum((line.amount for line in printed), Decimal("0.00")),
        round_off=bill.round_off,
        payable=ledger_charge(lines),  # what the ledger was charged (Bill.charges); InvoiceData checks the sum
        arrears=arrears.quantize(Decimal("0.01")),
        status=bill.status,
        previous_read_on=_read_on(previous, tz),
        current_read_on=_read_on(reading, tz),
        estimated=reading is None,
        replaced_on=replaced.replaced_on if replaced is not None else None,
        history=usage_history(session, bill),
    )


def bill_pdf(session: Session, bill: Bill, settings: Settings, assets_dir: Path) -> bytes:
    return render_invoice(invoice_for(session, bill, settings), assets_dir=assets_dir)


def block_pdf(session: Session, *, block_id: int, period: str, settings: Settings, assets_dir: Path) -> bytes:
    """Every issued bill of a block for a period, a page each in unit order."""
    bills = session.exec(
        select(Bill)
        .join(Unit, col(Unit.id) == col(Bill.unit_id))
        .where(Unit.block_id == block_id, Bill.period == period, Bill.status != BillStatus.DRAFT)
        .order_by(col(Unit.code))
    ).all()
    if not bills:
        raise Problem("bill.not_found", "No issued bills for this block and period")
    return render_block([invoice_for(session, bill, settings) for bill in bills], assets_dir=assets_dir)
