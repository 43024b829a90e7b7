"""A month's readings, bills, payments and ledger as rows for a spreadsheet, read in batches.

Each dataset is a header and a generator of rows over its own session, so a response can stream a society's
whole month without holding it in memory. A row's cells are plain values — text, ``Decimal`` money and units,
``date`` — that both the CSV and the XLSX writer take; times are in the society's zone (the office reads them).
The month is the billing period: a reading's or bill's ``period``, a payment's day paid, a ledger entry's day booked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from sync_server.models import Bill, Block, LedgerEntry, Meter, Payment, Reading, Unit, User
from sync_server.periods import month_days

__all__ = ["Dataset", "Table", "month_payments", "table"]

_BATCH = 500  # rows fetched at a time


class Dataset(StrEnum):
    READINGS = "readings"
    BILLS = "bills"
    PAYMENTS = "payments"
    LEDGER = "ledger"


Cell = str | int | date | Any  # Decimal included; None for an empty cell


@dataclass(frozen=True)
class Table:
    name: str
    header: tuple[str, ...]
    rows: Iterator[tuple[Cell, ...]]


def _local(moment: datetime | None, tz: ZoneInfo) -> str | None:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment is not None else None


def _stream(engine: Engine, statement: Any) -> Iterator[Any]:
    with Session(engine) as session:
        yield from session.execute(statement.execution_options(yield_per=_BATCH))


def table(engine: Engine, dataset: Dataset, *, period: str, block_id: int | None, tz: ZoneInfo) -> Table:
    """The dataset's header and rows for the month (and the block, when given), in a stable order."""
    build = {
        Dataset.READINGS: _readings,
        Dataset.BILLS: _bills,
        Dataset.PAYMENTS: _payments,
        Dataset.LEDGER: _ledger,
    }[dataset]
    header, rows = build(engine, period, block_id, tz)
    return Table(f"{dataset.value}-{period}", header, rows)


Rows = tuple[tuple[str, ...], Iterator[tuple[Cell, ...]]]


def _readings(engine: Engine, period: str, block_id: int | None, tz: ZoneInfo) -> Rows:
    engineer = aliased(User)
    readings = (
        select(Reading, col(Meter.number), col(Block.code), col(Unit.code), col(engineer.full_name))
        .join(Meter, col(Meter.id) == col(Reading.meter_id))
        .join(Block, col(Block.id) == col(Meter.block_id))
        .outerjoin(Unit, col(Unit.id) == col(Meter.unit_id))
        .outerjoin(engineer, col(engineer.id) == col(Reading.engineer_id))
        .where(col(Reading.period) == period)
        .order_by(col(Block.code), col(Meter.number), col(Reading.captured_at), col(Reading.id))
    )
    if block_id is not None:
        readings = readings.where(col(Meter.block_id) == block_id)
    header = ("reading", "block", "unit", "meter", "read type", "value", "skip reason", "captured", "status",
              "engineer", "decision reason")  # fmt: skip
    rows = (
        (str(r.uuid), block, unit, meter, str(r.read_type), r.value, r.skip_reason and str(r.skip_reason),
         _local(r.captured_at, tz), str(r.status), name, r.decision_reason)
        for r, meter, block, unit, name in _stream(engine, readings)
    )  # fmt: skip
    return header, rows


def _bills(engine: Engine, period: str, block_id: int | None, tz: ZoneInfo) -> Rows:
    bills = (
        select(Bill, col(Block.code), col(Unit.code))
        .join(Unit, col(Unit.id) == col(Bill.unit_id))
        .join(Block, col(Block.id) == col(Unit.block_id))
        .where(col(Bill.period) == period)
        .order_by(col(Block.code), col(Unit.code), col(Bill.id))
    )
    if block_id is not None:
        bills = bills.where(col(Unit.block_id) == block_id)
    header = ("bill number", "status", "block", "unit", "period", "issued", "due on", "charges", "total",
              "round off", "payable")  # fmt: skip
    rows = (
        (b.bill_number, str(b.status), block, unit, b.period, _local(b.issued_at, tz), b.due_on, b.charges,
         b.total, b.round_off, b.payable)
        for b, block, unit in _stream(engine, bills)
    )  # fmt: skip
    return header, rows


def month_payments(period: str, block_id: int | None) -> Any:
    """``SELECT payment, block code, unit code, bill number`` of the payments made in the period's month (and the
    block), by day paid: the payments sheet's and the Tally receipts' one query."""
    first, after = month_days(period)
    payments = (
        select(Payment, col(Block.code), col(Unit.code), col(Bill.bill_number))
        .join(Unit, col(Unit.id) == col(Payment.unit_id))
        .join(Block, col(Block.id) == col(Unit.block_id))
        .outerjoin(Bill, col(Bill.id) == col(Payment.bill_id))
        .where(col(Payment.paid_on) >= first, col(Payment.paid_on) < after)
        .order_by(col(Payment.paid_on), col(Payment.id))
    )
    return payments if block_id is None else payments.where(col(Unit.block_id) == block_id)


def _payments(engine: Engine, period: str, block_id: int | None, tz: ZoneInfo) -> Rows:
    payments = month_payments(period, block_id)
    header = ("payment", "paid on", "block", "unit", "bill number", "mode", "reference", "amount")
    rows = (
        (p.id, p.paid_on, block, unit, number, str(p.mode), p.reference, p.amount)
        for p, block, unit, number in _stream(engine, payments)
    )
    return header, rows


def _ledger(engine: Engine, period: str, block_id: int | None, tz: ZoneInfo) -> Rows:
    first, after = month_days(period)
    entries = (
        select(LedgerEntry, col(Block.code), col(Unit.code), col(Bill.bill_number))
        .join(Unit, col(Unit.id) == col(LedgerEntry.unit_id))
        .join(Block, col(Block.id) == col(Unit.block_id))
        .outerjoin(Bill, col(Bill.id) == col(LedgerEntry.bill_id))
        .where(col(LedgerEntry.booked_on) >= first, col(LedgerEntry.booked_on) < after)
        .order_by(col(LedgerEntry.booked_on), col(LedgerEntry.id))
    )
    if block_id is not None:
        entries = entries.where(col(Unit.block_id) == block_id)
    header = ("entry", "booked on", "block", "unit", "kind", "description", "bill number", "amount")
    rows = (
        (e.id, e.booked_on, block, unit, str(e.kind), e.description, number, e.amount)
        for e, block, unit, number in _stream(engine, entries)
    )
    return header, rows
