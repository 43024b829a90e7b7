"""Quality checks (docs/review.md "Quality checks"): a random share of a period's approved field reads is read
again by the meters' engineers, and each second read is compared with the approved one.

- **Requesting** picks, among the period's approved actual reads of assigned meters not checked yet, the newest per
  meter, a random ``share_percent`` (at least one); each becomes an open ``QualityCheck`` for the meter's engineer,
  whose next pull brings the meter again marked as a check (``MeterAssignment.check``).
- **Linking** needs no protocol change: a reading pushed by the check's engineer for its meter and period, captured
  after the check was asked for, *is* the check read. It is stored with source ``check``: never in the review
  queue, never decided, never billed, never the meter's period read — the approved read stands.
- **Comparing** (``shared_billing.plausibility.check_agrees``): the check read must not be below the approved one
  and must lie in the meter's expected window at its capture counted from the approved read (the history the push
  judges with); a check that does not ``differs``, and the supervisor sees it in the list.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Integer, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from shared_billing.api_models import QualityCheckOut
from shared_billing.plausibility import check_agrees
from shared_billing.protocol import CheckRequest, QualityCheckStatus, ReadingStatus, ReadType
from sync_server.events import record_events
from sync_server.models import (
    Assignment,
    AuditEvent,
    Block,
    Meter,
    QualityCheck,
    Reading,
    ReadingSource,
    SyncEvent,
    SyncEventKind,
    Unit,
    User,
)
from sync_server.readings_query import approved_history_batch
from sync_server.review import engineer_names, expected_at
from sync_server.sql import one_of

__all__ = ["CheckRead", "check_requests", "link_check_reads", "quality_check_list", "request_checks"]

_SAMPLER = random.SystemRandom()  # which reads are checked must not be predictable to the engineers


def _approved_field_read(period: str) -> tuple[Any, ...]:
    return (
        col(Reading.period) == period,
        col(Reading.status) == ReadingStatus.APPROVED,
        col(Reading.source) == ReadingSource.FIELD,
        col(Reading.read_type) != ReadType.SKIP,
        col(Reading.value).is_not(None),
    )


def _eligible(session: Session, period: str) -> list[tuple[int, int, int]]:
    """(reading id, meter id, engineer id) of the newest approved actual read of each assigned meter in the
    period, for meters without a check in it."""
    newest = (
        sa_select(col(Reading.meter_id), func.max(col(Reading.captured_at)).label("at"))
        .where(*_approved_field_read(period))
        .group_by(col(Reading.meter_id))
        .subquery("newest")
    )
    checked = select(QualityCheck.meter_id).where(QualityCheck.period == period)
    rows = session.execute(
        sa_select(func.max(col(Reading.id)), col(Reading.meter_id), col(Assignment.engineer_id))
        .join(newest, (newest.c.meter_id == col(Reading.meter_id)) & (newest.c.at == col(Reading.captured_at)))
        .join(Assignment, col(Assignment.meter_id) == col(Reading.meter_id))
        .where(*_approved_field_read(period), col(Reading.meter_id).not_in(checked))
        .group_by(col(Reading.meter_id), col(Assignment.engineer_id))
        .order_by(col(Reading.meter_id))
    ).all()
    return [(reading_id, meter_id, engineer_id) for reading_id, meter_id, engineer_id in rows]


def request_checks(
    session: Session, *, period: str, share_percent: Decimal, due_on: date | None, actor: User, now: datetime
) -> tuple[int, list[QualityCheck]]:
    """Pick the period's checks (module docstring); returns how many reads were eligible and the checks made.
    The caller commits."""
    eligible = _eligible(session, period)
    count = min(len(eligible), math.ceil(len(eligible) * share_percent / 100))
    picked = sorted(_SAMPLER.sample(eligible, count))
    checks = [
        QualityCheck(
            reading_id=reading_id,
            meter_id=meter_id,
            period=period,
            engineer_id=engineer_id,
            requested_at=now,
            requested_by_id=actor.id or 0,
            due_on=due_on,
        )
        for reading_id, meter_id, engineer_id in picked
    ]
    session.add_all(checks)
    # The engineers' next pull brings each meter again, marked as a check.
    record_events(
        session,
        [SyncEvent(engineer_id=e, kind=SyncEventKind.READ, meter_id=m, created_at=now) for _, m, e in picked],
    )
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            action="quality_check.requested",
            entity="period",
            entity_id=period,
            detail={"eligible": len(eligible), "requested": count, "share_percent": f"{share_percent}"},
        )
    )
    session.flush()
    return len(eligible), checks


def check_requests(session: Session, engineer_id: int, meter_ids: Collection[int]) -> dict[int, CheckRequest]:
    """The open checks asked of the engineer on these meters, for the pull."""
    if not meter_ids:
        return {}
    checks = session.exec(
        select(QualityCheck).where(
            QualityCheck.engineer_id == engineer_id,
            QualityCheck.status == QualityCheckStatus.OPEN,
            one_of(session, QualityCheck.meter_id, meter_ids, Integer),
        )
    ).all()
    return {c.meter_id: CheckRequest(requested_at=c.requested_at, due_on=c.due_on) for c in checks}


@dataclass(frozen=True)
class CheckRead:
    """A pushed reading, as much of it as the link needs."""

    uuid: UUID
    meter_id: int
    period: str
    read_type: ReadType
    value: Decimal | None
    captured_at: datetime


def link_check_reads(session: Session, engineer_id: int, reads: Sequence[CheckRead], now: datetime) -> set[UUID]:
    """Link the pushed reads that are check reads to their open checks and settle them; returns their ids (the
    push stores them with source ``check``). The caller commits with the readings."""
    wanted = {(r.meter_id, r.period) for r in reads if r.read_type is not ReadType.SKIP and r.value is not None}
    if not wanted:
        return set()
    open_checks = session.exec(
        select(QualityCheck).where(
            QualityCheck.engineer_id == engineer_id,
            QualityCheck.status == QualityCheckStatus.OPEN,
            one_of(session, QualityCheck.meter_id, {meter for meter, _ in wanted}, Integer),
        )
    ).all()
    by_key = {(c.meter_id, c.period): c for c in open_checks}
    linked: dict[UUID, tuple[QualityCheck, CheckRead]] = {}
    for read in sorted(reads, key=lambda r: r.captured_at):
        check = by_key.get((read.meter_id, read.period))
        if check is None or read.value is None or read.captured_at < check.requested_at:
            continue
        if all(c is not check for c, _ in linked.values()):  # the first read after the request is the check
            linked[read.uuid] = (check, read)
    if linked:
        _settle(session, list(linked.values()), now)
    return set(linked)


def _settle(session: Session, linked: list[tuple[QualityCheck, CheckRead]], now: datetime) -> None:
    approved = {
        r.id: r
        for r in session.exec(
            select(Reading).where(one_of(session, Reading.id, {c.reading_id for c, _ in linked}, Integer))
        ).all()
    }
    meters = {
        m.id: m
        for m in session.exec(
            select(Meter).where(one_of(session, Meter.id, {c.meter_id for c, _ in linked}, Integer))
        ).all()
    }
    history = approved_history_batch(session, [(read.meter_id, read.captured_at) for _, read in linked])
    for check, read in linked:
        original = approved[check.reading_id]
        assert original.value is not None
        assert read.value is not None
        window = expected_at(
            meters[check.meter_id], history.get((read.meter_id, read.captured_at), []), read.captured_at
        )
        agrees = check_agrees(original.value, read.value, window)
        check.status = QualityCheckStatus.AGREES if agrees else QualityCheckStatus.DIFFERS
        check.check_reading_uuid = read.uuid
        check.difference = read.value - original.value
        check.checked_at = now
        session.add(check)


def quality_check_list(session: Session, *, period: str, status: QualityCheckStatus | None) -> list[QualityCheckOut]:
    """The period's checks, those that differ first, then open, then agreeing; by block and unit."""
    query = (
        sa_select(QualityCheck, Meter, col(Block.code), col(Unit.code), Reading)
        .join(Meter, col(Meter.id) == col(QualityCheck.meter_id))
        .join(Block, col(Block.id) == col(Meter.block_id))
        .outerjoin(Unit, col(Unit.id) == col(Meter.unit_id))
        .join(Reading, col(Reading.id) == col(QualityCheck.reading_id))
        .where(col(QualityCheck.period) == period)
        .order_by(col(Block.code), col(Unit.code), col(Meter.number))
    )
    if status is not None:
        query = query.where(col(QualityCheck.status) == status)
    rows = session.execute(query).all()
    check_uuids = {check.check_reading_uuid for check, *_ in rows if check.check_reading_uuid is not None}
    check_values: Mapping[UUID, Any] = (
        dict(
            session.execute(
                sa_select(col(Reading.uuid), col(Reading.value_text)).where(col(Reading.uuid).in_(check_uuids))
            ).all()
        )
        if check_uuids
        else {}
    )
    names = engineer_names(session, {check.engineer_id for check, *_ in rows})
    order = {QualityCheckStatus.DIFFERS: 0, QualityCheckStatus.OPEN: 1, QualityCheckStatus.AGREES: 2}
    out = [
        QualityCheckOut(
            id=check.id or 0,
            meter_id=meter.id or 0,
            meter_number=meter.number,
            unit_code=unit_code if unit_code is not None else meter.label,
            block_code=block_code,
            period=check.period,
            engineer_id=check.engineer_id,
            engineer_name=names.get(check.engineer_id, str(check.engineer_id)),
            status=check.status,
            approved_value=original.value_text,
            approved_at=original.captured_at,
            check_value=check_values.get(check.check_reading_uuid) if check.check_reading_uuid else None,
            checked_at=check.checked_at,
            difference=check.difference,
            requested_at=check.requested_at,
            due_on=check.due_on,
        )
        for check, meter, block_code, unit_code, original in rows
    ]
    return sorted(out, key=lambda item: order[item.status])
