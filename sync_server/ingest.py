"""Push handling: gather the facts for a batch in a few queries, judge each reading, write in one transaction.

A batch is all-or-nothing at the database level but never at the protocol level: each reading gets its own
outcome. If a concurrent push of the same ids wins the race, the batch is judged again against what it stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

from geopy.distance import geodesic
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from shared_billing.checks import CheckLimits
from shared_billing.protocol import Outcome, PushRequest, PushResponse, PushResult, ReadingV1, payload_sha256
from sync_server.config import Settings
from sync_server.models import Assignment, AuditEvent, Meter, Photo, Reading, ReadingFlag, ReadingStatus, User
from sync_server.periods import period_of
from sync_server.reconcile import ExistingReading, MeterFacts, Verdict, judge

__all__ = ["ingest_batch"]


def check_limits(settings: Settings) -> CheckLimits:
    return CheckLimits(
        gps_accuracy_limit_m=settings.gps_accuracy_limit_m,
        gps_radius_m=settings.gps_radius_m,
        clock_drift_limit=timedelta(seconds=settings.clock_drift_limit_s),
    )


def _distance_m(meter: Meter, reading: ReadingV1) -> float | None:
    if None in (meter.lat, meter.lon, reading.gps_lat, reading.gps_lon):
        return None
    return float(geodesic((meter.lat, meter.lon), (reading.gps_lat, reading.gps_lon)).meters)


def _latest_approved_values(session: Session, meter_ids: set[int]) -> dict[int, Decimal]:
    newest = (
        select(Reading.meter_id, func.max(Reading.captured_at).label("at"))
        .where(col(Reading.meter_id).in_(meter_ids), Reading.status == ReadingStatus.APPROVED)
        .where(col(Reading.value).is_not(None))
        .group_by(col(Reading.meter_id))
        .subquery()
    )
    rows = session.exec(
        select(Reading.meter_id, col(Reading.value)).join(
            newest, (col(Reading.meter_id) == newest.c.meter_id) & (col(Reading.captured_at) == newest.c.at)
        )
    ).all()
    return {meter_id: value for meter_id, value in rows if value is not None}


class _ToStore(NamedTuple):
    reading: ReadingV1
    payload_sha256: str
    verdict: Verdict
    distance_m: float | None


class _BatchFacts:
    def __init__(self, session: Session, user: User, readings: Sequence[ReadingV1]) -> None:
        uuids = [reading.uuid for reading in readings]
        meter_ids = {reading.meter_id for reading in readings}
        self.existing = {
            row.uuid: row for row in session.exec(select(Reading).where(col(Reading.uuid).in_(uuids))).all()
        }
        self.meters = {m.id: m for m in session.exec(select(Meter).where(col(Meter.id).in_(meter_ids))).all()}
        self.assigned = set(
            session.exec(
                select(Assignment.meter_id).where(
                    col(Assignment.meter_id).in_(meter_ids), Assignment.engineer_id == user.id
                )
            ).all()
        )
        self.previous = _latest_approved_values(session, meter_ids)
        open_rows = session.exec(
            select(Reading.uuid, Reading.meter_id, Reading.period).where(
                col(Reading.meter_id).in_(meter_ids), Reading.status != ReadingStatus.REJECTED
            )
        ).all()
        self.by_meter: dict[int, list[tuple[UUID, str]]] = {}
        for uuid, meter_id, period in open_rows:
            self.by_meter.setdefault(meter_id, []).append((uuid, period))
        replaced = {r.replaces for r in readings if r.replaces is not None}
        self.replaceable = {
            (row_uuid, meter_id)
            for row_uuid, meter_id in session.exec(
                select(Reading.uuid, Reading.meter_id).where(col(Reading.uuid).in_(replaced))
            ).all()
        }
        photo_hashes = {r.photo_sha256 for r in readings if r.photo_sha256}
        self.photos = set(session.exec(select(Photo.sha256).where(col(Photo.sha256).in_(photo_hashes))).all())


def _judge_all(
    session: Session, user: User, request: PushRequest, now: datetime, settings: Settings
) -> tuple[list[PushResult], list[_ToStore]]:
    facts = _BatchFacts(session, user, request.readings)
    limits = check_limits(settings)
    tz = settings.tz
    results: list[PushResult] = []
    to_store: list[_ToStore] = []
    in_batch: dict[UUID, str] = {}
    for reading in request.readings:
        digest = payload_sha256(reading)
        row = facts.existing.get(reading.uuid)
        existing = ExistingReading(row.payload_sha256, row.status) if row is not None else None
        if existing is None and reading.uuid in in_batch:
            existing = ExistingReading(in_batch[reading.uuid], ReadingStatus.SUBMITTED)
        meter = facts.meters.get(reading.meter_id)
        period = period_of(reading.captured_at, tz)
        facts_for_meter = None
        if meter is not None:
            assert meter.id is not None
            facts_for_meter = MeterFacts(
                meter_id=meter.id,
                dials=meter.dials,
                decimals=meter.decimals,
                assigned_to_caller=meter.id in facts.assigned,
                previous_value=facts.previous.get(meter.id),
                distance_m=_distance_m(meter, reading),
            )
        others = [u for u, p in facts.by_meter.get(reading.meter_id, []) if p == period and u != reading.replaces]
        verdict = judge(
            reading,
            payload_sha256=digest,
            existing=existing,
            meter=facts_for_meter,
            replaces_ok=(reading.replaces, reading.meter_id) in facts.replaceable,
            second_in_period=bool(others),
            sent_at=request.sent_at,
            received_at=now,
            limits=limits,
        )
        flags = list(verdict.flags)
        status = row.status if row is not None else None
        if verdict.outcome is Outcome.STORED:
            in_batch[reading.uuid] = digest
            facts.by_meter.setdefault(reading.meter_id, []).append((reading.uuid, period))
            to_store.append(_ToStore(reading, digest, verdict, facts_for_meter.distance_m if facts_for_meter else None))
            status = ReadingStatus.SUBMITTED
        if verdict.outcome in (Outcome.STORED, Outcome.DUPLICATE) and _photo_pending(reading, facts.photos, settings):
            flags.append("photo_pending")
        results.append(
            PushResult(
                uuid=reading.uuid,
                outcome=verdict.outcome,
                code=verdict.code,
                message=verdict.message,
                flags=flags,
                status=status,
            )
        )
    return results, to_store


def _photo_pending(reading: ReadingV1, stored: set[str], settings: Settings) -> bool:
    if reading.read_type.value == "skip" or not settings.photo_required:
        return False
    return reading.photo_sha256 is None or reading.photo_sha256 not in stored


def _write(
    session: Session,
    user: User,
    request: PushRequest,
    to_store: list[_ToStore],
    conflicts: list[tuple[ReadingV1, str]],
    now: datetime,
    settings: Settings,
) -> None:
    rows = [
        Reading(
            uuid=reading.uuid,
            meter_id=reading.meter_id,
            engineer_id=user.id,
            device_id=request.device_id,
            read_type=reading.read_type.value,
            skip_reason=reading.skip_reason.value if reading.skip_reason else None,
            value_text=reading.value,
            value=verdict.value,
            captured_at=reading.captured_at,
            sent_at=request.sent_at,
            received_at=now,
            period=period_of(reading.captured_at, settings.tz),
            gps_lat=reading.gps_lat,
            gps_lon=reading.gps_lon,
            gps_accuracy_m=reading.gps_accuracy_m,
            photo_sha256=reading.photo_sha256,
            photo_required=settings.photo_required and reading.read_type.value != "skip",
            note=reading.note,
            replaces=reading.replaces,
            payload_sha256=digest,
            distance_m=distance_m,
        )
        for reading, digest, verdict, distance_m in to_store
    ]
    session.add_all(rows)
    session.flush()
    flag_rows: list[ReadingFlag] = []
    audit_rows: list[AuditEvent] = []
    for row, item in zip(rows, to_store, strict=True):
        assert row.id is not None
        flag_rows.extend(ReadingFlag(reading_id=row.id, code=flag) for flag in item.verdict.flags)
        audit_rows.append(
            AuditEvent(at=now, actor_id=user.id, action="reading.stored", entity="reading", entity_id=str(row.uuid))
        )
    audit_rows.extend(
        AuditEvent(
            at=now,
            actor_id=user.id,
            action="reading.conflict",
            entity="reading",
            entity_id=str(reading.uuid),
            reason="same id, different payload; original kept",
            detail={"payload_sha256": digest},
        )
        for reading, digest in conflicts
    )
    session.add_all(flag_rows)
    session.add_all(audit_rows)
    session.commit()


def ingest_batch(
    session: Session, *, user: User, request: PushRequest, now: datetime, settings: Settings
) -> PushResponse:
    """Store what is new, answer every reading; see the module docstring for the race handling."""
    for attempt in range(2):
        results, to_store = _judge_all(session, user, request, now, settings)
        conflicts = [
            (reading, payload_sha256(reading))
            for reading, result in zip(request.readings, results, strict=True)
            if result.outcome is Outcome.CONFLICT
        ]
        try:
            _write(session, user, request, to_store, conflicts, now, settings)
            break
        except IntegrityError:
            session.rollback()
            if attempt == 1:
                raise
    return PushResponse(received_at=now, results=results)
