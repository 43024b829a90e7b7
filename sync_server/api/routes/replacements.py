"""Meter replacements: recorded by an admin, or confirmed (or rejected) from a reading by the supervisor.

The rules live in sync_server/replacements.py (docs/domain.md "Meter replacement"); these routes read the request,
call it and answer the event or the reading's review item.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

from fastapi import APIRouter
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from shared_billing.api_models import DecisionReason, ReplacementIn, ReplacementOut, RereadDecision, ReviewItem
from shared_billing.api_types import Id
from shared_billing.readings import format_register_value
from sync_server.api.routes.review import review_item
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.models import Meter, MeterReplacement, Role
from sync_server.problems import Problem
from sync_server.replacements import NewMeter, confirm_replacement, record_replacement, reject_replacement
from sync_server.review import due_date, get_reading

router = APIRouter(tags=["replacements"])

T = TypeVar("T")


def _once(session: Session, write: Callable[[], T]) -> T:
    """Run a write; a unique column another request filled first (the same meter replaced, the same number
    installed, at once) is a 409, never a 500, and nothing of this request is kept."""
    try:
        return write()
    except IntegrityError as error:
        session.rollback()
        raise Problem(
            "request.conflict", "Another change to these meters was saved at the same time: reload and check"
        ) from error


def replacement_out(session: Session, event: MeterReplacement) -> ReplacementOut:
    old, new = session.get(Meter, event.old_meter_id), session.get(Meter, event.new_meter_id)
    assert old is not None
    assert new is not None
    assert event.id is not None
    return ReplacementOut(
        id=event.id,
        old_meter_id=event.old_meter_id,
        old_meter_number=old.number,
        new_meter_id=event.new_meter_id,
        new_meter_number=new.number,
        replaced_on=event.replaced_on,
        old_final=format_register_value(event.old_final, decimals=old.decimals),
        new_initial=format_register_value(event.new_initial, decimals=new.decimals),
        reading_uuid=event.reading_uuid,
        recorded_by_id=event.recorded_by_id,
        recorded_at=event.recorded_at,
        reason=event.reason,
    )


@router.post("/meters/{meter_id}/replacement", status_code=201, **access(Role.ADMIN, errors=(404, 409)))
def post_replacement(
    meter_id: Id, body: ReplacementIn, session: SessionDep, context: ContextDep, user: CurrentUser, now: NowDep
) -> ReplacementOut:
    """Replace a meter on a date: the old meter's final read and the new meter's number and initial read. The old
    meter is retired, the new one takes its place (unit, route) and its initial read is its baseline; the period's
    bill sums both meters."""
    event = _once(
        session,
        lambda: record_replacement(
            session,
            old_meter_id=meter_id,
            replaced_on=body.replaced_on,
            old_final=body.old_final,
            new=NewMeter(body.new_meter_number, body.new_dials, body.new_decimals, body.new_multiplier),
            new_initial=body.new_initial,
            actor=user,
            now=now,
            reason=body.reason,
            tz=context.settings.tz,
        ),
    )
    return replacement_out(session, event)


@router.post("/review/readings/{reading_uuid}/replacement/confirm", **access(Role.SUPERVISOR, errors=(404, 409)))
def confirm(
    reading_uuid: UUID, body: DecisionReason, session: SessionDep, context: ContextDep, user: CurrentUser, now: NowDep
) -> ReviewItem:
    """Confirm the meter replacement a reading reported: the replacement is recorded on the reading's captured
    date and the reading is approved (its value is the new meter's register)."""
    _once(
        session,
        lambda: confirm_replacement(
            session, reading_uuid=reading_uuid, reason=body.reason, supervisor=user, now=now, tz=context.settings.tz
        ),
    )
    return review_item(session, get_reading(session, reading_uuid))


@router.post("/review/readings/{reading_uuid}/replacement/reject", **access(Role.SUPERVISOR, errors=(404, 409)))
def reject(
    reading_uuid: UUID, body: RereadDecision, session: SessionDep, context: ContextDep, user: CurrentUser, now: NowDep
) -> ReviewItem:
    """Reject the meter replacement a reading reported, and the reading with it: the engineer sees the reason and
    the day the new read is due, as for any rejection."""
    settings = context.settings
    reading = reject_replacement(
        session,
        reading_uuid=reading_uuid,
        reason=body.reason,
        supervisor=user,
        now=now,
        due_on=due_date(body.due_on, now=now, tz=settings.tz, default_days=settings.reread_due_days),
    )
    return review_item(session, reading)
