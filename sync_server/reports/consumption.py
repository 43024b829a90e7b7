"""Metered consumption per unit and month, from the approved reads (docs/reports.md "Consumption").

A unit meter's consumption between two consecutive approved reads (by the shared rule, rollover included) counts
in the later read's period. Consumption is what the meters measured, billed or not: a month without bills (or the
demo's) still has its chart. A drop that is not a plausible rollover (a replaced meter, a typo approved anyway)
says nothing about use and is left out, as is a month whose read has no approved read before it. Shared meters
(water motors) are not a unit's use: they are apportioned on the bills, not counted here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby, pairwise

from sqlmodel import Session, col, select

from shared_billing.consumption import meter_consumption
from shared_billing.errors import BillingError
from shared_billing.protocol import MeterKind, ReadingStatus
from sync_server.models import Meter, Reading
from sync_server.periods import periods_ending
from sync_server.readings_query import baseline_last

__all__ = ["LOOKBACK_PERIODS", "MeteredMonth", "metered_months"]

#: How far before the first month a baseline read is looked for: an engineer may miss a month or two.
LOOKBACK_PERIODS = 3


@dataclass(frozen=True)
class MeteredMonth:
    """One unit meter's consumption in one period (register units × multiplying factor)."""

    meter_id: int
    unit_id: int
    block_id: int
    period: str
    units: Decimal


def metered_months(
    session: Session, *, since: str | None, until: str, block_id: int | None = None
) -> list[MeteredMonth]:
    """Each unit meter's consumption per period from ``since`` (None: its whole past) to ``until``, both included,
    summed when a period has more than one approved read."""
    reads = (
        select(Meter, col(Reading.period), col(Reading.value))
        .join(Meter, col(Meter.id) == col(Reading.meter_id))
        .where(
            col(Reading.status) == ReadingStatus.APPROVED,
            col(Reading.value).is_not(None),
            col(Meter.kind) == MeterKind.UNIT,
            col(Meter.unit_id).is_not(None),
            col(Reading.period) <= until,
        )
        .order_by(col(Reading.meter_id), col(Reading.captured_at), baseline_last(), col(Reading.id))
    )
    if since is not None:
        reads = reads.where(col(Reading.period) >= periods_ending(since, LOOKBACK_PERIODS + 1)[0])
    if block_id is not None:
        reads = reads.where(col(Meter.block_id) == block_id)
    totals: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    meters: dict[int, Meter] = {}
    for meter_id, rows in groupby(session.exec(reads).all(), key=lambda row: row[0].id):
        series = list(rows)
        meters[meter_id or 0] = series[0][0]
        for period, units in _intervals(
            [(period, value) for _, period, value in series if value is not None], series[0][0]
        ):
            if since is None or period >= since:
                totals[(meter_id or 0, period)] += units
    return [
        MeteredMonth(meter_id, meters[meter_id].unit_id or 0, meters[meter_id].block_id, period, units)
        for (meter_id, period), units in sorted(totals.items())
    ]


def _intervals(reads: Sequence[tuple[str, Decimal]], meter: Meter) -> Iterable[tuple[str, Decimal]]:
    register = meter.register()
    for (_, earlier), (period, later) in pairwise(reads):
        try:
            yield period, meter_consumption(register, earlier, later).units
        except BillingError:  # a drop that is no rollover: no measure of use (module docstring)
            continue
