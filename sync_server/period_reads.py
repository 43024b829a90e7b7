"""This billing period's newest reading of each meter, and where its review stands: the pull's ``period_read``.

The period is the month of "now" in the society's time zone, compared with the ``period`` column the reading got
when it was stored (the bound billing uses too: sync_server/readings_query.py). A meter's readings are the ones
``attributed_to`` it: its own, and the reading that reported its installation (a replacement the phone reported is
stored against the old meter, but it is the new meter's first read). A new meter's baseline (source ``install``)
is no read: nobody went to the meter for it. Two statements whatever the number of meters: the readings, and the
flags of the newest ones.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from sqlalchemy import Integer, Uuid, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from shared_billing.protocol import PeriodRead
from sync_server.models import MeterReplacement, Reading, ReadingFlagRecord, ReadingSource
from sync_server.sql import one_of

__all__ = ["period_reads"]

_COLUMNS = (
    col(Reading.id),
    col(Reading.uuid),
    col(Reading.read_type),
    col(Reading.value_text),
    col(Reading.captured_at),
    col(Reading.status),
    col(Reading.decision_reason),
    col(Reading.due_on),
)


def period_reads(session: Session, meter_ids: Collection[int], period: str) -> dict[int, PeriodRead]:
    """The newest reading (by capture time, then server sequence) of each meter in ``period``; meters without
    one are absent."""
    if not meter_ids:
        return {}
    # A quality check's read never stands for the period: the approved read it checks does.
    in_period = (
        col(Reading.period) == period,
        col(Reading.source).not_in((ReadingSource.INSTALL, ReadingSource.CHECK)),
    )
    own: Any = sa_select(*_COLUMNS, col(Reading.meter_id).label("owner")).where(
        one_of(session, Reading.meter_id, meter_ids, Integer), *in_period
    )
    reported: Any = (
        sa_select(*_COLUMNS, col(MeterReplacement.new_meter_id).label("owner"))
        .join(MeterReplacement, col(MeterReplacement.reading_uuid) == col(Reading.uuid))
        .where(one_of(session, MeterReplacement.new_meter_id, meter_ids, Integer), *in_period)
    )
    newest: dict[int, Any] = {}
    for row in session.execute(union_all(own, reported)).all():
        current = newest.get(row.owner)
        if current is None or (row.captured_at, row.id) > (current.captured_at, current.id):
            newest[row.owner] = row
    flags = _flags(session, {row.uuid for row in newest.values()})
    return {
        meter_id: PeriodRead(
            reading_uuid=row.uuid,
            read_type=row.read_type,
            value=row.value_text,
            captured_at=row.captured_at,
            status=row.status,
            reason=row.decision_reason,
            due_on=row.due_on,
            flags=flags.get(row.uuid, []),
        )
        for meter_id, row in newest.items()
    }


def _flags(session: Session, uuids: Collection[UUID]) -> dict[UUID, list[str]]:
    if not uuids:
        return {}
    found: dict[UUID, list[str]] = {}
    rows = session.exec(
        select(ReadingFlagRecord.reading_uuid, ReadingFlagRecord.code)
        .where(one_of(session, ReadingFlagRecord.reading_uuid, uuids, Uuid))
        .order_by(col(ReadingFlagRecord.id))
    ).all()
    for reading_uuid, code in rows:
        found.setdefault(reading_uuid, []).append(str(code))
    return found
