"""The reports' wire models (``/api/reports/...``): figures per month, block, bucket and engineer.

Units and money are ``Decimal`` (sent as strings); a month is a period ``YYYY-MM``. Rates are percentages to one
place, None where there is nothing to divide by. docs/reports.md says where each figure comes from.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel

from shared_billing.ageing import AgeBucket
from shared_billing.payment_plans import PlanStanding

__all__ = [
    "AgeingReport",
    "AgeingRow",
    "BlockComparison",
    "BlockFigures",
    "CollectionMonth",
    "CollectionReport",
    "ConsumptionReport",
    "DefaulterRow",
    "DefaultersReport",
    "EngineerFigures",
    "EngineerReport",
    "SeasonalMonth",
    "SeasonalReport",
    "SeriesRow",
]


class SeriesRow(BaseModel):
    """A block's or a unit's figure per month, in the order of the report's ``months``."""

    id: int
    label: str
    values: list[Decimal]


class ConsumptionReport(BaseModel):
    """Metered units per month: a row per block, or per unit of ``block_id`` when one is asked for."""

    months: list[str]
    block_id: int | None
    rows: list[SeriesRow]
    totals: list[Decimal]


class BlockFigures(BaseModel):
    block_id: int
    block_code: str
    metered_units: int  # units whose meter measured a consumption in the period
    units: Decimal
    average: Decimal | None  # per metered unit
    previous_average: Decimal | None  # the period before, the same way
    change_percent: Decimal | None


class BlockComparison(BaseModel):
    period: str
    rows: list[BlockFigures]


class SeasonalMonth(BaseModel):
    month: int  # 1 = January
    average: Decimal | None  # units per metered unit in that calendar month, over every year on record
    unit_months: int  # how many (unit, month) consumptions the average rests on
    years: int  # how many different years they come from


class SeasonalReport(BaseModel):
    block_id: int | None
    months: list[SeasonalMonth]


class CollectionMonth(BaseModel):
    period: str
    billed: Decimal  # the period's issued bills' charges
    collected: Decimal  # payments made in that calendar month
    collected_percent: Decimal | None


class CollectionReport(BaseModel):
    block_id: int | None
    months: list[CollectionMonth]
    billed: Decimal
    collected: Decimal


class AgeingRow(BaseModel):
    bucket: AgeBucket
    amount: Decimal
    accounts: int


class AgeingReport(BaseModel):
    """What accounts owe on ``on``, by how long it has been due (payments settle the oldest charges first)."""

    on: date
    block_id: int | None
    rows: list[AgeingRow]  # every bucket, in order, zero included
    total: Decimal
    accounts: int  # accounts owing anything


class DefaulterRow(BaseModel):
    """An account with something past its due day, aged like ``AgeingReport``."""

    unit_id: int
    unit_code: str
    block_code: str
    consumer_name: str | None
    owed: dict[AgeBucket, Decimal]  # only the buckets it owes in
    overdue: Decimal  # all but ``not_due``
    oldest: AgeBucket
    plan: PlanStanding | None = None  # the account's payment plan, where it has one: still owed, but being paid


class DefaultersReport(BaseModel):
    """The accounts owing past their due day on ``on``, the longest overdue first, then the most."""

    on: date
    block_id: int | None
    rows: list[DefaulterRow]
    overdue: Decimal


class EngineerFigures(BaseModel):
    engineer_id: int
    name: str
    readings: int  # field readings captured in the period, whatever became of them
    skipped: int
    skip_percent: Decimal | None
    zero: int  # actual reads equal to the meter's previous approved read
    zero_percent: Decimal | None
    rejected: int  # rejected or sent back for a re-read
    rejected_percent: Decimal | None
    judged: int  # actual reads with an expected value (enough history)
    at_expected: int  # of those, within a whisker of the expected value
    at_expected_percent: Decimal | None
    minutes_per_meter: Decimal | None  # median gap between one reading and the next on a walk


class EngineerReport(BaseModel):
    period: str
    rows: list[EngineerFigures]
