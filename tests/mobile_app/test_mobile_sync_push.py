"""A sync pass's push against the MockTransport fake: per-item outcomes, what each failure leaves behind."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from mobile_app.store import (
    LocalState,
    Store,
    count_due_outbox,
    list_readings,
    pending_outbox,
    record_reading,
)
from mobile_app.sync import ApiError, AuthExpired, Backoff, TransportError
from shared_billing.protocol import PushRequest
from tests.mobile_app.phone_factories import (
    Clock,
    FakeServer,
    make_api,
    make_engine,
    make_reading,
    make_store,
    problem,
)


def _states(store: Store) -> dict[str, LocalState]:
    return {str(record.reading.uuid): record.state for record in list_readings(store=store)}


def test_run_once_pushes_due_readings_and_marks_them_uploaded(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    readings = [make_reading() for _ in range(3)]
    for reading in readings:
        record_reading(store=store, reading=reading)

    report = make_engine(store, server, clock).run_once()

    assert report.error is None
    assert (report.pushed, report.stored) == (3, 3)
    assert set(_states(store).values()) == {LocalState.UPLOADED}
    assert count_due_outbox(store=store, now=clock()) == 0
    push = PushRequest.model_validate_json(server.requests[1].content)
    assert (push.device_id, push.sent_at) == ("device-1", clock())


def test_readings_are_pushed_in_batches_with_progress(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    for _ in range(5):
        record_reading(store=store, reading=make_reading())
    progress: list[tuple[int, int]] = []

    engine = make_engine(store, server, clock, batch_size=2, on_progress=lambda *p: progress.append(p))

    report = engine.run_once()

    assert report.stored == 5
    assert server.push_sizes == [2, 2, 1]
    assert progress == [(0, 5), (2, 5), (4, 5), (5, 5)]


def test_per_item_outcomes_are_recorded_and_counted(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(not_assigned={9}), Clock()
    stored, rejected, conflicting = make_reading(), make_reading(meter_id=9), make_reading(value="5.0")
    server.stored[str(conflicting.uuid)] = "another payload's hash"
    for reading in (stored, rejected, conflicting):
        record_reading(store=store, reading=reading)

    report = make_engine(store, server, clock).run_once()

    assert (report.stored, report.rejected, report.conflict) == (1, 1, 1)
    states = _states(store)
    assert states[str(rejected.uuid)] is LocalState.REJECTED
    assert states[str(conflicting.uuid)] is LocalState.CONFLICT
    assert count_due_outbox(store=store, now=clock() + timedelta(days=365)) == 0
    assert len(list_readings(store=store)) == 3


def test_transport_error_keeps_outbox_with_backoff(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    reading = make_reading()
    record_reading(store=store, reading=reading)
    server.queue("POST /api/sync/push", httpx.Response(503))
    engine = make_engine(store, server, clock, backoff=Backoff(random=lambda: 0.5, cap_s=60.0))

    report = engine.run_once()

    assert isinstance(report.error, TransportError)
    assert report.next_delay_s == 1.0  # half of the 2 s ceiling after one failure
    assert server.count("GET /api/sync/pull") == 0
    assert pending_outbox(store=store, limit=10, now=clock()) == []
    [item] = pending_outbox(store=store, limit=10, now=clock() + timedelta(seconds=1))
    assert item.attempts == 1
    assert "503" in (item.last_error or "")
    assert _states(store)[str(reading.uuid)] is LocalState.SAVED


def test_retry_after_lost_response_is_acknowledged_as_duplicate(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    reading = make_reading()
    record_reading(store=store, reading=reading)

    def lose_first_response(request: httpx.Request) -> httpx.Response:
        response = server(request)
        if request.url.path == "/api/sync/push" and server.count("POST /api/sync/push") == 1:
            raise httpx.ReadTimeout("response lost after the server committed", request=request)
        return response

    engine = make_engine(store, server, clock, api=make_api(server, handler=lose_first_response))

    first = engine.run_once()
    clock.advance(minutes=10)
    second = engine.run_once()

    assert isinstance(first.error, TransportError)
    assert (second.error, second.duplicate) == (None, 1)
    assert _states(store)[str(reading.uuid)] is LocalState.UPLOADED
    assert len(server.stored) == 1


def test_whole_batch_422_keeps_readings_with_the_reason(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    readings = [make_reading() for _ in range(3)]
    for reading in readings:
        record_reading(store=store, reading=reading)
    refusal = problem(422, "request.invalid", "Unsupported protocol")
    server.queue("POST /api/sync/push", *[refusal] * 10)

    report = make_engine(store, server, clock).run_once()

    assert report.rejected == 3
    records = list_readings(store=store)
    assert [record.reading for record in reversed(records)] == readings
    assert {(r.state, r.server_code, r.server_message) for r in records} == {
        (LocalState.REJECTED, "request.invalid", "Unsupported protocol")
    }
    assert count_due_outbox(store=store, now=clock() + timedelta(days=365)) == 0


def test_whole_batch_422_is_split_so_only_the_bad_reading_is_refused(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    readings = [make_reading() for _ in range(6)]
    bad = readings[4]
    for reading in readings:
        record_reading(store=store, reading=reading)

    def refuse_batches_with_the_bad_reading(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/sync/push" and str(bad.uuid) in request.content.decode():
            return problem(422, "request.invalid", "readings.4.value: too long")
        return server(request)

    api = make_api(server, handler=refuse_batches_with_the_bad_reading)
    engine = make_engine(store, server, clock, api=api)

    report = engine.run_once()

    assert (report.stored, report.rejected, report.error) == (5, 1, None)
    states = _states(store)
    assert states.pop(str(bad.uuid)) is LocalState.REJECTED
    assert set(states.values()) == {LocalState.UPLOADED}


def test_forbidden_push_is_retried_later_not_blamed_on_the_readings(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    reading = make_reading()
    record_reading(store=store, reading=reading)
    server.queue("POST /api/sync/push", problem(403, "auth.forbidden"))

    report = make_engine(store, server, clock).run_once()

    assert isinstance(report.error, ApiError)
    assert report.error.code == "auth.forbidden"
    assert _states(store)[str(reading.uuid)] is LocalState.SAVED
    assert count_due_outbox(store=store, now=clock() + timedelta(minutes=5)) == 1


def test_missing_result_keeps_that_reading_for_retry(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    answered, unanswered = make_reading(), make_reading()
    record_reading(store=store, reading=answered)
    record_reading(store=store, reading=unanswered)
    partial = {
        "received_at": clock().isoformat(),
        "results": [{"uuid": str(answered.uuid), "outcome": "stored"}],
    }
    server.queue("POST /api/sync/push", httpx.Response(200, json=partial))

    report = make_engine(store, server, clock).run_once()

    assert isinstance(report.error, TransportError)
    states = _states(store)
    assert states[str(answered.uuid)] is LocalState.UPLOADED
    assert states[str(unanswered.uuid)] is LocalState.SAVED
    [item] = pending_outbox(store=store, limit=10, now=clock() + timedelta(minutes=5))
    assert item.reading == unanswered


def test_token_expiring_mid_sync_is_refreshed_and_the_push_retried(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    record_reading(store=store, reading=make_reading())
    engine = make_engine(store, server, clock)
    server.expire_access_tokens()

    report = engine.run_once()

    assert (report.error, report.stored) == (None, 1)
    assert server.count("POST /api/auth/refresh") == 1


def test_auth_expired_stops_the_pass_and_keeps_the_outbox(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    record_reading(store=store, reading=make_reading())
    engine = make_engine(store, server, clock, idle_delay_s=120.0)
    server.expire_access_tokens()
    server.refresh_tokens.clear()

    report = engine.run_once()

    assert isinstance(report.error, AuthExpired)
    assert report.needs_sign_in
    assert report.next_delay_s == 120.0
    [item] = pending_outbox(store=store, limit=10, now=clock())
    assert item.attempts == 0  # not the reading's fault: no attempt counted
