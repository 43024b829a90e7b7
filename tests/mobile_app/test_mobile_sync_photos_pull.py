"""A sync pass's photo upload, pull and scheduling, against the MockTransport fake."""

from __future__ import annotations

from pathlib import Path

import httpx

from mobile_app.store import (
    LocalState,
    get_meters,
    get_pull_cursor,
    list_readings,
    record_reading,
)
from mobile_app.sync import photo_content_type
from tests.mobile_app.phone_factories import (
    Clock,
    FakeServer,
    make_decision,
    make_engine,
    make_meter,
    make_photo,
    make_pull,
    make_reading,
    make_store,
    problem,
)


def test_photo_uploaded_after_its_reading_is_acknowledged(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    path, sha256 = make_photo(tmp_path)
    record_reading(store=store, reading=make_reading(photo_sha256=sha256), photo_path=path)

    report = make_engine(store, server, clock).run_once()

    assert report.photos == 1
    assert server.photos[sha256] == path.read_bytes()
    assert server.requests[2].headers["Content-Type"] == "image/jpeg"
    [record] = list_readings(store=store)
    assert not record.photo_pending


def test_photo_the_server_already_has_counts_as_uploaded(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    path, sha256 = make_photo(tmp_path)
    record_reading(store=store, reading=make_reading(photo_sha256=sha256), photo_path=path)
    server.queue("PUT /api/photos/*", httpx.Response(200))

    report = make_engine(store, server, clock).run_once()

    assert report.photos == 1
    assert not list_readings(store=store)[0].photo_pending


def test_photo_of_a_rejected_reading_is_not_uploaded(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(not_assigned={9}), Clock()
    path, sha256 = make_photo(tmp_path)
    record_reading(store=store, reading=make_reading(meter_id=9, photo_sha256=sha256), photo_path=path)

    report = make_engine(store, server, clock).run_once()

    assert report.photos == 0
    assert server.count(f"PUT /api/photos/{sha256}") == 0


def test_photo_not_referenced_is_left_pending_and_tried_again(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    path, sha256 = make_photo(tmp_path)
    record_reading(store=store, reading=make_reading(photo_sha256=sha256), photo_path=path)
    server.queue("PUT /api/photos/*", problem(404, "photo.not_referenced"))
    engine = make_engine(store, server, clock)

    first = engine.run_once()
    [record] = list_readings(store=store)
    second = engine.run_once()

    assert (first.error, first.photos) == (None, 0)
    assert (record.photo_pending, record.photo_error) == (True, "photo.not_referenced")
    assert second.photos == 1


def test_photo_refused_is_recorded_and_reading_stays_photo_pending(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    path, sha256 = make_photo(tmp_path)
    record_reading(store=store, reading=make_reading(photo_sha256=sha256), photo_path=path)
    server.queue("PUT /api/photos/*", problem(422, "photo.undecodable"))
    engine = make_engine(store, server, clock)

    engine.run_once()
    engine.run_once()

    [record] = list_readings(store=store)
    assert record.state is LocalState.UPLOADED
    assert (record.photo_pending, record.photo_error) == (True, "photo.undecodable")
    assert server.count(f"PUT /api/photos/{sha256}") == 1  # refused bytes are not sent again


def test_missing_photo_file_does_not_stop_the_pass(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    path, sha256 = make_photo(tmp_path)
    record_reading(store=store, reading=make_reading(photo_sha256=sha256), photo_path=path)
    path.unlink()

    report = make_engine(store, server, clock).run_once()

    assert (report.error, report.photos) == (None, 0)
    assert list_readings(store=store)[0].photo_error == "local.photo_unreadable"


def test_pull_after_push_applies_meters_decisions_and_cursor(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    reading = make_reading()
    record_reading(store=store, reading=reading)
    server.pull_response = make_pull(cursor=42, meters=[make_meter(meter_id=3)], decisions=[make_decision(reading)])

    report = make_engine(store, server, clock).run_once()

    assert (report.pulled, report.decisions) == (1, 1)
    assert [meter.meter_id for meter in get_meters(store=store)] == [3]
    assert get_pull_cursor(store=store) == 42
    assert list_readings(store=store)[0].review_status == "approved"
    assert server.requests[-1].url.params["cursor"] == "0"


def test_next_pull_sends_the_stored_cursor(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    engine = make_engine(store, server, clock)
    server.pull_response = make_pull(cursor=7)
    engine.run_once()

    engine.run_once()

    assert server.requests[-1].url.params["cursor"] == "7"


def test_next_delay_is_idle_or_until_the_next_retry(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    engine = make_engine(store, server, clock, idle_delay_s=300.0)
    assert engine.run_once().next_delay_s == 300.0

    record_reading(store=store, reading=make_reading())
    server.queue("POST /api/sync/push", httpx.Response(502))
    engine.run_once()  # reading now due again 1 s later (backoff random 0.5 of 2 s)
    clock.advance(seconds=0.25)
    report = engine.run_once()

    assert report.error is None
    assert report.next_delay_s == 0.75


def test_photo_content_type_by_magic_bytes() -> None:
    assert photo_content_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert photo_content_type(b"\x89PNG\r\n\x1a\nrest") == "image/png"
    assert photo_content_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert photo_content_type(b"GIF89a") == "application/octet-stream"
