"""Produce one unit's bill for the period of an approved reading, with ``shared_billing``.

Consumption = this approved reading − the latest approved reading of an earlier period (docs/domain.md); in the
period of a meter replacement, the old meter's part plus the new meter's (sync_server/billing/replacement.py). A
unit on a shared meter (water motor) also pays its share of that meter's units, split over the members' own units; every
member and the shared meter need approved readings for the period, or the bill waits. A unit-period is billed at
most once (unique constraint), and an approved reading at most once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, Executable, Integer, exists, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, or_, select

from shared_billing.bill_lines import BillLine, tariff_charges
from shared_billing.billing import BillResult, SharedMeterUse, compute_bill
from shared_billing.consumption import MeterRegister, meter_consumption, replacement_consumption
from shared_billing.errors import BillingError
from shared_billing.estimates import BilledEstimate, true_up
from shared_billing.periods import BillingPeriod, DaySpan
from shared_billing.readings import format_quantity
from shared_billing.schedules import TariffSchedule
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
from sync_server.models.directory import register_of
from sync_server.periods import financial_year
from sync_server.problems import Problem
from sync_server.readings_query import baseline_last, last_approved
from sync_server.sql import insert_ignoring, one_of, plain_rows, table_of

__all__ = [
    "METER_ROW",
    "UNIT_ROW",
    "BilledRow",
    "BlockFacts",
    "MeterDials",
    "MeterRow",
    "PricedReading",
    "ReadRow",
    "ReadValue",
    "UnitRow",
    "UnitTerms",
    "already_billed",
    "apply_result",
    "approved_in_period",
    "awaiting_review",
    "bill_lines",
    "block_facts",
    "consumption_base",
    "draft_bill",
    "draft_values",
    "existing_bill",
    "last_actual_bill",
    "later_bill",
    "later_period_billed",
    "member_during",
    "new_draft",
    "next_bill_number",
    "next_bill_numbers",
    "open_estimates",
    "previous_approved",
    "price_known",
    "price_reading",
    "read_late",
    "read_rows",
    "result_values",
    "unit_meter",
]


class ReadValue(Protocol):
    """What pricing reads of a reading: a ``Reading``, or a ``ReadRow`` of a batch."""

    @property
    def id(self) -> int | None: ...
    @property
    def meter_id(self) -> int: ...
    @property
    def period(self) -> str: ...
    @property
    def value(self) -> Decimal | None: ...
    @property
    def value_text(self) -> str | None: ...
    @property
    def status(self) -> ReadingStatus: ...


class ReadRow(NamedTuple):
    """A reading's columns a batch prices from (plain rows: ORM objects of a block's readings cost more than
    pricing them)."""

    id: int
    meter_id: int
    period: str
    value: Decimal | None
    value_text: str | None
    status: ReadingStatus
    captured_at: datetime
    source: ReadingSource


_READ_ROW = tuple(table_of(Reading).c[name] for name in ReadRow._fields)


class UnitTerms(Protocol):
    """What pricing reads of a unit: a ``Unit``, or a ``UnitRow`` of a batch."""

    @property
    def id(self) -> int | None: ...
    @property
    def code(self) -> str: ...
    @property
    def unit_type(self) -> str: ...
    @property
    def tariff_id(self) -> int | None: ...
    @property
    def rate_override(self) -> Decimal | None: ...
    @property
    def fixed_charge_waived(self) -> bool: ...
    @property
    def sanctioned_load_kw(self) -> Decimal | None: ...


class MeterDials(Protocol):
    """What pricing reads of a meter: a ``Meter``, or a ``MeterRow`` of a batch."""

    @property
    def id(self) -> int | None: ...
    @property
    def number(self) -> str: ...
    def register(self) -> MeterRegister: ...


class UnitRow(NamedTuple):
    """A unit's columns a batch prices with (plain rows, like ``ReadRow``)."""

    id: int
    code: str
    unit_type: str
    tariff_id: int | None
    rate_override: Decimal | None
    fixed_charge_waived: bool
    sanctioned_load_kw: Decimal | None


class MeterRow(NamedTuple):
    """A unit meter's columns a batch prices with."""

    id: int
    number: str
    dials: int
    decimals: int
    multiplier: Decimal

    def register(self) -> MeterRegister:
        return register_of(self.dials, self.decimals, self.multiplier)  # the model's one rule (``Meter.register``)


UNIT_ROW = tuple(table_of(Unit).c[name] for name in UnitRow._fields)
METER_ROW = tuple(table_of(Meter).c[name] for name in MeterRow._fields)


@dataclass(frozen=True)
class MeterConsumption:
    units: Decimal
    current: ReadValue
    previous: ReadValue
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


def _consumption(
    session: Session, meter: MeterDials, current: ReadValue, previous: ReadValue | None = None
) -> MeterConsumption:
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
    return next_bill_numbers(session, period, 1)[0]


def next_bill_numbers(session: Session, period: str, count: int) -> list[str]:
    """``count`` consecutive numbers at once (a run's bills, in the order given): the counter is moved by
    ``count`` in one ``UPDATE``, under the same lock and with the same no-gap guarantee as one number."""
    fy = financial_year(period)
    last = _bump_counter(session, fy, count)
    if last is None:
        session.execute(_insert_ignore(session, fy))
        last = _bump_counter(session, fy, count)
    assert last is not None
    return [f"FM/{fy[2:4]}{fy[5:7]}/{number:06d}" for number in range(last - count + 1, last + 1)]


def _bump_counter(session: Session, fy: str, count: int) -> int | None:
    counter = table_of(BillNumberCounter)
    bumped = session.execute(
        update(counter)
        .where(counter.c.financial_year == fy)
        .values(last_number=counter.c.last_number + count)
        .returning(counter.c.last_number)
    ).scalar_one_or_none()
    return None if bumped is None else int(bumped)


def _insert_ignore(session: Session, fy: str) -> Executable:
    counter = table_of(BillNumberCounter)
    return insert_ignoring(session.get_bind().dialect.name, counter).values(financial_year=fy, last_number=0)


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

    unit: UnitTerms
    tariff_id: int
    reading: ReadValue | None
    result: BillResult
    estimated_units: Decimal | None = None
    notes: tuple[str, ...] = ()  # how the consumption was found, ahead of the engine's trace
    # The result's lines as a bill stores them (``line_json``); given when a run priced the same bill before.
    lines: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.lines:
            object.__setattr__(self, "lines", line_json(self.result))


@lru_cache(maxsize=256)
def month_period(period: str) -> BillingPeriod:
    """The calendar month of a period key: pro-rated tariffs scale slabs and fixed charges by its days."""
    year, month = (int(part) for part in period.split("-"))
    return BillingPeriod.month(year, month)


def unit_tariff(session: Session, unit: Unit) -> tuple[int, Tariff]:
    tariff_row = session.get(TariffRecord, unit.tariff_id) if unit.tariff_id is not None else None
    if tariff_row is None or tariff_row.id is None:
        raise _no_tariff(unit)
    return tariff_row.id, Tariff.from_dict(tariff_row.config)


def _no_tariff(unit: UnitTerms) -> Problem:
    return Problem("bill.no_tariff", f"Unit {unit.code} has no tariff")


def rate_override_of(unit: UnitTerms) -> RateOverride | None:
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
    _require_approved(reading)
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
        raise _no_previous_reading(meter)
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
        shared = _shared_uses(session, unit, own, reading.period, tariff.share_rounding)
    except BillingError as error:
        raise Problem(error.code, error.message, dict(error.details)) from error
    result = _compute(tariff, unit, own, reading.period, arrears=arrears, shared=shared, adjustments=adjustments)
    return PricedReading(unit, tariff_id, reading, result, notes=consumption.notes)


def _require_approved(reading: ReadValue) -> None:
    if reading.status != ReadingStatus.APPROVED or reading.value is None:
        raise Problem("bill.reading_not_approved")


def _no_previous_reading(meter: MeterDials) -> Problem:
    return Problem("bill.no_previous_reading", f"Meter {meter.number} has no approved reading before")


def _compute(
    tariff: Tariff | TariffSchedule,
    unit: UnitTerms,
    own: Decimal,
    period: str,
    *,
    arrears: Decimal,
    shared: list[SharedMeterUse],
    adjustments: list[Any],
) -> BillResult:
    """The engine's bill for a unit's units (keywords only: the engine's signature grows with defaults)."""
    try:
        return compute_bill(
            tariff,
            unit_type=unit.unit_type,
            own_units=own,
            shared=shared,
            rate_override=rate_override_of(unit),
            sanctioned_load_kw=unit.sanctioned_load_kw,
            arrears=arrears,
            period=month_period(period),
            adjustments=adjustments,
        )
    except BillingError as error:
        raise Problem(error.code, error.message, dict(error.details)) from error


def apply_result(bill: Bill, priced: PricedReading) -> None:
    """Write a computation onto a bill (drafts only: an issued bill never changes)."""
    assert bill.status == BillStatus.DRAFT or bill.id is None
    for name, value in result_values(priced).items():
        setattr(bill, name, value)


def result_values(priced: PricedReading) -> dict[str, Any]:
    """The bill columns a computation sets (``apply_result`` on an object, bulk inserts and updates as rows)."""
    result = priced.result
    return {
        "tariff_id": priced.tariff_id,
        "lines": priced.lines,
        "trace": [*priced.notes, *result.trace],
        "total": result.total,
        "round_off": result.round_off,
        "payable": result.payable,
    }


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
    if later is not None:
        raise later_period_billed(later.id, later.period, period)
    bill = Bill(**draft_values(priced, period, actor_id=actor.id or 0, now=now, run_id=run_id))
    session.add(bill)
    return bill


def later_period_billed(bill_id: int | None, later: str, period: str) -> Problem:
    # Billing this period now would bill its units a second time.
    return Problem(
        "bill.later_period_billed",
        f"{later} is billed already and measured its units across {period}",
        {"bill_id": bill_id, "period": later},
    )


def draft_values(
    priced: PricedReading, period: str, *, actor_id: int, now: datetime, run_id: int | None
) -> dict[str, Any]:
    """Every column of a new draft (no number yet): one row of a run's bulk insert, or a ``Bill``'s fields."""
    assert priced.unit.id is not None
    return {
        "bill_number": None,
        "status": BillStatus.DRAFT,
        "run_id": run_id,
        "issued_at": None,
        "due_on": None,
        "charges": Decimal(0),
        "unit_id": priced.unit.id,
        "period": period,
        "reading_id": priced.reading.id if priced.reading is not None else None,
        "estimated_units": priced.estimated_units,
        **result_values(priced),
        "created_at": now,
        "created_by_id": actor_id,
    }


# --- A block's bills at once: what pricing needs, fetched in a few statements per batch of units -------------


class BilledRow(NamedTuple):
    """What a batch needs of a unit's bills (plain columns: a block's history, no ORM objects)."""

    id: int
    unit_id: int
    period: str
    reading_id: int | None
    estimated: bool
    status: BillStatus
    run_id: int | None


@dataclass(frozen=True)
class BlockFacts:
    """Everything ``price_reading`` looks up, for a batch of a block's units and one period, fetched once.

    Units whose bill needs more than their own two readings (a meter replacement, a shared meter, open
    estimates to true up) are ``alone``: they are priced one by one with ``price_reading``, the same rule.
    """

    period: str
    # tariff id → (id, parsed tariff): one schedule object per tariff for the whole batch, so the period is cut once
    tariffs: dict[int, tuple[int, TariffSchedule]]
    bills: dict[int, list[BilledRow]]  # unit id → its bills, by period
    current: dict[int, ReadRow]  # meter id → ``approved_in_period``
    base: dict[int, ReadRow]  # meter id → the reading its bill measures from (``consumption_base``)
    awaiting: frozenset[int]  # meter ids with a reading ``awaiting_review``
    alone: frozenset[int]  # unit ids priced one by one
    # The engine's bills so far, by everything it prices from (``price_known``): a block's flats share a tariff and
    # a period, and many use the same units on the same terms, so each such bill is computed once.
    priced: dict[tuple[Any, ...], PricedReading] = field(default_factory=dict, init=False, repr=False, compare=False)

    def billed(self, unit_id: int) -> BilledRow | None:
        """``existing_bill``: the unit's bill for the period, draft or issued."""
        return next((row for row in self.bills.get(unit_id, ()) if row.period == self.period), None)

    def later(self, unit_id: int) -> BilledRow | None:
        """``later_bill``: the unit's first bill after the period."""
        return next((row for row in self.bills.get(unit_id, ()) if row.period > self.period), None)


def block_facts(session: Session, units: Sequence[tuple[UnitTerms, MeterDials]], period: str) -> BlockFacts:
    """The facts of ``units`` (each with its meter in service during ``period``) for ``period``."""
    unit_ids = [unit.id for unit, _ in units if unit.id is not None]
    meter_ids = [meter.id for _, meter in units if meter.id is not None]
    bills = _bills_of(session, unit_ids, period)
    replaced = _replaced_meters(session, meter_ids)
    alone = {unit_id for unit, meter in units if meter.id in replaced and (unit_id := unit.id) is not None}
    alone |= _sharing_units(session, unit_ids, period)
    bases: dict[int, int] = {}  # meter id → the reading id of the unit's last actual bill
    for unit, meter in units:
        assert unit.id is not None
        assert meter.id is not None
        history = [row for row in bills.get(unit.id, ()) if row.period < period]
        last = next((row for row in reversed(history) if row.reading_id is not None), None)
        if any(row.estimated and (last is None or row.period > last.period) for row in history):
            alone.add(unit.id)  # open estimates: the true-up reads their months one by one
        elif last is not None and last.reading_id is not None:
            bases[meter.id] = last.reading_id
    simple = [meter_id for unit, meter in units if unit.id not in alone and (meter_id := meter.id) is not None]
    current = read_rows(session, _of_meters(session, simple), _approved_in(period))
    return BlockFacts(
        period=period,
        tariffs=_tariffs(session, {unit.tariff_id for unit, _ in units if unit.tariff_id is not None}),
        bills=bills,
        current=_newest_per_meter(current),
        base=_base_readings(session, bases, simple, period),
        awaiting=frozenset(_awaiting_meters(session, simple, period)),
        alone=frozenset(alone),
    )


def price_known(
    session: Session,
    facts: BlockFacts,
    unit: UnitTerms,
    meter: MeterDials,
    reading: ReadValue,
    *,
    arrears: Decimal = Decimal(0),
) -> PricedReading:
    """``price_reading`` for a unit that is not ``facts.alone``, from the facts: no statement."""
    _require_approved(reading)
    tariff = facts.tariffs.get(unit.tariff_id) if unit.tariff_id is not None else None
    if tariff is None:
        raise _no_tariff(unit)
    base = facts.base.get(meter.id) if meter.id is not None else None
    if base is None:
        raise _no_previous_reading(meter)
    consumption = _consumption(session, meter, reading, base)
    units, override = consumption.units, rate_override_of(unit)
    # Exact: 5 and 5.0 are equal decimals but print differently in the trace.
    terms = (
        tariff[0],
        unit.unit_type,
        str(units),
        repr(override),
        str(unit.sanctioned_load_kw),
        reading.period,
        str(arrears),
    )
    alike = facts.priced.get(terms)
    if alike is None:
        result = _compute(tariff[1], unit, units, reading.period, arrears=arrears, shared=[], adjustments=[])
        alike = facts.priced[terms] = PricedReading(unit, tariff[0], reading, result)
    return PricedReading(unit, tariff[0], reading, alike.result, notes=consumption.notes, lines=alike.lines)


def _bills_of(session: Session, unit_ids: list[int], period: str) -> dict[int, list[BilledRow]]:
    """The units' bills pricing reads, by period: the period's and later ones, and before it the last actual bill
    and every bill since (``last_actual_bill``, ``open_estimates``). Years of older bills stay in the table."""
    bills, actual = table_of(Bill), table_of(Bill).alias("actual")
    # An actual bill between a bill and the period settled it: its units were measured again since.
    settled = (
        sa_select(actual.c.id)
        .where(
            actual.c.unit_id == bills.c.unit_id,
            actual.c.reading_id.is_not(None),
            actual.c.period > bills.c.period,
            actual.c.period < period,
        )
        .exists()
    )
    query = (
        sa_select(
            bills.c.id,
            bills.c.unit_id,
            bills.c.period,
            bills.c.reading_id,
            bills.c.estimated_units.is_not(None),
            bills.c.status,
            bills.c.run_id,
        )
        .where(one_of(session, bills.c.unit_id, unit_ids, Integer), or_(bills.c.period >= period, ~settled))
        .order_by(bills.c.unit_id, bills.c.period)
    )
    found: dict[int, list[BilledRow]] = {}
    for row in plain_rows(session, query):
        billed = BilledRow._make(row)
        found.setdefault(billed.unit_id, []).append(billed)
    return found


def _replaced_meters(session: Session, meter_ids: list[int]) -> set[int]:
    """Meters on either side of a replacement: their readings and periods follow the replacement's rules."""
    rows = session.execute(
        sa_select(col(MeterReplacement.old_meter_id), col(MeterReplacement.new_meter_id)).where(
            or_(
                one_of(session, MeterReplacement.old_meter_id, meter_ids, Integer),
                one_of(session, MeterReplacement.new_meter_id, meter_ids, Integer),
            )
        )
    ).all()
    return {meter_id for row in rows for meter_id in row}


def _sharing_units(session: Session, unit_ids: list[int], period: str) -> set[int]:
    rows = session.execute(
        sa_select(col(SharedMeterMember.unit_id)).where(
            one_of(session, SharedMeterMember.unit_id, unit_ids, Integer), member_during(period)
        )
    ).scalars()
    return set(rows)


def _tariffs(session: Session, tariff_ids: set[int]) -> dict[int, tuple[int, TariffSchedule]]:
    rows = session.exec(select(TariffRecord).where(col(TariffRecord.id).in_(sorted(tariff_ids)))).all()
    return {row.id: (row.id, TariffSchedule((Tariff.from_dict(row.config),))) for row in rows if row.id is not None}


def _of_meters(session: Session, meter_ids: list[int]) -> ColumnElement[bool]:
    return one_of(session, Reading.meter_id, meter_ids, Integer)


def _approved_in(period: str) -> ColumnElement[bool]:
    return (
        (col(Reading.period) == period)
        & (col(Reading.status) == ReadingStatus.APPROVED)
        & col(Reading.value).is_not(None)
    )


def _newest_per_meter(readings: Iterable[ReadRow]) -> dict[int, ReadRow]:
    """Each meter's first reading in ``approved_in_period``'s order (newest capture, baseline last, newest id)."""
    newest: dict[int, ReadRow] = {}
    for reading in readings:
        held = newest.get(reading.meter_id)
        if held is None or _newness(reading) > _newness(held):
            newest[reading.meter_id] = reading
    return newest


def _newness(reading: ReadRow) -> tuple[datetime, int, int]:
    return reading.captured_at, int(reading.source != ReadingSource.INSTALL), reading.id


def read_rows(session: Session, *where: ColumnElement[bool]) -> list[ReadRow]:
    return [ReadRow._make(row) for row in plain_rows(session, sa_select(*_READ_ROW).where(*where))]


def _base_readings(session: Session, bases: dict[int, int], meter_ids: list[int], period: str) -> dict[int, ReadRow]:
    """``consumption_base`` of meters with no open estimates: the last actual bill's reading (when it has a
    value and is the meter's), else the last approved reading of an earlier period."""
    found: dict[int, ReadRow] = {}
    if bases:
        for reading in read_rows(session, one_of(session, Reading.id, bases.values(), Integer)):
            if reading.value is not None and bases.get(reading.meter_id) == reading.id:
                found[reading.meter_id] = reading
    rest = [meter_id for meter_id in meter_ids if meter_id not in found]
    if rest:
        earlier = read_rows(
            session,
            _of_meters(session, rest),
            col(Reading.status) == ReadingStatus.APPROVED,
            col(Reading.value).is_not(None),
            col(Reading.period) < period,
        )
        found.update(_newest_per_meter(earlier))
    return found


def _awaiting_meters(session: Session, meter_ids: list[int], period: str) -> set[int]:
    rows = session.execute(
        sa_select(col(Reading.meter_id)).where(
            _of_meters(session, meter_ids),
            col(Reading.period) == period,
            col(Reading.status) == ReadingStatus.SUBMITTED,
            col(Reading.source) != ReadingSource.CHECK,
            col(Reading.value).is_not(None),
        )
    ).scalars()
    return set(rows)
