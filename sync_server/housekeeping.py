"""Work the server does by itself while it runs, each job under its own lease so that one process does it.

Several server processes (workers, or a second host) may share a database: each runs the loops, and the lease
(``sync_server.leases``) decides who actually works. The holder renews on every pass; if it dies, another
process takes over once the lease has expired.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from shared_billing.protocol import ScheduleKind, ScheduleStatus
from sync_server.audit import SEAL_EVERY_S, SEALER_LEASE, AuditSealer
from sync_server.billing.ledger import refresh_statuses
from sync_server.clock import system_clock
from sync_server.config import Settings
from sync_server.context import AppContext
from sync_server.leases import try_acquire
from sync_server.notifications.job import notify
from sync_server.photo_ocr import read_waiting_photos
from sync_server.scheduling.jobs import Action, Outcome, daily_backup, monthly_bill_runs
from sync_server.scheduling.runner import run_due
from sync_server.scheduling.store import ensure_default_jobs

__all__ = [
    "SCHEDULED_ACTIONS",
    "SCHEDULER_LEASE",
    "add_default_schedules",
    "audit_seal_loop",
    "leased_loop",
    "purge_partial_uploads",
    "refresh_bill_statuses",
    "run_scheduled",
    "scheduler_loop",
]

log = logging.getLogger(__name__)

SCHEDULER_LEASE = "scheduler"


def refresh_bill_statuses(context: AppContext) -> int:
    now = context.clock()
    with Session(context.engine) as session:
        changed = refresh_statuses(session, today=now.astimezone(context.settings.tz).date(), now=now)
        session.commit()
    return changed


async def leased_loop(
    engine: Engine, *, lease: str, holder: str, every_s: float, ttl: timedelta, job: Callable[[], object]
) -> None:
    """Every ``every_s`` seconds: take or renew ``lease`` and, if this process holds it, run ``job``.

    ``ttl`` should outlast a pass and the wait before the next (the holder keeps the lease by renewing it).
    """
    failures = 0
    while True:
        await asyncio.sleep(every_s)
        try:
            if await run_in_threadpool(try_acquire, engine, lease, holder, ttl):
                await run_in_threadpool(job)
        except Exception:  # a failed pass (database down) must not end the loop
            # The first failure of a streak with its traceback; the rest quietly (the sealer runs every second).
            if failures == 0:
                log.exception("background job %s failed; retrying every %.0f s", lease, every_s)
            failures += 1
            continue
        if failures:
            log.info("background job %s works again after %d failed passes", lease, failures)
            failures = 0


def _refresh_and_log(context: AppContext) -> int:
    changed = refresh_bill_statuses(context)
    if changed:
        log.info("bill statuses refreshed: %d changed", changed)
    return changed


def _overdue_refresh(context: AppContext, now: datetime) -> Outcome:
    # ``_refresh_and_log`` is looked up when the job runs: tests replace it to count the passes.
    changed = _refresh_and_log(context) or 0
    return Outcome(ScheduleStatus.OK, f"{changed} bill statuses changed")


#: What each kind of scheduled job does.
SCHEDULED_ACTIONS: dict[ScheduleKind, Action] = {
    ScheduleKind.BILL_RUNS: monthly_bill_runs,
    ScheduleKind.OVERDUE_REFRESH: _overdue_refresh,
    ScheduleKind.BACKUP: daily_backup,
    ScheduleKind.PHOTO_OCR: read_waiting_photos,
    ScheduleKind.NOTIFICATIONS: notify,
}


def add_default_schedules(context: AppContext) -> bool:
    """Insert the default jobs that are missing (``ensure_default_jobs``); False, logged, when the database cannot
    take them yet (down, or without its schema): a server starts anyway, and its scheduler's passes insert them."""
    try:
        ensure_default_jobs(context.engine, context.settings, clock=context.clock, wall=system_clock)
    except Exception:
        log.warning("the default scheduled jobs could not be stored yet; the scheduler retries", exc_info=True)
        return False
    return True


def purge_partial_uploads(context: AppContext) -> int:
    """Remove photo uploads whose last piece is older than ``PARTIAL_TTL`` (docs/api.md "Photos"); how many."""
    try:
        removed = context.photos.blobs.purge_partials(context.clock())
    except OSError:  # a photo folder briefly unreadable must not keep the scheduled jobs from running
        log.warning("expired partial photo uploads could not be removed; the next pass tries again", exc_info=True)
        return 0
    if removed:
        log.info("expired partial photo uploads removed: %d", removed)
    return removed


def run_scheduled(context: AppContext) -> list[str]:
    """One scheduler pass: expired partial photo uploads removed, the default jobs made sure of, then the due ones
    run (``sync_server.scheduling.runner.run_due``); the names of those run."""
    purge_partial_uploads(context)
    ensure_default_jobs(context.engine, context.settings, clock=context.clock, wall=system_clock)
    return run_due(context, SCHEDULED_ACTIONS)


def scheduler_check_seconds(settings: Settings) -> float:
    """How often the scheduler looks for due jobs: its setting, or the overdue refresh's interval if shorter (a
    refresh every minute must not wait for a 30-second check more than it must)."""
    refresh_s = settings.status_refresh_minutes * 60
    return min(settings.schedule_check_seconds, refresh_s) if refresh_s > 0 else settings.schedule_check_seconds


async def scheduler_loop(context: AppContext, holder: str) -> None:
    """Run the scheduled jobs (``sync_server.scheduling``) when due, in the one process holding the lease."""
    every_s = scheduler_check_seconds(context.settings)
    # Two periods, and at least a minute: the holder renews once a pass, so it keeps the lease while alive and a
    # dead holder's turn passes on. A pass running longer than that (a month's bill runs) may let another process
    # take over meanwhile; each firing is claimed in the table (compare-and-set), so nothing runs twice.
    await leased_loop(
        context.engine,
        lease=SCHEDULER_LEASE,
        holder=holder,
        every_s=every_s,
        ttl=timedelta(seconds=max(2 * every_s, 60.0)),
        job=lambda: run_scheduled(context),
    )


async def audit_seal_loop(sealer: AuditSealer, every_s: float = SEAL_EVERY_S) -> None:
    """Seal new audit events shortly after they are committed (``sync_server.audit``)."""
    await leased_loop(
        sealer.engine,
        lease=SEALER_LEASE,
        holder=sealer.holder,
        every_s=every_s,
        ttl=sealer.lease_ttl,
        job=sealer.run_once,
    )
