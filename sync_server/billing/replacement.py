"""Billing's view of meter replacements (docs/domain.md "Meter replacement").

A replacement is one event (``MeterReplacement``): the old meter's final read and the new meter's initial read on
a date. The bill of the replacement's period measures across it: (old final − old previous) + (new current − new
initial), slabs on the sum (``shared_billing.consumption.replacement_consumption``). Which meter a unit is billed
on in a period, and which readings count as the new meter's, are decided here, once:

- the meter *in service* during a period is the old one for periods before the replacement's and the new one from
  the replacement's period on (a bill run takes one meter per unit);
- a reading that reported the replacement is pushed against the old meter, but its value is the new meter's
  register: confirmed, it is *attributed* to the new meter (it may be the new meter's current read of the period,
  and the next period measures the new meter from it).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, exists, or_
from sqlmodel import Session, col, select

from sync_server.models import Meter, MeterReplacement, Reading
from sync_server.readings_query import attributed_to

__all__ = ["attributed_to", "in_service_during", "period_days", "replacement_measured_by"]


def period_days(period: str) -> tuple[date, date]:
    """[first day, first day of the next month) of a period key."""
    first = date.fromisoformat(period + "-01")
    return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def in_service_during(period: str) -> ColumnElement[bool]:
    """A meter that measures its unit in ``period``: not replaced by the period's end, and not installed by a
    replacement after it."""
    _, next_first = period_days(period)
    retired = exists().where(
        col(MeterReplacement.old_meter_id) == col(Meter.id), col(MeterReplacement.replaced_on) < next_first
    )
    installed_later = exists().where(
        col(MeterReplacement.new_meter_id) == col(Meter.id), col(MeterReplacement.replaced_on) >= next_first
    )
    return ~retired & ~installed_later


def replacement_measured_by(session: Session, reading: Reading) -> MeterReplacement | None:
    """The replacement a reading's bill measures across: the one the reading reported, or one in the reading's
    period whose new meter it reads (the new meter's baseline or a later read of the same month)."""
    first, next_first = period_days(reading.period)
    return session.exec(
        select(MeterReplacement).where(
            or_(
                col(MeterReplacement.reading_uuid) == reading.uuid,
                and_(
                    col(MeterReplacement.new_meter_id) == reading.meter_id,
                    col(MeterReplacement.replaced_on) >= first,
                    col(MeterReplacement.replaced_on) < next_first,
                ),
            )
        )
    ).first()
