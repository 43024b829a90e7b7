"""The assigned-meter cache and the review decisions, both refreshed by a pull."""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import Session, col, delete, select

from mobile_app.store.database import Store
from mobile_app.store.sync_state import LIMITS_KEY, PULL_CURSOR_KEY, write_state
from mobile_app.store.tables import CachedMeter, LocalReading
from shared_billing.protocol import Decision, MeterAssignment, PreviousReading, PullResponse, ReadingStatus

__all__ = ["apply_pull", "get_meters"]


def _to_row(meter: MeterAssignment) -> CachedMeter:
    return CachedMeter(
        meter_id=meter.meter_id,
        meter_number=meter.meter_number,
        unit_code=meter.unit_code,
        block_code=meter.block_code,
        kind=meter.kind,
        dials=meter.dials,
        decimals=meter.decimals,
        multiplier=meter.multiplier,
        lat=meter.lat,
        lon=meter.lon,
        previous_value=meter.previous.value if meter.previous else None,
        previous_captured_at=meter.previous.captured_at if meter.previous else None,
        walk_order=meter.walk_order,
    )


def _to_assignment(row: CachedMeter) -> MeterAssignment:
    previous = None
    if row.previous_value is not None and row.previous_captured_at is not None:
        previous = PreviousReading(value=row.previous_value, captured_at=row.previous_captured_at)
    return MeterAssignment(
        meter_id=row.meter_id,
        meter_number=row.meter_number,
        unit_code=row.unit_code,
        block_code=row.block_code,
        kind=row.kind,
        dials=row.dials,
        decimals=row.decimals,
        multiplier=row.multiplier,
        lat=row.lat,
        lon=row.lon,
        previous=previous,
        walk_order=row.walk_order,
    )


def _apply_decision(session: Session, decision: Decision) -> None:
    uuid = str(decision.reading_uuid)
    reading = session.exec(select(LocalReading).where(LocalReading.uuid == uuid)).first()
    if reading is None:
        return  # a reading from before a reinstall: nothing on this phone to mark
    reading.review_status = ReadingStatus(decision.status.value)  # a decision is one of the review statuses
    reading.review_reason = decision.reason
    reading.reviewed_at = decision.decided_at
    session.add(reading)


def apply_pull(*, store: Store, pull: PullResponse) -> None:
    """Apply a pull in one transaction, cursor included, so a crash can never skip or half-apply a delta.

    ``full``: the meter cache becomes exactly ``pull.meters``. Delta: listed meters are upserted and
    ``removed_meter_ids`` dropped. Decisions update the review status of the phone's own readings.
    """
    with store.transaction() as session:
        if pull.full:
            session.exec(delete(CachedMeter))
        elif pull.removed_meter_ids:
            session.exec(delete(CachedMeter).where(col(CachedMeter.meter_id).in_(pull.removed_meter_ids)))
        for meter in pull.meters:
            session.merge(_to_row(meter))
        for decision in pull.decisions:
            _apply_decision(session, decision)
        if pull.limits is not None:  # an older server sends none: keep what we have (or the defaults)
            write_state(session, LIMITS_KEY, pull.limits.model_dump_json())
        write_state(session, PULL_CURSOR_KEY, str(pull.cursor))


def get_meters(*, store: Store, search: str | None = None) -> list[MeterAssignment]:
    """Cached assigned meters in walk order (then by block, unit and meter number); ``search`` matches any of
    those, any case."""
    statement = select(CachedMeter)
    if search and search.strip():
        # Escaped so a typed "%" or "_" matches itself, not any text.
        escaped = search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        statement = statement.where(
            or_(
                func.lower(CachedMeter.meter_number).like(pattern, escape="\\"),
                func.lower(CachedMeter.unit_code).like(pattern, escape="\\"),
                func.lower(CachedMeter.block_code).like(pattern, escape="\\"),
            )
        )
    # The engineer's walk order first (as the server pulls it), then by place for meters without one.
    statement = statement.order_by(
        col(CachedMeter.walk_order).is_(None),
        col(CachedMeter.walk_order),
        col(CachedMeter.block_code),
        col(CachedMeter.unit_code),
        col(CachedMeter.meter_number),
    )
    with store.transaction() as session:
        rows = session.exec(statement).all()
    return [_to_assignment(row) for row in rows]
