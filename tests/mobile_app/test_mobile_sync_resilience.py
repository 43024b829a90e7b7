"""The phone never gets stuck: a reading the server fails on is isolated and parked, an outage is waited out.

Against the MockTransport fake (tests/mobile_app/phone_factories.py), with a settable clock: every wait is checked
against the clock, nothing sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from mobile_app.reading_states import HELD_BACK_REASON, ReadingState, reading_reason, reading_state
from mobile_app.store import (
    LocalState,
    ReadingRecord,
    Store,
    list_readings,
    open_store,
    pending_outbox,
    record_reading,
)
from mobile_app.store.tables import LocalReading
from mobile_app.sync import Backoff, SyncEngine, TransportError
from mobile_app.sync.engine import PARK_AFTER, PARKED_RETRY
from shared_billing.protocol import PushRequest, ReadingV1, payload_sha256
from tests.mobile_app.phone_factories import Clock, FakeServer, make_api, make_engine, make_reading, make_store

PUSH = "POST /api/sync/push"


def _records(store: Store) -> dict[str, ReadingRecord]:
    return {str(record.reading.uuid): record for record in list_readings(store=store)}


def _pushed_uuids(request: httpx.Request) -> list[str]:
    return [str(reading.uuid) for reading in PushRequest.model_validate_json(request.content).readings]


def _pushes(server: FakeServer) -> list[list[str]]:
    """The uuids of every push the phone sent, in order."""
    return [_pushed_uuids(r) for r in server.requests if r.method == "POST" and r.url.path == "/api/sync/push"]


class Poison:
    """A server front that answers 500 to any push carrying one of ``uuids`` (the server's bug), else the fake."""

    def __init__(self, server: FakeServer, *readings: ReadingV1) -> None:
        self.server = server
        self.uuids = {str(reading.uuid) for reading in readings}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/sync/push" and self.uuids & set(_pushed_uuids(request)):
            self.server.requests.append(request)
            return httpx.Response(500, json={"code": "server.error", "message": "Internal error", "details": {}})
        return self.server(request)


def _engine_through(
    store: Store, server: FakeServer, clock: Clock, front: Callable[[httpx.Request], httpx.Response]
) -> SyncEngine:
    return make_engine(store, server, clock, api=make_api(server, handler=front))


def test_one_poison_reading_does_not_hold_up_nine_and_is_parked_then_retried(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    readings = [make_reading() for _ in range(10)]
    for reading in readings:
        record_reading(store=store, reading=reading)
    poison = readings[3]
    front = Poison(server, poison)
    engine = _engine_through(store, server, clock, front)

    first = engine.run_once()

    # The nine are stored in the first pass; the poison one is kept, counted once, and the pass goes on to pull.
    assert (first.error, first.stored, first.server_failed, first.parked) == (None, 9, 1, 0)
    assert set(server.stored) == {str(r.uuid) for r in readings} - {str(poison.uuid)}
    assert server.count("GET /api/sync/pull") == 1
    records = _records(store)
    held = records.pop(str(poison.uuid))
    assert {r.state for r in records.values()} == {LocalState.UPLOADED}
    assert (held.state, held.in_outbox, held.server_failures, held.parked) == (LocalState.SAVED, True, 1, False)
    # Split by halves, never one request per reading: 10 -> 5 -> 2 -> 1 (and their good halves).
    assert len(_pushes(server)) < len(readings)

    # Tries two and three: the reading goes alone (it cannot sink a batch again), after its backoff.
    for attempt in range(2, PARK_AFTER + 1):
        clock.advance(minutes=10)
        report = engine.run_once()
        assert _pushes(server)[-1] == [str(poison.uuid)]
        assert (report.error, report.server_failed) == (None, 1)
        assert _records(store)[str(poison.uuid)].server_failures == attempt
    assert report.parked == 1
    parked = _records(store)[str(poison.uuid)]
    assert parked.parked
    assert parked.parked_at == clock()
    assert parked.next_attempt_at == clock() + PARKED_RETRY
    assert (reading_state(parked), reading_reason(parked)) == (ReadingState.ON_HOLD, HELD_BACK_REASON)
    assert parked.state is LocalState.SAVED  # nothing is given up: still in the outbox

    # Parked: ordinary passes leave it alone until its rare retry is due...
    sent = len(_pushes(server))
    clock.advance(hours=1)
    quiet = engine.run_once()
    assert (quiet.error, quiet.pushed, len(_pushes(server))) == (None, 0, sent)
    assert quiet.next_delay_s > 0

    # ...then it is tried again (alone), and stays parked while the server keeps failing on it.
    clock.advance(seconds=(PARKED_RETRY - timedelta(hours=1)).total_seconds())
    again = engine.run_once()
    assert (len(_pushes(server)), again.parked) == (sent + 1, 1)
    assert _records(store)[str(poison.uuid)].next_attempt_at == clock() + PARKED_RETRY

    # The server is fixed; "sync now" sends it at once, well before its next rare retry.
    front.uuids.clear()
    clock.advance(minutes=5)
    fixed = engine.run_once(ignore_retry_times=True)
    assert (fixed.error, fixed.stored) == (None, 1)
    done = _records(store)[str(poison.uuid)]
    assert (done.state, done.in_outbox, done.parked) == (LocalState.UPLOADED, False, False)
    assert len(server.stored) == 10


def test_parked_reading_stays_parked_across_a_restart(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    poison, good = make_reading(), make_reading()
    record_reading(store=store, reading=poison)
    record_reading(store=store, reading=good)
    engine = _engine_through(store, server, clock, Poison(server, poison))
    for _ in range(PARK_AFTER):
        engine.run_once()
        clock.advance(minutes=10)
    store.close()

    reopened = open_store(path=store.path)

    record = _records(reopened)[str(poison.uuid)]
    assert (record.parked, record.server_failures, record.in_outbox) == (True, PARK_AFTER, True)
    assert pending_outbox(store=reopened, limit=10, now=clock()) == []
    [item] = pending_outbox(store=reopened, limit=10, now=clock() + PARKED_RETRY)
    assert (item.reading, item.server_failures) == (poison, PARK_AFTER)
    assert _records(reopened)[str(good.uuid)].state is LocalState.UPLOADED


def test_two_poison_readings_in_a_batch_are_both_isolated(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    readings = [make_reading() for _ in range(8)]
    for reading in readings:
        record_reading(store=store, reading=reading)
    engine = _engine_through(store, server, clock, Poison(server, readings[0], readings[7]))

    report = engine.run_once()

    assert (report.error, report.stored, report.server_failed) == (None, 6, 2)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(503, headers={"Retry-After": "120"}),
        httpx.Response(500, headers={"Retry-After": "120"}),
        httpx.Response(429, headers={"Retry-After": "120"}),
    ],
    ids=["503", "500", "429"],
)
def test_retry_after_means_plain_backoff_for_the_batch_and_is_honoured(tmp_path: Path, answer: httpx.Response) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    readings = [make_reading() for _ in range(4)]
    for reading in readings:
        record_reading(store=store, reading=reading)
    server.queue(PUSH, answer)
    engine = make_engine(store, server, clock, backoff=Backoff(random=lambda: 0.5, cap_s=60.0))

    report = engine.run_once()

    assert isinstance(report.error, TransportError)
    assert len(_pushes(server)) == 1  # no split
    assert server.count("GET /api/sync/pull") == 0
    assert report.next_delay_s == 120.0  # the server's wait, not the 1 s backoff
    records = _records(store).values()
    assert {(r.state, r.attempts, r.server_failures, r.parked) for r in records} == {(LocalState.SAVED, 1, 0, False)}
    assert pending_outbox(store=store, limit=10, now=clock() + timedelta(seconds=119)) == []
    assert len(pending_outbox(store=store, limit=10, now=clock() + timedelta(seconds=120))) == 4

    clock.advance(seconds=120)
    assert (engine.run_once().stored, len(server.stored)) == (4, 4)


def test_retry_after_as_an_http_date_is_honoured(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    record_reading(store=store, reading=make_reading())
    at = (clock() + timedelta(minutes=15)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    server.queue(PUSH, httpx.Response(503, headers={"Retry-After": at}))

    report = make_engine(store, server, clock).run_once()

    assert report.next_delay_s == 15 * 60
    [record] = _records(store).values()
    assert record.next_attempt_at == clock() + timedelta(minutes=15)


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_plain_backoff_without_split_or_blame(tmp_path: Path, status: int) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    for _ in range(6):
        record_reading(store=store, reading=make_reading())
    engine = make_engine(store, server, clock)

    for _ in range(PARK_AFTER + 1):
        server.queue(PUSH, httpx.Response(status))
        report = engine.run_once(ignore_retry_times=True)
        assert isinstance(report.error, TransportError)

    assert len(_pushes(server)) == PARK_AFTER + 1  # one request per pass: never split
    records = _records(store).values()
    assert {(r.attempts, r.server_failures, r.parked) for r in records} == {(PARK_AFTER + 1, 0, False)}


def test_network_error_is_plain_backoff(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    for _ in range(3):
        record_reading(store=store, reading=make_reading())

    def offline_push(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/sync/push":
            server.requests.append(request)
            raise httpx.ConnectError("network unreachable", request=request)
        return server(request)

    report = make_engine(store, server, clock, api=make_api(server, handler=offline_push)).run_once()

    assert isinstance(report.error, TransportError)
    assert len(_pushes(server)) == 1
    assert {(r.attempts, r.server_failures) for r in _records(store).values()} == {(1, 0)}


def test_a_server_answering_500_to_everything_is_an_outage_not_poison(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    readings = [make_reading() for _ in range(10)]
    for reading in readings:
        record_reading(store=store, reading=reading)

    def broken(request: httpx.Request) -> httpx.Response:
        if request.url.path != "/api/sync/push":
            return server(request)  # signing in worked before the outage
        server.requests.append(request)
        return httpx.Response(500)

    engine = _engine_through(store, server, clock, broken)

    for _ in range(PARK_AFTER + 1):
        report = engine.run_once(ignore_retry_times=True)
        assert isinstance(report.error, TransportError)
        assert (report.server_failed, report.parked) == (0, 0)

    # Bounded probing per pass (a few halvings, not one request per reading), and nobody blamed or parked.
    per_pass = len(_pushes(server)) / (PARK_AFTER + 1)
    assert per_pass <= len(readings).bit_length() + 3
    assert {(r.server_failures, r.parked, r.state) for r in _records(store).values()} == {(0, False, LocalState.SAVED)}


def test_a_lone_reading_failing_while_the_server_works_is_parked(tmp_path: Path) -> None:
    """Only one reading waits: the successful pull is what shows the server itself is working."""
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    poison = make_reading()
    record_reading(store=store, reading=poison)
    engine = _engine_through(store, server, clock, Poison(server, poison))

    reports = []
    for _ in range(PARK_AFTER):
        reports.append(engine.run_once())
        clock.advance(minutes=10)

    assert [(r.error, r.server_failed) for r in reports] == [(None, 1)] * PARK_AFTER
    assert server.count("GET /api/sync/pull") == PARK_AFTER  # the route still updates every pass
    assert reports[-1].parked == 1
    assert _records(store)[str(poison.uuid)].parked


def test_readings_saved_while_one_waits_are_not_blocked_by_it(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    poison = make_reading()
    record_reading(store=store, reading=poison)
    engine = _engine_through(store, server, clock, Poison(server, poison))
    engine.run_once()
    later = [make_reading() for _ in range(3)]
    for reading in later:
        record_reading(store=store, reading=reading)

    report = engine.run_once(ignore_retry_times=True)

    assert (report.stored, report.server_failed) == (3, 1)
    assert [_pushes(server)[-2], _pushes(server)[-1]] == [[str(r.uuid) for r in later], [str(poison.uuid)]]


def _strict_json(content: bytes) -> object:
    def refuse(constant: str) -> object:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(content, parse_constant=refuse)


def test_non_finite_gps_never_leaves_the_phone_and_the_hash_matches(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    # Readings built past validation, as a device bug or an older protocol would let them through.
    nan_position = make_reading().model_copy(update={"gps_lat": float("nan")})
    infinite_accuracy = make_reading().model_copy(update={"gps_accuracy_m": float("inf")})
    for reading in (nan_position, infinite_accuracy):
        saved = record_reading(store=store, reading=reading)
        assert saved.uuid == reading.uuid

    report = make_engine(store, server, clock).run_once()

    assert (report.error, report.stored) == (None, 2)
    [push] = [r for r in server.requests if r.url.path == "/api/sync/push"]
    sent = {item["uuid"]: item for item in _strict_json(push.content)["readings"]}  # type: ignore[index]
    assert (sent[str(nan_position.uuid)]["gps_lat"], sent[str(nan_position.uuid)]["gps_lon"]) == (None, None)
    assert sent[str(nan_position.uuid)]["gps_accuracy_m"] == 8.0
    assert sent[str(infinite_accuracy.uuid)]["gps_accuracy_m"] is None
    assert sent[str(infinite_accuracy.uuid)]["gps_lat"] == 12.97
    # The hash saved with each reading is the hash of exactly what went out (the server hashes the same bytes).
    with store.transaction() as session:
        saved_hashes = {row.uuid: row.payload_sha256 for row in session.exec(select(LocalReading)).all()}
    for uuid, item in sent.items():
        assert saved_hashes[uuid] == payload_sha256(ReadingV1.model_validate(item))


def test_sync_api_never_writes_nan_even_when_handed_one(tmp_path: Path) -> None:
    server = FakeServer()
    reading = make_reading().model_copy(update={"gps_lon": float("-inf"), "gps_accuracy_m": float("nan")})
    api = make_api(server)

    [result] = api.push(PushRequest(device_id="device-1", sent_at=reading.captured_at, readings=[reading])).results

    assert result.outcome.value == "stored"
    body = _strict_json(server.requests[-1].content)
    assert body["readings"][0]["gps_lon"] is None  # type: ignore[index]
