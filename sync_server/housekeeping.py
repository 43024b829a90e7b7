"""Work the server does by itself while it runs, each job under its own lease so that one process does it.

Several server processes (workers, or a second host) may share a database: each runs the loops, and the lease
(``sync_server.leases``) decides who actually works. The holder renews on every pass; if it dies, another
process takes over once the lease has expired.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from sync_server.audit import SEAL_EVERY_S, SEALER_LEASE, AuditSealer
from sync_server.billing.ledger import refresh_statuses
from sync_server.context import AppContext
from sync_server.leases import try_acquire

__all__ = ["STATUS_REFRESH_LEASE", "audit_seal_loop", "leased_loop", "refresh_bill_statuses", "status_refresh_loop"]

log = logging.getLogger(__name__)

STATUS_REFRESH_LEASE = "bill-status-refresh"


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


def _refresh_and_log(context: AppContext) -> None:
    changed = refresh_bill_statuses(context)
    if changed:
        log.info("bill statuses refreshed: %d changed", changed)


async def status_refresh_loop(context: AppContext, every_s: float, holder: str) -> None:
    """Mark bills overdue once their due date has passed (and paid ones paid), every ``every_s`` seconds."""
    # Two periods: the holder renews once a period, so it keeps the lease while alive; a dead holder's turn
    # passes to another process within two periods.
    await leased_loop(
        context.engine,
        lease=STATUS_REFRESH_LEASE,
        holder=holder,
        every_s=every_s,
        ttl=timedelta(seconds=2 * every_s),
        job=lambda: _refresh_and_log(context),
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
