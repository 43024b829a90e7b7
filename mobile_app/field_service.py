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
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from pathlib import Path

import httpx

from mobile_app.capture import CaptureDraft, CaptureError, CaptureProblem, build_reading, meter_register, meter_usage
from mobile_app.i18n import _
from mobile_app.label_scan import scan_label
from mobile_app.photo_checks import DHash, PhotoChecks
from mobile_app.photos import prepare_and_check, prepare_photo, save_photo
from mobile_app.route_model import (
    Connection,
    RouteBase,
    RouteFilter,
    RouteRow,
    RouteSnapshot,
    SyncStatus,
    in_period,
    route_base,
    route_rows,
    snapshot,
    society_zone,
)
from mobile_app.store import (
    ReadingRecord,
    Store,
    delete_state,
    get_meters,
    get_or_create_device_id,
    get_state,
    get_tariffs,
    get_zone,
    list_readings,
    open_store,
    recent_photo_hashes,
    record_reading,
    set_state,
)
from mobile_app.store.sync_state import PULL_CURSOR_KEY, get_check_limits
from mobile_app.sync import (
    ApiError,
    Backoff,
    StoreTokenStore,
    SyncApi,
    SyncEngine,
    SyncReport,
    TokenStore,
    TransportError,
)
from mobile_app.sync.problems import sync_problem
from shared_billing.charge_estimate import ChargeEstimate, estimate_own_charges, usual_month_units
from shared_billing.checks import CheckLimits
from shared_billing.errors import BillingError
from shared_billing.plausibility import ExpectedWindow, expected_window
from shared_billing.protocol import MeterAssignment, ReadingV1, ReadingV3, Replacement, Role
from shared_billing.tariffs import Tariff

__all__ = ["CheckedAttachment", "FieldService", "Profile", "SignInError"]

log = logging.getLogger(__name__)
PROFILE_KEY = "field.profile"
LAST_USER_KEY = "field.last_user_id"


@dataclass(frozen=True)
class CheckedAttachment:
    """A photo kept on the phone and its checks (blur, reuse) to show before the engineer leaves the meter."""

    sha256: str
    path: Path
    checks: PhotoChecks


class SignInError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Profile:
    username: str
    role: Role
    user_id: int


@dataclass(frozen=True)
class _Derived:
    """What the views read, derived once per ``FieldService.version``: an idle redraw costs nothing."""

    version: int
    zone: tzinfo
    at: datetime  # the clock when derived: a new billing period (midnight on the 1st, society's zone) derives again
    rows: list[RouteRow]
    by_meter: dict[int, RouteRow]
    readings: list[ReadingRecord]
    waiting: int


class FieldService:
    def __init__(
        self,
        *,
        data_dir: Path,
        server_url: str,
        http: httpx.Client | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        backoff_cap_s: float = 300.0,
        tokens: Callable[[Store], TokenStore] = StoreTokenStore,
    ) -> None:
        """``tokens`` makes the token store for this phone's store: the app passes the platform's secure storage
        on a phone (mobile_app/ui/token_storage.py); the default keeps them in the store (tests, browser mode)."""
        data_dir.mkdir(parents=True, exist_ok=True)
        self.server_url = server_url.rstrip("/")
        self.photo_dir = data_dir / "photos"
        self.store: Store = open_store(path=data_dir / "phone.db")
        self.device_id = get_or_create_device_id(store=self.store)
        self.clock = clock
        self.http = http or httpx.Client(base_url=self.server_url, timeout=httpx.Timeout(15.0, connect=3.0))
        self.tokens = tokens(self.store)
        self.api = SyncApi(http=self.http, tokens=self.tokens, device_id=self.device_id)
        self.engine = SyncEngine(
            store=self.store,
            api=self.api,
            device_id=self.device_id,
            clock=clock,
            backoff=Backoff(random=random.random, cap_s=backoff_cap_s),
            idle_delay_s=min(60.0, backoff_cap_s),
            owner=self._owner,  # the signed-in engineer's readings only: the outbox belongs to whoever saved it
        )
        self.last_report: SyncReport | None = None
        self.last_sync_at: datetime | None = None
        self.version = 0  # bumped on every local change and sync pass that changed something; views poll it
        self._derived: _Derived | None = None
        self._meters: list[MeterAssignment] | None = None
        self._base: RouteBase | None = None  # the route's rows from the pull alone, this period (route_model)
        self._meters_lock = threading.Lock()
        self._syncing = False
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
            raise SignInError(_("Cannot reach the server. Sign in once while online.")) from error
        except ApiError as error:
            raise SignInError(error.message if error.status != 401 else _("Wrong username or password")) from error
        if tokens.role is not Role.ENGINEER:
            self.tokens.set(previous_tokens)  # whoever was signed in stays signed in
            raise SignInError(_("This app is for field engineers; supervisors and admins use the browser console."))
        last_user = get_state(store=self.store, key=LAST_USER_KEY)
        if last_user is not None and int(last_user) != tokens.user_id:
            # Another engineer's phone now: their route comes with a full pull, not a delta of someone else's. The
            # previous engineer's unsynced readings stay (never deleted) and upload when they sign in again.
            set_state(store=self.store, key=PULL_CURSOR_KEY, value="0")
        profile = Profile(username=username.strip(), role=tokens.role, user_id=tokens.user_id)
        set_state(store=self.store, key=PROFILE_KEY, value=json.dumps(profile.__dict__))
        set_state(store=self.store, key=LAST_USER_KEY, value=str(tokens.user_id))
        self.last_report = None  # an "expired" report from before belongs to the old tokens
        self._meters_changed()
        self._changed()
        self.sync_now()
        return profile

    def use_tokens(self, tokens: TokenStore) -> None:
        """Keep the tokens in ``tokens`` from now on (the device keystore, once the phone's page has loaded it).

        A pass that ran before it had no tokens to use: its "sign in" is forgotten and a pass runs again now."""
        self.tokens = tokens
        self.api.use_tokens(tokens)
        if self.needs_sign_in() and tokens.get() is not None:
            self.last_report = None
        self._changed()
        self.sync_now()

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
        if search:
            return get_meters(store=self.store, search=search)
        # The cached route changes only with a pull: read once per pull, not per save (2,000 meters take ~0.2 s).
        with self._meters_lock:
            return list(self._cached_meters())

    def _cached_meters(self) -> list[MeterAssignment]:
        """The route's meters as of the last pull; the caller holds ``_meters_lock``."""
        if self._meters is None:
            self._meters = get_meters(store=self.store)
        return self._meters

    def _meters_changed(self) -> None:
        with self._meters_lock:
            self._meters = None
            self._base = None

    def meter(self, meter_id: int) -> MeterAssignment | None:
        return next((m for m in self.meters() if m.meter_id == meter_id), None)

    # --- the route and the capture screen's checks (issue 12) -----------------------------------------------------
    def _derive(self) -> _Derived:
        """The route and the engineer's readings at the current version; built again only after a change."""
        derived = self._derived
        version, now = self.version, self.clock()
        if derived is not None and derived.version == version and in_period(derived.at, now, derived.zone):
            return derived
        readings = list_readings(store=self.store, owner=self._owner())
        zone = society_zone(get_zone(store=self.store))
        with self._meters_lock:  # the meters and the base from one pull, never a pull's meters and another's base
            meters = self._cached_meters()
            base = self._base
            if base is None or not base.holds(now, zone):
                base = self._base = route_base(meters, zone=zone, now=now)
        rows = route_rows(meters, readings, zone=zone, now=now, base=base)
        derived = _Derived(
            version=version,
            zone=zone,
            at=now,
            rows=rows,
            by_meter={row.meter.meter_id: row for row in rows},
            readings=readings,
            waiting=sum(record.in_outbox for record in readings),
        )
        self._derived = derived
        return derived

    def route(self, route_filter: RouteFilter = RouteFilter.ALL, search: str | None = None) -> RouteSnapshot:
        """The route in walk order with each meter's progress this period (server and phone together)."""
        derived = self._derive()
        return snapshot(derived.rows, route_filter, search, derived.version)

    def route_row(self, meter_id: int) -> RouteRow | None:
        return self._derive().by_meter.get(meter_id)

    def status(self) -> SyncStatus:
        """Online / offline / syncing, the last successful sync and the signed-in engineer's readings waiting."""
        waiting = self._derive().waiting
        report = self.last_report
        if self._syncing:
            connection = Connection.SYNCING
        elif report is None:
            connection = Connection.UNKNOWN
        elif isinstance(report.error, TransportError) and (report.error.status is None or report.error.status < 500):
            connection = Connection.OFFLINE  # no answer at all (a 5xx is the server answering, unwell)
        else:
            connection = Connection.ONLINE
        problem = sync_problem(report.error) if report is not None and report.error is not None else None
        return SyncStatus(connection, self.last_sync_at, waiting, problem)

    def window(self, meter: MeterAssignment, at: datetime | None = None) -> ExpectedWindow | None:
        """The values a read of ``meter`` at ``at`` (default now) may plausibly show; None without history.

        The server judges the pushed reading with the same function over the same usage (docs/domain.md
        "Expected window and estimate"), so the warning here and the flag there agree."""
        usage = meter_usage(meter)
        if usage is None:
            return None
        return expected_window(usage, at or self.clock(), register=meter_register(meter))

    def estimate(self, meter: MeterAssignment, value: Decimal) -> ChargeEstimate | None:
        """The unit's own charges if ``value`` is read now; None without a previous read, a tariff or a unit type
        (a shared meter), or when ``value`` is below the previous read (a question for triage, not a bill)."""
        if meter.previous is None or meter.tariff_code is None or meter.unit_type is None:
            return None
        pulled = get_tariffs(store=self.store).get(meter.tariff_code)
        previous = Decimal(meter.previous.value)
        if pulled is None or value < previous:
            return None
        register = meter_register(meter)
        usage = meter_usage(meter)
        try:
            return estimate_own_charges(
                Tariff.from_dict(pulled.config),
                unit_type=meter.unit_type,
                units=register.units(value - previous),
                sanctioned_load_kw=Decimal(meter.sanctioned_load_kw) if meter.sanctioned_load_kw else None,
                usual_units=usual_month_units(usage, register) if usage is not None else None,
            )
        except (BillingError, ValueError, KeyError, TypeError):
            # A tariff this app version cannot price (a newer server's shape): no estimate beats a wrong one.
            log.warning("no estimate for meter %s at tariff %s", meter.meter_id, meter.tariff_code, exc_info=True)
            return None

    def readings(self) -> list[ReadingRecord]:
        """The signed-in engineer's readings on this phone (another engineer's wait for them), newest first."""
        return list(self._derive().readings)

    def check_limits(self) -> CheckLimits:
        """The GPS limits the server judges a fix by (from the last pull; the defaults before the first)."""
        return get_check_limits(store=self.store)

    def attach_photo(self, data: bytes) -> tuple[str, Path]:
        """Compress, hash and keep a photo on the device; returns its SHA-256 and path."""
        prepared = prepare_photo(data)
        return prepared.sha256, save_photo(prepared, self.photo_dir)

    def attach_checked_photo(self, data: bytes) -> CheckedAttachment:
        """Like ``attach_photo``, and checked for blur and for reuse of one of this engineer's recent photos
        (``store.recent_photo_hashes``: the photos of their last ``RECENT_PHOTOS`` readings on this phone). The
        photo's hash joins those once a reading naming it is saved, not before: a retaken photo never counts."""
        recent = [DHash.from_hex(text) for text in recent_photo_hashes(store=self.store, owner=self._owner())]
        checked = prepare_and_check(data, recent)
        path = save_photo(checked.photo, self.photo_dir)
        return CheckedAttachment(sha256=checked.photo.sha256, path=path, checks=checked.checks)

    def read_label(self, data: bytes) -> str | None:
        """The text of the meter label's QR code on a photo or camera frame; None when there is none."""
        return scan_label(data)

    def save(self, draft: CaptureDraft) -> ReadingV3:
        """Save at once: the reading and its outbox row in one local transaction; then nudge the sync loop."""
        return self._record(build_reading(draft, captured_at=self.clock()), draft.photo_path, _dhash(draft))

    def save_replacement(self, draft: CaptureDraft, replacement: Replacement) -> ReadingV3:
        """Save a reading that reports a meter replacement, like ``save`` (docs/domain.md "Meter replacement").

        ``draft.meter`` is the replaced (old) meter on the route and ``draft.value_text`` the NEW meter's register
        now (its initial value if it was just installed). The old meter's previous reading says nothing about that
        value, so it is not compared with it here; the server judges the replacement's values when it arrives.
        """
        if draft.skip_reason is not None:
            raise CaptureError(CaptureProblem.VALUE_MISSING, "A replaced meter is reported with the new meter's value")
        old_meter = draft.meter.model_copy(update={"previous": None})
        reading = build_reading(replace(draft, meter=old_meter), captured_at=self.clock())
        return self._record(ReadingV3(**{**dict(reading), "replacement": replacement}), draft.photo_path, _dhash(draft))

    def _record(self, reading: ReadingV1, photo_path: Path | None, photo_dhash: str | None) -> ReadingV3:
        # The reading as saved (only finite GPS numbers): the same bytes are pushed, so its hash never changes.
        saved = record_reading(
            store=self.store,
            reading=reading,
            photo_path=photo_path,
            owner_user_id=self._owner(),
            photo_dhash=photo_dhash,
        )
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
        self._syncing = True
        try:
            report = self.engine.run_once(ignore_retry_times=ignore_retry_times)
        finally:
            self._syncing = False
        self.last_report = report
        if report.pulled or report.removed or report.decisions:
            self._meters_changed()
        if report.error is None:
            self.last_sync_at = self.clock()
        if report.error is not None or _moved(report):
            self._changed()  # an idle pass leaves the version alone: nothing on the route to derive or redraw
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

    def _owner(self) -> int | None:
        profile = self.profile()
        return profile.user_id if profile is not None else None

    def _changed(self) -> None:
        self.version += 1


def _dhash(draft: CaptureDraft) -> str | None:
    """The saved photo's difference hash, kept for the reuse check of later photos."""
    return draft.photo_checks.dhash.hex if draft.photo_checks is not None and draft.photo_path else None


def _moved(report: SyncReport) -> bool:
    """The pass changed something a view shows (a reading's state, the meters, a decision, a photo)."""
    return any(
        (
            report.pushed,
            report.rejected,
            report.conflict,
            report.server_failed,
            report.parked,
            report.photos,
            report.pulled,
            report.removed,
            report.decisions,
        )
    )
