"""Consumption over months, blocks compared, the seasonal pattern: the metered months shaped for a chart."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlmodel import Session, col, select

from shared_billing.report_models import (
    BlockComparison,
    BlockFigures,
    ConsumptionReport,
    SeasonalMonth,
    SeasonalReport,
    SeriesRow,
)
from sync_server.models import Block, Unit
from sync_server.periods import periods_ending, previous_period
from sync_server.reports.consumption import MeteredMonth, metered_months
from sync_server.reports.figures import average, percent

__all__ = ["block_comparison", "consumption_report", "seasonal_report"]

ZERO = Decimal(0)


def _labels(session: Session, block_id: int | None) -> dict[int, str]:
    """The rows' names: every block, or every unit of ``block_id``, by code."""
    if block_id is None:
        return dict(session.exec(select(Block.id, Block.code).order_by(col(Block.code))).all())  # type: ignore[arg-type]
    units = select(Unit.id, Unit.code).where(Unit.block_id == block_id).order_by(col(Unit.code))
    return dict(session.exec(units).all())  # type: ignore[arg-type]


def consumption_report(session: Session, *, until: str, months: int, block_id: int | None) -> ConsumptionReport:
    periods = periods_ending(until, months)
    column = {period: index for index, period in enumerate(periods)}
    labels = _labels(session, block_id)
    values: dict[int, list[Decimal]] = {key: [ZERO] * len(periods) for key in labels}
    for month in metered_months(session, since=periods[0], until=until, block_id=block_id):
        key = month.block_id if block_id is None else month.unit_id
        if key in values:
            values[key][column[month.period]] += month.units
    rows = [SeriesRow(id=key, label=label, values=values[key]) for key, label in labels.items()]
    totals = [sum((row.values[index] for row in rows), ZERO) for index in range(len(periods))]
    return ConsumptionReport(months=periods, block_id=block_id, rows=rows, totals=totals)


def _per_block(months: list[MeteredMonth], period: str) -> dict[int, tuple[Decimal, int]]:
    """(units, metered units) per block in the period."""
    units: dict[int, Decimal] = defaultdict(Decimal)
    metered: dict[int, set[int]] = defaultdict(set)
    for month in months:
        if month.period == period:
            units[month.block_id] += month.units
            metered[month.block_id].add(month.unit_id)
    return {block: (units[block], len(metered[block])) for block in units}


def block_comparison(session: Session, *, period: str) -> BlockComparison:
    before = previous_period(period)
    months = metered_months(session, since=before, until=period)
    now, then = _per_block(months, period), _per_block(months, before)
    rows = []
    for block_id, code in _labels(session, None).items():
        units, metered = now.get(block_id, (ZERO, 0))
        mean = average(units, metered)
        previous = average(*then.get(block_id, (ZERO, 0)))
        change = percent(mean - previous, previous) if mean is not None and previous is not None else None
        rows.append(
            BlockFigures(
                block_id=block_id,
                block_code=code,
                metered_units=metered,
                units=units,
                average=mean,
                previous_average=previous,
                change_percent=change,
            )
        )
    return BlockComparison(period=period, rows=rows)


def seasonal_report(session: Session, *, until: str, block_id: int | None) -> SeasonalReport:
    totals: dict[int, Decimal] = defaultdict(Decimal)
    counts: dict[int, int] = defaultdict(int)
    years: dict[int, set[str]] = defaultdict(set)
    for month in metered_months(session, since=None, until=until, block_id=block_id):
        year, calendar_month = month.period.split("-")
        totals[int(calendar_month)] += month.units
        counts[int(calendar_month)] += 1
        years[int(calendar_month)].add(year)
    return SeasonalReport(
        block_id=block_id,
        months=[
            SeasonalMonth(month=m, average=average(totals[m], counts[m]), unit_months=counts[m], years=len(years[m]))
            for m in range(1, 13)
        ],
    )
