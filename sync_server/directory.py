"""Changes to the directory that phones must learn about: meter assignments."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from sync_server.events import record_events
from sync_server.models import Assignment, AuditEvent, Meter, Role, SyncEvent, SyncEventKind, User
from sync_server.problems import Problem

__all__ = ["assign_meter", "unassign_meter"]


def _meter(session: Session, meter_id: int) -> Meter:
    meter = session.get(Meter, meter_id)
    if meter is None:
        raise Problem("reading.unknown_meter", f"There is no meter {meter_id}")
    return meter


def assign_meter(session: Session, *, meter_id: int, engineer_id: int, actor: User, now: datetime) -> None:
    _meter(session, meter_id)
    engineer = session.get(User, engineer_id)
    if engineer is None or engineer.role != Role.ENGINEER:
        raise Problem("meter.unknown_engineer", f"User {engineer_id} is not a field engineer")
    current = session.get(Assignment, meter_id)
    events: list[SyncEvent] = []
    if current is not None:
        if current.engineer_id == engineer_id:
            return
        events.append(
            SyncEvent(engineer_id=current.engineer_id, kind=SyncEventKind.UNASSIGNED, meter_id=meter_id, created_at=now)
        )
        current.engineer_id = engineer_id
        current.assigned_at = now
    else:
        current = Assignment(meter_id=meter_id, engineer_id=engineer_id, assigned_at=now)
    session.add(current)
    events.append(SyncEvent(engineer_id=engineer_id, kind=SyncEventKind.ASSIGNED, meter_id=meter_id, created_at=now))
    record_events(session, events)
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            action="meter.assigned",
            entity="meter",
            entity_id=str(meter_id),
            detail={"engineer_id": engineer_id},
        )
    )
    session.commit()


def unassign_meter(session: Session, *, meter_id: int, actor: User, now: datetime) -> None:
    _meter(session, meter_id)
    current = session.get(Assignment, meter_id)
    if current is None:
        return
    session.delete(current)
    record_events(
        session,
        [SyncEvent(engineer_id=current.engineer_id, kind=SyncEventKind.UNASSIGNED, meter_id=meter_id, created_at=now)],
    )
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            action="meter.unassigned",
            entity="meter",
            entity_id=str(meter_id),
            detail={"engineer_id": current.engineer_id},
        )
    )
    session.commit()
