"""The phone's process-wide service: local store, sign-in, saving readings, and the background sync loop.

Flet-free (the views hold one and call it), so it runs in plain tests. One per process, shared by every UI
session: in web mode (tests, demos) several browser tabs are the same phone. The sync loop runs in its own thread
whenever someone is signed in, wakes early on "sync now" or a new reading, and otherwise waits what the engine
asks (backoff with jitter after errors, capped by ``backoff_cap_s``).
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx

from mobile_app.capture import CaptureDraft, CaptureError, CaptureProblem, build_reading
from mobile_app.photos import prepare_photo, save_photo
from mobile_app.route_model import RouteFilter, RouteRow, RouteSnapshot, SyncStatus
from mobile_app.store import (
    ReadingRecord,
    Store,
    count_due_outbox,
    delete_state,
    get_meters,
    get_or_create_device_id,
    get_state,
    list_readings,
    open_store,
    record_reading,
    set_state,
)
from mobile_app.store.sync_state import PULL_CURSOR_KEY, get_check_limits
from mobile_app.sync import ApiError, Backoff, StoreTokenStore, SyncApi, SyncEngine, SyncReport, TransportError
from shared_billing.charge_estimate import ChargeEstimate
from shared_billing.checks import CheckLimits
from shared_billing.plausibility import ExpectedWindow
from shared_billing.protocol import MeterAssignment, ReadingV1, ReadingV2, Replacement, Role

__all__ = ["FieldService", "Profile", "SignInError"]

log = logging.getLogger(__name__)
PROFILE_KEY = "field.profile"
LAST_USER_KEY = "field.last_user_id"


class SignInError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Profile:
    username: str
    role: Role
    user_id: int


class FieldService:
    def __init__(
        self,
        *,
        data_dir: Path,
        server_url: str,
        http: httpx.Client | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        backoff_cap_s: float = 300.0,
    ) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.server_url = server_url.rstrip("/")
        self.photo_dir = data_dir / "photos"
        self.store: Store = open_store(path=data_dir / "phone.db")
        self.device_id = get_or_create_device_id(store=self.store)
        self.clock = clock
        self.http = http or httpx.Client(base_url=self.server_url, timeout=httpx.Timeout(15.0, connect=3.0))
        self.tokens = StoreTokenStore(self.store)
        self.api = SyncApi(http=self.http, tokens=self.tokens, device_id=self.device_id)
        self.engine = SyncEngine(
            store=self.store,
            api=self.api,
            device_id=self.device_id,
            clock=clock,
            backoff=Backoff(random=random.random, cap_s=backoff_cap_s),
            idle_delay_s=min(60.0, backoff_cap_s),
        )
        self.last_report: SyncReport | None = None
        self.last_sync_at: datetime | None = None
        self.version = 0  # bumped on every local change and sync pass; views poll it to refresh
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._force = True  # the first pass after start pushes everything: the outage may be over

    # --- who is signed in (kept on the device: the app reopens offline) ----------------------------------------
    def profile(self) -> Profile | None:
        raw = get_state(store=self.store, key=PROFILE_KEY)
        if not raw:
            return None
        saved = json.loads(raw)
        return Profile(username=saved["username"], role=Role(saved["role"]), user_id=int(saved["user_id"]))

    def sign_in(self, username: str, password: str) -> Profile:
        previous_tokens = self.tokens.get()
        try:
            tokens = self.api.login(username=username.strip(), password=password, device_id=self.device_id)
        except TransportError as error:
            raise SignInError("Cannot reach the server. Sign in once while online.") from error
        except ApiError as error:
            raise SignInError(error.message if error.status != 401 else "Wrong username or password") from error
        if tokens.role is not Role.ENGINEER:
            self.tokens.set(previous_tokens)  # whoever was signed in stays signed in
            raise SignInError("This app is for field engineers; supervisors and admins use the browser console.")
        last_user = get_state(store=self.store, key=LAST_USER_KEY)
        if last_user is not None and int(last_user) != tokens.user_id:
            if count_due_outbox(store=self.store, now=datetime.max.replace(tzinfo=UTC)):
                self.tokens.set(previous_tokens)
                raise SignInError("Readings of the previous engineer are still waiting to upload: sync them first.")
            # Another engineer's phone now: their route comes with a full pull, not a delta of someone else's.
            set_state(store=self.store, key=PULL_CURSOR_KEY, value="0")
        profile = Profile(username=username.strip(), role=tokens.role, user_id=tokens.user_id)
        set_state(store=self.store, key=PROFILE_KEY, value=json.dumps(profile.__dict__))
        set_state(store=self.store, key=LAST_USER_KEY, value=str(tokens.user_id))
        self.last_report = None  # an "expired" report from before belongs to the old tokens
        self._changed()
        self.sync_now()
        return profile

    def needs_sign_in(self) -> bool:
        """The server no longer accepts this phone's tokens (expired or revoked): the engineer must sign in."""
        return self.last_report is not None and self.last_report.needs_sign_in

    def sign_out(self) -> None:
        tokens = self.tokens.get()
        delete_state(store=self.store, key=PROFILE_KEY)
        self.tokens.set(None)
        self._changed()
        if tokens is not None:
            # The server ends the session too (a lost phone's tokens stop working); offline it is a short, bounded
            # attempt that never undoes the local sign-out above.
            self.api.end_session(tokens)

    # --- data for the views --------------------------------------------------------------------------------------
    def meters(self, search: str | None = None) -> list[MeterAssignment]:
        return get_meters(store=self.store, search=search or None)

    def meter(self, meter_id: int) -> MeterAssignment | None:
        return next((m for m in self.meters() if m.meter_id == meter_id), None)

    # --- the route and the capture screen's checks (issue 12; SCAFFOLD: being written) --------------------------
    def route(self, route_filter: RouteFilter = RouteFilter.ALL, search: str | None = None) -> RouteSnapshot:
        """The route in walk order with each meter's progress this period (server and phone together)."""
        raise NotImplementedError

    def route_row(self, meter_id: int) -> RouteRow | None:
        raise NotImplementedError

    def status(self) -> SyncStatus:
        """Online / offline / syncing, the last successful sync and the signed-in engineer's readings waiting."""
        raise NotImplementedError

    def window(self, meter: MeterAssignment, at: datetime | None = None) -> ExpectedWindow | None:
        """The values a read of ``meter`` at ``at`` (default now) may plausibly show; None without history."""
        raise NotImplementedError

    def estimate(self, meter: MeterAssignment, value: Decimal) -> ChargeEstimate | None:
        """The unit's own charges if ``value`` is read now; None without a previous read or a tariff."""
        raise NotImplementedError

    def readings(self) -> list[ReadingRecord]:
        return list_readings(store=self.store)

    def check_limits(self) -> CheckLimits:
        """The GPS limits the server judges a fix by (from the last pull; the defaults before the first)."""
        return get_check_limits(store=self.store)

    def attach_photo(self, data: bytes) -> tuple[str, Path]:
        """Compress, hash and keep a photo on the device; returns its SHA-256 and path."""
        prepared = prepare_photo(data)
        return prepared.sha256, save_photo(prepared, self.photo_dir)

    def save(self, draft: CaptureDraft) -> ReadingV2:
        """Save at once: the reading and its outbox row in one local transaction; then nudge the sync loop."""
        return self._record(build_reading(draft, captured_at=self.clock()), draft.photo_path)

    def save_replacement(self, draft: CaptureDraft, replacement: Replacement) -> ReadingV2:
        """Save a reading that reports a meter replacement, like ``save`` (docs/domain.md "Meter replacement").

        ``draft.meter`` is the replaced (old) meter on the route and ``draft.value_text`` the NEW meter's register
        now (its initial value if it was just installed). The old meter's previous reading says nothing about that
        value, so it is not compared with it here; the server judges the replacement's values when it arrives.
        """
        if draft.skip_reason is not None:
            raise CaptureError(CaptureProblem.VALUE_MISSING, "A replaced meter is reported with the new meter's value")
        old_meter = draft.meter.model_copy(update={"previous": None})
        reading = build_reading(replace(draft, meter=old_meter), captured_at=self.clock())
        return self._record(ReadingV2(**dict(reading), replacement=replacement), draft.photo_path)

    def _record(self, reading: ReadingV1, photo_path: Path | None) -> ReadingV2:
        # The reading as saved (only finite GPS numbers): the same bytes are pushed, so its hash never changes.
        saved = record_reading(store=self.store, reading=reading, photo_path=photo_path)
        self._changed()
        self._wake.set()
        return saved

    # --- background sync -------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._force = True
            self._thread = threading.Thread(target=self._loop, name="fieldmeter-sync", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=20)
        self._thread = None
        self._stop.clear()

    def sync_now(self) -> None:
        """Sync as soon as possible, including readings still waiting out their retry time."""
        self._force = True
        self._wake.set()

    def sync_once(self, *, ignore_retry_times: bool = False) -> SyncReport:
        report = self.engine.run_once(ignore_retry_times=ignore_retry_times)
        self.last_report = report
        if report.error is None:
            self.last_sync_at = self.clock()
        self._changed()
        return report

    def _loop(self) -> None:
        while not self._stop.is_set():
            delay = 5.0
            if self.profile() is not None:
                force, self._force = self._force, False
                try:
                    delay = self.sync_once(ignore_retry_times=force).next_delay_s
                except Exception:  # the loop must outlive any one pass; the outbox keeps the work
                    log.exception("sync pass failed")
                    delay = 30.0
            self._wake.wait(timeout=max(0.5, delay))
            self._wake.clear()

    def _changed(self) -> None:
        self.version += 1
