"""Supervisor decisions on submitted readings. Approved is final (docs/architecture.md, invariant 8)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlmodel import Session, col, select

from sync_server.events import record_events, record_meter_event
from sync_server.models import AuditEvent, Photo, Reading, ReadingStatus, SyncEvent, SyncEventKind, User
from sync_server.problems import Problem

__all__ = ["decide", "photo_pending"]


def photo_pending(session: Session, reading: Reading) -> bool:
    if not reading.photo_required:
        return False
    return reading.photo_sha256 is None or session.get(Photo, reading.photo_sha256) is None


def get_reading(session: Session, reading_uuid: UUID) -> Reading:
    reading = session.exec(select(Reading).where(col(Reading.uuid) == reading_uuid)).first()
    if reading is None:
        raise Problem("reading.not_found", f"No reading {reading_uuid}")
    return reading


def decide(
    session: Session,
    *,
    reading_uuid: UUID,
    status: ReadingStatus,
    reason: str | None,
    supervisor: User,
    now: datetime,
) -> Reading:
    """Approve, reject or send back a submitted reading; the engineer learns it on the next pull."""
    reading = get_reading(session, reading_uuid)
    if reading.status != ReadingStatus.SUBMITTED:
        raise Problem("review.already_decided", f"The reading is already {reading.status}")
    if status is ReadingStatus.APPROVED and photo_pending(session, reading):
        raise Problem("review.photo_pending")
    reading.status = status
    reading.decided_by_id = supervisor.id
    reading.decided_at = now
    reading.decision_reason = reason
    session.add(reading)
    session.add(
        AuditEvent(
            at=now,
            actor_id=supervisor.id,
            action=f"reading.{status.value}",
            entity="reading",
            entity_id=str(reading.uuid),
            reason=reason,
        )
    )
    assert reading.id is not None
    if reading.engineer_id is not None:
        record_events(
            session,
            [
                SyncEvent(
                    engineer_id=reading.engineer_id, kind=SyncEventKind.DECISION, reading_id=reading.id, created_at=now
                )
            ],
        )
    if status is ReadingStatus.APPROVED and reading.value is not None:
        # The meter's previous approved reading changed: its engineer's window and checks move with it.
        record_meter_event(session, meter_id=reading.meter_id, kind=SyncEventKind.PREVIOUS, now=now)
    session.commit()
    return reading
