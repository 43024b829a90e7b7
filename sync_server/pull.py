"""Pull: an engineer's assigned meters and review decisions, incremental by the sync-event cursor.

Each meter comes with what the phone needs offline (issue 12): its last approved reads and the usage window drawn
from them (``shared_billing.plausibility``, the function the push judges with), its unit's tariff, type and
sanctioned load for the capture screen's estimate, and this billing period's newest reading with its review. A
full pull costs the same number of statements for 10 meters as for 5,000 (tests/sync_server/test_pull_offline.py).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, literal_column
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from shared_billing.checks import CheckLimits
from shared_billing.consumption import MeterRegister
from shared_billing.plausibility import usage_from_history, usage_to_wire
from shared_billing.protocol import (
    Decision,
    DecisionStatus,
    FieldLimits,
    FieldTariff,
    MeterAssignment,
    PreviousReading,
    PullResponse,
)
from sync_server.directory import ROUTE_ORDER
from sync_server.events import PG_CURSOR_BASE
from sync_server.models import (
    Assignment,
    Block,
    Meter,
    Reading,
    ReadingSource,
    ReadingStatus,
    SyncEvent,
    SyncEventKind,
    TariffRecord,
    Unit,
    User,
)
from sync_server.period_reads import period_reads
from sync_server.periods import period_of
from sync_server.quality_checks import check_requests
from sync_server.readings_query import approved_history_batch, as_previous_readings, last_approved_batch

__all__ = ["field_limits", "pull_for"]


def _previous_readings(session: Session, meter_ids: set[int], now: datetime) -> dict[int, PreviousReading]:
    # T = now: the phone shows what a reading captured now is checked against (sync_server/readings_query.py).
    found = last_approved_batch(session, {(meter_id, now) for meter_id in meter_ids})
    return {
        meter_id: PreviousReading(value=reading.value_text, captured_at=reading.captured_at)
        for (meter_id, _), reading in found.items()
        if reading.value_text is not None
    }


def _assignments(
    session: Session, engineer_id: int, meter_ids: set[int] | None, now: datetime, tz: ZoneInfo
) -> list[MeterAssignment]:
    # Core select: eight columns are more than sqlmodel's typed select takes.
    query = (
        sa_select(Meter, col(Block.code), col(Unit.code), col(Assignment.walk_order))
        .add_columns(col(Unit.unit_type), col(Unit.sanctioned_load_kw), col(TariffRecord.code))
        .join(Assignment, col(Assignment.meter_id) == col(Meter.id))
        .join(Block, col(Block.id) == col(Meter.block_id))
        .outerjoin(Unit, col(Unit.id) == col(Meter.unit_id))
        .outerjoin(TariffRecord, col(TariffRecord.id) == col(Unit.tariff_id))
        .where(col(Assignment.engineer_id) == engineer_id)
        .order_by(*ROUTE_ORDER)
    )
    if meter_ids is not None:
        query = query.where(col(Meter.id).in_(meter_ids))
    rows = session.execute(query).all()
    ids = {meter.id for meter, *_ in rows if meter.id is not None}
    previous = _previous_readings(session, ids, now)
    # T = now, as the previous reading: the history a reading captured now is judged against at the push.
    history = {
        meter_id: found for (meter_id, _), found in approved_history_batch(session, {(m, now) for m in ids}).items()
    }
    in_period = period_reads(session, ids, period_of(now, tz))
    checks = check_requests(session, engineer_id, ids)
    assignments = []
    for meter, block_code, unit_code, walk_order, unit_type, load_kw, tariff_code in rows:
        if meter.id is None:
            continue
        past = history.get(meter.id, [])
        register = MeterRegister(dials=meter.dials, decimals=meter.decimals)
        usage = usage_from_history([(row.captured_at, row.value) for row in past], register=register)
        assignments.append(
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
                walk_order=walk_order,
                history=as_previous_readings(past),
                usage=usage_to_wire(usage) if usage is not None else None,
                tariff_code=tariff_code,
                unit_type=unit_type,
                sanctioned_load_kw=None if load_kw is None else f"{load_kw:f}",
                period_read=in_period.get(meter.id),
                check=checks.get(meter.id),
            )
        )
    return assignments


def _tariffs(session: Session, meters: Collection[MeterAssignment]) -> list[FieldTariff]:
    """The tariffs the meters name, as the phone's estimate reads them (``Tariff.from_dict``)."""
    codes = {meter.tariff_code for meter in meters if meter.tariff_code is not None}
    if not codes:
        return []
    found = session.exec(select(TariffRecord).where(col(TariffRecord.code).in_(codes)).order_by(col(TariffRecord.code)))
    return [FieldTariff(code=tariff.code, name=tariff.name, config=tariff.config) for tariff in found.all()]


def _decisions(session: Session, engineer_id: int, reading_ids: set[int] | None) -> list[Decision]:
    query = select(Reading).where(
        Reading.engineer_id == engineer_id,
        Reading.status != ReadingStatus.SUBMITTED,
        Reading.source == ReadingSource.FIELD,
    )
    if reading_ids is not None:
        query = query.where(col(Reading.id).in_(reading_ids))
    return [
        Decision(
            reading_uuid=reading.uuid,
            status=DecisionStatus(reading.status),
            reason=reading.decision_reason,
            decided_at=reading.decided_at,
            due_on=reading.due_on,
        )
        for reading in session.exec(query.order_by(col(Reading.id))).all()
        if reading.decided_at is not None
    ]


# The oldest transaction that can still commit a sync event (as a number, xid8 with its epoch): the audit sealer's
# horizon (sync_server/audit.py) — this snapshot's in-progress transactions, less those running in *other*
# databases of the cluster — less those that have ended since the snapshot was taken. The sealer reads its events
# in the same statement and must keep those; the pull reads them in later statements (READ COMMITTED: each its
# own, newer snapshot), which see whatever has ended by now, so it need not wait for them.
_PG_PULL_HORIZON = """(SELECT LEAST(
    pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
    (SELECT min(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
     WHERE pg_xact_status(x) = 'in progress'
       AND x::xid NOT IN (SELECT a.backend_xid FROM pg_stat_activity AS a
                          WHERE a.backend_xid IS NOT NULL AND a.datname IS DISTINCT FROM current_database()))))"""


def _position(session: Session) -> Mapped[int | None]:
    """The column the cursor counts in: the cursor key on PostgreSQL, the id on SQLite (see sync_server.events)."""
    if session.get_bind().dialect.name == "postgresql":
        return col(SyncEvent.cursor_key)  # set on every row: migration 0006 backfilled it, then a default
    return col(SyncEvent.id)


def _high_water_mark(session: Session) -> int:
    """The highest position every event at or below which is committed and visible now.

    PostgreSQL: every transaction older than the horizon (the oldest one of this database still in flight) has
    ended, and any event committed from now on belongs to a transaction at or above it, so its key is higher.
    SQLite: writers are serialized, the newest id is final.
    """
    if session.get_bind().dialect.name == "postgresql":
        horizon: ColumnElement[int] = literal_column(_PG_PULL_HORIZON)
        return int(session.exec(select(horizon)).one()) + PG_CURSOR_BASE - 1
    return session.exec(select(func.max(SyncEvent.id))).one() or 0


def field_limits(limits: CheckLimits) -> FieldLimits:
    """The GPS limits the phone checks a fix against (the same ``gps_flags`` as the push, with these limits)."""
    return FieldLimits(gps_accuracy_limit_m=limits.gps_accuracy_limit_m, gps_radius_m=limits.gps_radius_m)


def pull_for(
    session: Session, user: User, cursor: int, now: datetime, limits: CheckLimits | None = None, *, tz: ZoneInfo
) -> PullResponse:
    """Full snapshot when ``cursor`` is 0; otherwise what changed for this engineer since ``cursor``. ``tz``: the
    society's time zone (its billing periods are months there)."""
    assert user.id is not None
    # Read the high-water mark first: events above it (still in flight, or committed later) come next time, and
    # everything at or below it was committed before this read, so the queries below see it.
    high = _high_water_mark(session)
    if cursor <= 0:
        meters = _assignments(session, user.id, None, now, tz)
        return PullResponse(
            cursor=high,
            full=True,
            meters=meters,
            removed_meter_ids=[],
            decisions=_decisions(session, user.id, None),
            limits=field_limits(limits) if limits is not None else None,
            zone=tz.key,
            tariffs=_tariffs(session, meters),
        )
    position = _position(session)
    events = session.exec(
        select(SyncEvent).where(SyncEvent.engineer_id == user.id, position > cursor, position <= high)
    ).all()
    touched = {e.meter_id for e in events if e.meter_id is not None and e.kind != SyncEventKind.DECISION}
    meters = _assignments(session, user.id, touched, now, tz) if touched else []
    still_assigned = {m.meter_id for m in meters}
    decided = {e.reading_id for e in events if e.kind == SyncEventKind.DECISION and e.reading_id is not None}
    return PullResponse(
        cursor=max(high, cursor),
        full=False,
        meters=meters,
        removed_meter_ids=sorted(touched - still_assigned),
        decisions=_decisions(session, user.id, decided) if decided else [],
        limits=field_limits(limits) if limits is not None else None,
        zone=tz.key,
        tariffs=_tariffs(session, meters),
    )
