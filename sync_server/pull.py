"""Pull: an engineer's assigned meters and review decisions, incremental by the sync-event cursor."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from shared_billing.protocol import (
    Decision,
    DecisionStatus,
    MeterAssignment,
    PreviousReading,
    PullResponse,
)
from sync_server.models import Assignment, Block, Meter, Reading, ReadingStatus, SyncEvent, Unit, User

__all__ = ["pull_for"]


def _previous_readings(session: Session, meter_ids: set[int]) -> dict[int, PreviousReading]:
    newest = (
        select(Reading.meter_id, func.max(Reading.captured_at).label("at"))
        .where(col(Reading.meter_id).in_(meter_ids), Reading.status == ReadingStatus.APPROVED)
        .where(col(Reading.value_text).is_not(None))
        .group_by(col(Reading.meter_id))
        .subquery()
    )
    rows = session.exec(
        select(Reading.meter_id, col(Reading.value_text), Reading.captured_at).join(
            newest, (col(Reading.meter_id) == newest.c.meter_id) & (col(Reading.captured_at) == newest.c.at)
        )
    ).all()
    return {meter_id: PreviousReading(value=value, captured_at=at) for meter_id, value, at in rows if value is not None}


def _assignments(session: Session, engineer_id: int, meter_ids: set[int] | None) -> list[MeterAssignment]:
    query = (
        select(Meter, Block.code, Unit.code)
        .join(Assignment, col(Assignment.meter_id) == col(Meter.id))
        .join(Block, col(Block.id) == col(Meter.block_id))
        .outerjoin(Unit, col(Unit.id) == col(Meter.unit_id))
        .where(Assignment.engineer_id == engineer_id)
        .order_by(col(Meter.id))
    )
    if meter_ids is not None:
        query = query.where(col(Meter.id).in_(meter_ids))
    rows = session.exec(query).all()
    previous = _previous_readings(session, {meter.id for meter, _, _ in rows if meter.id is not None})
    return [
        MeterAssignment(
            meter_id=meter.id,
            meter_number=meter.number,
            unit_code=unit_code if unit_code is not None else meter.label,
            block_code=block_code,
            kind=meter.kind,
            dials=meter.dials,
            decimals=meter.decimals,
            multiplier=str(meter.multiplier),
            lat=meter.lat,
            lon=meter.lon,
            previous=previous.get(meter.id),
        )
        for meter, block_code, unit_code in rows
        if meter.id is not None
    ]


def _decisions(session: Session, engineer_id: int, reading_ids: set[int] | None) -> list[Decision]:
    query = select(Reading).where(
        Reading.engineer_id == engineer_id,
        Reading.status != ReadingStatus.SUBMITTED,
        Reading.source == "field",
    )
    if reading_ids is not None:
        query = query.where(col(Reading.id).in_(reading_ids))
    return [
        Decision(
            reading_uuid=reading.uuid,
            status=DecisionStatus(reading.status),
            reason=reading.decision_reason,
            decided_at=reading.decided_at,
        )
        for reading in session.exec(query.order_by(col(Reading.id))).all()
        if reading.decided_at is not None
    ]


def pull_for(session: Session, user: User, cursor: int) -> PullResponse:
    """Full snapshot when ``cursor`` is 0; otherwise what changed for this engineer since ``cursor``."""
    assert user.id is not None
    # Read the high-water mark first: anything committed later has a larger id and comes next time.
    high = session.exec(select(func.max(SyncEvent.id))).one() or 0
    if cursor <= 0:
        return PullResponse(
            cursor=high,
            full=True,
            meters=_assignments(session, user.id, None),
            removed_meter_ids=[],
            decisions=_decisions(session, user.id, None),
        )
    events = session.exec(
        select(SyncEvent).where(SyncEvent.engineer_id == user.id, col(SyncEvent.id) > cursor, col(SyncEvent.id) <= high)
    ).all()
    touched = {e.meter_id for e in events if e.meter_id is not None and e.kind != "decision"}
    meters = _assignments(session, user.id, touched) if touched else []
    still_assigned = {m.meter_id for m in meters}
    decided = {e.reading_id for e in events if e.kind == "decision" and e.reading_id is not None}
    return PullResponse(
        cursor=max(high, cursor),
        full=False,
        meters=meters,
        removed_meter_ids=sorted(touched - still_assigned),
        decisions=_decisions(session, user.id, decided) if decided else [],
    )
