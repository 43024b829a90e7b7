"""Work the server does by itself while it runs: bill statuses follow due dates without anyone asking."""

from __future__ import annotations

import asyncio
import logging

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from sync_server.billing.ledger import refresh_statuses
from sync_server.context import AppContext

__all__ = ["refresh_bill_statuses", "status_refresh_loop"]

log = logging.getLogger(__name__)


def refresh_bill_statuses(context: AppContext) -> int:
    now = context.clock()
    with Session(context.engine) as session:
        changed = refresh_statuses(session, today=now.astimezone(context.settings.tz).date(), now=now)
        session.commit()
    return changed


async def status_refresh_loop(context: AppContext, every_s: float) -> None:
    """Mark bills overdue once their due date has passed (and paid ones paid), every ``every_s`` seconds."""
    while True:
        await asyncio.sleep(every_s)
        try:
            changed = await run_in_threadpool(refresh_bill_statuses, context)
            if changed:
                log.info("bill statuses refreshed: %d changed", changed)
        except Exception:  # a failed pass (database down) must not end the loop
            log.exception("bill status refresh failed")
