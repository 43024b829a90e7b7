"""Single-reading billing (``POST /api/bills``): a draft and its issue in one transaction.

It sits above ``compute`` (drafting) and ``issue`` (numbering, charging) so neither has to import the other's
caller: compute → estimates → issue → single, no circle.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from sync_server.billing.compute import already_billed, draft_bill, existing_bill
from sync_server.billing.issue import issue_bill
from sync_server.config import Settings
from sync_server.models import Bill, Meter, User
from sync_server.review import get_reading

__all__ = ["bill_for_reading"]


def bill_for_reading(session: Session, *, reading_uuid: UUID, actor: User, now: datetime, settings: Settings) -> Bill:
    """Bill one approved reading at once: a draft, issued in the same transaction.

    Concurrent requests for one reading all pass the "already billed?" look-up before any of them commits; the
    unique constraints (unit-period, reading) then let exactly one insert through and the others fail at the
    insert, before they touch the bill-number counter. They answer 409 naming the bill that won, never 500.
    """
    reading = get_reading(session, reading_uuid)
    reading_id, period, meter_id = reading.id, reading.period, reading.meter_id
    try:
        bill = draft_bill(session, reading, actor=actor, now=now)
        session.flush()
        issue_bill(session, bill, actor=actor, now=now, settings=settings)
        session.commit()
    except IntegrityError as error:
        session.rollback()
        meter = session.get(Meter, meter_id)
        winner = session.exec(select(Bill).where(Bill.reading_id == reading_id)).first()
        if winner is None and meter is not None and meter.unit_id is not None:
            winner = existing_bill(session, meter.unit_id, period)
        raise already_billed(winner) from error
    return bill
