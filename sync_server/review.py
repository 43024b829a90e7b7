"""Supervisor decisions on submitted readings, and what the review shows around them. Approved is final
(docs/architecture.md, invariant 8)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, String, Uuid, exists, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from shared_billing.api_models import ReviewOcr
from shared_billing.plausibility import ExpectedWindow, expected_window, usage_from_history
from shared_billing.protocol import OcrVerdict, ScheduleKind
from sync_server.events import record_events, record_meter_events
from sync_server.models import (
    AuditEvent,
    Block,
    Meter,
    MeterReplacement,
    Photo,
    PhotoOcr,
    Reading,
    ReadingFlag,
    ReadingFlagRecord,
    ReadingSource,
    ReadingStatus,
    ScheduledJob,
    SkipReason,
    SyncEvent,
    SyncEventKind,
    Unit,
    User,
)
from sync_server.problems import Problem
from sync_server.readings_query import PreviousKey, PreviousRow, approved_history_batch
from sync_server.sql import one_of

__all__ = [
    "SAME_PERIOD_SHOWN",
    "DecidedReading",
    "MeterPlace",
    "PeriodRow",
    "ReviewFacts",
    "decide",
    "due_date",
    "engineer_names",
    "expected_at",
    "get_reading",
    "ocr_switched_on",
    "photo_pending",
    "record_decision",
    "record_decision_events",
    "review_facts",
]


def expected_at(meter: Meter, history: Sequence[PreviousRow], at: datetime) -> ExpectedWindow | None:
    """The values the meter's approved history (newest first or any order) expected at ``at``: the function the
    phone and the push judge with. None when the history is too short to say."""
    register = meter.register()
    usage = usage_from_history([(row.captured_at, row.value) for row in history], register=register)
    return None if usage is None else expected_window(usage, at, register=register)


def ocr_switched_on() -> ColumnElement[bool]:
    """Whether the server reads photos: its ``photo-ocr`` job is enabled (an admin may switch it off, and then no
    reading waits for it). The review list's SQL and the cards' facts ask the same question."""
    return exists().where(col(ScheduledJob.kind) == ScheduleKind.PHOTO_OCR, col(ScheduledJob.enabled))


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


#: How many of a meter's other readings in the period a review card shows beside it: a re-read and its original,
#: a second visit; more than a few in one month is itself the finding.
SAME_PERIOD_SHOWN = 5


@dataclass(frozen=True)
class MeterPlace:
    """A meter with the block and the unit (None: a shared meter) it belongs to."""

    meter: Meter
    block: Block | None
    unit: Unit | None


class PeriodRow(NamedTuple):
    """A reading of a meter in a period, as the review shows it beside another of the same meter and period."""

    uuid: UUID
    meter_id: int
    period: str
    value_text: str | None
    skip_reason: SkipReason | None
    captured_at: datetime
    status: ReadingStatus
    engineer_id: int | None


@dataclass(frozen=True)
class ReviewFacts:
    """What the review shows around a set of readings, each kind loaded in one query for all of them."""

    places: dict[int, MeterPlace]  # by meter id
    history: dict[PreviousKey, list[PreviousRow]]  # the rule of sync_server/readings_query.py, T = the capture
    flags: dict[UUID, list[ReadingFlag]]
    stored_photos: set[str]
    confirmed: dict[UUID, int]  # reading uuid → the new meter of the replacement confirmed from it
    period_reads: dict[tuple[int, str], list[PeriodRow]]  # (meter id, period) → its readings, oldest first
    engineers: dict[int, str]  # user id → full name, of the readings' and their period reads' engineers
    ocr_reads: dict[str, PhotoOcr]  # photo hash → what the server read off it
    ocr_on: bool  # the server reads photos (its photo-ocr job is enabled)

    def history_of(self, reading: Reading) -> list[PreviousRow]:
        """The meter's approved reads captured before this one, newest first (at most ``HISTORY_READS``)."""
        return self.history.get((reading.meter_id, reading.captured_at), [])

    def previous_of(self, reading: Reading) -> PreviousRow | None:
        """The approved reading captured before this one, by the rule every path shares."""
        return next(iter(self.history_of(reading)), None)

    def photo_pending(self, reading: Reading) -> bool:
        return _photo_missing(reading, self.stored_photos)

    def others_in_period(self, reading: Reading) -> list[PeriodRow]:
        """The meter's other readings in the reading's period, the newest ``SAME_PERIOD_SHOWN``, oldest first."""
        reads = self.period_reads.get((reading.meter_id, reading.period), [])
        return [row for row in reads if row.uuid != reading.uuid][-SAME_PERIOD_SHOWN:]

    def ocr_of(self, reading: Reading) -> ReviewOcr | None:
        """What the server read off the reading's photo: pending until read (``review_queue.ocr_pending`` in SQL),
        None without a stored photo or with OCR switched off and nothing read."""
        sha256 = reading.photo_sha256
        if sha256 is None or sha256 not in self.stored_photos:
            return None
        found = self.ocr_reads.get(sha256)
        if reading.ocr_verdict is None:
            return ReviewOcr(verdict=OcrVerdict.PENDING) if self.ocr_on else None
        return ReviewOcr(
            verdict=reading.ocr_verdict,
            value=None if found is None else found.value,
            confidence=None if found is None else found.confidence,
        )

    def is_clean(self, reading: Reading) -> bool:
        """Nothing for a supervisor to look at (``sync_server.review_queue.clean_reading`` says the same in SQL)."""
        ocr = self.ocr_of(reading)
        return (
            reading.value is not None
            and not self.flags[reading.uuid]
            and not self.photo_pending(reading)
            and (ocr is None or ocr.verdict not in (OcrVerdict.PENDING, OcrVerdict.MISMATCH))
            and reading.replacement is None
        )


def review_facts(session: Session, readings: Sequence[Reading]) -> ReviewFacts:
    """Meters with their blocks and units, approved history, flags, stored photos, the period's other readings
    and engineers' names of ``readings``: a fixed number of queries however many readings (a page holds 500)."""
    meter_ids = {reading.meter_id for reading in readings}
    uuids = [reading.uuid for reading in readings]
    places: dict[int, MeterPlace] = {}
    flags: dict[UUID, list[ReadingFlag]] = {reading_uuid: [] for reading_uuid in uuids}
    period_reads: dict[tuple[int, str], list[PeriodRow]] = {}
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
        period_reads = _period_reads(session, readings)
    history = approved_history_batch(session, ((reading.meter_id, reading.captured_at) for reading in readings))
    reported = [reading.uuid for reading in readings if reading.replacement is not None]
    confirmed: dict[UUID, int] = {}
    if reported:
        found_events = session.exec(
            select(MeterReplacement.reading_uuid, MeterReplacement.new_meter_id).where(
                one_of(session, MeterReplacement.reading_uuid, reported, Uuid)
            )
        ).all()
        confirmed = {reading_uuid: meter_id for reading_uuid, meter_id in found_events if reading_uuid is not None}
    engineer_ids = {reading.engineer_id for reading in readings} | {
        row.engineer_id for rows in period_reads.values() for row in rows
    }
    stored = _stored_photos(session, readings)
    ocr_reads = (
        {
            found.sha256: found
            for found in session.exec(select(PhotoOcr).where(one_of(session, PhotoOcr.sha256, stored, String)))
        }
        if stored
        else {}
    )
    ocr_on = session.exec(select(ocr_switched_on())).one()
    return ReviewFacts(
        places=places,
        history=history,
        flags=flags,
        stored_photos=stored,
        confirmed=confirmed,
        period_reads=period_reads,
        engineers=engineer_names(session, {engineer for engineer in engineer_ids if engineer is not None}),
        ocr_reads=ocr_reads,
        ocr_on=bool(ocr_on),
    )


def _period_reads(session: Session, readings: Sequence[Reading]) -> dict[tuple[int, str], list[PeriodRow]]:
    """The newest readings of the readings' meters in their periods, oldest first: enough that each reading has
    its ``SAME_PERIOD_SHOWN`` newest others among them (a meter read twice in a month shows both)."""
    wanted = {(reading.meter_id, reading.period) for reading in readings}
    newest = (
        func.row_number()
        .over(
            partition_by=(col(Reading.meter_id), col(Reading.period)),
            order_by=(col(Reading.captured_at).desc(), col(Reading.id).desc()),
        )
        .label("newest")
    )
    ranked = (
        sa_select(*(getattr(Reading, name) for name in PeriodRow._fields), col(Reading.id), newest)
        .where(
            one_of(session, Reading.meter_id, {meter for meter, _ in wanted}, Integer),
            one_of(session, Reading.period, {period for _, period in wanted}, String),
        )
        .subquery("ranked")
    )
    rows = session.execute(
        sa_select(*(ranked.c[name] for name in PeriodRow._fields))
        .where(ranked.c.newest <= SAME_PERIOD_SHOWN + 1)  # its five others, whether or not it is among the newest
        .order_by(ranked.c.captured_at, ranked.c.id)
    ).all()
    found: dict[tuple[int, str], list[PeriodRow]] = {}
    for row in rows:
        read = PeriodRow(*row)
        if (read.meter_id, read.period) in wanted:
            found.setdefault((read.meter_id, read.period), []).append(read)
    return found


def engineer_names(session: Session, ids: Collection[int]) -> dict[int, str]:
    """User id → full name, in one query."""
    if not ids:
        return {}
    rows = session.exec(select(User.id, User.full_name).where(one_of(session, User.id, ids, Integer))).all()
    return {user_id: name for user_id, name in rows if user_id is not None}


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
    if reading.source is ReadingSource.CHECK:
        raise Problem("review.is_check")
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
    assert reading.id is not None
    record_decision_events(
        session,
        [DecidedReading(reading.id, reading.uuid, reading.meter_id, reading.engineer_id, reading.value is not None)],
        status=status,
        reason=reason,
        supervisor=supervisor,
        now=now,
    )


class DecidedReading(NamedTuple):
    """What the audit and the sync events of a decision need of its reading."""

    id: int
    uuid: UUID
    meter_id: int
    engineer_id: int | None
    has_value: bool


def record_decision_events(
    session: Session,
    decided: Sequence[DecidedReading],
    *,
    status: ReadingStatus,
    reason: str | None,
    supervisor: User,
    now: datetime,
) -> None:
    """The audit event of each decided reading and what its engineer's next pull must learn; the caller commits."""
    session.add_all(
        AuditEvent(
            at=now,
            actor_id=supervisor.id,
            action=f"reading.{status.value}",
            entity="reading",
            entity_id=str(reading.uuid),
            reason=reason,
        )
        for reading in decided
    )
    record_events(
        session,
        [
            SyncEvent(
                engineer_id=reading.engineer_id, kind=SyncEventKind.DECISION, reading_id=reading.id, created_at=now
            )
            for reading in decided
            if reading.engineer_id is not None
        ],
    )
    if status is ReadingStatus.APPROVED:
        # The meter's previous approved reading changed: its engineer's window and checks move with it.
        moved = {reading.meter_id for reading in decided if reading.has_value}
        record_meter_events(session, meter_ids=moved, kind=SyncEventKind.PREVIOUS, now=now)
        # A skip approved: its period read's status changed (done on the route).
        stayed = {reading.meter_id for reading in decided if not reading.has_value} - moved
        record_meter_events(session, meter_ids=stayed, kind=SyncEventKind.READ, now=now)
    else:
        # Its period read's status did (a re-read task on the route): the meter comes in the next pull.
        record_meter_events(
            session, meter_ids={reading.meter_id for reading in decided}, kind=SyncEventKind.READ, now=now
        )
