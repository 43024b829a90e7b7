"""The phone's FieldService against the real server, in-process on SQLite: sign-in, save, sync, offline, the loop."""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, select

from mobile_app.capture import CaptureDraft, Fix
from mobile_app.field_service import FieldService, Profile, SignInError
from mobile_app.store import LocalState, ReadingRecord
from shared_billing.protocol import MeterAssignment, ReadingV1, Role
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.demo import DEMO_PASSWORD, WALKTHROUGH_UNIT, seed_demo
from sync_server.main import create_app
from sync_server.models import Photo, Reading, User
from tests.sync_server.factories import NOW

ENGINEER1_METERS = 17  # the demo society: 16 units and the shared motor meter
LOOP_DEADLINE_S = 10.0


@dataclass
class Server:
    app: FastAPI
    client: TestClient
    clock: FixedClock

    def readings(self, reading: ReadingV1) -> list[Reading]:
        with Session(self.app.state.context.engine) as session:
            return list(session.exec(select(Reading).where(Reading.uuid == reading.uuid)).all())

    def photos(self, sha256: str) -> list[Photo]:
        with Session(self.app.state.context.engine) as session:
            return list(session.exec(select(Photo).where(Photo.sha256 == sha256)).all())

    def photo_bytes(self, sha256: str) -> bytes:
        data: bytes = self.app.state.context.photos.blobs.read(sha256)
        return data

    def user_id(self, username: str) -> int:
        with Session(self.app.state.context.engine) as session:
            user = session.exec(select(User).where(User.username == username)).one()
            assert user.id is not None
            return user.id


@pytest.fixture
def server(tmp_path: Path, sqlite_template: Path) -> Iterator[Server]:
    data_dir = tmp_path / "server"
    data_dir.mkdir()
    database = data_dir / "fieldmeter.db"
    shutil.copyfile(sqlite_template, database)  # already migrated: the plugin's session template
    settings = Settings(
        data_dir=data_dir, database_url=f"sqlite:///{database}", secret_key="x" * 40, mount_web_app=False
    )
    clock = FixedClock(NOW)
    app = create_app(settings, clock=clock, run_migrations=False)
    assert seed_demo(app.state.context.engine, now=clock(), tz=settings.tz)
    with TestClient(app) as client:
        yield Server(app=app, client=client, clock=clock)
    app.state.context.engine.dispose()


def phone(data_dir: Path, server: Server, http: httpx.Client | None = None) -> FieldService:
    """A FieldService on ``data_dir`` talking to ``server`` (or through ``http``), on the server's clock."""
    return FieldService(data_dir=data_dir, server_url="", http=http or server.client, clock=server.clock)


def offline_client() -> httpx.Client:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("network is unreachable", request=request)

    return httpx.Client(transport=httpx.MockTransport(unreachable), base_url="http://fieldmeter.test")


def jpeg(width: int = 320, height: int = 240) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def signed_in_phone(data_dir: Path, server: Server) -> FieldService:
    service = phone(data_dir, server)
    service.sign_in("engineer1", DEMO_PASSWORD)
    report = service.sync_once()
    assert report.error is None, report.error
    return service


def walkthrough_meter(service: FieldService) -> MeterAssignment:
    [meter] = [m for m in service.meters() if m.unit_code == WALKTHROUGH_UNIT]
    assert meter.previous is not None
    return meter


def draft_for(service: FieldService, meter: MeterAssignment) -> CaptureDraft:
    """A complete actual reading of ``meter``: previous + 77, at the meter, with a photo kept on the phone."""
    assert meter.previous is not None
    assert meter.lat is not None
    assert meter.lon is not None
    sha256, path = service.attach_photo(jpeg())
    return CaptureDraft(
        meter=meter,
        value_text=str(Decimal(meter.previous.value) + 77),
        fix=Fix(meter.lat, meter.lon, 6.0),
        photo_sha256=sha256,
        photo_path=path,
    )


def record_of(service: FieldService, reading: ReadingV1) -> ReadingRecord:
    [record] = [r for r in service.readings() if r.reading.uuid == reading.uuid]
    return record


# --- sign-in ----------------------------------------------------------------------------------------------------


def test_wrong_password_is_refused_in_plain_words(tmp_path: Path, server: Server) -> None:
    service = phone(tmp_path / "phone", server)

    with pytest.raises(SignInError) as caught:
        service.sign_in("engineer1", "not-the-password")

    assert caught.value.message == "Wrong username or password"
    assert service.profile() is None
    assert service.tokens.get() is None


def test_unknown_user_gets_the_same_answer(tmp_path: Path, server: Server) -> None:
    with pytest.raises(SignInError, match=r"^Wrong username or password$"):
        phone(tmp_path / "phone", server).sign_in("nobody", DEMO_PASSWORD)


@pytest.mark.parametrize(
    ("status", "message", "shown"),
    [
        (401, "Bad credentials", "Wrong username or password"),  # whatever the server says, in the phone's words
        (403, "This account is disabled", "This account is disabled"),  # other refusals: the server's message
    ],
)
def test_sign_in_refusals_are_shown_in_plain_words(tmp_path: Path, status: int, message: str, shown: str) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"code": "auth.refused", "message": message, "details": {}})

    http = httpx.Client(transport=httpx.MockTransport(refuse), base_url="http://fieldmeter.test")
    service = FieldService(data_dir=tmp_path / "phone", server_url="", http=http, clock=FixedClock(NOW))

    with pytest.raises(SignInError) as caught:
        service.sign_in("engineer1", DEMO_PASSWORD)

    assert caught.value.message == shown
    assert service.profile() is None


@pytest.mark.parametrize("username", ["supervisor", "admin"])
def test_supervisors_and_admins_are_sent_to_the_console(tmp_path: Path, server: Server, username: str) -> None:
    service = phone(tmp_path / "phone", server)

    with pytest.raises(SignInError) as caught:
        service.sign_in(username, DEMO_PASSWORD)

    assert caught.value.message == ("This app is for field engineers; supervisors and admins use the browser console.")
    assert service.profile() is None
    assert service.tokens.get() is None  # their tokens are not kept on the phone


def test_sign_in_needs_the_server_once(tmp_path: Path, server: Server) -> None:
    service = phone(tmp_path / "phone", server, http=offline_client())

    with pytest.raises(SignInError, match="Cannot reach the server"):
        service.sign_in("engineer1", DEMO_PASSWORD)
    assert service.profile() is None


def test_engineer_profile_is_kept_and_the_app_reopens_signed_in_offline(tmp_path: Path, server: Server) -> None:
    data_dir = tmp_path / "phone"

    profile = phone(data_dir, server).sign_in("  engineer1 ", DEMO_PASSWORD)

    expected = Profile(username="engineer1", role=Role.ENGINEER, user_id=server.user_id("engineer1"))
    assert profile == expected
    reopened = phone(data_dir, server, http=offline_client())  # a restart, with no network
    kept = reopened.profile()
    assert kept == expected
    assert kept.role is Role.ENGINEER  # read back as the enum, not the stored text
    tokens = reopened.tokens.get()
    assert tokens is not None
    assert (tokens.role, tokens.user_id) == ("engineer", expected.user_id)
    assert reopened.device_id == phone(data_dir, server).device_id  # the same device after a restart


def test_sign_out_clears_the_profile_and_tokens_but_keeps_readings(tmp_path: Path, server: Server) -> None:
    data_dir = tmp_path / "phone"
    service = signed_in_phone(data_dir, server)
    reading = phone(data_dir, server, http=offline_client()).save(draft_for(service, walkthrough_meter(service)))

    service.sign_out()

    assert service.profile() is None
    assert service.tokens.get() is None
    reopened = phone(data_dir, server)
    assert reopened.profile() is None
    assert reopened.tokens.get() is None
    assert record_of(reopened, reading).in_outbox  # never lost: it goes up after the next sign-in
    assert reopened.sync_once().needs_sign_in
    assert server.readings(reading) == []


def test_sign_out_ends_the_session_on_the_server_too(tmp_path: Path, server: Server) -> None:
    service = signed_in_phone(tmp_path / "phone", server)
    tokens = service.tokens.get()
    assert tokens is not None
    me = {"Authorization": f"Bearer {tokens.access_token}"}
    assert server.client.get("/api/me", headers=me).status_code == 200

    service.sign_out()

    assert server.client.get("/api/me", headers=me).status_code == 401
    refreshed = server.client.post(
        "/api/auth/refresh", json={"refresh_token": tokens.refresh_token, "device_id": service.device_id}
    )
    assert refreshed.status_code == 401


# --- sync ---------------------------------------------------------------------------------------------------------


def test_sync_once_pulls_the_engineers_meters(tmp_path: Path, server: Server) -> None:
    service = phone(tmp_path / "phone", server)
    service.sign_in("engineer1", DEMO_PASSWORD)
    version = service.version

    report = service.sync_once()

    assert report.error is None, report.error
    assert report.pulled == ENGINEER1_METERS
    meters = service.meters()
    assert len(meters) == ENGINEER1_METERS
    assert len({m.meter_id for m in meters}) == ENGINEER1_METERS
    assert all(m.previous is not None for m in meters)
    assert service.meter(meters[0].meter_id) == meters[0]
    assert service.last_sync_at == NOW
    assert service.last_report is report
    assert service.version > version


def test_save_keeps_the_reading_in_the_outbox_and_sync_uploads_it_with_its_photo(
    tmp_path: Path, server: Server
) -> None:
    service = signed_in_phone(tmp_path / "phone", server)
    capture = draft_for(service, walkthrough_meter(service))
    assert capture.photo_path is not None
    assert capture.photo_path.is_file()

    reading = service.save(capture)

    saved = record_of(service, reading)
    assert saved.state is LocalState.SAVED
    assert saved.in_outbox
    assert saved.photo_pending
    assert saved.reading == reading
    assert saved.photo_path == str(capture.photo_path)
    assert reading.captured_at == NOW
    assert server.readings(reading) == []

    report = service.sync_once()

    assert report.error is None, report.error
    assert (report.pushed, report.stored, report.photos) == (1, 1, 1)
    uploaded = record_of(service, reading)
    assert uploaded.state is LocalState.UPLOADED
    assert not uploaded.in_outbox
    assert not uploaded.photo_pending
    [row] = server.readings(reading)
    assert row.value_text == reading.value
    assert row.photo_sha256 == capture.photo_sha256
    assert row.engineer_id == server.user_id("engineer1")
    assert capture.photo_sha256 is not None
    assert len(server.photos(capture.photo_sha256)) == 1
    assert server.photo_bytes(capture.photo_sha256) == capture.photo_path.read_bytes()

    again = service.sync_once()  # nothing left to send: no second row, no second photo

    assert (again.error, again.pushed, again.photos) == (None, 0, 0)
    assert len(server.readings(reading)) == 1
    assert len(server.photos(capture.photo_sha256)) == 1


def test_offline_save_is_never_lost_and_goes_up_after_a_restart_online(tmp_path: Path, server: Server) -> None:
    data_dir = tmp_path / "phone"
    online = signed_in_phone(data_dir, server)
    meter = walkthrough_meter(online)
    offline = phone(data_dir, server, http=offline_client())  # the app reopened with no network

    reading = offline.save(draft_for(offline, meter))
    report = offline.sync_once()

    assert report.error is not None
    assert "ConnectError" in str(report.error)
    assert report.stored == 0
    assert offline.last_sync_at is None
    waiting = record_of(offline, reading)
    assert waiting.state is LocalState.SAVED
    assert waiting.in_outbox
    assert waiting.attempts == 1
    assert waiting.last_error is not None
    assert "ConnectError" in waiting.last_error
    assert server.readings(reading) == []

    # The phone restarts later with the network back. The failed attempt set a retry time (backoff, kept in the
    # store): the clock is pinned, so move it there, as real time would.
    assert waiting.next_attempt_at is not None
    server.clock.now = max(NOW, waiting.next_attempt_at)
    back_online = phone(data_dir, server)
    report = back_online.sync_once()

    assert report.error is None, report.error
    assert (report.stored, report.photos) == (1, 1)
    uploaded = record_of(back_online, reading)
    assert uploaded.state is LocalState.UPLOADED
    assert not uploaded.in_outbox
    assert not uploaded.photo_pending
    assert len(server.readings(reading)) == 1
    assert reading.photo_sha256 is not None
    assert len(server.photos(reading.photo_sha256)) == 1


def test_the_background_loop_uploads_a_saved_reading_and_stops(tmp_path: Path, server: Server) -> None:
    service = signed_in_phone(tmp_path / "phone", server)
    capture = draft_for(service, walkthrough_meter(service))
    service.start()
    try:
        # Let the loop's first pass finish, so it is idle (60 s) when the reading is saved: save() must wake it.
        deadline = time.monotonic() + LOOP_DEADLINE_S
        while service.last_report is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert service.last_report is not None
        reading = service.save(capture)
        deadline = time.monotonic() + LOOP_DEADLINE_S
        record = record_of(service, reading)
        while (record.state is not LocalState.UPLOADED or record.photo_pending) and time.monotonic() < deadline:
            time.sleep(0.05)
            record = record_of(service, reading)
    finally:
        thread = service._thread  # the only handle on the loop's thread
        started = time.monotonic()
        service.stop()
        stopping_s = time.monotonic() - started

    assert record.state is LocalState.UPLOADED, record
    assert not record.photo_pending, record
    assert len(server.readings(reading)) == 1
    assert thread is not None
    assert not thread.is_alive()
    assert service._thread is None  # and start() could run it again
    assert stopping_s < 5.0  # stop() wakes the loop instead of waiting out its idle delay


# --- regressions of bugs found and fixed -------------------------------------------------------------------------


def test_a_second_engineer_on_the_same_phone_gets_their_own_meters(tmp_path: Path, server: Server) -> None:
    own = phone(tmp_path / "fresh", server)
    own.sign_in("engineer2", DEMO_PASSWORD)
    assert own.sync_once().error is None
    expected = {m.meter_id for m in own.meters()}
    shared = signed_in_phone(tmp_path / "shared", server)  # engineer1's phone, meters pulled
    shared.sign_out()

    shared.sign_in("engineer2", DEMO_PASSWORD)
    report = shared.sync_once()

    assert report.error is None, report.error
    assert {m.meter_id for m in shared.meters()} == expected


def test_a_refused_supervisor_sign_in_leaves_the_engineer_signed_in(tmp_path: Path, server: Server) -> None:
    service = signed_in_phone(tmp_path / "phone", server)

    with pytest.raises(SignInError):
        service.sign_in("supervisor", DEMO_PASSWORD)

    assert service.profile() is not None
    assert service.sync_once().error is None
