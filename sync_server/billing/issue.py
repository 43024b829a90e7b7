"""Issuing bills: numbered, dated, charged to the ledger, and from then on immutable.

One bill (``issue_bill``) or a run's batch (``issue_drafts``) go through the same steps: price the draft again
with the account's balance as arrears, number it, charge the ledger, record the event. A batch takes its
balances in one statement, its numbers in one counter update, and writes its bills, charges and events as
three bulk statements.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import JSON, BindParameter, CursorResult, Integer, bindparam, case, insert, type_coerce, update
from sqlalchemy import select as sa_select
from sqlmodel import Session

from shared_billing.bill_lines import ledger_charge
from sync_server.billing.compute import (
    BlockFacts,
    MeterDials,
    PricedReading,
    ReadRow,
    UnitTerms,
    next_bill_number,
    next_bill_numbers,
    price_known,
    price_reading,
    read_rows,
    result_values,
    unit_meter,
)
from sync_server.billing.estimates import price_estimate
from sync_server.billing.ledger import balance, balances
from sync_server.config import Settings
from sync_server.models import (
    AuditEvent,
    Bill,
    BillStatus,
    LedgerEntry,
    LedgerEntryKind,
    Reading,
    Unit,
    User,
)
from sync_server.notifications.enqueue import enqueue, issued_message
from sync_server.problems import Problem
from sync_server.sql import one_of, plain_rows, table_of

__all__ = ["DraftRow", "claim_draft", "claim_drafts", "issue_bill", "issue_drafts", "run_drafts"]

# A reading bill's price from its reading's id and the arrears: ``price_reading``, or from a batch's facts.
Pricer = Callable[[int, Decimal], PricedReading]


class Draft(Protocol):
    """What issuing reads of a draft: a ``Bill``, or a ``DraftRow`` of a run's batch."""

    @property
    def id(self) -> int | None: ...
    @property
    def unit_id(self) -> int: ...
    @property
    def period(self) -> str: ...
    @property
    def reading_id(self) -> int | None: ...
    @property
    def estimated_units(self) -> Decimal | None: ...
    @property
    def trace(self) -> list[str]: ...


class DraftRow(NamedTuple):
    """A run's draft as issuing reads it (plain columns: the batch writes its bills back as rows)."""

    id: int
    unit_id: int
    period: str
    reading_id: int | None
    estimated_units: Decimal | None
    trace: list[str]  # read for a bill on an estimate only (issuing reprices it with its first line): else []


_BILLS = table_of(Bill)
_DRAFT_ROW = (
    *(_BILLS.c[name] for name in DraftRow._fields[:-1]),
    # Decoding every draft's JSON trace cost half of reading a run's drafts, for the few estimates that use it.
    type_coerce(case((_BILLS.c.reading_id.is_(None), _BILLS.c.trace)), JSON),
)


def claim_draft(session: Session, bill_id: int) -> bool:
    """Compare-and-set draft → issued; True for the one transaction that made the change.

    The ``WHERE status = 'draft'`` is re-checked by the database after waiting for a concurrent issuer: on
    PostgreSQL the row lock holds the second ``UPDATE`` until the first transaction ends, then it matches no
    row; on SQLite the write lock serializes the two and the second finds the row issued. So a bill is charged
    and numbered exactly once however many requests issue it at the same time.
    """
    return bool(claim_drafts(session, [bill_id]))


def claim_drafts(session: Session, bill_ids: Sequence[int]) -> set[int]:
    """``claim_draft`` for many bills in one statement: the ids this transaction moved from draft to issued
    (the same re-check after a concurrent issuer's row locks, bill by bill)."""
    if not bill_ids:
        return set()
    bills = table_of(Bill)
    claimed = session.execute(
        update(bills)
        .where(one_of(session, bills.c.id, bill_ids, Integer), bills.c.status == BillStatus.DRAFT)
        .values(status=BillStatus.ISSUED)
        .returning(bills.c.id)
    )
    return set(cast(CursorResult[Any], claimed).scalars())


def issue_bill(session: Session, bill: Bill, *, actor: User, now: datetime, settings: Settings) -> Bill:
    """Price the draft again with the account's balance as arrears, number it, and charge it; caller commits.

    ``bill.already_issued`` (409) when the bill is issued already, also when a concurrent transaction issued it
    first (``claim_draft``); nothing is then numbered or charged.
    """
    assert bill.id is not None
    if bill.status != BillStatus.DRAFT or not claim_draft(session, bill.id):
        raise Problem("bill.already_issued", f"Bill {bill.bill_number or bill.id} is issued and cannot change")
    arrears = balance(session, bill.unit_id)
    priced = _price_again(session, bill, arrears, _by_reading(session))
    number = next_bill_number(session, bill.period)
    values, charge, event = _issued(bill, priced, number, arrears, actor, now, settings)
    for name, value in values.items():
        setattr(bill, name, value)
    session.add(bill)
    session.add(LedgerEntry(**charge))
    session.add(AuditEvent(**event))
    message = issued_message(bill.id, bill.unit_id, bill.period, values, settings)
    enqueue(session, [message], settings=settings, now=now)
    return bill


def run_drafts(session: Session, run_id: int) -> list[DraftRow]:
    """A run's drafts in unit order (the order their numbers follow)."""
    units = table_of(Unit)
    query = (
        sa_select(*_DRAFT_ROW)
        .join(units, units.c.id == _BILLS.c.unit_id)
        .where(_BILLS.c.run_id == run_id, _BILLS.c.status == BillStatus.DRAFT)
        .order_by(units.c.code)
    )
    return [DraftRow._make((*row[:-1], row[-1] or [])) for row in plain_rows(session, query)]


def issue_drafts(
    session: Session,
    drafts: Sequence[DraftRow],
    facts: BlockFacts,
    units: dict[int, tuple[UnitTerms, MeterDials]],
    *,
    actor: User,
    now: datetime,
    settings: Settings,
) -> None:
    """Issue claimed drafts of one period (``claim_drafts``), numbered in the order given; caller commits.

    ``facts`` and ``units`` (unit id → unit and its meter in service) are the block's, so most bills are priced
    with no statement; a bill whose unit is ``facts.alone`` or whose reading is not its unit's meter's is
    priced by ``price_reading`` alone. Bills, charges and events are written as three bulk statements, the
    consumers' messages as one more (with their contacts read in one: ``notifications.enqueue``).
    """
    if not drafts:
        return
    arrears = balances(session, {draft.unit_id for draft in drafts})
    readings = _readings_of(session, drafts, facts)
    alone = _by_reading(session)

    def pricer(draft: DraftRow) -> Pricer:
        unit, meter = units.get(draft.unit_id, (None, None))
        if unit is None or meter is None or draft.unit_id in facts.alone:
            return alone

        def known(reading_id: int, owed: Decimal) -> PricedReading:
            reading = readings[reading_id]
            if reading.meter_id != meter.id:  # read on another meter (a replacement's): the full rule
                return alone(reading_id, owed)
            return price_known(session, facts, unit, meter, reading, arrears=owed)

        return known

    priced = [_price_again(session, draft, arrears[draft.unit_id], pricer(draft)) for draft in drafts]
    numbers = next_bill_numbers(session, drafts[0].period, len(drafts))
    written = [
        _issued(draft, price, number, arrears[draft.unit_id], actor, now, settings)
        for draft, price, number in zip(drafts, priced, numbers, strict=True)
    ]
    bills = table_of(Bill)
    columns: dict[str, BindParameter[Any]] = {name: bindparam(name) for name in written[0][0]}
    session.execute(
        update(bills).where(bills.c.id == bindparam("bill_id")).values(columns),
        [{"bill_id": draft.id, **values} for draft, (values, _, _) in zip(drafts, written, strict=True)],
    )
    session.execute(insert(table_of(LedgerEntry)), [charge for _, charge, _ in written])
    session.execute(insert(table_of(AuditEvent)), [event for _, _, event in written])
    # The consumers' "bill issued" messages, in the same transaction: one statement for the run's batch.
    messages = [
        issued_message(draft.id, draft.unit_id, draft.period, values, settings)
        for draft, (values, _, _) in zip(drafts, written, strict=True)
    ]
    enqueue(session, messages, settings=settings, now=now)


def _readings_of(session: Session, drafts: Sequence[DraftRow], facts: BlockFacts) -> dict[int, ReadRow]:
    """The drafts' readings: almost always the period's readings the facts hold, the others looked up."""
    found = {reading.id: reading for reading in facts.current.values()}
    missing = [draft.reading_id for draft in drafts if draft.reading_id is not None and draft.reading_id not in found]
    if missing:
        found.update(
            (reading.id, reading) for reading in read_rows(session, one_of(session, Reading.id, missing, Integer))
        )
    return found


def _by_reading(session: Session) -> Pricer:
    def price(reading_id: int, owed: Decimal) -> PricedReading:
        reading = session.get(Reading, reading_id)
        assert reading is not None
        return price_reading(session, reading, arrears=owed)

    return price


def _price_again(session: Session, draft: Draft, arrears: Decimal, pricer: Pricer) -> PricedReading:
    """The draft priced again as it is issued: the same units, now with the account's arrears."""
    if draft.reading_id is None:  # billed on an estimate
        unit = session.get(Unit, draft.unit_id)
        assert unit is not None
        meter = unit_meter(session, draft.unit_id)
        assert meter is not None
        how = tuple(draft.trace[:1])  # the draft's "average of the last months" explanation
        units = draft.estimated_units
        return price_estimate(session, unit, meter, draft.period, arrears=arrears, units=units, notes=how)
    return pricer(draft.reading_id, arrears)


def _issued(
    draft: Draft,
    priced: PricedReading,
    number: str,
    arrears: Decimal,
    actor: User,
    now: datetime,
    settings: Settings,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """What issuing writes: the bill's new columns, its ledger charge and its audit event."""
    issued_on = now.astimezone(settings.tz).date()
    # The ledger is charged what this bill adds (payable − arrears); the payable also shows the arrears already on it.
    charges = ledger_charge(priced.result.lines)
    values = {
        **result_values(priced),
        "bill_number": number,
        "status": BillStatus.ISSUED,
        "issued_at": now,
        "due_on": issued_on + timedelta(days=settings.bill_due_days),
        "charges": charges,
    }
    charge = {
        "unit_id": draft.unit_id,
        "kind": LedgerEntryKind.CHARGE,
        "amount": charges,
        "booked_on": issued_on,
        "bill_id": draft.id,
        "payment_id": None,
        "description": f"Bill {number} for {draft.period}",
        "created_at": now,
    }
    event = {
        "at": now,
        "actor_id": actor.id,
        "action": "bill.issued",
        "entity": "bill",
        "entity_id": number,
        "reason": None,
        "detail": {
            "unit_id": draft.unit_id,
            "period": draft.period,
            "payable": str(priced.result.payable),
            "arrears": str(arrears),
        },
    }
    return values, charge, event
