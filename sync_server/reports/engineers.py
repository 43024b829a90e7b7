"""How each engineer read in a period (docs/reports.md "Engineers"): skips, zero reads, rejections, reads that
land on the expected value, and the pace of the walk.

Every rate is over the engineer's field readings captured in the period, whatever their review state; the expected
value of a read is the one its meter's approved history gave at its capture (``sync_server.review.expected_at``, the
function the phone and the push judge with), so a read counts as judged only when that history was long enough.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Integer
from sqlmodel import Session, col, select

from shared_billing.plausibility import at_expected
from shared_billing.protocol import ReadingStatus, ReadType
from shared_billing.report_models import EngineerFigures, EngineerReport
from sync_server.models import Meter, Reading, ReadingSource
from sync_server.readings_query import approved_history_batch
from sync_server.reports.figures import minutes_per_meter, percent
from sync_server.review import engineer_names, expected_at
from sync_server.sql import one_of

__all__ = ["engineer_report"]

_SENT_BACK = (ReadingStatus.REJECTED, ReadingStatus.REREAD)


@dataclass
class _Tally:
    readings: int = 0
    skipped: int = 0
    zero: int = 0
    rejected: int = 0
    judged: int = 0
    at_expected: int = 0
    captured: list[datetime] = field(default_factory=list)


def engineer_report(session: Session, *, period: str, tz: ZoneInfo) -> EngineerReport:
    readings = session.exec(
        select(Reading)
        .where(
            col(Reading.period) == period,
            col(Reading.source) == ReadingSource.FIELD,
            col(Reading.engineer_id).is_not(None),
        )
        .order_by(col(Reading.captured_at), col(Reading.id))
    ).all()
    read = [r for r in readings if r.read_type is not ReadType.SKIP and r.value is not None]
    history = approved_history_batch(session, [(r.meter_id, r.captured_at) for r in read])
    meter_ids = {r.meter_id for r in read}
    meters = {m.id: m for m in session.exec(select(Meter).where(one_of(session, Meter.id, meter_ids, Integer))).all()}
    tallies: dict[int, _Tally] = defaultdict(_Tally)
    for reading in readings:
        tally = tallies[reading.engineer_id or 0]
        tally.readings += 1
        tally.captured.append(reading.captured_at)
        tally.skipped += reading.read_type is ReadType.SKIP
        tally.rejected += reading.status in _SENT_BACK
    for reading in read:
        assert reading.value is not None
        tally = tallies[reading.engineer_id or 0]
        past = history.get((reading.meter_id, reading.captured_at), [])
        tally.zero += bool(past) and past[0].value == reading.value
        meter = meters[reading.meter_id]
        window = expected_at(meter, past, reading.captured_at)
        if window is not None:
            tally.judged += 1
            tally.at_expected += at_expected(reading.value, window, register=meter.register())
    names = engineer_names(session, tallies)
    rows = [
        EngineerFigures(
            engineer_id=engineer_id,
            name=names.get(engineer_id) or str(engineer_id),
            readings=t.readings,
            skipped=t.skipped,
            skip_percent=percent(t.skipped, t.readings),
            zero=t.zero,
            zero_percent=percent(t.zero, t.readings - t.skipped),
            rejected=t.rejected,
            rejected_percent=percent(t.rejected, t.readings),
            judged=t.judged,
            at_expected=t.at_expected,
            at_expected_percent=percent(t.at_expected, t.judged),
            minutes_per_meter=minutes_per_meter(t.captured, tz),
        )
        for engineer_id, t in tallies.items()
    ]
    return EngineerReport(period=period, rows=sorted(rows, key=lambda row: row.name))
