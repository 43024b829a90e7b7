"""The figures behind the console's charts (sync_server/reports, docs/reports.md): each chart's data, which the
console also shows as a table. Usage reports for the admin, supervisor and accountant; money for the admin and
accountant; engineers' quality for the admin and supervisor."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session

from shared_billing.api_types import Day, Id, Period
from shared_billing.report_models import (
    AgeingReport,
    BlockComparison,
    CollectionReport,
    ConsumptionReport,
    DefaultersReport,
    EngineerReport,
    SeasonalReport,
)
from sync_server.deps import ContextDep, NowDep, SessionDep, access
from sync_server.models import Block, Role
from sync_server.periods import period_of
from sync_server.problems import Problem
from sync_server.reports.engineers import engineer_report
from sync_server.reports.money import ageing_report, collection_report, defaulters_report
from sync_server.reports.usage import block_comparison, consumption_report, seasonal_report

router = APIRouter(prefix="/reports", tags=["reports"])

USAGE = access(Role.ADMIN, Role.SUPERVISOR, Role.ACCOUNTANT, errors=(404,))
MONEY = access(Role.ADMIN, Role.ACCOUNTANT, errors=(404,))

PeriodParam = Annotated[Period | None, Query(description="The month, YYYY-MM (default: the current one)")]
UntilParam = Annotated[Period | None, Query(description="The last month shown, YYYY-MM (default: the current one)")]
MonthsParam = Annotated[int, Query(ge=1, le=36, description="How many months, ending with `until`")]
OnParam = Annotated[Day | None, Query(description="The day the ages are counted to (default: today)")]
BlockParam = Annotated[Id | None, Query(description="One block (its units as rows, where the report has rows)")]


def _month(period: str | None, now: datetime, context: ContextDep) -> str:
    return period or period_of(now, context.settings.tz)


def _day(on: date | None, now: datetime, context: ContextDep) -> date:
    return on or now.astimezone(context.settings.tz).date()


def _block(session: Session, block_id: int | None) -> int | None:
    if block_id is not None and session.get(Block, block_id) is None:
        raise Problem("request.not_found", f"No block {block_id}")
    return block_id


@router.get("/consumption", **USAGE)
def consumption(
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    until: UntilParam = None,
    months: MonthsParam = 12,
    block_id: BlockParam = None,
) -> ConsumptionReport:
    """Metered units per month: a row per block, or per unit of one block."""
    block = _block(session, block_id)
    return consumption_report(session, until=_month(until, now, context), months=months, block_id=block)


@router.get("/blocks", **USAGE)
def blocks(session: SessionDep, context: ContextDep, now: NowDep, period: PeriodParam = None) -> BlockComparison:
    """Each block's metered units in the month, per unit, against the month before."""
    return block_comparison(session, period=_month(period, now, context))


@router.get("/seasonal", **USAGE)
def seasonal(
    session: SessionDep, context: ContextDep, now: NowDep, until: UntilParam = None, block_id: BlockParam = None
) -> SeasonalReport:
    """Units per metered unit in each calendar month, over every year on record up to ``until``."""
    block = _block(session, block_id)
    return seasonal_report(session, until=_month(until, now, context), block_id=block)


@router.get("/collection", **MONEY)
def collection(
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    until: UntilParam = None,
    months: MonthsParam = 12,
    block_id: BlockParam = None,
) -> CollectionReport:
    """Per month: what the period's issued bills charged, and what was paid in that month."""
    block = _block(session, block_id)
    return collection_report(session, until=_month(until, now, context), months=months, block_id=block)


@router.get("/ageing", **MONEY)
def ageing(
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    on: OnParam = None,
    block_id: BlockParam = None,
) -> AgeingReport:
    """What the accounts owe, by days past due (payments settle the oldest charges first)."""
    block = _block(session, block_id)
    return ageing_report(session, on=_day(on, now, context), block_id=block)


@router.get("/defaulters", **MONEY)
def defaulters(
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    on: OnParam = None,
    block_id: BlockParam = None,
) -> DefaultersReport:
    """The accounts owing past their due day, each aged like ``/ageing``: the longest overdue first."""
    block = _block(session, block_id)
    return defaulters_report(session, on=_day(on, now, context), block_id=block)


@router.get("/engineers", **access(Role.ADMIN, Role.SUPERVISOR))
def engineers(session: SessionDep, context: ContextDep, now: NowDep, period: PeriodParam = None) -> EngineerReport:
    """Each engineer's month: skips, zero reads, rejections, reads landing on the expected value, pace."""
    return engineer_report(session, period=_month(period, now, context), tz=context.settings.tz)
