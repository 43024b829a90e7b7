"""The phone's tables. They live in their own registry, so they never mix with the server's SQLModel tables.

Readings are immutable facts: the row keeps the exact wire payload (``payload_json``) that is pushed, plus the
same fields as columns for listing and searching, plus local sync state that changes as the server answers.

These classes describe the latest schema for queries; they never create it. Phones get it from the numbered
migrations in ``mobile_app.store.migrations``, so any change here needs a new migration there (a test compares the
two column for column).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import JSON, Column, DateTime, ForeignKey, String
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from shared_billing.protocol import MeterKind, ReadingStatus, ReadType, SkipReason

__all__ = [
    "CachedMeter",
    "LocalBase",
    "LocalPhoto",
    "LocalReading",
    "LocalState",
    "OutboxEntry",
    "StrEnumColumn",
    "SyncStateEntry",
    "UTCDateTime",
]

E = TypeVar("E", bound=StrEnum)


class UTCDateTime(TypeDecorator[datetime]):
    """Refuses naive datetimes, stores UTC and hands back aware UTC (SQLite itself keeps no zone)."""

    impl = DateTime()
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class StrEnumColumn(TypeDecorator[E]):
    """A ``StrEnum`` stored as its value (VARCHAR, as the first release made these columns); loads as the member.

    Binding takes a member or its value and refuses anything else. The server's ``sync_server.db_types`` has its
    twin: the phone package may not import the server, and ``shared_billing`` stays free of SQLAlchemy.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_cls: type[E]) -> None:
        super().__init__()
        self.enum_cls = enum_cls

    @property
    def python_type(self) -> type[E]:
        return self.enum_cls

    def _member(self, value: Any) -> E:
        if isinstance(value, self.enum_cls):
            return value
        try:
            return self.enum_cls(value)
        except ValueError:
            allowed = ", ".join(member.value for member in self.enum_cls)
            raise ValueError(f"{value!r} is not a {self.enum_cls.__name__} (one of: {allowed})") from None

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self._member(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self._member(value)


class LocalBase(SQLModel, registry=registry()):
    """Base of every phone table; its ``metadata`` holds only the phone's tables."""


class LocalState(StrEnum):
    """Where a reading stands between the phone and the server."""

    SAVED = "saved"  # on the phone, waiting in the outbox
    UPLOADED = "uploaded"  # the server answered stored or duplicate
    REJECTED = "rejected"  # terminal: the server refused it (per item or the whole batch); kept and shown
    CONFLICT = "conflict"  # terminal: the server holds a different reading under this uuid


def _utc_column(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class LocalReading(LocalBase, table=True):
    __tablename__ = "local_readings"

    # Save order on this phone: the sync screen and the outbox follow it (device clocks are not trusted).
    seq: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(sa_column=Column(String(36), unique=True, nullable=False))
    # The reading's fields (ReadingV3), for listing; the pushed bytes come from payload_json.
    meter_id: int = Field(index=True)
    read_type: ReadType = Field(sa_type=StrEnumColumn(ReadType))
    skip_reason: SkipReason | None = Field(default=None, sa_type=StrEnumColumn(SkipReason))
    value: str | None = None
    captured_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    gps_lat: float | None = None
    gps_lon: float | None = None
    gps_accuracy_m: float | None = None
    photo_sha256: str | None = Field(default=None, index=True)
    note: str | None = None
    replaces: str | None = None
    payload_json: str
    payload_sha256: str
    photo_path: str | None = None
    # Local sync state.
    state: LocalState = Field(default=LocalState.SAVED, sa_type=StrEnumColumn(LocalState), index=True)
    server_code: str | None = None
    server_message: str | None = None
    answered_at: datetime | None = _utc_column()
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # As the server last said (a push result or a pulled decision).
    review_status: ReadingStatus | None = Field(default=None, sa_type=StrEnumColumn(ReadingStatus))
    review_reason: str | None = None
    reviewed_at: datetime | None = _utc_column()
    # Protocol 2: the meter replacement reported with this reading, if any (schema v3, added last: SQLite appends
    # columns); the payload has it too.
    replacement_old_final_value: str | None = None
    replacement_new_meter_number: str | None = None
    replacement_new_initial_value: str | None = None
    # Schema v5: the due date of a rejection or re-read (``Decision.due_on``), and the engineer who saved the
    # reading: the outbox pushes only the signed-in engineer's readings (NULL: saved before owners were kept and
    # never backfilled, i.e. on a phone nobody had signed in to; whoever signs in next sends it).
    due_on: date | None = None
    owner_user_id: int | None = Field(default=None, index=True)


class OutboxEntry(LocalBase, table=True):
    __tablename__ = "outbox"

    # The foreign key makes the outbox unable to name a reading that is not saved, and keeps the reading
    # from ever being deleted while it waits (SQLite enforces it: foreign_keys=ON in the connect listener).
    reading_uuid: str = Field(
        sa_column=Column(String(36), ForeignKey("local_readings.uuid", ondelete="RESTRICT"), primary_key=True)
    )
    attempts: int = 0
    next_attempt_at: datetime | None = _utc_column(index=True)  # None: due now
    last_error: str | None = None  # the last failure as the sync client saw it (diagnostics, never shown)
    # Added after the first release (migration 2 adds them to older phone files), hence the server default.
    # Times the server answered 500 for this reading sent alone while it was otherwise working:
    server_failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Set when server_failures reached the limit: the reading is tried rarely and shown as held back.
    parked_at: datetime | None = _utc_column()


class LocalPhoto(LocalBase, table=True):
    __tablename__ = "local_photos"

    sha256: str = Field(primary_key=True)
    local_path: str
    uploaded_at: datetime | None = _utc_column()
    error_code: str | None = None
    error_message: str | None = None
    # A terminal error (the server refused these bytes) stops re-uploads; the reading stays photo pending.
    error_is_terminal: bool = False
    # Schema v6: the photo's 64-bit difference hash in hex (``photo_checks.DHash.hex``), for the reuse check of
    # later photos; NULL for photos kept before.
    dhash: str | None = None


class CachedMeter(LocalBase, table=True):
    """``protocol.MeterAssignment`` flattened: a meter assigned to the signed-in engineer."""

    __tablename__ = "cached_meters"

    meter_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    meter_number: str = Field(index=True)
    unit_code: str | None = None
    block_code: str
    kind: MeterKind = Field(sa_type=StrEnumColumn(MeterKind))
    dials: int
    decimals: int
    multiplier: str
    lat: float | None = None
    lon: float | None = None
    previous_value: str | None = None
    previous_captured_at: datetime | None = _utc_column()
    walk_order: int | None = None
    # Schema v5 (issue 12): the pull's history (list of PreviousReading), usage window (UsageWindow) and this
    # period's server read (PeriodRead) as their JSON; the unit's tariff code, type and sanctioned load as sent.
    history_json: str | None = None
    usage_json: str | None = None
    tariff_code: str | None = None
    unit_type: str | None = None
    sanctioned_load_kw: str | None = None
    period_read_json: str | None = None


class SyncStateEntry(LocalBase, table=True):
    __tablename__ = "sync_state"

    key: str = Field(primary_key=True)
    value: str
