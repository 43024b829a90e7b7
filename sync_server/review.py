"""Supervisor decisions on submitted readings, and what the review shows around them. Approved is final
(docs/architecture.md, invariant 8)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, Uuid
from sqlmodel import Session, col, select

from sync_server.events import record_events, record_meter_event
from sync_server.models import (
    AuditEvent,
    Block,
    Meter,
    MeterReplacement,
    Photo,
    Reading,
    ReadingFlag,
    ReadingFlagRecord,
    ReadingStatus,
    SyncEvent,
    SyncEventKind,
    Unit,
    User,
)
from sync_server.problems import Problem
from sync_server.readings_query import PreviousKey, PreviousRow, last_approved_batch
from sync_server.sql import one_of

__all__ = [
    "MeterPlace",
    "ReviewFacts",
    "decide",
    "due_date",
    "get_reading",
    "photo_pending",
    "record_decision",
    "review_facts",
]


def _photo_missing(reading: Reading, stored: Collection[str]) -> bool:
    """A required photo not in the store yet: the reading cannot be approved until it arrives."""
    return reading.photo_required and (reading.photo_sha256 is None or reading.photo_sha256 not in stored)


def _stored_photos(session: Session, readings: Sequence[Reading]) -> set[str]:
    """Which of the readings' photos are in the store, in one query."""
    hashes = {reading.photo_sha256 for reading in readings if reading.photo_sha256 is not None}
    if not hashes:
        return set()
    return set(session.exec(select(Photo.sha256).where(one_of(session, Photo.sha256, hashes, String))).all())


def photo_pending(session: Session, reading: Reading) -> bool:
    return _photo_missing(reading, _stored_photos(session, [reading]))


@dataclass(frozen=True)
class MeterPlace:
    """A meter with the block and the unit (None: a shared meter) it belongs to."""

    meter: Meter
    block: Block | None
    unit: Unit | None


@dataclass(frozen=True)
class ReviewFacts:
    """What the review shows around a set of readings, each kind loaded in one query for all of them."""

    places: dict[int, MeterPlace]  # by meter id
    previous: dict[PreviousKey, PreviousRow]  # the rule of sync_server/readings_query.py, T = the capture
    flags: dict[UUID, list[ReadingFlag]]
    stored_photos: set[str]
    confirmed: dict[UUID, int]  # reading uuid → the new meter of the replacement confirmed from it

    def previous_of(self, reading: Reading) -> PreviousRow | None:
        """The approved reading captured before this one, by the rule every path shares."""
        return self.previous.get((reading.meter_id, reading.captured_at))

    def photo_pending(self, reading: Reading) -> bool:
        return _photo_missing(reading, self.stored_photos)


def review_facts(session: Session, readings: Sequence[Reading]) -> ReviewFacts:
    """Meters with their blocks and units, previous readings, flags and stored photos of ``readings``: a fixed
    number of queries however many readings (the review list shows up to 500)."""
    meter_ids = {reading.meter_id for reading in readings}
    uuids = [reading.uuid for reading in readings]
    places: dict[int, MeterPlace] = {}
    flags: dict[UUID, list[ReadingFlag]] = {reading_uuid: [] for reading_uuid in uuids}
    if readings:
        rows = session.exec(
            select(Meter, Block, Unit)
            .outerjoin(Block, col(Block.id) == col(Meter.block_id))
            .outerjoin(Unit, col(Unit.id) == col(Meter.unit_id))
            .where(one_of(session, Meter.id, meter_ids, Integer))
        ).all()
        places = {meter.id or 0: MeterPlace(meter, block, unit) for meter, block, unit in rows}
        found = session.exec(
            select(ReadingFlagRecord.reading_uuid, ReadingFlagRecord.code)
            .where(one_of(session, ReadingFlagRecord.reading_uuid, uuids, Uuid))
            .order_by(col(ReadingFlagRecord.id))
        ).all()
        for reading_uuid, code in found:
            flags[reading_uuid].append(ReadingFlag(code))
    previous = last_approved_batch(session, ((reading.meter_id, reading.captured_at) for reading in readings))
    reported = [reading.uuid for reading in readings if reading.replacement is not None]
    confirmed: dict[UUID, int] = {}
    if reported:
        found_events = session.exec(
            select(MeterReplacement.reading_uuid, MeterReplacement.new_meter_id).where(
                one_of(session, MeterReplacement.reading_uuid, reported, Uuid)
            )
        ).all()
        confirmed = {reading_uuid: meter_id for reading_uuid, meter_id in found_events if reading_uuid is not None}
    return ReviewFacts(places, previous, flags, _stored_photos(session, readings), confirmed)


def get_reading(session: Session, reading_uuid: UUID) -> Reading:
    reading = session.exec(select(Reading).where(col(Reading.uuid) == reading_uuid)).first()
    if reading is None:
        raise Problem("reading.not_found", f"No reading {reading_uuid}")
    return reading


def due_date(asked: date | None, *, now: datetime, tz: ZoneInfo, default_days: int) -> date:
    """The day a rejected or sent-back reading's new read is due: the supervisor's, else the decision's day in the
    society's calendar + ``default_days``. A day before today is refused (the engineer could never meet it)."""
    today = now.astimezone(tz).date()
    if asked is None:
        return today + timedelta(days=default_days)
    if asked < today:
        raise Problem("review.due_in_past", f"The due date {asked.isoformat()} is before today ({today.isoformat()})")
    return asked


def decide(
    session: Session,
    *,
    reading_uuid: UUID,
    status: ReadingStatus,
    reason: str | None,
    supervisor: User,
    now: datetime,
    due_on: date | None = None,
) -> Reading:
    """Approve, reject or send back a submitted reading; the engineer learns it on the next pull. ``due_on``: a
    rejection's or re-read's due date (``due_date``), None for an approval."""
    reading = get_reading(session, reading_uuid)
    if reading.status != ReadingStatus.SUBMITTED:
        raise Problem("review.already_decided", f"The reading is already {reading.status}")
    if status is ReadingStatus.APPROVED and photo_pending(session, reading):
        raise Problem("review.photo_pending")
    if status is ReadingStatus.APPROVED and reading.replacement is not None:
        # Its value is the new meter's register: approved alone it would read as the old meter's
        # (sync_server/replacements.py confirms the replacement and approves it together).
        raise Problem("review.replacement_pending")
    reading.due_on = due_on if status is not ReadingStatus.APPROVED else None
    record_decision(session, reading, status=status, reason=reason, supervisor=supervisor, now=now)
    session.commit()
    return reading


def record_decision(
    session: Session, reading: Reading, *, status: ReadingStatus, reason: str | None, supervisor: User, now: datetime
) -> None:
    """Write a decision on a submitted reading, its audit and the engineer's sync events; the caller commits."""
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
    else:
        # Its period read's status did (a re-read task on the route, or done): the meter comes in the next pull.
        record_meter_event(session, meter_id=reading.meter_id, kind=SyncEventKind.READ, now=now)
