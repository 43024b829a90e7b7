"""FieldService for the engineer's day (issue 12): whose outbox it is, working on after the session ends, the status
strip's facts, the window and the estimate from the pull, and the route derived once per change.

The real server in-process on SQLite with the demo society (tests/mobile_app/test_mobile_field_service.py's
fixtures), the clock pinned to the server's.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from mobile_app.capture import meter_register, meter_usage
from mobile_app.route_model import Connection, MeterProgress, SyncStatus
from mobile_app.store import LocalState, get_tariffs
from mobile_app.sync import SyncReport
from shared_billing.plausibility import expected_window
from sync_server.demo import DEMO_PASSWORD
from tests.mobile_app.test_mobile_field_service import (
    NOW,
    Server,
    draft_for,
    offline_client,
    phone,
    record_of,
    server,
    signed_in_phone,
    walkthrough_meter,
)
from tests.sync_server.factories import auth

__all__ = ["server"]  # the fixture, used by name below


def test_each_engineers_readings_wait_for_them_and_upload_when_they_sign_in_again(
    tmp_path: Path, server: Server
) -> None:
    data_dir = tmp_path / "phone"
    first = signed_in_phone(data_dir, server)
    offline = phone(data_dir, server, http=offline_client())
    reading = offline.save(draft_for(offline, walkthrough_meter(offline)))
    assert offline.sync_once().error is not None  # out of reach: it waits
    assert record_of(first, reading).owner_user_id == server.user_id("engineer1")
    first.sign_out()

    # A second engineer signs in on the same phone: not refused, their own route, and not the first one's readings.
    first.sign_in("engineer2", DEMO_PASSWORD)
    report = first.sync_once()
    assert report.error is None, report.error
    assert report.pushed == 0
    assert server.readings(reading) == []
    assert [r.reading.uuid for r in first.readings()] == []
    assert first.status().waiting == 0
    assert reading.meter_id not in {m.meter_id for m in first.meters()}  # engineer2's route, not engineer1's

    # engineer1 again: the reading is still there and goes up under their account.
    first.sign_out()
    first.sign_in("engineer1", DEMO_PASSWORD)
    assert first.status().waiting == 1
    # The loop's first pass after a sign-in pushes whatever waits, retry times or not (FieldService.sync_now).
    assert first.sync_once(ignore_retry_times=True).error is None
    [stored] = server.readings(reading)
    assert stored.engineer_id == server.user_id("engineer1")
    assert record_of(first, reading).state is LocalState.UPLOADED


def test_an_ended_session_keeps_the_route_and_saving_and_says_sign_in(tmp_path: Path, server: Server) -> None:
    service = signed_in_phone(tmp_path / "phone", server)
    tokens = service.tokens.get()
    assert tokens is not None
    service.api.end_session(tokens)  # the server forgets this phone's session (expired, revoked)

    report = service.sync_once()

    assert report.needs_sign_in
    status = service.status()
    assert status.connection is Connection.ONLINE  # the server answered: it is the session, not the network
    assert status.problem == "sign in again to upload"
    assert service.profile() is not None  # still this engineer's phone
    assert len(service.route().rows) == 17
    reading = service.save(draft_for(service, walkthrough_meter(service)))
    assert service.status().waiting == 1
    assert service.route_row(reading.meter_id) is not None
    assert service.route_row(reading.meter_id).progress is MeterProgress.DONE  # type: ignore[union-attr]


def test_the_status_is_unknown_then_syncing_then_offline_in_plain_words(tmp_path: Path, server: Server) -> None:
    signed_in_phone(tmp_path / "phone", server)
    service = phone(tmp_path / "phone", server, http=offline_client())  # the app reopened out of reach
    assert service.status() == SyncStatus(Connection.UNKNOWN, None, 0, None)
    seen: list[Connection] = []
    real = service.engine.run_once

    def watched(*, ignore_retry_times: bool = False) -> SyncReport:
        seen.append(service.status().connection)
        return real(ignore_retry_times=ignore_retry_times)

    service.engine.run_once = watched  # type: ignore[method-assign]
    service.sync_once()

    assert seen == [Connection.SYNCING]
    status = service.status()
    assert status.connection is Connection.OFFLINE
    assert status.problem == "cannot reach the server; retrying automatically"  # never the exception's text
    assert status.last_sync_at is None


def test_a_pass_that_changes_nothing_leaves_the_route_as_derived(tmp_path: Path, server: Server) -> None:
    service = signed_in_phone(tmp_path / "phone", server)
    version = service.version
    rows = service.route().rows

    report = service.sync_once()

    assert report.error is None
    assert (report.pushed, report.pulled, report.decisions) == (0, 0, 0)
    assert service.version == version
    assert service.route().rows[0] is rows[0]  # the same derivation, not a new one
    assert service.status().last_sync_at == NOW


def test_a_pull_that_changes_the_route_refreshes_the_kept_one(tmp_path: Path, server: Server) -> None:
    service = signed_in_phone(tmp_path / "phone", server)
    before = [row.meter.meter_id for row in service.route().rows]
    assert len(before) > 2
    admin = auth(server.client, "admin")
    engineer_id = server.user_id("engineer1")
    # The admin walks the route backwards, and moves the last meter of it to engineer2.
    reordered = server.client.put(
        f"/api/routes/{engineer_id}", json={"meter_ids": before[::-1], "reason": "other stairwell first"}, headers=admin
    )
    assert reordered.status_code == 204, reordered.text
    moved = server.client.post(
        "/api/routes/move",
        json={
            "from_engineer_id": engineer_id,
            "to_engineer_id": server.user_id("engineer2"),
            "meter_ids": [before[0]],
            "reason": "engineer2 covers block A",
        },
        headers=admin,
    )
    assert moved.status_code == 200, moved.text
    assert [row.meter.meter_id for row in service.route().rows] == before  # not pulled yet: the kept route

    report = service.sync_once()

    assert report.error is None, report.error
    assert [row.meter.meter_id for row in service.route().rows] == before[:0:-1]
    assert service.route_row(before[0]) is None


def test_the_window_and_the_estimate_come_from_the_pull(tmp_path: Path, server: Server) -> None:
    service = signed_in_phone(tmp_path / "phone", server)
    # A flat the demo read and approved twice: the pull gives it a usage window and a tariff.
    meter = next(m for m in service.meters() if m.usage is not None and m.tariff_code is not None)
    assert meter.previous is not None
    usage = meter_usage(meter)
    assert usage is not None
    window = service.window(meter)
    assert window == expected_window(usage, NOW, register=meter_register(meter))
    assert service.window(meter.model_copy(update={"usage": None})) is None  # no history, no window

    assert meter.tariff_code in get_tariffs(store=service.store)
    previous = Decimal(meter.previous.value)
    estimate = service.estimate(meter, previous + 77)
    assert estimate is not None
    assert estimate.units == meter_register(meter).units(Decimal(77))
    assert estimate.energy > 0
    assert estimate.total >= estimate.energy + estimate.fixed - Decimal("1.00")  # levies add, rounding aside
    assert estimate.usual_total is not None  # the usage is known: the usual month compares
    assert service.estimate(meter, previous - 1) is None  # below previous: triage, not a bill
    assert service.estimate(meter.model_copy(update={"tariff_code": None}), previous + 77) is None
    assert service.estimate(meter.model_copy(update={"previous": None}), previous + 77) is None
