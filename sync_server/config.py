"""Settings from the environment (``FIELDMETER_*``, ``DATABASE_URL``) and the CLI's flags."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sync_server.client_address import parse_networks
from sync_server.clock import Clock, OffsetClock, system_clock

__all__ = ["PhotoStoreKind", "Settings", "load_secret_key"]

SECRET_FILE = "secret.key"  # noqa: S105 - a file name


class PhotoStoreKind(StrEnum):
    """Where photo bytes are kept (sync_server/photo_blobs.py)."""

    FOLDER = "folder"  # files under the data folder: one machine
    DATABASE = "database"  # the central database: several stateless machines serve one society


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIELDMETER_", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "FIELDMETER_DATABASE_URL")
    )
    host: str = "127.0.0.1"
    port: int = 8000
    # None: generated once into the data dir (never a default string).
    secret_key: str | None = None
    now: datetime | None = None  # FIELDMETER_NOW: where the server clock starts (demos, tests)
    society_name: str = "Blessings City"
    society_address: str = "Blessings City, Ludhiana, Punjab"
    society_upi_vpa: str = "blessingscity@upi"  # where residents pay; the invoice's UPI QR names it
    # The Tally export's ledgers (sync_server/exports/tally.py): named as in the society's Tally company. The
    # company's name is left empty to import into the company open in Tally.
    tally_company: str = ""
    tally_income_ledger: str = "Electricity Charges"
    tally_bank_ledger: str = "Bank Account"
    tally_cash_ledger: str = "Cash"
    status_refresh_minutes: float = 60.0  # how often the server marks bills overdue by itself (0: never)
    # How often the server reads the registers off the photos that arrived (sync_server/photo_ocr.py; 0: never).
    ocr_every_minutes: float = Field(default=5.0, ge=0)
    # Notifications (sync_server/notifications, docs/notifications.md): how often the outbox is worked (0: never),
    # how many days before its due date an open bill is reminded of, and the channels. A channel without its
    # settings (an SMTP host, a provider URL) is not used: nothing is enqueued for it. Secrets are never logged.
    notify_every_minutes: float = Field(default=1.0, ge=0)
    reminder_days: int = Field(default=3, ge=1, le=30)
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True  # upgrade the connection before signing in; off only for a relay on this host
    smtp_sender: str = "bills@localhost"
    sms_provider_url: str | None = None
    sms_provider_token: SecretStr | None = None
    whatsapp_provider_url: str | None = None
    whatsapp_provider_token: SecretStr | None = None
    notify_timeout_s: float = Field(default=10.0, gt=0)  # one SMTP conversation or provider request
    # Schedules (sync_server/scheduling): how often due jobs are looked for, and the default jobs' times, in the
    # society's time zone. The times seed a new database's jobs; the console edits them afterwards.
    schedule_check_seconds: float = Field(default=30.0, gt=0)
    bill_run_day: int = Field(default=1, ge=1, le=28)  # the month's draft bill runs (for the previous month)
    bill_run_time: str = Field(default="00:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    backup_time: str = Field(default="02:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    bill_due_days: int = 15  # a bill is due, and overdue after, this many days from issue
    # A rejected or sent-back reading's new read is due this many days after the decision (society's calendar),
    # unless the supervisor names a day: long enough to come back on the route, short enough for the month's bill.
    reread_due_days: int = Field(default=3, ge=0, le=60)
    late_fee_annual_percent: Decimal = Decimal(18)  # on principal only, daily pro-rata on a 365-day year
    society_timezone: str = "Asia/Kolkata"
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    # Failed sign-ins before 429 auth.throttled, per username and per client address, within a fixed window.
    login_max_failures_per_user: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    login_window_minutes: float = Field(default=15.0, gt=0)
    # Comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-For is believed (default: none).
    trusted_proxies: str = ""
    # A refresh token presented again within this many seconds of its rotation is a race (401
    # auth.refresh_in_use, the session lives); later it is a leak (the family is revoked).
    refresh_reuse_grace_seconds: float = Field(default=5.0, ge=0)
    password_hash_concurrency: int = Field(default=2, ge=1)  # argon2 verifications at once per process
    max_photo_bytes: int = 10 * 1024 * 1024
    max_photo_pixels: int = 40_000_000
    # An import file sent from the console (POST /api/imports/{kind}); a society's master data is some 50 KB.
    max_import_bytes: int = Field(default=5 * 1024 * 1024, ge=1)
    # Photo decodes at once (PNG/WebP decode in full, ~3 bytes a pixel): bounds the server's memory under uploads.
    photo_decode_concurrency: int = Field(default=2, ge=1)
    photo_store: PhotoStoreKind = PhotoStoreKind.FOLDER
    gps_accuracy_limit_m: float = 50.0
    gps_radius_m: float = 100.0
    clock_drift_limit_s: int = 600
    photo_required: bool = True
    mount_web_app: bool = True  # the browser console at /; tests of the API alone switch it off
    # Database bounds (sync_server/db_guard.py): a database that is down, locked or hung answers 503 within
    # seconds. Bill runs and migrations lift the statement limit for their own transactions.
    db_connect_timeout_s: int = Field(default=5, ge=2)  # libpq connect_timeout (whole seconds, at least 2)
    db_statement_timeout_s: float = Field(default=10.0, gt=0)  # PostgreSQL statement_timeout, lock waits included
    db_ping_timeout_s: float = Field(default=2.0, gt=0)  # checking a pooled connection before reuse
    db_pool_timeout_s: float = Field(default=5.0, gt=0)  # waiting for a free pooled connection
    db_busy_timeout_s: float = Field(default=5.0, gt=0)  # SQLite: waiting for another writer's lock
    health_timeout_s: float = Field(default=3.0, gt=0)  # /api/health answers within this, whatever the database does
    retry_after_s: int = Field(default=5, ge=1)  # Retry-After of a 503 service.unavailable
    # Backups (sync_server/backup.py): where archives go (None: <data dir>/backups) and how many of the newest stay.
    backup_dir: Path | None = None
    backup_keep: int = Field(default=14, ge=1)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        parse_networks(value)  # a typo must stop the start, not silently trust nobody (or everybody)
        return value

    @field_validator("society_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with a driver SQLAlchemy can use (``postgresql://`` → psycopg 3)."""
        url = self.database_url or f"sqlite:///{(self.data_dir / 'fieldmeter.db').resolve()}"
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url

    @property
    def photo_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.society_timezone)

    def clock(self) -> Clock:
        return OffsetClock(self.now) if self.now is not None else system_clock


def load_secret_key(settings: Settings) -> str:
    """The configured secret, or one generated on first start and kept (mode 600) in the data dir.

    Several processes may start at once on one data dir (``serve --workers N``, two servers): the new secret is
    written whole to a private temporary file and then hard-linked to its name, which fails if the name exists,
    so exactly one value is ever published, complete, and every process returns that winner.
    """
    if settings.secret_key:
        if len(settings.secret_key) < 32:
            raise ValueError("FIELDMETER_SECRET_KEY must be at least 32 characters")
        return settings.secret_key
    path = settings.data_dir / SECRET_FILE
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        _publish_secret(path, secrets.token_urlsafe(48))
    key = path.read_text().strip()
    if len(key) < 32:  # e.g. left empty by a crash of an older version, which created the file before writing it
        raise ValueError(f"{path} holds no usable secret (under 32 characters); restore it from a backup")
    return key


def _publish_secret(path: Path, key: str) -> None:
    # mkstemp creates the file with mode 600 and a unique name: nobody else reads or writes it.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(key)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process published first: its secret wins
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    # The new name must survive a crash too, or a restart would mint a second secret.
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
