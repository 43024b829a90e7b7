"""``GET /api/clock``: the server's "now" and what it means in the society's zone.

Billing months and due dates are the society's (``Settings.society_timezone``), not the browser's or the
process's: clients take "today", the current period and the zone to show times in from here, so a console in UTC
and a server billing in India agree on the month even on the night they differ.
"""

from __future__ import annotations

from datetime import UTC

from fastapi import APIRouter

from shared_billing.api_models import ClockOut
from sync_server.deps import ANY_ROLE, ContextDep, NowDep, access
from sync_server.periods import period_of

router = APIRouter(tags=["clock"])


@router.get("/clock", **access(*ANY_ROLE))
def clock(context: ContextDep, now: NowDep) -> ClockOut:
    """The server's time, the society's date and billing month, and its time zone."""
    tz = context.settings.tz
    return ClockOut(
        now=now.astimezone(UTC),
        today=now.astimezone(tz).date(),
        period=period_of(now, tz),
        timezone=context.settings.society_timezone,
    )
