"""The phone's versioned schema: old files upgrade losing nothing, new ones start at the latest version, a failed
step rolls back, a newer app's file is refused untouched, and the migrations build exactly what tables.py declares."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from mobile_app.store import SchemaTooNewError, list_readings, open_store, pending_outbox, record_reading
from mobile_app.store.errors import MigrationFailedError, UnknownSchemaError
from mobile_app.store.migrations import (
    LATEST_VERSION,
    MIGRATIONS,
    Migration,
    add_outbox_parking,
    check_numbering,
    migrate,
    schema_version,
)
from mobile_app.store.tables import LocalBase
from tests.mobile_app.legacy_phone_db import FIRST_RELEASE, SCHEMAS, dump, write_old_phone
from tests.mobile_app.phone_factories import T0, make_reading

NEW_OUTBOX_COLUMNS = {"server_failures": 0, "parked_at": None}
# Schema v3: readings saved before it reported no meter replacement.
NEW_READING_COLUMNS = {
    "replacement_old_final_value": None,
    "replacement_new_meter_number": None,
    "replacement_new_initial_value": None,
    # Version 5: no due date; the owner is the last engineer signed in, and these old phones recorded none.
    "due_on": None,
    "owner_user_id": None,
}
# Version 4: the route's walk order, unknown for meters cached before it (the next pull brings it); version 5:
# the pull's history, usage, tariff and period read, likewise.
NEW_METER_COLUMNS = {
    "walk_order": None,
    "history_json": None,
    "usage_json": None,
    "tariff_code": None,
    "unit_type": None,
    "sanctioned_load_kw": None,
    "period_read_json": None,
}
# Version 6: no difference hash for photos kept before (they are not compared for reuse).
NEW_PHOTO_COLUMNS = {"dhash": None}


def _added_columns(table: str, flavour: str) -> dict[str, Any]:
    if table == "local_readings":
        return NEW_READING_COLUMNS
    if table == "cached_meters":
        return NEW_METER_COLUMNS
    if table == "local_photos":
        return NEW_PHOTO_COLUMNS
    return NEW_OUTBOX_COLUMNS if table == "outbox" and flavour == "first release" else {}


def _version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return schema_version(db)
    finally:
        db.close()


def _schema(path: Path) -> dict[str, Any]:
    """Columns (type, NOT NULL, default, key), indexes (columns, unique) and foreign keys of every table."""
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {
            table: {
                "columns": list(db.execute(f'PRAGMA table_info("{table}")')),
                "indexes": sorted(
                    (name, unique, origin, [c[2] for c in db.execute(f'PRAGMA index_info("{name}")')])
                    for _, name, unique, origin, _ in db.execute(f'PRAGMA index_list("{table}")')
                ),
                "foreign_keys": list(db.execute(f'PRAGMA foreign_key_list("{table}")')),
            }
            for table in tables
        }
    finally:
        db.close()


def _old_rows() -> dict[str, list[dict[str, Any]]]:
    """Readings (saved with outbox rows, one retried, one uploaded), a photo, a cached meter and sync state."""
    waiting, retried, uploaded = make_reading(), make_reading(value="77.0"), make_reading(meter_id=2)

    def reading(seq: int, r: Any, state: str, **extra: Any) -> dict[str, Any]:
        return {
            "seq": seq, "uuid": str(r.uuid), "meter_id": r.meter_id, "read_type": "actual", "value": r.value,
            "captured_at": "2026-03-01 09:00:00.000000", "gps_lat": r.gps_lat, "gps_lon": r.gps_lon,
            "gps_accuracy_m": r.gps_accuracy_m, "payload_json": r.model_dump_json(), "payload_sha256": "0" * 64,
            "state": state, "flags": "[]", **extra,
        }  # fmt: skip

    meter = {
        "meter_id": 1, "meter_number": "MTR-0001", "unit_code": "A-101", "block_code": "A", "kind": "unit",
        "dials": 6, "decimals": 1, "multiplier": "1", "lat": 12.97, "lon": 77.59, "previous_value": "1200.0",
    }  # fmt: skip
    return {
        "local_readings": [
            reading(1, waiting, "saved"),
            reading(2, retried, "saved"),
            reading(3, uploaded, "uploaded", server_code="stored", answered_at="2026-03-01 09:05:00.000000"),
        ],
        "outbox": [
            {"reading_uuid": str(waiting.uuid), "attempts": 0, "next_attempt_at": None, "last_error": None},
            {
                "reading_uuid": str(retried.uuid),
                "attempts": 2,
                "next_attempt_at": "2026-03-01 09:10:00.000000",
                "last_error": "server answered 503",
            },
        ],
        "local_photos": [
            {"sha256": "a" * 64, "local_path": "photos/a.jpg", "error_is_terminal": 0, "error_code": "photo.bad"}
        ],
        "cached_meters": [meter],
        "sync_state": [{"key": "pull.cursor", "value": "42"}, {"key": "device.id", "value": "phone-7"}],
    }


def test_the_migrations_build_exactly_what_tables_py_declares(tmp_path: Path) -> None:
    migrated, declared = tmp_path / "migrated.db", tmp_path / "declared.db"
    migrate(migrated)
    engine = create_engine(f"sqlite:///{declared}")
    LocalBase.metadata.create_all(engine)
    engine.dispose()

    assert _schema(migrated) == _schema(declared)
    assert set(_schema(migrated)) == set(LocalBase.metadata.tables)


def test_a_fresh_database_gets_the_latest_version_and_works(tmp_path: Path) -> None:
    path = tmp_path / "phone" / "phone.db"
    store = open_store(path=path)
    record_reading(store=store, reading=make_reading())

    assert _version(path) == LATEST_VERSION == len(MIGRATIONS)
    assert len(pending_outbox(store=store, limit=10, now=T0)) == 1
    store.close()


@pytest.mark.parametrize("flavour", sorted(SCHEMAS))
def test_an_unversioned_old_phone_upgrades_and_loses_nothing(tmp_path: Path, flavour: str) -> None:
    path = tmp_path / "phone.db"
    rows = _old_rows()
    write_old_phone(path, SCHEMAS[flavour], rows)
    before = dump(path)
    assert _version(path) == 0

    store = open_store(path=path)

    assert _version(path) == LATEST_VERSION
    after = dump(path)
    assert set(after) == set(before)
    for table, old_rows in before.items():
        # Every old row, every old value, in the same order; only the new columns are added, at their defaults.
        new_rows = after[table]
        assert [{name: row[name] for name in old} for row, old in zip(new_rows, old_rows, strict=True)] == old_rows
        for row, old in zip(new_rows, old_rows, strict=True):
            added = {name: value for name, value in row.items() if name not in old}
            assert added == _added_columns(table, flavour)
    # The upgraded file is the latest schema, and the app reads it: two readings still wait, one is uploaded.
    fresh = tmp_path / "fresh.db"
    migrate(fresh)
    assert _schema(path) == _schema(fresh)
    assert len(list_readings(store=store)) == 3
    waiting = pending_outbox(store=store, limit=10, now=T0.replace(hour=10))
    assert [(item.attempts, item.last_error) for item in waiting] == [(0, None), (2, "server answered 503")]
    store.close()


def test_a_version_2_phone_upgrades_losing_nothing_and_pushes_its_readings_unchanged(
    tmp_path: Path,
) -> None:
    path = tmp_path / "phone.db"
    write_old_phone(path, FIRST_RELEASE, _old_rows())
    assert migrate(path, MIGRATIONS[:2]) == 2
    before = dump(path)

    store = open_store(path=path)

    assert _version(path) == LATEST_VERSION == 6
    after = dump(path)
    for table, old_rows in before.items():
        expected = [{**row, **_added_columns(table, "version 2")} for row in old_rows]
        assert after[table] == expected
    # The outbox still hands out the very payloads saved under v2: same bytes, so the same hashes at the server.
    waiting = pending_outbox(store=store, limit=10, now=T0.replace(hour=10))
    saved = {row["uuid"]: row["payload_json"] for row in before["local_readings"]}
    assert [item.reading.model_dump_json() for item in waiting] == [saved[str(i.reading.uuid)] for i in waiting]
    assert all(item.reading.replacement is None for item in waiting)
    store.close()


def test_migrating_twice_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    write_old_phone(path, FIRST_RELEASE, _old_rows())
    calls: list[int] = []

    def counted(migration: Migration) -> Migration:
        def apply(db: sqlite3.Connection) -> None:
            [(_, _, file)] = db.execute("PRAGMA database_list").fetchall()
            if file:  # not the in-memory replay that recognises an unversioned file's version
                calls.append(migration.version)
            migration.apply(db)

        return Migration(migration.version, migration.name, apply)

    migrations = [counted(m) for m in MIGRATIONS]
    assert migrate(path, migrations) == LATEST_VERSION
    upgraded = (dump(path), _schema(path))

    assert migrate(path, migrations) == LATEST_VERSION
    open_store(path=path).close()

    # The first-release file was recognised as version 1; nothing ran the second time.
    assert calls == list(range(2, LATEST_VERSION + 1))
    assert (dump(path), _schema(path)) == upgraded


def _fails_after_adding_a_column(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE outbox ADD COLUMN doomed INTEGER")
    db.execute("UPDATE sync_state SET value = 'clobbered'")
    raise RuntimeError("disk said no")


def test_a_failing_migration_rolls_back_to_the_old_version(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    write_old_phone(path, FIRST_RELEASE, _old_rows())
    migrate(path)
    before = (dump(path), _schema(path))
    doomed = (*MIGRATIONS, Migration(LATEST_VERSION + 1, "doomed", _fails_after_adding_a_column))

    with pytest.raises(MigrationFailedError, match=f"migration {LATEST_VERSION + 1} \\(doomed\\)") as raised:
        migrate(path, doomed)

    assert isinstance(raised.value.__cause__, RuntimeError)
    assert raised.value.previous == LATEST_VERSION
    assert _version(path) == LATEST_VERSION
    assert (dump(path), _schema(path)) == before


def test_a_failure_undoes_the_earlier_steps_of_the_same_upgrade(tmp_path: Path) -> None:
    # An unversioned first-release file at version 1: step 2 succeeds, step 3 fails, so step 2 is undone too.
    path = tmp_path / "phone.db"
    write_old_phone(path, FIRST_RELEASE, _old_rows())
    before = (dump(path), _schema(path))
    doomed = (*MIGRATIONS, Migration(LATEST_VERSION + 1, "doomed", _fails_after_adding_a_column))

    with pytest.raises(MigrationFailedError):
        migrate(path, doomed)

    assert _version(path) == 0
    assert (dump(path), _schema(path)) == before
    # A fresh file whose second step fails keeps no table of the first.
    fresh = tmp_path / "fresh.db"
    with pytest.raises(MigrationFailedError):
        migrate(fresh, (MIGRATIONS[0], Migration(2, "doomed", _fails_after_adding_a_column)))
    assert (_version(fresh), dump(fresh)) == (0, {})


def test_a_database_from_a_newer_app_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    store = open_store(path=path)
    record_reading(store=store, reading=make_reading())
    store.close()
    db = sqlite3.connect(path, isolation_level=None)
    # What a future version might have done: a new table, an extra column, its number.
    db.execute("CREATE TABLE future_things (id INTEGER PRIMARY KEY)")
    db.execute("ALTER TABLE local_readings ADD COLUMN future_column VARCHAR")
    db.execute(f"PRAGMA user_version = {LATEST_VERSION + 3}")
    db.close()
    before = (dump(path), _schema(path))

    with pytest.raises(SchemaTooNewError, match=f"schema version {LATEST_VERSION + 3}.*newer app") as raised:
        open_store(path=path)

    assert (raised.value.found, raised.value.latest) == (LATEST_VERSION + 3, LATEST_VERSION)
    assert _version(path) == LATEST_VERSION + 3
    assert (dump(path), _schema(path)) == before


def test_unversioned_tables_no_earlier_app_made_are_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    # Half of this week's change: the outbox has one new column but not the other.
    write_old_phone(path, (*FIRST_RELEASE, "ALTER TABLE outbox ADD COLUMN parked_at DATETIME"), _old_rows())
    before = (dump(path), _schema(path))

    with pytest.raises(UnknownSchemaError, match="match no earlier app"):
        open_store(path=path)

    assert _version(path) == 0
    assert (dump(path), _schema(path)) == before


def test_two_processes_opening_a_fresh_file_at_once_both_end_at_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    start, results, errors = threading.Barrier(2), [], []

    def open_it() -> None:
        start.wait()
        try:
            results.append(migrate(path))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (errors, results) == ([], [LATEST_VERSION, LATEST_VERSION])
    assert _version(path) == LATEST_VERSION


@pytest.mark.parametrize(
    "versions",
    [[], [2], [1, 1], [1, 3], [2, 1]],
    ids=["none", "no-first", "repeat", "gap", "order"],
)
def test_migrations_must_be_numbered_one_to_n(versions: list[int]) -> None:
    with pytest.raises(ValueError, match=r"numbered 1\.\.n"):
        check_numbering([Migration(v, f"m{v}", add_outbox_parking) for v in versions])
    check_numbering(MIGRATIONS)
