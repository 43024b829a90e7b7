"""The notifications outbox for admins: the delivery log (paged, by status) and a dead letter sent again."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlmodel import Session, col

from shared_billing.api_models import NotificationOut, Page
from shared_billing.api_types import Id
from shared_billing.protocol import NotificationChannel, NotificationEvent, NotificationStatus
from sync_server.api.paging import PageQuery, paginate
from sync_server.deps import CurrentUser, NowDep, SessionDep, access
from sync_server.models import AuditEvent, Notification, Role, Unit
from sync_server.problems import Problem

router = APIRouter(prefix="/notifications", tags=["notifications"])


def _out(message: Notification, unit_code: str) -> NotificationOut:
    return NotificationOut.model_validate({**message.model_dump(), "unit_code": unit_code})


def _message(session: Session, notification_id: int) -> tuple[Notification, str]:
    found = session.execute(
        select(Notification, col(Unit.code))
        .join(Unit, col(Unit.id) == col(Notification.unit_id))
        .where(col(Notification.id) == notification_id)
    ).first()
    if found is None:
        raise Problem("notification.not_found", f"No notification {notification_id}")
    return found[0], found[1]


@router.get("", **access(Role.ADMIN))
def list_notifications(
    session: SessionDep,
    page: PageQuery,
    status: NotificationStatus | None = None,
    channel: NotificationChannel | None = None,
    event: NotificationEvent | None = None,
    unit_id: Id | None = None,
) -> Page[NotificationOut]:
    """The delivery log, newest first: each message's status, channel, attempts and last error; ``q`` searches
    the unit's code and the recipient."""
    statement: Any = (
        select(Notification, col(Unit.code))
        .join(Unit, col(Unit.id) == col(Notification.unit_id))
        .order_by(col(Notification.id).desc())
    )
    for column, value in (
        (Notification.status, status),
        (Notification.channel, channel),
        (Notification.event, event),
        (Notification.unit_id, unit_id),
    ):
        if value is not None:
            statement = statement.where(col(column) == value)
    rows, total = paginate(session, statement, page, search=[col(Unit.code), col(Notification.recipient)])
    items = [_out(message, code) for message, code in rows]
    return Page[NotificationOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/{notification_id}/retry", **access(Role.ADMIN, errors=(404, 409)))
def retry_notification(notification_id: Id, session: SessionDep, user: CurrentUser, now: NowDep) -> NotificationOut:
    """Send a dead-lettered message again: a new round of attempts from the job's next pass (its last error stays
    until one succeeds). Audited."""
    message, code = _message(session, notification_id)
    if message.status != NotificationStatus.DEAD:
        raise Problem("notification.not_dead", f"Notification {notification_id} is {message.status.value}")
    message.status, message.attempts, message.next_attempt_at = NotificationStatus.PENDING, 0, now
    session.add(message)
    session.add(
        AuditEvent(
            at=now,
            actor_id=user.id,
            action="notification.retried",
            entity="notification",
            entity_id=str(notification_id),
            detail={"channel": message.channel.value, "event": message.event.value, "unit": code},
        )
    )
    session.commit()
    return _out(message, code)
