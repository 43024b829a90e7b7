"""Applying a pull: the meter cache (full and delta), removed meters, review decisions, the cursor."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event

from mobile_app.store import apply_pull, get_meters, get_pull_cursor, list_readings, record_reading
from mobile_app.store.tables import SyncStateEntry
from shared_billing.protocol import DecisionStatus
from tests.mobile_app.phone_factories import make_decision, make_meter, make_pull, make_reading, make_store


def test_first_pull_cursor_is_zero(tmp_path: Path) -> None:
    assert get_pull_cursor(store=make_store(tmp_path)) == 0


def test_full_pull_replaces_the_meter_cache(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    apply_pull(store=store, pull=make_pull(cursor=3, meters=[make_meter(meter_id=1), make_meter(meter_id=2)]))

    apply_pull(store=store, pull=make_pull(cursor=9, full=True, meters=[make_meter(meter_id=3)]))

    assert [meter.meter_id for meter in get_meters(store=store)] == [3]
    assert get_pull_cursor(store=store) == 9


def test_delta_pull_upserts_changed_and_drops_removed_meters(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    first = [make_meter(meter_id=1, meter_number="M1"), make_meter(meter_id=2, meter_number="M2")]
    apply_pull(store=store, pull=make_pull(cursor=1, meters=first))
    changed = make_meter(meter_id=1, meter_number="M1", previous=None, decimals=2)
    added = make_meter(meter_id=4, meter_number="M4")

    delta = make_pull(cursor=2, full=False, meters=[changed, added], removed_meter_ids=[2])
    apply_pull(store=store, pull=delta)

    assert get_meters(store=store) == [changed, added]
    assert get_pull_cursor(store=store) == 2


def test_cached_meter_round_trips_every_field(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    meter = make_meter(unit_code=None, lat=None, lon=None, multiplier="40", walk_order=7)

    apply_pull(store=store, pull=make_pull(meters=[meter]))

    assert get_meters(store=store) == [meter]


def test_meters_come_in_walk_order_and_meters_without_one_last_by_place(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    meters = [
        make_meter(meter_id=1, meter_number="M1", unit_code="A-101", walk_order=None),
        make_meter(meter_id=2, meter_number="M2", unit_code="A-102", walk_order=2),
        make_meter(meter_id=3, meter_number="M3", unit_code="A-100", walk_order=None),
        make_meter(meter_id=4, meter_number="M4", unit_code="A-103", walk_order=1),
    ]
    apply_pull(store=store, pull=make_pull(meters=meters))

    assert [meter.meter_id for meter in get_meters(store=store)] == [4, 2, 3, 1]


def test_decisions_update_review_status_of_local_readings(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    approved, reread = make_reading(), make_reading()
    record_reading(store=store, reading=approved)
    record_reading(store=store, reading=reread)
    decisions = [
        make_decision(approved),
        make_decision(reread, status=DecisionStatus.REREAD, reason="Photo blurred"),
        make_decision(make_reading()),  # not on this phone: ignored
    ]

    apply_pull(store=store, pull=make_pull(cursor=5, full=False, decisions=decisions))

    records = {record.reading.uuid: record for record in list_readings(store=store)}
    assert records[approved.uuid].review_status == "approved"
    assert records[reread.uuid].review_status == "reread"
    assert records[reread.uuid].review_reason == "Photo blurred"
    assert records[reread.uuid].reviewed_at == decisions[1].decided_at


def test_failed_pull_keeps_the_old_cursor_and_cache(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    apply_pull(store=store, pull=make_pull(cursor=1, meters=[make_meter(meter_id=1)]))

    def fail_cursor_write(*_args: object) -> None:
        raise RuntimeError("crash while saving the cursor")

    # The meter cache has already been replaced inside the transaction when the cursor write fails.
    event.listen(SyncStateEntry, "before_update", fail_cursor_write)
    try:
        with pytest.raises(RuntimeError, match="crash"):
            apply_pull(store=store, pull=make_pull(cursor=2, full=True, meters=[make_meter(meter_id=5)]))
    finally:
        event.remove(SyncStateEntry, "before_update", fail_cursor_write)

    assert get_pull_cursor(store=store) == 1
    assert [meter.meter_id for meter in get_meters(store=store)] == [1]


@pytest.mark.parametrize(
    ("search", "expected"),
    [("mtr-0002", [2]), ("b-2", [2]), ("a", [1]), ("%", []), ("", [1, 2]), (None, [1, 2])],
)
def test_get_meters_search_matches_number_unit_or_block(
    tmp_path: Path, search: str | None, expected: list[int]
) -> None:
    store = make_store(tmp_path)
    meters = [
        make_meter(meter_id=1, meter_number="MTR-0001", unit_code="A-101", block_code="A"),
        make_meter(meter_id=2, meter_number="MTR-0002", unit_code="B-201", block_code="B"),
    ]
    apply_pull(store=store, pull=make_pull(meters=meters))

    assert [meter.meter_id for meter in get_meters(store=store, search=search)] == expected
