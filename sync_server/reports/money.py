"""Billed against collected per month, and what accounts owe by age (docs/reports.md "Money in")."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from shared_billing.ageing import AGEING_BUCKETS, AgeBucket, Charge, age_account, oldest_bucket, overdue_amount
from shared_billing.protocol import BillStatus
from shared_billing.report_models import (
    AgeingReport,
    AgeingRow,
    CollectionMonth,
    CollectionReport,
    DefaulterRow,
    DefaultersReport,
)
from sync_server.billing.payment_plans import active_standings
from sync_server.models import Bill, Block, LedgerEntry, Payment, Unit
from sync_server.periods import month_days, periods_ending
from sync_server.reports.figures import percent

__all__ = ["aged_accounts", "ageing_report", "collection_report", "defaulters_report"]

ZERO = Decimal("0.00")


def collection_report(session: Session, *, until: str, months: int, block_id: int | None) -> CollectionReport:
    """Per month: the charges of the period's issued bills, and the payments made in that calendar month."""
    periods = periods_ending(until, months)
    first, _ = month_days(periods[0])
    _, after = month_days(until)
    bills = (
        select(col(Bill.period), col(Bill.charges))
        .join(Unit, col(Unit.id) == col(Bill.unit_id))
        .where(col(Bill.period).in_(periods), col(Bill.status) != BillStatus.DRAFT)
    )
    payments = (
        select(col(Payment.paid_on), col(Payment.amount))
        .join(Unit, col(Unit.id) == col(Payment.unit_id))
        .where(col(Payment.paid_on) >= first, col(Payment.paid_on) < after)
    )
    if block_id is not None:
        bills = bills.where(col(Unit.block_id) == block_id)
        payments = payments.where(col(Unit.block_id) == block_id)
    # Summed in Python: SQLite stores the exact decimals as text, and SQL's SUM would go through floats.
    billed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for period, charges in session.exec(bills).all():
        billed[period] += charges
    collected: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for paid_on, amount in session.exec(payments).all():
        collected[paid_on.strftime("%Y-%m")] += amount
    rows = [
        CollectionMonth(
            period=period,
            billed=billed[period],
            collected=collected[period],
            collected_percent=percent(collected[period], billed[period]),
        )
        for period in periods
    ]
    return CollectionReport(
        block_id=block_id,
        months=rows,
        billed=sum((row.billed for row in rows), ZERO),
        collected=sum((row.collected for row in rows), ZERO),
    )


def aged_accounts(session: Session, *, on: date, block_id: int | None) -> dict[int, dict[AgeBucket, Decimal]]:
    """Each account's ledger aged on ``on`` (unit id → what it owes per bucket; accounts owing nothing absent):
    charges (a bill's fall due on its due day, anything else on the day booked) settled oldest first by its
    payments and credits (``shared_billing.ageing``)."""
    entries = (
        select(col(LedgerEntry.unit_id), col(LedgerEntry.amount), col(LedgerEntry.booked_on), col(Bill.due_on))
        .join(Unit, col(Unit.id) == col(LedgerEntry.unit_id))
        .outerjoin(Bill, col(Bill.id) == col(LedgerEntry.bill_id))
        .where(col(LedgerEntry.booked_on) <= on)
    )
    if block_id is not None:
        entries = entries.where(col(Unit.block_id) == block_id)
    charges: dict[int, list[Charge]] = defaultdict(list)
    settled: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for unit_id, amount, booked_on, due_on in session.exec(entries).all():
        if amount > 0:
            charges[unit_id].append(Charge(due_on=due_on or booked_on, amount=amount))
        else:
            settled[unit_id] -= amount
    aged = {unit_id: age_account(unit_charges, settled[unit_id], on) for unit_id, unit_charges in charges.items()}
    return {unit_id: owed for unit_id, owed in aged.items() if owed}


def ageing_report(session: Session, *, on: date, block_id: int | None) -> AgeingReport:
    """What the accounts owe on ``on``, per bucket (``aged_accounts``)."""
    aged = aged_accounts(session, on=on, block_id=block_id)
    amounts: dict[AgeBucket, Decimal] = defaultdict(lambda: ZERO)
    accounts: dict[AgeBucket, int] = defaultdict(int)
    for owed in aged.values():
        for bucket, amount in owed.items():
            amounts[bucket] += amount
            accounts[bucket] += 1
    rows = [AgeingRow(bucket=bucket, amount=amounts[bucket], accounts=accounts[bucket]) for bucket in AGEING_BUCKETS]
    return AgeingReport(
        on=on, block_id=block_id, rows=rows, total=sum((row.amount for row in rows), ZERO), accounts=len(aged)
    )


def defaulters_report(session: Session, *, on: date, block_id: int | None) -> DefaultersReport:
    """The accounts owing past their due day on ``on``: the longest overdue first, then the largest overdue."""
    aged = {
        unit_id: owed
        for unit_id, owed in aged_accounts(session, on=on, block_id=block_id).items()
        if overdue_amount(owed) > 0
    }
    units = session.exec(
        select(col(Unit.id), col(Unit.code), col(Block.code), col(Unit.consumer_name))
        .join(Block, col(Block.id) == col(Unit.block_id))
        .where(col(Unit.id).in_(sorted(aged)))
    ).all()
    plans = active_standings(session, aged, on)
    rows = []
    for unit_id, unit_code, block_code, consumer_name in units:
        assert unit_id is not None  # a stored unit's
        owed = aged[unit_id]
        oldest = oldest_bucket(owed)
        assert oldest is not None  # it owes something overdue
        rows.append(
            DefaulterRow(
                unit_id=unit_id,
                unit_code=unit_code,
                block_code=block_code,
                consumer_name=consumer_name,
                owed={bucket: owed[bucket] for bucket in AGEING_BUCKETS if bucket in owed},
                overdue=overdue_amount(owed),
                oldest=oldest,
                plan=plans.get(unit_id),
            )
        )
    rows.sort(key=lambda row: (-AGEING_BUCKETS.index(row.oldest), -row.overdue, row.unit_code))
    return DefaultersReport(on=on, block_id=block_id, rows=rows, overdue=sum((row.overdue for row in rows), ZERO))
