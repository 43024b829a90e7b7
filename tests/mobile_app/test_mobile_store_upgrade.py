"""A phone database made by the first app version opens in this one with every reading and outbox row intact.

``open_store`` recognises the unversioned first-release file as schema version 1 and applies the later migrations
(``mobile_app.store.migrations``). The old schema below is the first release's, verbatim, so the test fails if an
upgrade ever loses or refuses a row.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

from pydantic import ValidationError

from mobile_app.store import (
    LocalState,
    list_readings,
    mark_server_failure,
    open_store,
    pending_outbox,
    recent_photo_hashes,
    record_reading,
)
from mobile_app.store.migrations import LATEST_VERSION, MIGRATIONS, migrate, schema_version
from mobile_app.sync.engine import PARK_AFTER
from shared_billing.protocol import ReadingV1, payload_sha256
from tests.mobile_app.phone_factories import T0, Clock, FakeServer, make_engine, make_photo, make_reading

FIRST_RELEASE_SCHEMA = """
CREATE TABLE local_readings (
    seq INTEGER NOT NULL, uuid VARCHAR(36) NOT NULL, meter_id INTEGER NOT NULL, read_type VARCHAR NOT NULL,
    skip_reason VARCHAR, value VARCHAR, captured_at DATETIME NOT NULL, gps_lat FLOAT, gps_lon FLOAT,
    gps_accuracy_m FLOAT, photo_sha256 VARCHAR, note VARCHAR, replaces VARCHAR, payload_json VARCHAR NOT NULL,
    payload_sha256 VARCHAR NOT NULL, photo_path VARCHAR, state VARCHAR NOT NULL, server_code VARCHAR,
    server_message VARCHAR, answered_at DATETIME, flags JSON NOT NULL, review_status VARCHAR, review_reason VARCHAR,
    reviewed_at DATETIME, PRIMARY KEY (seq), UNIQUE (uuid)
);
CREATE INDEX ix_local_readings_meter_id ON local_readings (meter_id);
CREATE INDEX ix_local_readings_photo_sha256 ON local_readings (photo_sha256);
CREATE INDEX ix_local_readings_state ON local_readings (state);
CREATE TABLE local_photos (
    sha256 VARCHAR NOT NULL, local_path VARCHAR NOT NULL, uploaded_at DATETIME, error_code VARCHAR,
    error_message VARCHAR, error_is_terminal BOOLEAN NOT NULL, PRIMARY KEY (sha256)
);
CREATE TABLE cached_meters (
    meter_id INTEGER NOT NULL, meter_number VARCHAR NOT NULL, unit_code VARCHAR, block_code VARCHAR NOT NULL,
    kind VARCHAR NOT NULL, dials INTEGER NOT NULL, decimals INTEGER NOT NULL, multiplier VARCHAR NOT NULL,
    lat FLOAT, lon FLOAT, previous_value VARCHAR, previous_captured_at DATETIME, PRIMARY KEY (meter_id)
);
CREATE INDEX ix_cached_meters_meter_number ON cached_meters (meter_number);
CREATE TABLE sync_state ("key" VARCHAR NOT NULL, value VARCHAR NOT NULL, PRIMARY KEY ("key"));
CREATE TABLE outbox (
    reading_uuid VARCHAR(36) NOT NULL, attempts INTEGER NOT NULL, next_attempt_at DATETIME, last_error VARCHAR,
    PRIMARY KEY (reading_uuid),
    FOREIGN KEY(reading_uuid) REFERENCES local_readings (uuid) ON DELETE RESTRICT
);
CREATE INDEX ix_outbox_next_attempt_at ON outbox (next_attempt_at);
"""


def _valid(payload: dict[str, object]) -> int:
    try:
        ReadingV1.model_validate(payload)
    except ValidationError:
        return 0
    return 1


def _old_phone(path: Path, rows: list[tuple[str, str, str, int, str | None]]) -> None:
    """A first-release database with readings (uuid, state, payload_json) and, for saved ones, outbox rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.executescript(FIRST_RELEASE_SCHEMA)
        for seq, (uuid, state, payload, attempts, last_error) in enumerate(rows, start=1):
            fields = json.loads(payload)
            db.execute(
                "INSERT INTO local_readings (seq, uuid, meter_id, read_type, value, captured_at, payload_json,"
                " payload_sha256, state, flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '[]')",
                (seq, uuid, fields["meter_id"], fields["read_type"], fields["value"], "2026-03-01 09:00:00.000000",
                 payload, "0" * 64, state),
            )  # fmt: skip
            if state == "saved":
                db.execute(
                    "INSERT INTO outbox (reading_uuid, attempts, next_attempt_at, last_error) VALUES (?, ?, ?, ?)",
                    (uuid, attempts, None, last_error),
                )
        db.execute("INSERT INTO sync_state VALUES ('pull.cursor', '42')")
    db.close()


def test_an_old_phone_database_gains_the_new_columns_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "phone" / "phone.db"
    waiting, retried, uploaded = make_reading(), make_reading(value="77.0"), make_reading(meter_id=2)
    # Saved by an older app before the protocol bounded times and positions: a 1999 phone clock, latitude 95.
    legacy = {**json.loads(make_reading().model_dump_json()), "captured_at": "1999-12-31T23:00:00Z", "gps_lat": 95.0}
    _old_phone(
        path,
        [
            (str(waiting.uuid), "saved", waiting.model_dump_json(), 0, None),
            (str(retried.uuid), "saved", retried.model_dump_json(), 2, "server answered 503"),
            (str(uploaded.uuid), "uploaded", uploaded.model_dump_json(), 0, None),
            (legacy["uuid"], "saved", json.dumps(legacy), 1, None),
        ],
    )

    store = open_store(path=path)

    with sqlite3.connect(path) as db:
        assert schema_version(db) == LATEST_VERSION
    db.close()
    records = {str(r.reading.uuid): r for r in list_readings(store=store)}
    assert len(records) == 4
    assert records[str(uploaded.uuid)].state is LocalState.UPLOADED
    assert records[str(uploaded.uuid)].in_outbox is False
    items = {str(item.reading.uuid): item for item in pending_outbox(store=store, limit=10, now=T0)}
    assert set(items) == {str(waiting.uuid), str(retried.uuid), legacy["uuid"]}
    assert items[str(waiting.uuid)].reading == waiting
    assert (items[str(retried.uuid)].attempts, items[str(retried.uuid)].last_error) == (2, "server answered 503")
    assert {(item.server_failures, item.parked_at) for item in items.values()} == {(0, None)}
    assert items[legacy["uuid"]].reading.gps_lat == 95.0  # kept as saved, for the server to judge

    # Opening again changes nothing, and the upgraded database syncs: the legacy reading goes up as saved.
    store.close()
    store = open_store(path=path)
    assert len(list_readings(store=store)) == 4
    server, clock = FakeServer(), Clock()
    report = make_engine(store, server, clock).run_once()
    # The server judges the legacy reading per item: refused if the protocol bounds it, stored otherwise; either
    # way it leaves the outbox and the others are stored beside it.
    legacy_valid = _valid(legacy)
    assert (report.error, report.stored, report.rejected) == (None, 2 + legacy_valid, 1 - legacy_valid)
    [push] = [r for r in server.requests if r.url.path == "/api/sync/push"]
    sent = {str(reading["uuid"]): reading for reading in json.loads(push.content)["readings"]}
    assert sent[legacy["uuid"]]["captured_at"] == "1999-12-31T23:00:00Z"
    assert server.stored[str(waiting.uuid)] == payload_sha256(waiting)
    assert pending_outbox(store=store, limit=10, now=T0 + timedelta(days=365)) == []


def test_the_new_columns_hold_parking_after_the_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "phone" / "phone.db"
    reading = make_reading()
    _old_phone(path, [(str(reading.uuid), "saved", reading.model_dump_json(), 0, None)])
    store = open_store(path=path)

    for _ in range(PARK_AFTER):
        mark_server_failure(
            store=store,
            uuid=str(reading.uuid),
            error="server answered 500",
            now=T0,
            retry_at=T0 + timedelta(minutes=1),
            park_after=PARK_AFTER,
            parked_retry_at=T0 + timedelta(hours=4),
        )
    store.close()

    [record] = list_readings(store=open_store(path=path))

    assert (record.server_failures, record.parked_at, record.parked) == (PARK_AFTER, T0, True)
    assert record.next_attempt_at == T0 + timedelta(hours=4)


def test_a_version_5_phone_keeps_its_photos_and_compares_only_hashed_ones(tmp_path: Path) -> None:
    # Schema v6 keeps each photo's difference hash: photos kept before have none and are never compared for reuse;
    # new ones are, newest first.
    path = tmp_path / "phone" / "phone.db"
    path.parent.mkdir(parents=True)
    assert migrate(path, MIGRATIONS[:5]) == 5
    old_photo, old_sha = make_photo(tmp_path, b"\xff\xd8old photo\xff\xd9")
    old = make_reading(photo_sha256=old_sha)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO local_readings (uuid, meter_id, read_type, value, captured_at, payload_json, payload_sha256,"
            " photo_sha256, photo_path, state, flags) VALUES (?, 1, 'actual', '1234.5', '2026-03-01 09:00:00.000000',"
            " ?, ?, ?, ?, 'saved', '[]')",
            (str(old.uuid), old.model_dump_json(), payload_sha256(old), old_sha, str(old_photo)),
        )
        db.execute(
            "INSERT INTO local_photos (sha256, local_path, error_is_terminal) VALUES (?, ?, 0)",
            (old_sha, str(old_photo)),
        )
    db.close()

    store = open_store(path=path)

    assert recent_photo_hashes(store=store) == []
    [record] = list_readings(store=store)
    assert (record.reading, record.photo_pending) == (old, True)
    for index in range(3):
        photo, sha = make_photo(tmp_path, f"new photo {index}".encode())
        record_reading(
            store=store, reading=make_reading(photo_sha256=sha), photo_path=photo, photo_dhash=f"{index:016x}"
        )
    assert recent_photo_hashes(store=store) == [f"{index:016x}" for index in (2, 1, 0)]
    assert recent_photo_hashes(store=store, limit=2) == ["0000000000000002", "0000000000000001"]
