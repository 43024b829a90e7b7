"""Submitted readings in bulk for review tests and benchmarks, written straight to the database (a push of 1,000
readings would test the push)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from sync_server.models import (
    Meter,
    Photo,
    Reading,
    ReadingFlag,
    ReadingFlagRecord,
    ReadingSource,
    ReadType,
    Role,
    User,
)
from sync_server.readings_query import last_approved

__all__ = ["FLAGS", "submit_readings"]

FLAGS = (ReadingFlag.GPS_FAR, ReadingFlag.CLOCK_DRIFT, ReadingFlag.BELOW_PREVIOUS)


def submit_readings(engine: Engine, count: int, *, start: int, now: datetime, period: str, photos: bool = True) -> None:
    """``count`` submitted readings spread over every meter (shared meters too) and the engineers in turn: some
    with flags, some whose photo is stored, some waiting for it, some without a photo required; values above and
    below the previous. Reading ``index`` is captured ``5 × (index + 1)`` minutes before ``now``. ``photos=False``:
    none requires a photo (every one can be approved; a browser test has no photo files for them)."""
    with Session(engine) as session:
        meters = session.exec(select(Meter).order_by(col(Meter.id))).all()
        engineers = session.exec(select(User.id).where(User.role == Role.ENGINEER).order_by(col(User.id))).all()
        bases: dict[int, Decimal] = {}
        for index in range(start, start + count):
            meter = meters[index % len(meters)]
            assert meter.id is not None
            captured = now - timedelta(minutes=5 * (index + 1))
            if meter.id not in bases:
                before = last_approved(session, meter.id, before=captured)
                bases[meter.id] = before.value if before is not None and before.value is not None else Decimal(0)
            value = bases[meter.id] + (index % 7) * 3 - 5  # a few below the previous: no consumption shown
            sha = f"{index:064x}" if index % 3 and photos else None
            if sha is not None and index % 6 == 1:
                session.add(
                    Photo(sha256=sha, content_type="image/jpeg", size_bytes=1, width=1, height=1, stored_at=now)
                )
            reading_uuid = uuid.uuid4()
            session.add(
                Reading(
                    uuid=reading_uuid,
                    meter_id=meter.id,
                    engineer_id=engineers[index % len(engineers)] if engineers else None,
                    read_type=ReadType.ACTUAL,
                    value_text=str(value),
                    value=value,
                    captured_at=captured,
                    received_at=captured + timedelta(minutes=1),
                    period=period,
                    photo_required=index % 5 != 0 and photos,
                    photo_sha256=sha,
                    source=ReadingSource.FIELD,
                )
            )
            for flag in FLAGS[: index % 4]:
                session.add(ReadingFlagRecord(reading_uuid=reading_uuid, code=flag))
            if index % 200 == 199:
                session.flush()
        session.commit()
