"""Bill runs: draft bills for every unit of a block with an approved reading in the period, with progress.

A run is idempotent: a unit already billed for the period is skipped ("already billed"), so running it twice
creates nothing new. Issuing a run numbers its drafts in unit order. A closed period takes no new run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from sync_server.billing.compute import approved_in_period, draft_bill
from sync_server.billing.estimates import draft_estimated_bill
from sync_server.billing.issue import issue_bill
from sync_server.config import Settings
from sync_server.models import (
    AuditEvent,
    Bill,
    BillRun,
    BillStatus,
    Block,
    ClosedPeriod,
    Meter,
    Reading,
    ReadingFlag,
    Unit,
    User,
)
from sync_server.problems import Problem

__all__ = ["execute_run", "issue_run", "start_run"]

PROGRESS_EVERY = 25  # units between progress commits: often enough for a progress bar, cheap enough for 10,000
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _units_of_block(session: Session, block_id: int) -> list[tuple[Unit, Meter]]:
    rows = session.exec(
        select(Unit, Meter)
        .join(Meter, (col(Meter.unit_id) == col(Unit.id)) & (col(Meter.kind) == "unit"))
        .where(Unit.block_id == block_id)
        .order_by(col(Unit.code))
    ).all()
    return list(rows)


def start_run(session: Session, *, block_id: int, period: str, actor: User, now: datetime) -> BillRun:
    if not _PERIOD.match(period):
        raise Problem(422, "billing.invalid_period", f"{period!r} is not a month written YYYY-MM")
    if session.get(Block, block_id) is None:
        raise Problem(404, "billing.unknown_block", f"No block {block_id}")
    closed = session.exec(
        select(ClosedPeriod).where(ClosedPeriod.block_id == block_id, ClosedPeriod.period == period)
    ).first()
    if closed is not None:
        raise Problem(409, "billing.period_closed")
    run = BillRun(
        block_id=block_id,
        period=period,
        total_units=len(_units_of_block(session, block_id)),
        started_at=now,
        started_by_id=actor.id or 0,
    )
    session.add(run)
    session.flush()
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            action="billrun.started",
            entity="bill_run",
            entity_id=str(run.id),
            detail={"block_id": block_id, "period": period},
        )
    )
    session.commit()
    return run


def execute_run(engine: Engine, run_id: int, *, clock: Callable[[], datetime]) -> BillRun:
    """Draft the run's bills, committing progress as it goes; a failure marks the run failed, drafts kept."""
    with Session(engine, expire_on_commit=False) as session:
        run = session.get(BillRun, run_id)
        assert run is not None
        actor = session.get(User, run.started_by_id)
        assert actor is not None
        try:
            for index, (unit, meter) in enumerate(_units_of_block(session, run.block_id), start=1):
                _draft_one(session, run, unit, meter, actor, clock())
                run.processed = index
                if index % PROGRESS_EVERY == 0:
                    session.add(run)
                    session.commit()
            run.status = "done"
        except Exception as error:  # the run is a record of what happened: say it failed, keep what was made
            session.rollback()
            run = session.get(BillRun, run_id) or run
            run.status, run.error = "failed", str(error)[:500]
        run.finished_at = clock()
        session.add(run)
        session.add(
            AuditEvent(
                at=run.finished_at,
                actor_id=actor.id,
                action=f"billrun.{run.status}",
                entity="bill_run",
                entity_id=str(run.id),
                detail={"created": run.created, "skipped": len(run.skipped)},
            )
        )
        session.commit()
        return run


def _draft_one(session: Session, run: BillRun, unit: Unit, meter: Meter, actor: User, now: datetime) -> None:
    assert unit.id is not None
    assert meter.id is not None
    billed = session.exec(select(Bill.id).where(Bill.unit_id == unit.id, Bill.period == run.period)).first()
    if billed is not None:
        run.skipped = [*run.skipped, {"unit": unit.code, "code": "bill.already_billed"}]
        return
    reading = approved_in_period(session, meter.id, run.period)
    if reading is None:
        try:
            draft_estimated_bill(session, unit, meter, run.period, actor=actor, now=now, run_id=run.id)
            session.flush()
        except Problem as problem:  # no history, too many estimates, a shared meter: it must be read
            reason = {"unit": unit.code, "code": "bill.no_approved_reading", "estimate": problem.code}
            run.skipped = [*run.skipped, reason]
            return
        run.created += 1
        return
    try:
        # Every refusal is raised before anything is written, so the run's earlier drafts stay in the session.
        draft_bill(session, reading, actor=actor, now=now, run_id=run.id)
        session.flush()
    except Problem as problem:
        run.skipped = [*run.skipped, {"unit": unit.code, "code": problem.code, "message": problem.message}]
        if problem.code == "bill.negative_consumption":
            _flag(session, reading, "negative_consumption")
        return
    run.created += 1


def _flag(session: Session, reading: Reading, code: str) -> None:
    """Mark a reading for the supervisor (once): not billed, and why."""
    exists = session.exec(
        select(ReadingFlag.id).where(ReadingFlag.reading_uuid == reading.uuid, ReadingFlag.code == code)
    ).first()
    if exists is None:
        session.add(ReadingFlag(reading_uuid=reading.uuid, code=code))


def issue_run(session: Session, run_id: int, *, actor: User, now: datetime, settings: Settings) -> list[Bill]:
    """Issue every draft of a finished run in unit order (consecutive numbers); the caller commits.

    Idempotent and safe to run twice at once (a double click, a retry): each draft is claimed with a
    compare-and-set (``issue.claim_draft``), a draft another request issued first is left alone, and every
    caller gets the run's issued bills, the same list.
    """
    run = session.get(BillRun, run_id, populate_existing=True)  # the run ran in its own session
    if run is None:
        raise Problem(404, "request.not_found", f"No bill run {run_id}")
    if run.status != "done":
        raise Problem(409, "billing.run_not_done")
    for bill in _run_bills(session, run_id, drafts=True):
        try:
            issue_bill(session, bill, actor=actor, now=now, settings=settings)
        except Problem as problem:
            if problem.code != "bill.already_issued":
                raise
    session.flush()
    return _run_bills(session, run_id, drafts=False)


def _run_bills(session: Session, run_id: int, *, drafts: bool) -> list[Bill]:
    status = col(Bill.status) == BillStatus.DRAFT if drafts else col(Bill.status) != BillStatus.DRAFT
    return list(
        session.exec(
            select(Bill)
            .join(Unit, col(Unit.id) == col(Bill.unit_id))
            .where(Bill.run_id == run_id, status)
            .order_by(col(Unit.code))
            .execution_options(populate_existing=True)  # bills a concurrent request issued, as they are now
        ).all()
    )
