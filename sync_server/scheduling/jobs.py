"""What the month's bill runs and the daily backup do (the overdue refresh is ``sync_server.housekeeping``'s), as
functions of the app's context and the business clock's instant.

Each returns an ``Outcome`` in plain words for the console ("B: 48 drafted, 2 skipped; C: period closed"). A
refusal that is the data's, not the job's (a closed period, a run already going, nothing to bill) is reported,
not a failure; an unexpected error is caught by the runner and recorded as the job's failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from shared_billing.protocol import RunStatus, ScheduleStatus
from sync_server.billing.runs import execute_run, start_run
from sync_server.context import AppContext
from sync_server.models import Block
from sync_server.problems import Problem
from sync_server.scheduling.calendar import previous_month
from sync_server.scheduling.store import scheduler_account

__all__ = ["Action", "Outcome", "daily_backup", "monthly_bill_runs"]


_REFUSALS = {  # a block's run refused by the data, said briefly
    "billing.period_closed": "period closed",
    "billing.run_in_progress": "a run is already going",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    status: ScheduleStatus
    result: str


Action = Callable[[AppContext, datetime], Outcome]


def monthly_bill_runs(context: AppContext, now: datetime) -> Outcome:
    """A draft bill run for every block for the month before ``now``'s (local) month: the period whose readings
    are in. Runs are idempotent, so a second firing for the same month drafts only what is new."""
    period = previous_month(now, context.settings.tz)
    actor = scheduler_account(context.engine, now)
    with Session(context.engine) as session:
        blocks = [(block.id, block.code) for block in session.exec(select(Block).order_by(col(Block.code))).all()]
    if not blocks:
        return Outcome(ScheduleStatus.SKIPPED, f"{period}: no blocks to bill")
    parts: list[str] = []
    failed = False
    for block_id, code in blocks:
        assert block_id is not None
        with Session(context.engine, expire_on_commit=False) as session:
            try:
                run = start_run(session, block_id=block_id, period=period, actor=actor, now=now)
            except Problem as problem:
                parts.append(f"{code}: {_REFUSALS.get(problem.code, problem.message)}")
                continue
        assert run.id is not None
        done = execute_run(context.engine, run.id, clock=context.clock)
        if done.status == RunStatus.DONE:
            parts.append(f"{code}: {done.created} drafted, {len(done.skipped)} skipped")
        else:
            failed = True
            parts.append(f"{code}: run {done.id} failed")
    status = ScheduleStatus.FAILED if failed else ScheduleStatus.OK
    return Outcome(status, f"{period} — " + "; ".join(parts))


def daily_backup(context: AppContext, now: datetime) -> Outcome:
    """An archive of the database, photos and secret (``sync_server.backup``) in the backup directory, kept as its
    retention says; a refused or failed backup is the job's failure, in the backup's own words."""
    # Imported when it runs: nothing else the scheduler does needs the backup code.
    from sync_server.backup import BackupError, create_backup

    try:
        archive = create_backup(context.settings, None, clock=context.clock).path
    except BackupError as error:
        return Outcome(ScheduleStatus.FAILED, f"backup failed: {error}")
    return Outcome(ScheduleStatus.OK, f"saved {archive.name}")
