"""The phone's enumerated columns (``mobile_app.store.tables.StrEnumColumn``): stored as the value's text, loaded
as the member, anything else refused before it reaches the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlmodel import select

from mobile_app.store import LocalState, Store, apply_pull, get_meters, list_readings, record_reading
from mobile_app.store.tables import CachedMeter, LocalReading
from shared_billing.protocol import DecisionStatus, MeterKind, ReadingStatus, ReadType, SkipReason
from tests.mobile_app.phone_factories import make_decision, make_meter, make_pull, make_reading, make_store


def test_reading_columns_load_as_their_enums_and_store_the_value(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    skipped = make_reading(read_type=ReadType.SKIP, skip_reason=SkipReason.DOG, value=None)
    record_reading(store=store, reading=skipped)
    apply_pull(
        store=store, pull=make_pull(full=False, decisions=[make_decision(skipped, status=DecisionStatus.REREAD)])
    )

    with store.transaction() as session:
        row = session.exec(select(LocalReading)).one()
        raw = session.execute(text("SELECT read_type, skip_reason, state, review_status FROM local_readings")).one()
    assert (row.read_type, row.skip_reason, row.state, row.review_status) == (
        ReadType.SKIP,
        SkipReason.DOG,
        LocalState.SAVED,
        ReadingStatus.REREAD,
    )
    assert [type(v) for v in (row.read_type, row.skip_reason, row.state, row.review_status)] == [
        ReadType,
        SkipReason,
        LocalState,
        ReadingStatus,
    ]
    assert tuple(raw) == ("skip", "dog", "saved", "reread")
    [record] = list_readings(store=store)
    assert (type(record.state), type(record.review_status)) == (LocalState, ReadingStatus)
    store.close()


def test_cached_meter_kind_loads_as_meter_kind(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    apply_pull(store=store, pull=make_pull(meters=[make_meter(kind="shared")]))
    with store.transaction() as session:
        row = session.exec(select(CachedMeter)).one()
    assert type(row.kind) is MeterKind
    assert row.kind is MeterKind.SHARED
    [meter] = get_meters(store=store)
    assert meter.kind is MeterKind.SHARED
    store.close()


def test_a_value_outside_the_enum_is_refused(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    record_reading(store=store, reading=make_reading())
    with pytest.raises(StatementError, match="'sent' is not a LocalState"):
        _set_state(store, "sent")
    with pytest.raises(StatementError, match="'tank' is not a MeterKind"):
        _add_cached_meter(store, kind="tank")
    [record] = list_readings(store=store)
    assert record.state is LocalState.SAVED  # the refused change rolled back
    store.close()


def _set_state(store: Store, state: str) -> None:
    with store.transaction() as session:
        row = session.exec(select(LocalReading)).one()
        row.state = state  # type: ignore[assignment]  # what mypy refuses, the column refuses too
        session.add(row)


def _add_cached_meter(store: Store, **overrides: object) -> None:
    with store.transaction() as session:
        session.add(make_cached_meter(**overrides))


def make_cached_meter(**overrides: object) -> CachedMeter:
    fields: dict[str, object] = {
        "meter_id": 9,
        "meter_number": "MTR-9",
        "block_code": "A",
        "kind": MeterKind.UNIT,
        "dials": 6,
        "decimals": 0,
        "multiplier": "1",
    }
    fields.update(overrides)
    return CachedMeter(**fields)  # type: ignore[arg-type]
