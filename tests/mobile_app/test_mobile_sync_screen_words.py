"""What the Sync screen says about a reading and about the last pass: plain words, never an exception's text."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from mobile_app.reading_states import HELD_BACK_REASON, RETRY_REASON, ReadingState, reading_reason, reading_state
from mobile_app.store import ReadingRecord, list_readings, record_reading
from mobile_app.sync import ApiClientError, ApiError, AuthExpired, TransportError
from mobile_app.ui.sync_screen import sync_problem
from tests.mobile_app.phone_factories import T0, Clock, FakeServer, make_api, make_engine, make_reading, make_store


def _saved(tmp_path: Path) -> ReadingRecord:
    store = make_store(tmp_path)
    record_reading(store=store, reading=make_reading())
    [record] = list_readings(store=store)
    return record


def test_a_parked_reading_is_on_hold_with_the_plain_reason(tmp_path: Path) -> None:
    record = replace(_saved(tmp_path), attempts=3, server_failures=3, parked_at=T0, last_error="server answered 500")

    assert reading_state(record) is ReadingState.ON_HOLD
    assert reading_reason(record) == HELD_BACK_REASON
    assert HELD_BACK_REASON == "The server could not process this reading; it will be retried later"


def test_a_reading_waiting_for_a_retry_shows_no_technical_detail(tmp_path: Path) -> None:
    record = replace(_saved(tmp_path), attempts=1, last_error="ConnectError: [Errno 111] Connection refused")

    assert (reading_state(record), reading_reason(record)) == (ReadingState.SAVED, RETRY_REASON)
    assert reading_reason(replace(record, attempts=0, last_error=None)) is None


def test_a_rejected_reading_keeps_the_servers_reason(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(not_assigned={9}), Clock()
    record_reading(store=store, reading=make_reading(meter_id=9))
    make_engine(store, server, clock).run_once()

    [record] = list_readings(store=store)

    assert (reading_state(record), reading_reason(record)) == (ReadingState.REJECTED, "no")


def test_a_reading_that_left_the_outbox_is_no_longer_on_hold(tmp_path: Path) -> None:
    record = replace(_saved(tmp_path), in_outbox=False, parked_at=T0 + timedelta(hours=1))

    assert reading_state(record) is not ReadingState.ON_HOLD


@pytest.mark.parametrize(
    "error",
    [
        TransportError("ConnectError: [Errno 111] Connection refused"),
        TransportError("server answered 500", status=500),
        TransportError("server answered 503", status=503, retry_after="120"),
        ApiError(403, "auth.forbidden", "Traceback (most recent call last): ..."),
        AuthExpired("refresh refused: auth.invalid_token"),
        ApiClientError("KeyError: 'results'"),
    ],
)
def test_the_last_pass_problem_is_told_in_plain_words(error: ApiClientError) -> None:
    words = sync_problem(error)

    assert words
    assert str(error) not in words
    assert not any(term in words for term in ("Error", "Errno", "Traceback", "answered"))


def test_a_real_failed_pass_is_described_without_its_exception(tmp_path: Path) -> None:
    store, server, clock = make_store(tmp_path), FakeServer(), Clock()
    record_reading(store=store, reading=make_reading())

    def offline_push(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/sync/push":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return server(request)

    report = make_engine(store, server, clock, api=make_api(server, handler=offline_push)).run_once()

    assert report.error is not None
    assert sync_problem(report.error) == "cannot reach the server; retrying automatically"
    [record] = list_readings(store=store)
    assert "Errno" in (record.last_error or "")  # kept for diagnostics...
    assert reading_reason(record) == RETRY_REASON  # ...never shown
