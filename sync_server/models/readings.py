from __future__ import annotations

import uuid as uuid_mod
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, FetchedValue, Index
from sqlmodel import Field, SQLModel

from shared_billing.checks import ReadingFlag
from shared_billing.labels import LabelVerdict
from shared_billing.protocol import OcrVerdict, ReadingStatus, ReadType, SkipReason
from sync_server.db_types import JSON, ExactDecimal, StrEnumColumn, Units, UTCDateTime


class ReadingSource(StrEnum):
    """Where a stored reading came from: only field readings are the phone's to pull back."""

    FIELD = "field"  # pushed by a phone
    SEED = "seed"  # demo or benchmark history
    IMPORT = "import"  # history imported from the older system
    # A new meter's initial register, recorded by its replacement event (sync_server/replacements.py): the
    # baseline its later readings are measured from.
    INSTALL = "install"
    # A quality check's second read (sync_server/quality_checks.py): pushed like any reading, compared with the
    # approved read it checks, never decided, never billed.
    CHECK = "check"


class SyncEventKind(StrEnum):
    """What an engineer's next pull must learn about (sync_server/pull.py)."""

    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    PREVIOUS = "previous"  # the meter's previous approved reading changed
    READ = "read"  # a reading of the meter this period was stored or decided: its period read changed
    DECISION = "decision"  # a reading of theirs was decided


class Reading(SQLModel, table=True):
    """A reading exactly as the phone sent it, plus what the server learnt; ``id`` is the server sequence."""

    # The push path asks, per batch of meters: the newest approved reading, and open readings in a period.
    __table_args__ = (
        Index("ix_reading_meter_status_captured", "meter_id", "status", "captured_at"),
        Index("ix_reading_meter_period", "meter_id", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    uuid: uuid_mod.UUID = Field(unique=True)
    meter_id: int = Field(foreign_key="meter.id", index=True)
    engineer_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    device_id: str | None = Field(default=None, max_length=64)
    read_type: ReadType = Field(sa_type=StrEnumColumn(ReadType, 12))
    skip_reason: SkipReason | None = Field(default=None, sa_type=StrEnumColumn(SkipReason, 24))
    value_text: str | None = Field(default=None, max_length=32)
    value: Decimal | None = Field(default=None, sa_type=Units())
    captured_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime)
    period: str = Field(max_length=7, index=True)  # YYYY-MM in the society's time zone
    gps_lat: float | None = None
    gps_lon: float | None = None
    gps_accuracy_m: float | None = None
    distance_m: float | None = None
    photo_sha256: str | None = Field(default=None, max_length=64, index=True)
    photo_required: bool = True
    note: str | None = Field(default=None, max_length=500)
    replaces: uuid_mod.UUID | None = None
    # Protocol 2: the meter replacement the reading reported, as ``Replacement.model_dump(mode="json")``: pending
    # until a supervisor confirms or rejects it (docs/domain.md "Meter replacement").
    replacement: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    payload_sha256: str | None = Field(default=None, max_length=64)  # None for seeded/imported history
    source: ReadingSource = Field(default=ReadingSource.FIELD, sa_type=StrEnumColumn(ReadingSource, 8))
    status: ReadingStatus = Field(default=ReadingStatus.SUBMITTED, sa_type=StrEnumColumn(ReadingStatus, 12), index=True)
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str | None = Field(default=None, max_length=500)
    # What the register read off its photo says of the typed value (sync_server/photo_ocr.py); None until read.
    ocr_verdict: OcrVerdict | None = Field(default=None, sa_type=StrEnumColumn(OcrVerdict, 12))
    # A rejection's or re-read's due date, in the society's calendar (sync_server/review.py): the phone shows it
    # with the task.
    due_on: date | None = None
    # Protocol 3: the evidence the reading carried, as ``Evidence.model_dump(mode="json")`` (docs/review.md
    # "Evidence"); what its label said of the meter when pushed; the meter-room session it was read in (one GPS
    # fix for the room's meters), a column of its own so the session's readings are found together.
    evidence: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    label_verdict: LabelVerdict | None = Field(default=None, sa_type=StrEnumColumn(LabelVerdict, 12))
    room_session: uuid_mod.UUID | None = Field(default=None, index=True)


class ReadingFlagRecord(SQLModel, table=True):
    """An advisory flag on a reading, keyed by the reading's UUID so a push writes flags without reading ids back."""

    __tablename__ = "reading_flag"

    id: int | None = Field(default=None, primary_key=True)
    reading_uuid: uuid_mod.UUID = Field(foreign_key="reading.uuid", index=True)
    code: ReadingFlag = Field(sa_type=StrEnumColumn(ReadingFlag, 32))


class Photo(SQLModel, table=True):
    """One stored blob per SHA-256; the bytes live in the photo store under that hash."""

    sha256: str = Field(primary_key=True, max_length=64)
    content_type: str = Field(max_length=16)
    size_bytes: int
    width: int
    height: int
    stored_at: datetime = Field(sa_type=UTCDateTime)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user.id")


class PhotoOcr(SQLModel, table=True):
    """The register read off a stored photo by the server's own recogniser (``sync_server.photo_ocr``); a photo with
    none is still waiting to be read. ``value`` is None when no register was found (unreadable)."""

    __tablename__ = "photo_ocr"

    sha256: str = Field(primary_key=True, max_length=64)
    value: str | None = Field(default=None, max_length=32)
    confidence: Decimal | None = Field(default=None, sa_type=ExactDecimal(4, 3))
    read_at: datetime = Field(sa_type=UTCDateTime)
    # Why nothing was read when the recogniser itself failed (a photo it could not open), for the log and the review.
    problem: str | None = Field(default=None, max_length=200)


class SyncEvent(SQLModel, table=True):
    """What an engineer's next pull must learn; ``id`` is the pull cursor."""

    __tablename__ = "sync_event"

    id: int | None = Field(default=None, primary_key=True)
    engineer_id: int = Field(foreign_key="user.id", index=True)
    kind: SyncEventKind = Field(sa_type=StrEnumColumn(SyncEventKind, 16))
    meter_id: int | None = None
    reading_id: int | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    # Where the pull cursor places the event on PostgreSQL: its inserting transaction's id + 2**31, a server
    # default set by migration 0006 (rows from before it keep their id, so cursors handed out before stay valid).
    # Empty on SQLite, whose writers are serialized: there the id is the place. See sync_server/pull.py.
    cursor_key: int | None = Field(
        default=None, sa_type=BigInteger, sa_column_kwargs={"server_default": FetchedValue()}
    )

    __table_args__ = (Index("ix_sync_event_engineer_cursor", "engineer_id", "cursor_key"),)
