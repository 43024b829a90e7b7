"""The phone and protocol 2: a reading reporting a meter replacement is saved like any other (one transaction with
its outbox row) and pushed in protocol 2; a batch without one goes as protocol 1, byte for byte what v1 sent."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from mobile_app.store import DuplicateReadingError, LocalState, list_readings, pending_outbox, record_reading
from shared_billing.protocol import ReadingV1, Replacement, payload_sha256
from tests.mobile_app.phone_factories import Clock, FakeServer, make_engine, make_reading, make_store

SWAP = Replacement(old_final_value="1290.0", new_meter_number="NEW-0001", new_initial_value="0.0")


def _columns(path: Path, uuid: str) -> tuple[str | None, str | None, str | None, str]:
    db = sqlite3.connect(path)
    try:
        row = db.execute(
            "SELECT replacement_old_final_value, replacement_new_meter_number, replacement_new_initial_value, "
            "payload_json FROM local_readings WHERE uuid = ?",
            (uuid,),
        ).fetchone()
    finally:
        db.close()
    return row


def test_a_replacement_is_saved_with_its_outbox_row_and_listed(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    reading = make_reading(value="5.0", replacement=SWAP)

    saved = record_reading(store=store, reading=reading)

    assert saved == reading
    old_final, number, initial, payload = _columns(store.path, str(reading.uuid))
    assert (old_final, number, initial) == ("1290.0", "NEW-0001", "0.0")
    assert json.loads(payload)["replacement"] == SWAP.model_dump()
    [record] = list_readings(store=store)
    assert record.reading.replacement == SWAP
    assert record.in_outbox
    [waiting] = pending_outbox(store=store, limit=10, now=Clock()())
    assert payload_sha256(waiting.reading) == payload_sha256(reading)
    # The same uuid again, even with another replacement: refused, nothing changes.
    with pytest.raises(DuplicateReadingError):
        record_reading(store=store, reading=reading.model_copy(update={"replacement": None}))
    assert _columns(store.path, str(reading.uuid))[:3] == ("1290.0", "NEW-0001", "0.0")


def test_a_reading_without_replacement_is_saved_as_protocol_1_saved_it(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    reading = make_reading()
    as_v1 = ReadingV1.model_validate(reading.model_dump(exclude={"replacement"}))

    record_reading(store=store, reading=as_v1)

    old_final, number, initial, payload = _columns(store.path, str(reading.uuid))
    assert (old_final, number, initial) == (None, None, None)
    assert payload == as_v1.model_dump_json()
    [record] = list_readings(store=store)
    assert payload_sha256(record.reading) == payload_sha256(as_v1)


def test_the_engine_sends_the_lowest_protocol_each_batch_needs(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    plain = make_reading()
    record_reading(store=store, reading=plain)
    make_engine(store, server, clock).run_once()
    replaced = make_reading(value="5.0", replacement=SWAP)
    later = make_reading()
    record_reading(store=store, reading=replaced)
    record_reading(store=store, reading=later)

    report = make_engine(store, server, clock).run_once()

    assert (report.error, report.stored) == (None, 2)
    assert server.push_protocols == [1, 2]
    first_push = json.loads(next(r for r in server.requests if r.url.path.endswith("/sync/push")).content)
    assert "replacement" not in first_push["readings"][0]
    assert server.stored[str(replaced.uuid)] == payload_sha256(replaced)
    assert server.stored[str(plain.uuid)] == payload_sha256(ReadingV1.model_validate(plain.model_dump()))
    assert {record.state for record in list_readings(store=store)} == {LocalState.UPLOADED}


def test_a_rejected_replacement_stays_on_the_phone_with_the_reason(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    replaced = make_reading(meter_id=9, value="5.0", replacement=SWAP)
    server.not_assigned.add(9)
    record_reading(store=store, reading=replaced)

    report = make_engine(store, server, clock).run_once()

    assert report.rejected == 1
    [record] = list_readings(store=store)
    assert (record.state, record.server_code) == (LocalState.REJECTED, "reading.not_assigned")
    assert record.reading.replacement == SWAP
    assert not record.in_outbox
