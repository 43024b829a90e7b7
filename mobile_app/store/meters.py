"""The assigned-meter cache and the review decisions, both refreshed by a pull."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import Table, bindparam, delete, func, insert, or_, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from mobile_app.store.database import Store
from mobile_app.store.sync_state import LIMITS_KEY, PULL_CURSOR_KEY, TARIFFS_KEY, ZONE_KEY, read_state, write_state
from mobile_app.store.tables import CachedMeter, LocalReading
from shared_billing.protocol import (
    Decision,
    FieldTariff,
    MeterAssignment,
    PeriodRead,
    PreviousReading,
    PullResponse,
    ReadingStatus,
    UsageWindow,
)

__all__ = ["apply_pull", "get_meters", "get_tariffs", "get_zone"]

_HISTORY = TypeAdapter(list[PreviousReading])
_TARIFFS = TypeAdapter(list[FieldTariff])


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


_METER_COLUMNS = tuple(column.name for column in _table(CachedMeter).columns)


def _json_or_none(model: BaseModel | None) -> str | None:
    return model.model_dump_json() if model is not None else None


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
        history_json=_HISTORY.dump_json(meter.history).decode() if meter.history else None,
        usage_json=_json_or_none(meter.usage),
        tariff_code=meter.tariff_code,
        unit_type=meter.unit_type,
        sanctioned_load_kw=meter.sanctioned_load_kw,
        period_read_json=_json_or_none(meter.period_read),
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
        history=_HISTORY.validate_json(row.history_json) if row.history_json else [],
        usage=UsageWindow.model_validate_json(row.usage_json) if row.usage_json else None,
        tariff_code=row.tariff_code,
        unit_type=row.unit_type,
        sanctioned_load_kw=row.sanctioned_load_kw,
        period_read=PeriodRead.model_validate_json(row.period_read_json) if row.period_read_json else None,
    )


def _values(row: CachedMeter) -> dict[str, Any]:
    """The row as Core insert parameters (every column, so one statement shape serves the whole batch)."""
    return {name: getattr(row, name) for name in _METER_COLUMNS}


def _apply_decisions(session: Session, decisions: Sequence[Decision]) -> None:
    # One executemany: a full pull may carry a decision for every reading of the period. A decision for a reading
    # this phone does not hold (one from before a reinstall) updates nothing.
    if not decisions:
        return
    statement = (
        update(_table(LocalReading))
        .where(_table(LocalReading).c.uuid == bindparam("decided_uuid"))
        .values(
            review_status=bindparam("decided_status"),
            review_reason=bindparam("decided_reason"),
            reviewed_at=bindparam("decided_at"),
            due_on=bindparam("decided_due_on"),
        )
    )
    session.connection().execute(
        statement,
        [
            {
                "decided_uuid": str(decision.reading_uuid),
                # A decision is one of the review statuses.
                "decided_status": ReadingStatus(decision.status.value),
                "decided_reason": decision.reason,
                "decided_at": decision.decided_at,
                "decided_due_on": decision.due_on,
            }
            for decision in decisions
        ],
    )


def _store_meters(session: Session, pull: PullResponse, rows: list[dict[str, Any]]) -> None:
    """The meter cache as the pull says (``rows``: its meters as parameters), in bulk: the store's lock is held
    while this runs, and a save waits."""
    table = _table(CachedMeter)
    connection = session.connection()
    if pull.full:
        connection.execute(delete(table))
    elif pull.removed_meter_ids:
        connection.execute(delete(table).where(table.c.meter_id.in_(pull.removed_meter_ids)))
    if not rows:
        return
    if pull.full:
        connection.execute(insert(table), rows)
        return
    upsert = sqlite_insert(table)
    changed = {name: upsert.excluded[name] for name in _METER_COLUMNS if name != "meter_id"}
    connection.execute(upsert.on_conflict_do_update(index_elements=["meter_id"], set_=changed), rows)


def apply_pull(*, store: Store, pull: PullResponse) -> None:
    """Apply a pull in one transaction, cursor included, so a crash can never skip or half-apply a delta.

    ``full``: the meter cache becomes exactly ``pull.meters``. Delta: listed meters are upserted and
    ``removed_meter_ids`` dropped. Decisions update the review status (and due date) of the phone's own readings.
    The society's zone and tariffs are kept when the pull carries them (an older server sends none).
    """
    # Built before the transaction: the JSON and row objects take most of the time, and need no lock.
    rows = [_values(_to_row(meter)) for meter in pull.meters]
    with store.transaction() as session:
        _store_meters(session, pull, rows)
        _apply_decisions(session, pull.decisions)
        if pull.limits is not None:  # an older server sends none: keep what we have (or the defaults)
            write_state(session, LIMITS_KEY, pull.limits.model_dump_json())
        if pull.zone is not None:
            write_state(session, ZONE_KEY, pull.zone)
        if pull.tariffs:
            # Every pull lists the tariffs its meters name; a delta's may be a subset, so merge by code.
            known = {tariff.code: tariff for tariff in _TARIFFS.validate_json(read_state(session, TARIFFS_KEY) or "[]")}
            known.update({tariff.code: tariff for tariff in pull.tariffs})
            write_state(session, TARIFFS_KEY, _TARIFFS.dump_json(list(known.values())).decode())
        write_state(session, PULL_CURSOR_KEY, str(pull.cursor))


def get_zone(*, store: Store) -> str | None:
    """The society's time zone from the last pull that carried it (its billing months are months there)."""
    with store.transaction() as session:
        return read_state(session, ZONE_KEY)


def get_tariffs(*, store: Store) -> dict[str, FieldTariff]:
    """The tariffs the pulled meters name, by code."""
    with store.transaction() as session:
        raw = read_state(session, TARIFFS_KEY)
    return {tariff.code: tariff for tariff in _TARIFFS.validate_json(raw or "[]")}


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
