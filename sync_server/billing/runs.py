"""Bill runs: draft bills for every unit of a block with an approved reading in the period, with progress.

A run is idempotent: a unit already billed for the period is skipped ("already billed"), so running it twice
creates nothing new. Issuing a run numbers its drafts in unit order. A closed period takes no new run.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Engine, func, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from shared_billing.errors import BelowPrevious
from sync_server.billing.compute import (
    METER_ROW,
    UNIT_ROW,
    BlockFacts,
    MeterDials,
    MeterRow,
    ReadValue,
    UnitRow,
    UnitTerms,
    approved_in_period,
    awaiting_review,
    block_facts,
    draft_bill,
    draft_values,
    later_period_billed,
    price_known,
)
from sync_server.billing.estimates import draft_estimated_bill
from sync_server.billing.issue import claim_drafts, issue_drafts, run_drafts
from sync_server.billing.replacement import in_service_during
from sync_server.config import Settings
from sync_server.db_guard import allow_long_transactions
from sync_server.models import (
    AuditEvent,
    Bill,
    BillRun,
    BillStatus,
    Block,
    ClosedPeriod,
    Meter,
    MeterKind,
    Reading,
    ReadingFlag,
    ReadingFlagRecord,
    RunStatus,
    Unit,
    User,
)
from sync_server.problems import CODES, Problem
from sync_server.sql import plain_rows, table_of

__all__ = ["RUN_STALE_AFTER", "execute_run", "is_stale", "issue_run", "start_run"]

log = logging.getLogger(__name__)

# Units per batch: their facts fetched at once (compute.block_facts), their drafts inserted in one statement, then
# progress committed. A bar that moves every second or so on a big block; a statement and a commit per unit cost
# more than pricing does.
PROGRESS_EVERY = 500
# A running run whose progress has not moved for this long lost its process (a killed or restarted server:
# background tasks die with it); a new start may then supersede it. Far above the time a batch takes.
RUN_STALE_AFTER = timedelta(minutes=5)
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
RUN_STATEMENT_LIMIT_S = 120.0  # per statement or lock wait of a background run (requests get a few seconds)


def _units_of_block(session: Session, block_id: int, period: str) -> list[tuple[UnitRow, MeterRow]]:
    """The block's units in code order, each with its meter, as plain rows (a block's ORM objects cost more
    than pricing it); a unit priced alone is loaded as an object then (``_objects``)."""
    query = sa_select(*UNIT_ROW, *METER_ROW).join(Meter, _its_meter()).where(*_in_block(block_id, period))
    width = len(UNIT_ROW)
    rows = plain_rows(session, query.order_by(col(Unit.code)))
    return [(UnitRow._make(row[:width]), MeterRow._make(row[width:])) for row in rows]


def _objects(session: Session, unit: UnitRow, meter: MeterRow) -> tuple[Unit, Meter]:
    found, its = session.get(Unit, unit.id), session.get(Meter, meter.id)
    assert found is not None
    assert its is not None
    return found, its


def _count_units(session: Session, block_id: int, period: str) -> int:
    query = select(func.count()).select_from(Unit).join(Meter, _its_meter()).where(*_in_block(block_id, period))
    return session.exec(query).one()


def _its_meter() -> ColumnElement[bool]:
    return (col(Meter.unit_id) == col(Unit.id)) & (col(Meter.kind) == MeterKind.UNIT)


def _in_block(block_id: int, period: str) -> tuple[ColumnElement[bool], ...]:
    # One meter per unit: the one in service during the period (a replaced meter stays on its unit, retired).
    return col(Unit.block_id) == block_id, in_service_during(period)


def start_run(session: Session, *, block_id: int, period: str, actor: User, now: datetime) -> BillRun:
    """A new running run, or 409 ``billing.run_in_progress`` naming the run already running for the block and
    period. The partial unique index decides between concurrent starts; a running run whose heartbeat is older
    than ``RUN_STALE_AFTER`` (its server was stopped mid-run) is marked failed and replaced."""
    if not _PERIOD.match(period):
        raise Problem("billing.invalid_period", f"{period!r} is not a month written YYYY-MM")
    if session.get(Block, block_id) is None:
        raise Problem("billing.unknown_block", f"No block {block_id}")
    closed = session.exec(
        select(ClosedPeriod).where(ClosedPeriod.block_id == block_id, ClosedPeriod.period == period)
    ).first()
    if closed is not None:
        raise Problem("billing.period_closed")
    total_units = _count_units(session, block_id, period)
    actor_id = actor.id
    for _attempt in range(3):  # a stale run superseded, then (rarely) another starter beating us to the insert
        running = _running_run(session, block_id, period)
        if running is not None and not is_stale(running, now):
            raise _in_progress(running)
        if running is not None and not _supersede(session, running, now):
            continue  # it moved on, or another start superseded it first: look again
        run = BillRun(
            block_id=block_id,
            period=period,
            total_units=total_units,
            started_at=now,
            heartbeat_at=now,
            started_by_id=actor_id or 0,
        )
        session.add(run)
        try:
            session.flush()
        except IntegrityError:  # a concurrent start committed its run first: report that one
            session.rollback()
            continue
        session.add(
            AuditEvent(
                at=now,
                actor_id=actor_id,
                action="billrun.started",
                entity="bill_run",
                entity_id=str(run.id),
                detail={"block_id": block_id, "period": period},
            )
        )
        session.commit()
        return run
    running = _running_run(session, block_id, period)
    raise _in_progress(running) if running is not None else Problem("billing.run_in_progress")


def _running_run(session: Session, block_id: int, period: str) -> BillRun | None:
    return session.exec(
        select(BillRun)
        .where(BillRun.block_id == block_id, BillRun.period == period, BillRun.status == RunStatus.RUNNING)
        .execution_options(populate_existing=True)
    ).first()


def _in_progress(run: BillRun) -> Problem:
    return Problem(
        "billing.run_in_progress",
        f"Bill run {run.id} for this block and period is still running ({run.processed} of {run.total_units})",
        {"run_id": run.id, "processed": run.processed, "total_units": run.total_units},
    )


def is_stale(run: BillRun, now: datetime) -> bool:
    """No progress committed for ``RUN_STALE_AFTER``: the process running it is gone (a run commits every
    ``PROGRESS_EVERY`` units, seconds apart)."""
    return run.status == RunStatus.RUNNING and (run.heartbeat_at or run.started_at) < now - RUN_STALE_AFTER


def _supersede(session: Session, run: BillRun, now: datetime) -> bool:
    """Mark a stale running run failed (compare-and-set on its staleness, so a run that just moved on is left
    alone); True when this transaction did it. Its drafts stay: the new run skips them as billed."""
    runs = table_of(BillRun)
    ended = session.execute(
        update(runs)
        .where(runs.c.id == run.id, runs.c.status == RunStatus.RUNNING, runs.c.heartbeat_at < now - RUN_STALE_AFTER)
        .values(
            status=RunStatus.FAILED,
            error_code="billing.run_superseded",
            error=CODES["billing.run_superseded"].message,
            finished_at=now,
        )
    )
    if cast(CursorResult[Any], ended).rowcount != 1:
        session.rollback()
        return False
    log.warning("bill run %s made no progress since %s: superseded", run.id, run.heartbeat_at)
    return True


def _still_ours(session: Session, run: BillRun, now: datetime) -> bool:
    """Beat the run's heartbeat, if it is still running (not superseded): a compare-and-set before each commit."""
    runs = table_of(BillRun)
    with session.no_autoflush:  # the run's own unflushed status (done, failed) must not answer for it
        beat = session.execute(
            update(runs).where(runs.c.id == run.id, runs.c.status == RunStatus.RUNNING).values(heartbeat_at=now)
        )
    run.heartbeat_at = now
    return cast(CursorResult[Any], beat).rowcount == 1


def execute_run(engine: Engine, run_id: int, *, clock: Callable[[], datetime]) -> BillRun:
    """Draft the run's bills, committing progress as it goes; a failure marks the run failed, drafts kept.

    A failure stores a stable code and plain words (``billing.run_failed``), never the exception's text (it can
    hold SQL and parameters); the exception goes to the server log. A run superseded while it ran stops at its
    next progress commit without writing anything more.
    """
    with Session(engine, expire_on_commit=False) as session:
        # A background run must not fail because a request's writer or a slow statement held it up for the few
        # seconds that bound a request (sync_server/db_guard.py): its transactions get a longer limit.
        allow_long_transactions(session, RUN_STATEMENT_LIMIT_S)
        run = session.get(BillRun, run_id)
        assert run is not None
        actor = session.get(User, run.started_by_id)
        assert actor is not None
        unit_code = ""
        try:
            units = _units_of_block(session, run.block_id, run.period)
            facts = block_facts(session, units, run.period)
            for start in range(0, len(units), PROGRESS_EVERY):
                chunk = units[start : start + PROGRESS_EVERY]
                now, drafts = clock(), list[dict[str, Any]]()
                for unit, meter in chunk:
                    unit_code = unit.code
                    _draft_one(session, run, unit, meter, actor, now, facts=facts, drafts=drafts)
                if drafts:
                    session.execute(insert(table_of(Bill)), drafts)
                    run.created += len(drafts)
                run.processed = start + len(chunk)
                if run.processed < len(units):
                    if not _still_ours(session, run, clock()):
                        return _abandon(session, run_id)
                    session.add(run)
                    session.commit()
            run.status = RunStatus.DONE
        except Exception:  # the run is a record of what happened: say it failed, keep what was committed
            log.exception("bill run %s failed at unit %s", run_id, unit_code)
            session.rollback()
            run = session.get(BillRun, run_id, populate_existing=True) or run
            run.status, run.error_code = RunStatus.FAILED, "billing.run_failed"
            run.error = f"{CODES['billing.run_failed'].message} (at unit {unit_code})"[:500]
        finished_at = clock()
        if not _still_ours(session, run, finished_at):
            return _abandon(session, run_id)
        run.finished_at = finished_at
        session.add(run)
        session.add(
            AuditEvent(
                at=finished_at,
                actor_id=actor.id,
                action=f"billrun.{run.status}",
                entity="bill_run",
                entity_id=str(run.id),
                detail={"created": run.created, "skipped": len(run.skipped)},
            )
        )
        session.commit()
        return run


def _abandon(session: Session, run_id: int) -> BillRun:
    """Superseded while running: drop this chunk's work and leave the run as the superseder wrote it."""
    session.rollback()
    log.warning("bill run %s was superseded while running: stopped", run_id)
    run = session.get(BillRun, run_id, populate_existing=True)
    assert run is not None
    return run


def _draft_one(
    session: Session,
    run: BillRun,
    unit: UnitRow,
    meter: MeterRow,
    actor: User,
    now: datetime,
    *,
    facts: BlockFacts,
    drafts: list[dict[str, Any]],
) -> None:
    """Draft the unit's bill, or record why not. A unit the facts price is appended to ``drafts`` (the run
    inserts them in bulk); one priced ``alone`` is drafted through the ORM, exactly as a single bill is."""
    billed = facts.billed(unit.id)
    if billed is not None:
        _billed_already(session, run, unit, billed.id)
        return
    if unit.id in facts.alone:
        _draft_alone(session, run, *_objects(session, unit, meter), actor, now)
        return
    reading = facts.current.get(meter.id)
    if reading is None:
        _estimate(session, run, *_objects(session, unit, meter), actor, now, waits=meter.id in facts.awaiting)
        return
    _refusals(
        session,
        run,
        unit,
        reading,
        lambda: drafts.append(_draft_row(session, facts, run, unit, meter, reading, actor, now)),
        counted=False,  # the run counts a chunk's rows once they are inserted: one attribute write, not one a unit
    )


def _draft_alone(session: Session, run: BillRun, unit: Unit, meter: Meter, actor: User, now: datetime) -> None:
    """A unit the batch's facts do not price (a replacement, a shared meter, estimates to true up)."""
    assert meter.id is not None
    reading = approved_in_period(session, meter.id, run.period)
    if reading is None:
        _estimate(session, run, unit, meter, actor, now, waits=None)
        return

    def draft() -> None:
        draft_bill(session, reading, actor=actor, now=now, run_id=run.id)
        session.flush()

    _refusals(session, run, unit, reading, draft)


def _refusals(
    session: Session,
    run: BillRun,
    unit: UnitTerms,
    reading: ReadValue,
    draft: Callable[[], object],
    *,
    counted: bool = True,
) -> None:
    """Draft, counting it (unless the caller does); or record billing's refusal as the unit's skip reason."""
    try:
        # Every refusal is raised before anything is written, so the run's earlier drafts stay as they are.
        draft()
    except Problem as problem:
        run.skipped = [*run.skipped, {"unit": unit.code, "code": problem.code, "message": problem.message}]
        if problem.code == BelowPrevious.code:  # billing refused a drop: the supervisor sees the reading flagged
            _flag(session, reading, ReadingFlag.BELOW_PREVIOUS)
        return
    if counted:
        run.created += 1


def _draft_row(
    session: Session,
    facts: BlockFacts,
    run: BillRun,
    unit: UnitRow,
    meter: MeterRow,
    reading: ReadValue,
    actor: User,
    now: datetime,
) -> dict[str, Any]:
    """``draft_bill`` from the facts, as a row: the same price, and the same refusal of a later billed period."""
    priced = price_known(session, facts, unit, meter, reading)
    later = facts.later(unit.id)
    if later is not None:
        raise later_period_billed(later.id, later.period, run.period)
    return draft_values(priced, run.period, actor_id=actor.id or 0, now=now, run_id=run.id)


def _billed_already(session: Session, run: BillRun, unit: UnitTerms, bill_id: int) -> None:
    billed = session.get(Bill, bill_id)
    assert billed is not None
    if _orphan_draft(session, billed, run):
        # A draft left by an earlier run of this block and period that failed (or was superseded after its
        # server was killed): this run takes it over, or nothing would ever issue it (a failed run is not
        # issued, and POST /api/bills finds the unit billed). Issuing prices it again.
        billed.run_id = run.id
        session.add(billed)
        run.created += 1
        return
    run.skipped = [*run.skipped, {"unit": unit.code, "code": "bill.already_billed"}]


def _estimate(
    session: Session, run: BillRun, unit: Unit, meter: Meter, actor: User, now: datetime, *, waits: bool | None
) -> None:
    """No approved reading: an estimated bill, unless a reading awaits review (``waits``; None: look it up)."""
    assert meter.id is not None
    if waits is None:
        waits = awaiting_review(session, meter.id, run.period) is not None
    if waits:  # never estimate what was read
        message = "The reading awaits review: the unit is billed once it is reviewed (run the period again)"
        run.skipped = [*run.skipped, {"unit": unit.code, "code": "bill.reading_awaiting_review", "message": message}]
        return
    try:
        draft_estimated_bill(session, unit, meter, run.period, actor=actor, now=now, run_id=run.id)
        session.flush()
    except Problem as problem:  # no history, too many estimates, a shared meter: it must be read
        reason = {"unit": unit.code, "code": "bill.no_approved_reading", "estimate": problem.code}
        run.skipped = [*run.skipped, reason]
        return
    run.created += 1


def _orphan_draft(session: Session, bill: Bill, run: BillRun) -> bool:
    """A draft whose run failed: no one else will issue it (a done run's drafts are issued with that run)."""
    if bill.status != BillStatus.DRAFT or bill.run_id == run.id:
        return False
    owner = session.get(BillRun, bill.run_id) if bill.run_id is not None else None
    return owner is None or owner.status == RunStatus.FAILED


def _flag(session: Session, reading: ReadValue, code: ReadingFlag) -> None:
    """Mark a reading for the supervisor (once): not billed, and why."""
    uuid = session.exec(select(Reading.uuid).where(Reading.id == reading.id)).one()
    exists = session.exec(
        select(ReadingFlagRecord.id).where(ReadingFlagRecord.reading_uuid == uuid, ReadingFlagRecord.code == code)
    ).first()
    if exists is None:
        session.add(ReadingFlagRecord(reading_uuid=uuid, code=code))


def issue_run(session: Session, run_id: int, *, actor: User, now: datetime, settings: Settings) -> list[Bill]:
    """Issue every draft of a finished run in unit order (consecutive numbers); the caller commits.

    Idempotent and safe to run twice at once (a double click, a retry): the drafts are claimed with one
    compare-and-set (``issue.claim_drafts``), a draft another request issued first is left alone, and every
    caller gets the run's issued bills, the same list. The claimed drafts are issued as one batch
    (``issue.issue_drafts``): one counter update numbers them all, and charges and events go in bulk.
    """
    run = session.get(BillRun, run_id, populate_existing=True)  # the run ran in its own session
    if run is None:
        raise Problem("request.not_found", f"No bill run {run_id}")
    if run.status != RunStatus.DONE:
        raise Problem("billing.run_not_done")
    drafts = run_drafts(session, run_id)
    claimed = claim_drafts(session, [draft.id for draft in drafts])
    mine = [draft for draft in drafts if draft.id in claimed]  # still in unit order: consecutive numbers
    if mine:
        units = _units_of_block(session, run.block_id, run.period)
        facts = block_facts(session, units, run.period)
        by_unit: dict[int, tuple[UnitTerms, MeterDials]] = {unit.id: (unit, meter) for unit, meter in units}
        issue_drafts(session, mine, facts, by_unit, actor=actor, now=now, settings=settings)
    session.flush()
    return _issued_bills(session, run_id)


def _issued_bills(session: Session, run_id: int) -> list[Bill]:
    return list(
        session.exec(
            select(Bill)
            .join(Unit, col(Unit.id) == col(Bill.unit_id))
            .where(Bill.run_id == run_id, col(Bill.status) != BillStatus.DRAFT)
            .order_by(col(Unit.code))
            .execution_options(populate_existing=True)  # bills a concurrent request issued, as they are now
        ).all()
    )
