"""Produce one unit's bill for the period of an approved reading, with ``shared_billing``.

Consumption = this approved reading − the latest approved reading of an earlier period (docs/domain.md); in the
period of a meter replacement, the old meter's part plus the new meter's (sync_server/billing/replacement.py). A
unit on a shared meter (water motor) also pays its share of that meter's units, split over the members' own units; every
member and the shared meter need approved readings for the period, or the bill waits. A unit-period is billed at
most once (unique constraint), and an approved reading at most once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Executable, exists, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, or_, select

from shared_billing.bill_lines import BillLine, tariff_charges
from shared_billing.billing import BillResult, SharedMeterUse, compute_bill
from shared_billing.consumption import meter_consumption, replacement_consumption
from shared_billing.errors import BillingError
from shared_billing.estimates import BilledEstimate, true_up
from shared_billing.periods import BillingPeriod, DaySpan
from shared_billing.readings import format_quantity
from shared_billing.shared_meters import Membership, shared_meter_uses
from shared_billing.tariffs import RateOverride, ShareRounding, Tariff
from sync_server.billing.replacement import attributed_to, in_service_during, replacement_measured_by
from sync_server.models import (
    Bill,
    BillNumberCounter,
    BillStatus,
    Meter,
    MeterKind,
    MeterReplacement,
    Reading,
    ReadingSource,
    ReadingStatus,
    SharedMeterMember,
    TariffRecord,
    Unit,
    User,
)
from sync_server.periods import financial_year
from sync_server.problems import Problem
from sync_server.readings_query import baseline_last, last_approved
from sync_server.sql import table_of

__all__ = [
    "PricedReading",
    "already_billed",
    "apply_result",
    "approved_in_period",
    "awaiting_review",
    "bill_lines",
    "consumption_base",
    "draft_bill",
    "existing_bill",
    "last_actual_bill",
    "later_bill",
    "member_during",
    "new_draft",
    "next_bill_number",
    "open_estimates",
    "previous_approved",
    "price_reading",
    "read_late",
    "unit_meter",
]


@dataclass(frozen=True)
class MeterConsumption:
    units: Decimal
    current: Reading
    previous: Reading
    notes: tuple[str, ...] = ()


def approved_in_period(session: Session, meter_id: int, period: str) -> Reading | None:
    """The meter's latest approved reading of the period, the reading that reported its installation included;
    at one instant, that reading or any other comes before the installation baseline (it read the register)."""
    return session.exec(
        select(Reading)
        .where(
            attributed_to(meter_id),
            Reading.period == period,
            Reading.status == ReadingStatus.APPROVED,
            col(Reading.value).is_not(None),
        )
        .order_by(
            col(Reading.captured_at).desc(),
            baseline_last(),
            col(Reading.id).desc(),
        )
    ).first()


def previous_approved(session: Session, meter_id: int, period: str) -> Reading | None:
    """The last approved reading of a period before ``period`` (the shared rule, sync_server/readings_query.py)."""
    return last_approved(session, meter_id, before_period=period)


def awaiting_review(session: Session, meter_id: int, period: str) -> Reading | None:
    """A reading with a value for the period still waiting for the supervisor: the period waits for it."""
    return session.exec(
        select(Reading).where(
            Reading.meter_id == meter_id,
            Reading.period == period,
            Reading.status == ReadingStatus.SUBMITTED,
            Reading.source != ReadingSource.CHECK,  # a quality check's read is never decided: nothing to wait for
            col(Reading.value).is_not(None),
        )
    ).first()


def _consumption(session: Session, meter: Meter, current: Reading, previous: Reading | None = None) -> MeterConsumption:
    assert meter.id is not None
    assert current.value is not None
    if previous is None:
        previous = previous_approved(session, meter.id, current.period)
    if previous is None or previous.value is None:
        raise Problem("bill.no_previous_reading", f"Meter {meter.number} has no approved reading before")
    register = meter.register()
    try:
        # At most one rollover, and only when plausible (docs/domain.md "Rollover"); any other drop is refused.
        found = meter_consumption(register, previous.value, current.value)
    except BillingError as error:  # BelowPrevious (reading.below_previous), or a value the dials cannot show
        raise Problem(
            error.code,
            f"Meter {meter.number}: {error.message}",
            {"previous": previous.value_text, "current": current.value_text},
        ) from error
    return MeterConsumption(found.units, current, previous, found.explanation if found.rollover else ())


def _replacement_consumption(
    session: Session, replaced: MeterReplacement, current: Reading, previous: Reading | None
) -> MeterConsumption:
    """The period's units across a replacement: the old meter from ``previous`` (its reading the bill measures
    from) to its final read, plus the new meter from its initial read to ``current`` (docs/domain.md "Meter
    replacement"); one trace line per meter, then the sum."""
    old, new = session.get(Meter, replaced.old_meter_id), session.get(Meter, replaced.new_meter_id)
    assert old is not None
    assert new is not None
    assert current.value is not None
    if previous is None or previous.value is None:
        raise Problem("bill.no_previous_reading", f"Meter {old.number} has no approved reading before")
    try:
        found = replacement_consumption(
            old.register(), previous.value, replaced.old_final, new.register(), replaced.new_initial, current.value
        )
    except BillingError as error:  # BelowPrevious: a drop on either meter that is no plausible rollover
        raise Problem(
            error.code,
            f"Meters {old.number} → {new.number}: {error.message}",
            {"previous": previous.value_text, "current": current.value_text},
        ) from error
    # replacement_consumption explains the old meter, the new meter, then the sum (one line each).
    old_line, new_line, total = found.explanation
    notes = (
        f"Old meter {old.number} until {replaced.replaced_on.isoformat()}: {old_line}",
        f"New meter {new.number} from {replaced.replaced_on.isoformat()}: {new_line}",
        total,
    )
    return MeterConsumption(found.units, current, previous, notes)


def unit_meter(session: Session, unit_id: int, period: str | None = None) -> Meter | None:
    """The unit's own meter (not a shared meter it is a member of): the one in service during ``period``, or
    without a period the one not replaced since (a replaced meter stays on its unit, retired)."""
    query = select(Meter).where(Meter.unit_id == unit_id, Meter.kind == MeterKind.UNIT)
    if period is not None:
        query = query.where(in_service_during(period))
    else:
        query = query.where(~exists().where(col(MeterReplacement.old_meter_id) == col(Meter.id)))
    return session.exec(query).first()


def month_span(period: str) -> DaySpan:
    """The period's calendar month as the days it bills, first to last."""
    month = month_period(period)
    return DaySpan(month.start_on, month.end_on)


def member_during(period: str) -> ColumnElement[bool]:
    """A shared-meter membership in force on any day of the period (from ``valid_from``, until ``valid_to``,
    exclusive): a flat that joins or leaves inside the month shares it for its days (docs/domain.md "Shared
    meters")."""
    span = month_span(period)
    return (col(SharedMeterMember.valid_from) <= span.last_on) & or_(
        col(SharedMeterMember.valid_to).is_(None), col(SharedMeterMember.valid_to) > span.first_on
    )


def _unit_consumption(session: Session, unit_id: int, period: str) -> Decimal | None:
    meter = unit_meter(session, unit_id, period)
    if meter is None or meter.id is None:
        return None
    current = approved_in_period(session, meter.id, period)
    if current is None:
        return None
    replaced = replacement_measured_by(session, current)
    if replaced is not None:
        previous = previous_approved(session, replaced.old_meter_id, period)
        return _replacement_consumption(session, replaced, current, previous).units
    return _consumption(session, meter, current).units


def _shared_uses(
    session: Session, unit: Unit, own_units: Decimal, period: str, rounding: ShareRounding
) -> list[SharedMeterUse]:
    assert unit.id is not None
    active = member_during(period)
    memberships = session.exec(select(SharedMeterMember).where(SharedMeterMember.unit_id == unit.id, active)).all()
    uses: list[SharedMeterUse] = []
    for membership in memberships:
        shared = session.get(Meter, membership.meter_id)
        assert shared is not None
        assert shared.id is not None
        missing: list[str] = []
        current = approved_in_period(session, shared.id, period)
        if current is None:
            missing.append(shared.label or shared.number)
        rows = session.exec(
            select(SharedMeterMember, Unit)
            .join(Unit, col(Unit.id) == col(SharedMeterMember.unit_id))
            .where(SharedMeterMember.meter_id == shared.id, active)
        ).all()
        dated = [Membership(member.code, row.valid_from, row.valid_to) for row, member in rows]
        member_units: dict[str, Decimal | None] = {}
        for _, member in rows:
            if member.code not in member_units:
                assert member.id is not None
                units = own_units if member.id == unit.id else _unit_consumption(session, member.id, period)
                member_units[member.code] = units
                if units is None:
                    missing.append(member.code)
        if missing or current is None:
            raise Problem(
                "bill.shared_meter_incomplete",
                f"Shared meter {shared.label or shared.number} needs approved readings for {period}",
                {"missing": missing},
            )
        meter_units = _consumption(session, shared, current).units
        # The whole group is allocated with the tariff's rounding (largest remainder sums exactly; the
        # Blessings configuration rounds each flat on its own), each flat counted for its days of membership in
        # the month, and this unit keeps its share.
        try:
            group = shared_meter_uses(
                shared.label or shared.number,
                meter_units,
                span=month_span(period),
                memberships=dated,
                member_units=member_units,
                rounding=rounding,
            )
        except BillingError as error:
            raise Problem(error.code, error.message, dict(error.details)) from error
        uses.append(group[unit.code])
    return uses


def next_bill_number(session: Session, period: str) -> str:
    """The next number of the period's financial year, taken inside the caller's (issuing) transaction.

    Consecutive per financial year, ≤ 16 characters of A-Z 0-9 - / (docs/domain.md, bill of supply). The
    counter row is incremented in place (``UPDATE … RETURNING``): on PostgreSQL that row lock holds a concurrent issuer
    until this transaction ends, on SQLite the write lock does, and a rolled-back issue takes its increment
    with it, so numbers have no gaps. The first bill of a year creates the row (``ON CONFLICT DO NOTHING``: two
    first bills at once both find it).
    """
    fy = financial_year(period)
    number = _bump_counter(session, fy)
    if number is None:
        session.execute(_insert_ignore(session, fy))
        number = _bump_counter(session, fy)
    assert number is not None
    return f"FM/{fy[2:4]}{fy[5:7]}/{number:06d}"


def _bump_counter(session: Session, fy: str) -> int | None:
    counter = table_of(BillNumberCounter)
    bumped = session.execute(
        update(counter)
        .where(counter.c.financial_year == fy)
        .values(last_number=counter.c.last_number + 1)
        .returning(counter.c.last_number)
    ).scalar_one_or_none()
    return None if bumped is None else int(bumped)


def _insert_ignore(session: Session, fy: str) -> Executable:
    counter = table_of(BillNumberCounter)
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return insert(counter).values(financial_year=fy, last_number=0).on_conflict_do_nothing()


def bill_lines(bill: Bill) -> list[BillLine]:
    """A stored bill's lines back as ``BillLine`` (the inverse of ``line_json``), for the shared sums on them."""
    return [
        BillLine(
            line["code"],
            line["description"],
            Decimal(line["quantity"]),
            None if line["rate"] is None else Decimal(line["rate"]),
            Decimal(line["amount"]),
        )
        for line in bill.lines
    ]


def line_json(result: BillResult) -> list[dict[str, Any]]:
    return [
        {
            "code": line.code,
            "description": line.description,
            "quantity": format_quantity(line.quantity),
            "rate": None if line.rate is None else format_quantity(line.rate),
            "amount": str(line.amount),
        }
        for line in result.lines
    ]


@dataclass(frozen=True)
class PricedReading:
    """A computed bill and what it was computed from: an approved reading, or an estimate (reading None)."""

    unit: Unit
    tariff_id: int
    reading: Reading | None
    result: BillResult
    estimated_units: Decimal | None = None
    notes: tuple[str, ...] = ()  # how the consumption was found, ahead of the engine's trace


def month_period(period: str) -> BillingPeriod:
    """The calendar month of a period key: pro-rated tariffs scale slabs and fixed charges by its days."""
    year, month = (int(part) for part in period.split("-"))
    return BillingPeriod.month(year, month)


def unit_tariff(session: Session, unit: Unit) -> tuple[int, Tariff]:
    tariff_row = session.get(TariffRecord, unit.tariff_id) if unit.tariff_id is not None else None
    if tariff_row is None or tariff_row.id is None:
        raise Problem("bill.no_tariff", f"Unit {unit.code} has no tariff")
    return tariff_row.id, Tariff.from_dict(tariff_row.config)


def rate_override_of(unit: Unit) -> RateOverride | None:
    if unit.rate_override is None and not unit.fixed_charge_waived:
        return None
    # A waived fixed charge stands on its own: a unit at the tariff's rate may still pay no fixed charge.
    return RateOverride(rate_per_unit=unit.rate_override, fixed_charge=Decimal(0) if unit.fixed_charge_waived else None)


def last_actual_bill(session: Session, unit_id: int, period: str) -> Bill | None:
    """The unit's latest bill before ``period`` made on an actual reading (draft or issued)."""
    return session.exec(
        select(Bill)
        .where(Bill.unit_id == unit_id, col(Bill.reading_id).is_not(None), col(Bill.period) < period)
        .order_by(col(Bill.period).desc())
    ).first()


def open_estimates(session: Session, unit_id: int, period: str) -> list[Bill]:
    """Estimated bills before ``period`` not trued up yet: every one after the unit's last actual bill.

    A bill on an actual reading trues up every estimate before it, so these are exactly the estimates the next
    actual bill must true up, and how many estimates in a row the unit has had (the cap counts bills, not
    readings: an actual reading approved after its month was estimated neither trues up nor resets anything).
    """
    last = last_actual_bill(session, unit_id, period)
    query = select(Bill).where(
        Bill.unit_id == unit_id, col(Bill.estimated_units).is_not(None), col(Bill.period) < period
    )
    if last is not None:
        query = query.where(col(Bill.period) > last.period)
    return list(session.exec(query.order_by(col(Bill.period))).all())


def consumption_base(session: Session, meter: Meter, unit_id: int, period: str) -> tuple[Reading | None, list[Bill]]:
    """The reading an actual bill for ``period`` measures from, and the open estimates it trues up.

    The base is the reading of the unit's last actual bill (so consecutive actual bills telescope: no unit is
    billed twice or lost, whatever order readings are approved and runs happen in); before any actual bill,
    the last approved reading before the first open estimate (or before ``period``).
    """
    assert meter.id is not None
    estimates = open_estimates(session, unit_id, period)
    last = last_actual_bill(session, unit_id, period)
    if last is not None and last.reading_id is not None:
        base = session.exec(select(Reading).where(Reading.id == last.reading_id, attributed_to(meter.id))).first()
        if base is not None and base.value is not None:
            return base, estimates
    before = estimates[0].period if estimates else period
    return previous_approved(session, meter.id, before), estimates


def read_late(session: Session, meter: Meter, base: Reading, estimates: list[Bill]) -> list[Decimal | None]:
    """Each open estimate's own actual consumption when its month's reading was approved after the month was
    billed on the estimate (None otherwise), measured along the chain of readings from ``base``; the true-up
    re-rates such a month on exactly that. A link the meter cannot explain (a drop) is left to the by-days
    split."""
    assert meter.id is not None
    register = meter.register()
    boundary = base.value
    known: list[Decimal | None] = []
    for bill in estimates:
        read = approved_in_period(session, meter.id, bill.period)
        units = None
        if read is not None and read.value is not None and boundary is not None and read.value >= boundary:
            units = meter_consumption(register, boundary, read.value).units
        known.append(units)
        boundary = read.value if read is not None else None
    return known


def later_bill(session: Session, unit_id: int, period: str) -> Bill | None:
    """A bill of the unit for a period after ``period``: it measured its consumption across this one."""
    return session.exec(
        select(Bill).where(Bill.unit_id == unit_id, col(Bill.period) > period).order_by(col(Bill.period))
    ).first()


def price_reading(session: Session, reading: Reading, *, arrears: Decimal = Decimal(0)) -> PricedReading:
    """The bill an approved reading makes for its unit and period; checks everything, writes nothing.

    When months in between were billed on estimates, the actual consumption since the last actual read is
    spread over them by days and their charges are netted off (a true-up line), docs/domain.md "Estimated reads and
    true-up".
    """
    if reading.status != ReadingStatus.APPROVED or reading.value is None:
        raise Problem("bill.reading_not_approved")
    replaced = replacement_measured_by(session, reading)
    # Across a replacement the bill measures from the old meter's reading (docs/domain.md "Meter replacement").
    meter = session.get(Meter, reading.meter_id if replaced is None else replaced.old_meter_id)
    assert meter is not None
    if meter.unit_id is None or meter.kind != MeterKind.UNIT:
        raise Problem("bill.not_a_unit_meter")
    unit = session.get(Unit, meter.unit_id)
    assert unit is not None
    assert unit.id is not None
    tariff_id, tariff = unit_tariff(session, unit)
    base, estimated = consumption_base(session, meter, unit.id, reading.period)
    if base is None:
        raise Problem("bill.no_previous_reading", f"Meter {meter.number} has no approved reading before")
    if replaced is None:
        consumption = _consumption(session, meter, reading, base)
    else:
        consumption = _replacement_consumption(session, replaced, reading, base)
    own = consumption.units
    override = rate_override_of(unit)
    adjustments = []
    try:
        if estimated:
            trued = true_up(
                tariff,
                estimated=[
                    BilledEstimate(
                        month_period(b.period), b.estimated_units or Decimal(0), tariff_charges(bill_lines(b)), known
                    )
                    for b, known in zip(estimated, read_late(session, meter, base, estimated), strict=True)
                ],
                current=month_period(reading.period),
                actual_units=own,
                unit_type=unit.unit_type,
                rate_override=override,
                sanctioned_load_kw=unit.sanctioned_load_kw,
            )
            own = trued.current_units
            adjustments.append(trued.as_adjustment())
        result = compute_bill(
            tariff,
            unit_type=unit.unit_type,
            own_units=own,
            shared=_shared_uses(session, unit, own, reading.period, tariff.share_rounding),
            rate_override=override,
            sanctioned_load_kw=unit.sanctioned_load_kw,
            arrears=arrears,
            period=month_period(reading.period),
            adjustments=adjustments,
        )
    except BillingError as error:
        raise Problem(error.code, error.message, dict(error.details)) from error
    return PricedReading(unit, tariff_id, reading, result, notes=consumption.notes)


def apply_result(bill: Bill, priced: PricedReading) -> None:
    """Write a computation onto a bill (drafts only: an issued bill never changes)."""
    assert bill.status == BillStatus.DRAFT or bill.id is None
    result = priced.result
    bill.tariff_id = priced.tariff_id
    bill.lines = line_json(result)
    bill.trace = [*priced.notes, *result.trace]
    bill.total = result.total
    bill.round_off = result.round_off
    bill.payable = result.payable


def draft_bill(session: Session, reading: Reading, *, actor: User, now: datetime, run_id: int | None = None) -> Bill:
    """A draft bill (no number yet) for the reading's unit and period; the caller commits."""
    return new_draft(session, price_reading(session, reading), reading.period, actor=actor, now=now, run_id=run_id)


def existing_bill(session: Session, unit_id: int, period: str) -> Bill | None:
    """The unit's bill for the period, draft or issued (a unit-period is billed at most once)."""
    return session.exec(select(Bill).where(Bill.unit_id == unit_id, Bill.period == period)).first()


def already_billed(bill: Bill | None) -> Problem:
    """409 naming the bill that is already there (None: it vanished again, e.g. a discarded draft)."""
    details = {} if bill is None else {"bill_id": bill.id, "bill_number": bill.bill_number, "status": bill.status}
    return Problem("bill.already_billed", details=details)


def new_draft(
    session: Session, priced: PricedReading, period: str, *, actor: User, now: datetime, run_id: int | None
) -> Bill:
    assert priced.unit.id is not None
    existing = existing_bill(session, priced.unit.id, period)
    if existing is not None:
        raise already_billed(existing)
    later = later_bill(session, priced.unit.id, period)
    if later is not None:  # billing this period now would bill its units a second time
        raise Problem(
            "bill.later_period_billed",
            f"{later.period} is billed already and measured its units across {period}",
            {"bill_id": later.id, "period": later.period},
        )
    bill = Bill(
        status=BillStatus.DRAFT,
        unit_id=priced.unit.id,
        period=period,
        reading_id=priced.reading.id if priced.reading is not None else None,
        estimated_units=priced.estimated_units,
        run_id=run_id,
        tariff_id=priced.tariff_id,
        lines=[],
        trace=[],
        total=Decimal(0),
        round_off=Decimal(0),
        payable=Decimal(0),
        created_at=now,
        created_by_id=actor.id or 0,
    )
    apply_result(bill, priced)
    session.add(bill)
    return bill
