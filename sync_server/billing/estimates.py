"""Bills on estimated consumption for units with no approved reading in the period.

Rules: docs/domain.md "Estimated reads and true-up".

The estimate is the average of the last three actual months (shared_billing.estimates), capped at two
consecutive estimated bills (not trued up by an actual bill yet), after which the meter must be read. Units on
a shared meter are not estimated: their share depends on the other members' actual readings, and a unit whose
reading for the period awaits review is not estimated either (the run skips it: it is billed once reviewed).
The next bill on an actual reading trues every open estimate up (compute.price_reading), whatever order
readings are approved and runs happen in.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from sqlmodel import Session, col, select

from shared_billing.billing import compute_bill
from shared_billing.errors import BillingError
from shared_billing.estimates import estimate_consumption
from shared_billing.money import round_units
from sync_server.billing.compute import (
    PricedReading,
    member_during,
    month_period,
    new_draft,
    open_estimates,
    previous_approved,
    rate_override_of,
    unit_tariff,
)
from sync_server.models import Bill, Meter, Reading, ReadingStatus, SharedMeterMember, Unit, User
from sync_server.problems import Problem

__all__ = ["draft_estimated_bill", "monthly_history", "price_estimate"]


def _next_month(period: str) -> str:
    first = date.fromisoformat(period + "-01")
    return (first.replace(day=28) + timedelta(days=4)).strftime("%Y-%m")


def monthly_history(session: Session, meter: Meter, before: str) -> list[Decimal]:
    """Actual consumption of each month with approved reads at both ends, oldest first, before ``before``."""
    rows = session.exec(
        select(Reading.period, col(Reading.value))
        .where(
            Reading.meter_id == meter.id,
            Reading.status == ReadingStatus.APPROVED,
            col(Reading.value).is_not(None),
            col(Reading.period) < before,
        )
        .order_by(col(Reading.captured_at))
    ).all()
    latest = {period: value for period, value in rows if value is not None}  # the last read of each month wins
    periods = sorted(latest)
    # At the meter's precision, like billed consumption (stored values and multiplier carry 4 places each).
    return [
        round_units((latest[later] - latest[earlier]) * meter.multiplier, meter.decimals)
        for earlier, later in pairwise(periods)
        if _next_month(earlier) == later and latest[later] >= latest[earlier]
    ]


def _on_shared_meter(session: Session, unit_id: int, period: str) -> bool:
    found = session.exec(
        select(SharedMeterMember.id).where(SharedMeterMember.unit_id == unit_id, member_during(period))
    ).first()
    return found is not None


def price_estimate(
    session: Session,
    unit: Unit,
    meter: Meter,
    period: str,
    *,
    arrears: Decimal = Decimal(0),
    units: Decimal | None = None,
    notes: tuple[str, ...] = (),
) -> PricedReading:
    """Price a unit's period on an estimate (``units`` and ``notes`` given: re-price an estimated draft)."""
    assert unit.id is not None
    assert meter.id is not None
    tariff_id, tariff = unit_tariff(session, unit)
    try:
        if units is None:
            if _on_shared_meter(session, unit.id, period):
                raise Problem("bill.estimate_shared_meter")
            last_actual = previous_approved(session, meter.id, period)
            if last_actual is None:
                raise Problem("bill.no_previous_reading", f"Meter {meter.number} has never been read")
            # Estimates in a row are counted on bills: those not trued up by an actual bill yet.
            consumption = estimate_consumption(
                monthly_history(session, meter, period),
                consecutive_estimates=len(open_estimates(session, unit.id, period)),
                places=meter.decimals,
            )
            units, notes = consumption.units, consumption.explanation
        else:  # a stored estimate carries the column's 4 places: price and print it as the meter shows units
            units = round_units(units, meter.decimals)
        result = compute_bill(
            tariff,
            unit_type=unit.unit_type,
            own_units=units,
            rate_override=rate_override_of(unit),
            sanctioned_load_kw=unit.sanctioned_load_kw,
            arrears=arrears,
            period=month_period(period),
        )
    except BillingError as error:
        raise Problem(error.code, error.message, dict(error.details)) from error
    return PricedReading(
        unit, tariff_id, None, result, estimated_units=units, notes=notes or (f"Estimated: {units} units",)
    )


def draft_estimated_bill(
    session: Session, unit: Unit, meter: Meter, period: str, *, actor: User, now: datetime, run_id: int | None
) -> Bill:
    return new_draft(session, price_estimate(session, unit, meter, period), period, actor=actor, now=now, run_id=run_id)
