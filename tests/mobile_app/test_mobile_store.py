"""The phone's local store: saving readings with their outbox row, photos, durability settings."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

from mobile_app.store import (
    DuplicateReadingError,
    LocalState,
    PhotoMismatchError,
    Store,
    get_or_create_device_id,
    list_readings,
    open_store,
    pending_outbox,
    record_reading,
)
from mobile_app.store.tables import LocalBase, LocalPhoto, LocalReading, OutboxEntry
from shared_billing.protocol import ReadingV1, payload_sha256
from tests.mobile_app.phone_factories import T0, make_photo, make_reading, make_store


def _counts(store: Store) -> tuple[int, int]:
    with store.transaction() as session:
        readings = len(session.exec(select(LocalReading)).all())
        outbox = len(session.exec(select(OutboxEntry)).all())
    return readings, outbox


def test_record_reading_writes_reading_and_outbox_row(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    reading = make_reading()

    record_reading(store=store, reading=reading)

    assert _counts(store) == (1, 1)
    [record] = list_readings(store=store)
    assert record.reading == reading
    assert record.state is LocalState.SAVED
    assert record.in_outbox


def test_record_reading_failure_mid_transaction_leaves_neither_row(tmp_path: Path) -> None:
    store = make_store(tmp_path)

    # The reading row is already INSERTed when the outbox insert fails (in SQLite itself, as a full disk would).
    with sqlite3.connect(store.path) as db:
        db.execute("CREATE TRIGGER power_cut BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'power cut'); END")
    db.close()
    with pytest.raises(sqlite3.DatabaseError, match="power cut"):
        record_reading(store=store, reading=make_reading())

    assert _counts(store) == (0, 0)


def test_record_reading_same_uuid_refused_and_original_unchanged(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    original = make_reading(value="100.0")
    record_reading(store=store, reading=original)

    with pytest.raises(DuplicateReadingError, match=str(original.uuid)):
        record_reading(store=store, reading=make_reading(uuid=original.uuid, value="999.0"))

    [record] = list_readings(store=store)
    assert record.reading == original
    assert _counts(store) == (1, 1)


def test_record_reading_keeps_the_exact_payload_for_its_hash(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    india = timezone(timedelta(hours=5, minutes=30))
    reading = make_reading(captured_at=T0.astimezone(india), note="Meter behind a gate ₹", gps_lat=None)

    record_reading(store=store, reading=reading)
    [item] = pending_outbox(store=store, limit=10, now=T0)

    assert item.reading == reading
    assert payload_sha256(item.reading) == payload_sha256(reading)


def test_record_reading_with_photo_registers_the_photo(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    path, sha256 = make_photo(tmp_path)

    record_reading(store=store, reading=make_reading(photo_sha256=sha256), photo_path=path)

    [record] = list_readings(store=store)
    assert record.photo_pending
    assert record.photo_path == str(path)
    with store.transaction() as session:
        photo = session.get(LocalPhoto, sha256)
    assert photo is not None
    assert photo.uploaded_at is None


def test_record_reading_photo_hash_mismatch_refused(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    path, _ = make_photo(tmp_path)

    with pytest.raises(PhotoMismatchError, match="hashes to"):
        record_reading(store=store, reading=make_reading(photo_sha256="0" * 64), photo_path=path)

    assert _counts(store) == (0, 0)


def test_record_reading_photo_hash_without_file_refused(tmp_path: Path) -> None:
    store = make_store(tmp_path)

    with pytest.raises(PhotoMismatchError, match="no file"):
        record_reading(store=store, reading=make_reading(photo_sha256="a" * 64))


def test_two_readings_may_share_one_photo(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    path, sha256 = make_photo(tmp_path)

    record_reading(store=store, reading=make_reading(photo_sha256=sha256), photo_path=path)
    record_reading(store=store, reading=make_reading(photo_sha256=sha256), photo_path=path)

    assert _counts(store) == (2, 2)


def test_reading_in_outbox_cannot_be_deleted(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    reading = make_reading()
    record_reading(store=store, reading=reading)

    with pytest.raises(IntegrityError), store.transaction() as session:
        session.exec(text("DELETE FROM local_readings"))  # type: ignore[call-overload]

    assert _counts(store) == (1, 1)


def test_store_uses_wal_full_sync_and_foreign_keys(tmp_path: Path) -> None:
    store = make_store(tmp_path)

    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_local_tables_do_not_mix_with_sqlmodel_metadata() -> None:
    assert LocalBase.metadata is not SQLModel.metadata
    assert "local_readings" not in SQLModel.metadata.tables
    assert set(LocalBase.metadata.tables) == {
        "local_readings",
        "outbox",
        "local_photos",
        "cached_meters",
        "sync_state",
    }


def test_saved_reading_survives_reopening_the_store(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    reading = make_reading()
    record_reading(store=store, reading=reading)
    store.close()

    reopened = open_store(path=store.path)

    assert [record.reading for record in list_readings(store=reopened)] == [reading]


def test_list_readings_newest_saved_first(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    first, second = make_reading(captured_at=T0 + timedelta(hours=1)), make_reading(captured_at=T0)
    record_reading(store=store, reading=first)
    record_reading(store=store, reading=second)

    assert [record.reading for record in list_readings(store=store)] == [second, first]


def test_device_id_is_made_once_and_kept(tmp_path: Path) -> None:
    store = make_store(tmp_path)

    first = get_or_create_device_id(store=store, make_id=lambda: "phone-1")
    again = get_or_create_device_id(store=store, make_id=lambda: "phone-2")

    assert first == again == "phone-1"


def test_readings_saved_from_two_threads_while_another_reads_are_all_kept(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    readings = [make_reading() for _ in range(40)]
    errors: list[BaseException] = []

    def save(batch: list[ReadingV1]) -> None:
        try:
            for reading in batch:
                record_reading(store=store, reading=reading)
                list_readings(store=store)
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=save, args=(readings[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert _counts(store) == (40, 40)
