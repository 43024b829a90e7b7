"""The outbox: which readings are due, and what each server answer does to a reading (never deleting it)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from mobile_app.store import (
    LocalState,
    ReadingRecord,
    Store,
    apply_push_results,
    count_due_outbox,
    list_readings,
    mark_retry,
    next_outbox_attempt_at,
    pending_outbox,
    record_reading,
)
from shared_billing.protocol import Outcome, PushResult
from tests.mobile_app.phone_factories import T0, make_reading, make_store


def _by_uuid(store: Store) -> dict[str, ReadingRecord]:
    return {str(record.reading.uuid): record for record in list_readings(store=store)}


def test_pending_outbox_in_save_order_and_limited(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    readings = [make_reading(captured_at=T0 - timedelta(minutes=i)) for i in range(5)]
    for reading in readings:
        record_reading(store=store, reading=reading)

    items = pending_outbox(store=store, limit=3, now=T0)

    assert [item.reading for item in items] == readings[:3]
    assert count_due_outbox(store=store, now=T0) == 5


def test_mark_retry_counts_attempts_and_delays_the_row(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    reading = make_reading()
    record_reading(store=store, reading=reading)

    retry_at = T0 + timedelta(seconds=30)
    mark_retry(store=store, uuids=[str(reading.uuid)], error="timeout", next_attempt_at=retry_at)

    assert pending_outbox(store=store, limit=10, now=T0) == []
    [item] = pending_outbox(store=store, limit=10, now=retry_at)
    assert (item.attempts, item.last_error) == (1, "timeout")
    assert next_outbox_attempt_at(store=store, now=T0) == retry_at


def test_stored_and_duplicate_remove_outbox_row_and_mark_uploaded(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    stored, duplicate = make_reading(), make_reading()
    record_reading(store=store, reading=stored)
    record_reading(store=store, reading=duplicate)

    applied = apply_push_results(
        store=store,
        results=[
            PushResult(uuid=stored.uuid, outcome=Outcome.STORED, flags=["gps_far"], status="submitted"),
            PushResult(uuid=duplicate.uuid, outcome=Outcome.DUPLICATE),
        ],
        now=T0,
    )

    assert applied == 2
    assert count_due_outbox(store=store, now=T0) == 0
    records = _by_uuid(store)
    assert records[str(stored.uuid)].state is LocalState.UPLOADED
    assert records[str(stored.uuid)].flags == ("gps_far",)
    assert records[str(stored.uuid)].review_status == "submitted"
    assert records[str(duplicate.uuid)].state is LocalState.UPLOADED
    assert records[str(duplicate.uuid)].answered_at == T0


def test_rejected_removes_outbox_row_but_keeps_reading_with_reason(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    reading = make_reading()
    record_reading(store=store, reading=reading)

    apply_push_results(
        store=store,
        results=[
            PushResult(uuid=reading.uuid, outcome=Outcome.REJECTED, code="reading.not_assigned", message="Not yours")
        ],
        now=T0,
    )

    [record] = list_readings(store=store)
    assert record.reading == reading
    assert record.state is LocalState.REJECTED
    assert (record.server_code, record.server_message) == ("reading.not_assigned", "Not yours")
    assert not record.in_outbox


def test_conflict_is_terminal_and_keeps_reading(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    reading = make_reading()
    record_reading(store=store, reading=reading)

    apply_push_results(store=store, results=[PushResult(uuid=reading.uuid, outcome=Outcome.CONFLICT)], now=T0)

    [record] = list_readings(store=store)
    assert record.state is LocalState.CONFLICT
    assert record.server_code == "reading.conflict"
    assert not record.in_outbox
    assert pending_outbox(store=store, limit=10, now=T0 + timedelta(days=365)) == []


def test_result_for_unknown_uuid_is_ignored(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    reading = make_reading()
    record_reading(store=store, reading=reading)

    applied = apply_push_results(
        store=store, results=[PushResult(uuid=make_reading().uuid, outcome=Outcome.STORED)], now=T0
    )

    assert applied == 0
    assert count_due_outbox(store=store, now=T0) == 1


def test_mark_retry_leaves_answered_readings_alone(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    reading = make_reading()
    record_reading(store=store, reading=reading)
    apply_push_results(store=store, results=[PushResult(uuid=reading.uuid, outcome=Outcome.STORED)], now=T0)

    mark_retry(store=store, uuids=[str(reading.uuid)], error="late", next_attempt_at=T0)

    [record] = list_readings(store=store)
    assert record.state is LocalState.UPLOADED
    assert not record.in_outbox
