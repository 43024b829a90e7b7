"""Push handling: gather the facts for a batch in a few queries, judge each reading, write in one transaction.

A batch is all-or-nothing at the database level but never at the protocol level: each reading gets its own
outcome. If a concurrent push of the same ids wins the race, the batch is judged again against what it stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, Uuid, insert, literal, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from shared_billing.checks import CheckLimits, ReadingFlag, fix_distance_m
from shared_billing.consumption import MeterRegister
from shared_billing.plausibility import Usage, usage_from_history
from shared_billing.protocol import (
    Outcome,
    PushRequest,
    PushResponse,
    PushResult,
    ReadingV3,
    ReadType,
    payload_sha256,
)
from sync_server.config import Settings
from sync_server.db_types import UTCDateTime
from sync_server.models import (
    Assignment,
    AssignmentHistory,
    AuditEvent,
    Meter,
    MeterReplacement,
    Photo,
    Reading,
    ReadingFlagRecord,
    ReadingSource,
    ReadingStatus,
    SyncEvent,
    SyncEventKind,
    User,
)
from sync_server.periods import period_of
from sync_server.quality_checks import CheckRead, link_check_reads
from sync_server.readings_query import approved_history_batch, last_approved_batch
from sync_server.reconcile import ExistingReading, MeterFacts, Verdict, judge
from sync_server.replacement_check import NamedMeter
from sync_server.sql import one_of, table_of

__all__ = ["ingest_batch"]


def check_limits(settings: Settings) -> CheckLimits:
    return CheckLimits(
        gps_accuracy_limit_m=settings.gps_accuracy_limit_m,
        gps_radius_m=settings.gps_radius_m,
        clock_drift_limit=timedelta(seconds=settings.clock_drift_limit_s),
    )


def _distance_m(meter: _MeterRow, reading: ReadingV3) -> float | None:
    # The phone's distance function too (shared_billing.checks), so both give a fix the same GPS verdict.
    return fix_distance_m(meter.lat, meter.lon, reading.gps_lat, reading.gps_lon)


class _MeterRow(NamedTuple):
    id: int
    number: str
    dials: int
    decimals: int
    lat: float | None
    lon: float | None


class _ToStore(NamedTuple):
    reading: ReadingV3
    payload_sha256: str
    verdict: Verdict
    distance_m: float | None


#: A spell of the caller with a meter: from, to (exclusive); ``to`` None for the current assignment.
_Spell = tuple[datetime, datetime | None]


def _caller_spells(session: Session, user: User, meter_ids: set[int]) -> dict[int, list[_Spell]]:
    current = select(
        col(Assignment.meter_id), col(Assignment.assigned_at), literal(None, UTCDateTime()).label("valid_to")
    ).where(one_of(session, Assignment.meter_id, meter_ids, Integer), Assignment.engineer_id == user.id)
    ended = select(
        col(AssignmentHistory.meter_id), col(AssignmentHistory.valid_from), col(AssignmentHistory.valid_to)
    ).where(
        one_of(session, AssignmentHistory.meter_id, meter_ids, Integer),
        AssignmentHistory.engineer_id == user.id,
        col(AssignmentHistory.valid_to).is_not(None),
    )
    spells: dict[int, list[_Spell]] = {}
    for meter_id, valid_from, valid_to in session.execute(union_all(current, ended)).all():
        spells.setdefault(meter_id, []).append((valid_from, valid_to))
    return spells


def _assigned_at(spells: Sequence[_Spell], captured_at: datetime) -> bool:
    """The meter is the caller's now, or was at the reading's captured-at (docs/domain.md "Routes").

    A current assignment accepts any captured-at, as before there was a history: the phone's clock may drift
    (flagged on its own) and the meter is theirs to read either way."""
    return any(valid_to is None or valid_from <= captured_at < valid_to for valid_from, valid_to in spells)


class _BatchFacts:
    def __init__(self, session: Session, user: User, readings: Sequence[ReadingV3], tz: ZoneInfo) -> None:
        uuids = [reading.uuid for reading in readings]
        meter_ids = {reading.meter_id for reading in readings}
        self.existing = {
            row_uuid: ExistingReading(digest, status, owned_by_caller=engineer_id == user.id)
            for row_uuid, digest, status, engineer_id in session.exec(
                select(Reading.uuid, col(Reading.payload_sha256), col(Reading.status), Reading.engineer_id).where(
                    one_of(session, Reading.uuid, uuids, Uuid)
                )
            ).all()
        }
        self.meters = {
            meter.id: meter
            for meter in (
                _MeterRow(*row)
                for row in session.execute(
                    sa_select(
                        col(Meter.id),
                        col(Meter.number),
                        col(Meter.dials),
                        col(Meter.decimals),
                        col(Meter.lat),
                        col(Meter.lon),
                    ).where(one_of(session, Meter.id, meter_ids, Integer))
                ).all()
            )
        }
        # One query for the batch: the caller's current meters, and their ended spells with the batch's meters.
        self.spells = _caller_spells(session, user, meter_ids)
        # Each reading is compared with the approved reading captured before it (sync_server/readings_query.py).
        previous = last_approved_batch(session, {(r.meter_id, r.captured_at) for r in readings})
        self.previous: dict[tuple[int, datetime], Decimal] = {
            key: found.value for key, found in previous.items() if found.value is not None
        }
        # And with the meter's usual use before it: the expected window the phone showed (reconcile.judge).
        self.usage: dict[tuple[int, datetime], Usage] = {}
        for (meter_id, at), rows in approved_history_batch(
            session, {(r.meter_id, r.captured_at) for r in readings}
        ).items():
            meter = self.meters.get(meter_id)
            register = MeterRegister(dials=meter.dials, decimals=meter.decimals) if meter is not None else None
            usage = (
                usage_from_history([(row.captured_at, row.value) for row in rows], register=register)
                if register
                else None
            )
            if usage is not None:
                self.usage[(meter_id, at)] = usage
        # Who is on each meter's route now: a stored reading changes what their next pull says of the meter.
        self.assignees = dict(
            session.exec(
                select(Assignment.meter_id, Assignment.engineer_id).where(
                    one_of(session, Assignment.meter_id, meter_ids, Integer)
                )
            ).all()
        )
        periods = {period_of(reading.captured_at, tz) for reading in readings}
        open_rows = session.exec(
            select(Reading.uuid, Reading.meter_id, Reading.period).where(
                one_of(session, Reading.meter_id, meter_ids, Integer),
                col(Reading.period).in_(periods),
                Reading.status != ReadingStatus.REJECTED,
            )
        ).all()
        self.by_meter: dict[int, list[tuple[UUID, str]]] = {}
        for uuid, meter_id, period in open_rows:
            self.by_meter.setdefault(meter_id, []).append((uuid, period))
        replaced = {r.replaces for r in readings if r.replaces is not None}
        self.replaceable = {
            (row_uuid, meter_id)
            for row_uuid, meter_id in session.exec(
                select(Reading.uuid, Reading.meter_id).where(one_of(session, Reading.uuid, replaced, Uuid))
            ).all()
        }
        # Protocol 2: the stored meters the replacements' new numbers name (sync_server/replacement_check.py).
        numbers = {r.replacement.new_meter_number for r in readings if r.replacement is not None}
        named = sa_select(col(Meter.id), col(Meter.number), col(Meter.dials), col(Meter.decimals), col(Meter.status))
        self.named = {
            number: NamedMeter(meter_id, dials, decimals, status)
            # No query for the usual batch, which has no replacement.
            for meter_id, number, dials, decimals, status in (
                session.execute(named.where(col(Meter.number).in_(numbers))).all() if numbers else ()
            )
        }
        # Retired meters of the batch: their replacement date and the new meter (docs/domain.md "Meter replacement").
        new_meter = aliased(Meter)
        self.retired: dict[int, tuple[date, str]] = {
            old_id: (replaced_on, number)
            for old_id, replaced_on, number in session.execute(
                sa_select(col(MeterReplacement.old_meter_id), col(MeterReplacement.replaced_on), col(new_meter.number))
                .join(new_meter, col(new_meter.id) == col(MeterReplacement.new_meter_id))
                .where(one_of(session, MeterReplacement.old_meter_id, meter_ids, Integer))
            ).all()
        }
        photo_hashes = {r.photo_sha256 for r in readings if r.photo_sha256}
        self.photos = set(session.exec(select(Photo.sha256).where(col(Photo.sha256).in_(photo_hashes))).all())


def _judge_all(
    session: Session, user: User, request: PushRequest, now: datetime, settings: Settings
) -> tuple[list[PushResult], list[_ToStore], list[tuple[ReadingV3, str]], dict[int, int]]:
    facts = _BatchFacts(session, user, request.readings, settings.tz)
    limits = check_limits(settings)
    tz = settings.tz
    results: list[PushResult] = []
    to_store: list[_ToStore] = []
    conflicts: list[tuple[ReadingV3, str]] = []
    in_batch: dict[UUID, str] = {}
    for reading in request.readings:
        digest = payload_sha256(reading)
        existing = facts.existing.get(reading.uuid)
        if existing is None and reading.uuid in in_batch:
            existing = ExistingReading(in_batch[reading.uuid], ReadingStatus.SUBMITTED)
        meter = facts.meters.get(reading.meter_id)
        period = period_of(reading.captured_at, tz)
        facts_for_meter = None
        if meter is not None:
            assert meter.id is not None
            facts_for_meter = MeterFacts(
                meter_id=meter.id,
                number=meter.number,
                dials=meter.dials,
                decimals=meter.decimals,
                assigned_to_caller=_assigned_at(facts.spells.get(meter.id, ()), reading.captured_at),
                previous_value=facts.previous.get((meter.id, reading.captured_at)),
                distance_m=_distance_m(meter, reading),
                usage=facts.usage.get((meter.id, reading.captured_at)),
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
            new_meter=facts.named.get(reading.replacement.new_meter_number) if reading.replacement else None,
        )
        if verdict.outcome is Outcome.STORED and reading.meter_id in facts.retired:
            verdict = _retired(verdict, reading, *facts.retired[reading.meter_id], tz)
        flags: list[str] = [*verdict.flags]
        # Another engineer's reading: its status is theirs, and nothing is written against it.
        status = existing.status if existing is not None and existing.owned_by_caller else None
        if verdict.outcome is Outcome.CONFLICT and existing is not None and existing.owned_by_caller:
            conflicts.append((reading, digest))
        if verdict.outcome is Outcome.STORED:
            in_batch[reading.uuid] = digest
            facts.by_meter.setdefault(reading.meter_id, []).append((reading.uuid, period))
            to_store.append(_ToStore(reading, digest, verdict, facts_for_meter.distance_m if facts_for_meter else None))
            status = ReadingStatus.SUBMITTED
        if verdict.outcome in (Outcome.STORED, Outcome.DUPLICATE) and _photo_pending(reading, facts.photos, settings):
            flags.append(ReadingFlag.PHOTO_PENDING)
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
    return results, to_store, conflicts, facts.assignees


def _retired(verdict: Verdict, reading: ReadingV3, replaced_on: date, new_number: str, tz: ZoneInfo) -> Verdict:
    """A retired meter takes readings captured before its replacement date (saved offline, synced later); one
    captured on or after it belongs to the new meter."""
    if reading.captured_at.astimezone(tz).date() < replaced_on:
        return verdict
    return Verdict(
        Outcome.REJECTED,
        code="reading.meter_retired",
        message=f"Meter {reading.meter_id} was replaced on {replaced_on.isoformat()}: read the new meter {new_number}",
    )


def _photo_pending(reading: ReadingV3, stored: set[str], settings: Settings) -> bool:
    if reading.read_type is ReadType.SKIP or not settings.photo_required:
        return False
    return reading.photo_sha256 is None or reading.photo_sha256 not in stored


def _write(
    session: Session,
    user: User,
    request: PushRequest,
    to_store: list[_ToStore],
    conflicts: list[tuple[ReadingV3, str]],
    now: datetime,
    settings: Settings,
    received: int,
    assignees: Mapping[int, int],
) -> None:
    period = {item.reading.uuid: period_of(item.reading.captured_at, settings.tz) for item in to_store}
    checks = link_check_reads(
        session,
        user.id or 0,
        [
            CheckRead(r.uuid, r.meter_id, period[r.uuid], r.read_type, item.verdict.value, r.captured_at)
            for item in to_store
            for r in (item.reading,)
        ],
        now,
    )
    # Core executemany, no RETURNING: the push is a bulk insert with checks, not a unit of work (see bench/).
    readings = [
        {
            "uuid": reading.uuid,
            "meter_id": reading.meter_id,
            "engineer_id": user.id,
            "device_id": request.device_id,
            "read_type": reading.read_type,
            "skip_reason": reading.skip_reason,
            "value_text": reading.value,
            "value": item.verdict.value,
            "captured_at": reading.captured_at,
            "sent_at": request.sent_at,
            "received_at": now,
            "period": period[reading.uuid],
            "gps_lat": reading.gps_lat,
            "gps_lon": reading.gps_lon,
            "gps_accuracy_m": reading.gps_accuracy_m,
            "distance_m": item.distance_m,
            "photo_sha256": reading.photo_sha256,
            "photo_required": settings.photo_required and reading.read_type is not ReadType.SKIP,
            "note": reading.note,
            "replaces": reading.replaces,
            # The pending replacement a supervisor confirms or rejects (docs/domain.md "Meter replacement").
            "replacement": reading.replacement.model_dump(mode="json") if reading.replacement else None,
            # Protocol 3: the evidence as sent, the label's verdict at the push (the meter's number may change
            # later; the flags were raised by this one) and the meter-room session, to find its other readings.
            "evidence": reading.evidence.model_dump(mode="json") if reading.evidence else None,
            "label_verdict": item.verdict.label,
            "room_session": reading.evidence.room_session if reading.evidence else None,
            "payload_sha256": item.payload_sha256,
            "source": ReadingSource.CHECK if reading.uuid in checks else ReadingSource.FIELD,
            "status": ReadingStatus.SUBMITTED,
            "decided_by_id": None,
            "decided_at": None,
            "decision_reason": None,
        }
        for item in to_store
        for reading in (item.reading,)
    ]
    flags = [{"reading_uuid": item.reading.uuid, "code": flag} for item in to_store for flag in item.verdict.flags]
    # The reading row itself records who stored it, from which device, when (sent and received) and its payload
    # hash; the log gets one event per push, plus one per conflict (a key misuse worth its own line).
    push_event = _audit_row(
        user,
        now,
        "sync.push",
        "device",
        request.device_id,
        None,
        {"stored": [str(item.reading.uuid) for item in to_store], "received": received},
    )
    audit = [push_event] + [
        _audit_row(
            user,
            now,
            "reading.conflict",
            "reading",
            str(reading.uuid),
            "same id, different payload; original kept",
            {"payload_sha256": digest},
        )
        for reading, digest in conflicts
    ]
    # The meter's period read (and its flags) changed: its engineer's next pull brings the meter again.
    stored_meters = dict.fromkeys(item.reading.meter_id for item in to_store)
    events = [
        {"engineer_id": assignees[meter_id], "kind": SyncEventKind.READ, "meter_id": meter_id, "created_at": now}
        for meter_id in stored_meters
        if meter_id in assignees
    ]
    connection = session.connection()
    tables = ((Reading, readings), (ReadingFlagRecord, flags), (AuditEvent, audit), (SyncEvent, events))
    for model, rows in tables:
        if rows:
            # Core on the session's connection, not the ORM's bulk path: it is the cost the bench compares with.
            connection.execute(insert(table_of(model)), rows)
    session.commit()


def _audit_row(
    user: User,
    now: datetime,
    action: str,
    entity: str,
    entity_id: str,
    reason: str | None,
    detail: dict[str, Any],
) -> dict[str, Any]:
    return {
        "at": now,
        "actor_id": user.id,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "reason": reason,
        "detail": detail,
    }


def ingest_batch(
    session: Session,
    *,
    user: User,
    request: PushRequest,
    now: datetime,
    settings: Settings,
    rejected: Mapping[int, PushResult] | None = None,
) -> PushResponse:
    """Store what is new, answer every reading; see the module docstring for the race handling.

    ``rejected`` are the batch's items that failed protocol validation, by their index in the batch as sent:
    their answers go back in place, between the answers for ``request.readings``.
    """
    rejected = rejected or {}
    for attempt in range(2):
        results, to_store, conflicts, assignees = _judge_all(session, user, request, now, settings)
        try:
            received = len(results) + len(rejected)
            _write(session, user, request, to_store, conflicts, now, settings, received, assignees)
            break
        except IntegrityError:
            session.rollback()
            if attempt == 1:
                raise
    return PushResponse(protocol=request.protocol, received_at=now, results=_in_batch_order(results, rejected))


def _in_batch_order(judged: list[PushResult], rejected: Mapping[int, PushResult]) -> list[PushResult]:
    answers = iter(judged)
    return [rejected[index] if index in rejected else next(answers) for index in range(len(judged) + len(rejected))]
